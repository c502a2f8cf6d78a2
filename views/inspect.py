"""Inspect: watch one model read one digit line by line, and see where it goes wrong on the whole test set."""

from __future__ import annotations

import random

import streamlit as st
from streamlit_drawable_canvas import st_canvas

from lib.drawing import BlankDrawing, preprocess, read_digit
from lib.orders import get_order
from lib.train import TrainConfig, evaluate
from ui import charts_inspect as charts
from ui import resources, state
from ui.common import page
from ui.i18n import t, tr
from ui.upload import upload_box, uploads

GALLERY, GALLERY_COLUMNS = 24, 6  # misclassified digits shown at most, in rows of 6


def model_options() -> dict[str, dict]:
    """'shipped:NAME' / 'run:ID' -> {label, model, config} for every model there is to inspect."""
    options = {}
    shipped = resources.shipped()
    for name in sorted(shipped, key=lambda n: (n != "lesson-forward", n)):
        model, card = shipped[name]
        options[f"shipped:{name}"] = {"label": t("{name} (shipped)", name=name), "model": model,
                                      "config": TrainConfig.from_dict(card["config"])}
    for name, (model, card) in uploads().items():
        options[f"upload:{name}"] = {"label": t("{name} (uploaded)", name=name), "model": model,
                                     "config": TrainConfig.from_dict(card["config"])}
    for job in reversed(state.finished_runs()):  # newest first
        if job.model is not None and job.state in ("done", "stopped"):
            options[f"run:{job.id}"] = {"label": t("{run} (your run)", run=state.run_label(job)),
                                        "model": job.model, "config": job.config}
    return options


def pick_model() -> tuple[str, dict] | None:
    """The model picker (a run sent here by the Train page's Inspect button comes preselected)."""
    options = model_options()
    if not options:
        st.warning(t("There is no model to inspect yet. Train one on the Train page, or ask whoever runs this "
                     "server to create the shipped models with `python -m lib.cli make-pretrained`."))
        return None
    sent = st.session_state.pop("inspect_run", None)
    if sent is not None and f"run:{sent}" in options:
        st.session_state["inspect_model"] = f"run:{sent}"
    if st.session_state.get("inspect_model") not in options:
        st.session_state.pop("inspect_model", None)
    key = st.selectbox(t("Model"), list(options), format_func=lambda k: options[k]["label"], key="inspect_model")
    return key, options[key]


def evaluation_of(key: str, choice: dict, data) -> dict:
    """Test-set predictions of the chosen model, computed once (per server for shipped, per session for runs)."""
    kind, name = key.split(":", 1)
    order = choice["config"].order
    if kind == "shipped":
        return resources.shipped_evaluation(name, order)
    store = state.analyses().setdefault(int(name) if kind == "run" else key, {})
    if "eval" not in store:
        with st.spinner(t("Scoring this run on the test set…")):
            store["eval"] = evaluate(choice["model"], data, order)
    return store["eval"]


def describe(choice: dict, ev: dict) -> None:
    """One line about the model: its shape, its reading order, its test accuracy."""
    c = choice["config"]
    order = get_order(c.order)
    st.caption(t("{cell} with {layers} layer(s) of {hidden} units, reading {order}. Test accuracy {acc:.2%} on "
                 "{n:,} digits.", cell=c.cell.upper(), layers=c.layers, hidden=c.hidden, order=t(order.title),
                 acc=ev["acc"], n=ev["n"]))
    st.caption(t(order.explanation))


def from_test_set(data, i: int) -> dict:
    """A test digit as the page uses it: image, true class, seed for the random order, title."""
    return {"image": data.test_x[i].numpy(), "label": int(data.test_y[i]), "seed": i,
            "title": t("Test digit #{i}", i=i)}


def pick_by_index(data) -> dict:
    last = len(data.test_y) - 1
    i = st.number_input(t("Test digit number (0 to {last:,})", last=last), 0, last, 0, step=1,
                        key="inspect_index")
    return from_test_set(data, int(i))


def pick_random(data) -> dict:
    n = len(data.test_y)
    if st.session_state.get("inspect_random", n) >= n:
        st.session_state["inspect_random"] = random.randrange(n)
    st.button(t("Another random digit"), key="inspect_reroll",
              on_click=lambda: st.session_state.update(inspect_random=random.randrange(n)))
    return from_test_set(data, st.session_state["inspect_random"])


def pick_by_class(data) -> dict:
    left, right = st.columns(2)
    cls = left.selectbox(t("Class"), list(range(10)), key="inspect_class")
    members = [i for i, y in enumerate(data.test_y.tolist()) if y == cls]
    if st.session_state.get("inspect_class_k", 1) > len(members):
        st.session_state["inspect_class_k"] = 1
    k = right.number_input(t("Which {cls} (1 to {n:,})", cls=cls, n=len(members)), 1, max(len(members), 1),
                           step=1, key="inspect_class_k")
    return from_test_set(data, members[int(k) - 1])


def mistakes(data, ev: dict) -> list[tuple[int, int, int]]:
    """(test index, true class, predicted class) of every misclassified test digit, in test-set order."""
    labels = data.test_y.tolist()
    return [(i, labels[i], p) for i, p in zip(ev["indices"], ev["predictions"]) if p != labels[i]]


def pick_misclassified(data, key: str, ev: dict) -> dict | None:
    """Only the test digits this model gets wrong."""
    wrong = mistakes(data, ev)
    if not wrong:
        st.success(t("This model gets every test digit right: nothing to show here."))
        return None
    pos = st.selectbox(t("Misclassified test digit ({n:,} in all)", n=len(wrong)), list(range(len(wrong))),
                       format_func=lambda k: t("#{i}: true {true} → predicted {pred}", i=wrong[k][0],
                                               true=wrong[k][1], pred=wrong[k][2]),
                       key=f"inspect_wrong_{key}")
    return from_test_set(data, wrong[pos][0])


def pick_drawn() -> dict | None:
    """A digit drawn with the mouse or a finger, made MNIST-like."""
    st.caption(t("Draw with the mouse or a finger; the canvas toolbar can undo a stroke or clear everything."))
    left, right = st.columns(2)
    with left:
        result = st_canvas(stroke_width=18, stroke_color="#FFFFFF", background_color="#000000", height=280,
                           width=280, drawing_mode="freedraw", return_image_data=True, key="canvas")
    try:
        pixels = None if result is None else result.image_data  # (H, W, 4) uint8 RGBA, or None before drawing
        image = None if pixels is None else preprocess(pixels)  # (28, 28) uint8
    except BlankDrawing:
        image = None
    except (ValueError, OSError) as exc:
        right.warning(t("This drawing could not be used: {error}", error=tr(str(exc))))
        return None
    if image is None:
        right.info(t("Draw a digit (0 to 9) on the black square, as large as you like. It is cropped, scaled to "
                     "20 × 20 pixels and centred in 28 × 28 the way MNIST digits were."))
        return None
    right.image(charts.enlarge(image, 8), caption=t("What the network sees: 28 × 28 pixels"))
    return {"image": image, "label": None, "seed": 0, "title": t("Your digit")}


def pick_digit(data, key: str, ev: dict) -> dict | None:
    """The digit chooser: by index, random, by class, misclassified only, or drawn."""
    modes = {"index": t("By number"), "random": t("Random"), "class": t("By class"),
             "wrong": t("Misclassified only"), "draw": t("Draw your own")}
    mode = st.radio(t("Which digit?"), list(modes), format_func=modes.get, horizontal=True, key="inspect_mode")
    if mode == "wrong":
        return pick_misclassified(data, key, ev)
    if mode == "draw":
        return pick_drawn()
    return {"index": pick_by_index, "random": pick_random, "class": pick_by_class}[mode](data)


def show_metrics(seen: dict, digit: dict, step: int) -> None:
    """What the network says after `step` lines, what the truth is, and when it made up its mind."""
    st.metric(t("Guess after {k} steps", k=step), seen["predicted"][step - 1],
              help=t("The class with the highest probability after this many steps."))
    st.metric(t("Its probability"), f"{seen['confidence'][step - 1]:.1%}")
    final = seen["predicted"][-1]
    if digit["label"] is not None:
        verdict = t("right") if final == digit["label"] else t("wrong")
        st.metric(t("True class"), digit["label"], delta=verdict, delta_arrow="off",
                  delta_color="normal" if final == digit["label"] else "inverse",
                  help=t("Whether the final answer, after all 28 steps, is right."))
    st.metric(t("Settled from step"), seen["settled"], help=t("From this step on the top class no longer changes."))


def show_reading(seen: dict, digit: dict, step: int) -> None:
    """The digit with the current line beside the metrics; then the probabilities as a heatmap and as lines."""
    left, right = st.columns([3, 2])
    with left:
        st.plotly_chart(charts.reading(digit["image"], seen["lines"], seen["axis"], step, digit["title"]),
                        key="inspect_digit_chart", width="stretch")
        line = int(seen["lines"][step - 1]) + 1  # counted from 1, as on the Lesson page
        st.caption(t("Outlined: row {line}, read at step {k}. Dimmed rows are not read yet.", line=line, k=step)
                   if seen["axis"] == 1 else
                   t("Outlined: column {line}, read at step {k}. Dimmed columns are not read yet.", line=line, k=step))
    with right:
        show_metrics(seen, digit, step)
    left, right = st.columns([2, 3])
    with left:
        st.plotly_chart(charts.step_probs(seen["probs"], step, t("Probabilities per step"), height=480),
                        key="inspect_probs_heatmap", width="stretch")
        st.caption(t("Each row is the network's guess after that many steps (darker = more probable). Look for "
                     "the step where one class takes over: often only once the lines holding the telling stroke "
                     "(the bar of a 7, the loop of a 9) have been read."))
    with right:
        st.plotly_chart(charts.prob_lines(seen["probs"], step, t("Each class, step by step"), height=480),
                        key="inspect_prob_lines", width="stretch")
        st.caption(t("The same probabilities as lines. Only the last step was trained to be right, so early "
                     "guesses are a by-product: watch the winning class climb when a telling part appears."))


def show_states(seen: dict, cell: str, step: int) -> None:
    """The top layer's hidden state and, for LSTMs, the gates of one layer."""
    hidden = seen["hidden"]  # (28, H)
    st.plotly_chart(charts.states(hidden, step, t("Hidden state of the top layer ({h} units)", h=hidden.shape[1]),
                                  zmin=-1, zmax=1), key="inspect_hidden", width="stretch")
    st.caption(t("Each row is everything the network remembers after that step (blue positive, red negative); the "
                 "classifier reads only the last row. Units that change sharply mark steps where something new "
                 "appeared; over blank lines the state hardly moves."))
    if cell != "lstm":
        st.info(t("Gates are shown for LSTMs only; this model is a {cell}.", cell=cell.upper()))
        return
    show_gates(seen, step)


def show_gates(seen: dict, step: int) -> None:
    """Input, forget and output gates of a chosen layer (the top one by default), each (28, H) in [0, 1]."""
    n_layers = seen["forget"].shape[0]
    layer = n_layers - 1
    if n_layers > 1:
        layer = st.selectbox(t("Layer for the gates"), list(range(n_layers)), index=n_layers - 1,
                             format_func=lambda k: t("layer {n} of {total}", n=k + 1, total=n_layers),
                             key="inspect_layer")
    titles = {"input": t("Input gate"), "forget": t("Forget gate"), "output": t("Output gate")}
    for column, (gate, title) in zip(st.columns([4, 4, 5]), titles.items()):
        column.plotly_chart(charts.states(seen[gate][layer], step, title, zmin=0, zmax=1, colorscale="Viridis",
                                          height=380, scale=gate == "output"),
                            key=f"inspect_gate_{gate}", width="stretch")
    st.caption(t("Input gate: how much of the new line is written into memory. Forget gate: how much of the old "
                 "memory is kept; values near 1 (yellow) mean “keep memory”, near 0 “forget”. Output gate: how "
                 "much of the memory is passed on to the next layer and the classifier."))


@st.fragment  # moving the step slider or the gate layer redraws this part only, not the test-set charts below
def show_digit(choice: dict, digit: dict) -> None:
    """Everything about one digit, at the step chosen on the slider."""
    cfg = choice["config"]
    seen = read_digit(choice["model"], digit["image"], cfg.order, digit["seed"])
    step = st.slider(t("Steps read so far"), 1, 28, 28, key="inspect_step",
                     help=t("Move back to see what the network thought before it had read the whole digit."))
    show_reading(seen, digit, step)
    if cfg.order == "random":
        st.caption(t("This model reads every digit in its own random order; here the order is fixed by the digit's "
                     "number, so it can differ from the one used when scoring the test set."))
    show_states(seen, cfg.cell, step)


def show_gallery(data, ev: dict) -> None:
    """Up to GALLERY misclassified test digits, each captioned with the truth and the prediction."""
    wrong = mistakes(data, ev)[:GALLERY]
    st.subheader(t("Misclassified test digits"))
    if not wrong:
        st.success(t("No test digit is misclassified."))
        return
    columns = st.columns(GALLERY_COLUMNS)
    for k, (i, true, pred) in enumerate(wrong):
        columns[k % GALLERY_COLUMNS].image(charts.enlarge(data.test_x[i].numpy()), width=84,
                                           caption=t("true {true} → predicted {pred}", true=true, pred=pred))
    st.caption(t("The first {n} mistakes in test-set order. Some are ambiguous even for people; others show what "
                 "the model has not learned yet.", n=len(wrong)))


def show_model(data, ev: dict) -> None:
    """The whole test set: confusion matrix, accuracy per class and a gallery of mistakes."""
    st.header(t("The model on the whole test set"))
    left, right = st.columns(2)
    with left:
        st.plotly_chart(charts.confusion(ev["confusion"], t("Confusion matrix ({n:,} test digits)", n=ev["n"])),
                        key="inspect_confusion", width="stretch")
        st.caption(t("Rows are the true class, columns the prediction; the diagonal counts the right answers. "
                     "Darker cells off the diagonal show which digits get mixed up (4 and 9, 3 and 5, 7 and 2 "
                     "are classics)."))
    with right:
        st.plotly_chart(charts.class_accuracy(ev["per_class_acc"], t("Accuracy per class")),
                        key="inspect_per_class", width="stretch")
        st.caption(t("The share of each class's test digits that the model gets right."))
    show_gallery(data, ev)


DATA = page(t("Inspect a model"),
            t("Pick a model and a digit, then watch the network read it one line per step: what it guesses after "
              "each line, what it remembers, and, for LSTMs, how its gates open and close."))
upload_box()
picked = pick_model()
if picked is None:
    st.stop()
KEY, CHOICE = picked
EVALUATION = evaluation_of(KEY, CHOICE, DATA)
describe(CHOICE, EVALUATION)
DIGIT = pick_digit(DATA, KEY, EVALUATION)
if DIGIT is not None:
    show_digit(CHOICE, DIGIT)
st.divider()
show_model(DATA, EVALUATION)
