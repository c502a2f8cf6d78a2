"""Inspect: watch one model read one digit (line by line, or all lines at once: every family), and see where it goes
wrong on the whole test set."""

from __future__ import annotations

import streamlit as st

from lib.data.orders import get_order
from lib.experiments import stats
from lib.experiments.drawing import read_digit
from lib.models.families import FAMILIES
from ui import inspect_charts, state
from ui.common import page
from ui.digit_pickers import mistakes, pick_digit
from ui.i18n import sentences, t
from ui.inspect_families import show_answer, show_inside
from ui.inspect_panels import class_text, confusion_text, show_reading, show_states
from ui.inspect_steps import through_the_steps
from ui.model_picker import evaluation_of, pick_model
from ui.upload import upload_box

GALLERY, GALLERY_COLUMNS = 24, 6  # misclassified digits shown at most, in rows of 6


def describe(choice: dict, ev: dict) -> None:
    """One line about the model: its shape, its reading order, its test accuracy; then how its family reads."""
    c = choice["config"]
    order, family = get_order(c.order), FAMILIES[c.family]
    values = dict(shape=state.shape_text(c.family, c.layers, c.hidden), order=t(order.title), acc=ev["acc"],
                  margin=stats.margin(ev["acc"], ev["n"]), n=ev["n"])
    if family.recurrent:
        st.caption(t("{shape}, reading {order}. Test accuracy {acc:.2%} ± {margin:.2%} on the {n:,} MNIST test digits "
                     "(95% interval).", **values))
    else:
        st.caption(t("{shape}; its lines in the order {order}. Test accuracy {acc:.2%} ± {margin:.2%} on the {n:,} "
                     "MNIST test digits (95% interval).", **values))
    if family.recurrent:
        lines = t(order.explanation)
    elif order.axis == 1:  # "rows are read from the top ..." is not how a model that sees all lines at once takes them
        lines = t("Its 28 lines are the digit's rows, arranged {order}.", order=t(order.title))
    else:
        lines = t("The digit's columns are laid down as its lines, from left to right, instead of its rows.")
    positions = "" if "positions" not in family.options else (
        t("Each line gets a learned position embedding, so the model knows where it sits.") if c.positions else
        t("This one has no position embedding: it takes the lines as an unordered set."))
    st.caption(sentences(lines, t("{family}: {summary}.", family=t(family.label), summary=t(family.summary)),
                         positions))


@st.fragment  # moving the step slider or the gate layer redraws this part only, not the test-set charts below
def show_digit(choice: dict, digit: dict) -> None:
    """Everything about one digit: for a recurrent model at the step chosen on the slider; for the others, the one
    answer and what their family shows inside."""
    cfg = choice["config"]
    recurrent = FAMILIES[cfg.family].recurrent and not cfg.bidirectional  # an answer after every row
    seen = read_digit(choice["model"], digit["image"], cfg.order, digit["seed"])
    if recurrent:
        step = st.slider(t("Steps read so far"), 1, 28, 28, key="inspect_step",
                         help=t("Move back to see what the network thought before it had read the whole digit."))
        show_reading(seen, digit, step, cfg)
    else:
        show_answer(seen, digit)
        if cfg.bidirectional:
            st.caption(t("This model reads the lines both ways, from the first to the last and from the last to the "
                         "first: at every step it has already seen every line, so it has no answer after k rows, "
                         "only this one."))
    if get_order(cfg.order).per_image:
        st.caption(t("This model reads every digit in its own random order; here the order is fixed by the digit's "
                     "number, so it can differ from the one used when scoring the test set."))
    if recurrent:
        show_states(seen, cfg, step)
    else:
        show_inside(seen, cfg)


def show_gallery(data, ev: dict) -> None:
    """Up to GALLERY misclassified test digits, each captioned with the truth and the prediction."""
    wrong = mistakes(data, ev)[:GALLERY]
    st.subheader(t("Misclassified test digits"))
    if not wrong:
        st.success(t("No test digit is misclassified."))
        return
    columns = st.columns(GALLERY_COLUMNS)
    for k, (i, true, pred) in enumerate(wrong):
        with columns[k % GALLERY_COLUMNS]:  # an image with a text alternative, then its caption
            st.markdown(inspect_charts.digit_markdown(data.test_x[i].numpy(), t("Test digit #{i}: a handwritten {true}, which "
                                                                        "the model reads as {pred}.", i=i, true=true,
                                                                        pred=pred)))
            st.caption(t("true {true} → predicted {pred}", true=true, pred=pred))
    st.caption(t("The first {n} mistakes in test-set order. Some are ambiguous even for people; others show what "
                 "the model has not learned yet.", n=len(wrong)))


def show_model(data, ev: dict) -> None:
    """The whole test set: confusion matrix, accuracy per class and a gallery of mistakes."""
    st.header(t("The model on the whole test set"))
    left, right = st.columns(2)
    with left:
        st.plotly_chart(inspect_charts.confusion(ev["confusion"], t("Confusion matrix ({n:,} test digits)", n=ev["n"])),
                        key="inspect_confusion", width="stretch")
        st.caption(sentences(t("Rows are the true class, columns the prediction; the diagonal counts the right "
                               "answers. Darker cells off the diagonal show which digits get mixed up (4 and 9, 3 "
                               "and 5, 7 and 2 are classics)."), confusion_text(ev["confusion"])))
    with right:
        st.plotly_chart(inspect_charts.class_accuracy(ev["per_class_acc"], t("Accuracy per class")),
                        key="inspect_per_class", width="stretch")
        st.caption(sentences(t("The share of each class's test digits that the model gets right."),
                             class_text(ev["per_class_acc"])))
    show_gallery(data, ev)


def main() -> None:
    data = page(t("Inspect a model"),
                t("Pick a model and a digit, then look inside the network as it reads it. A recurrent network reads "
                  "one line per step: see what it guesses after each line, what it remembers, and, for LSTMs, how "
                  "its gates open and close. A Transformer takes in all lines at once: see which rows it attends "
                  "to. A CNN slides small filters over the whole image: see what its first layer finds."))
    upload_box()
    picked = pick_model()
    if picked is None:
        return
    key, choice = picked
    evaluation = evaluation_of(key, choice, data)
    describe(choice, evaluation)
    digit = pick_digit(data, key, evaluation)
    if digit is not None:
        show_digit(choice, digit)
    through_the_steps(key, choice)
    st.divider()
    show_model(data, evaluation)


main()
