"""Lesson (home): the idea on a real digit, the model, why the last step, and what the lesson concludes."""

from __future__ import annotations

import inspect

import numpy as np
import streamlit as st

from lib.experiments.analysis import shipped_order_results
from lib.experiments.drawing import read_digit
from lib.experiments.readings import row_ink
from lib.models.nets import RowClassifier
from lib.storage.pretrained import EVERY_STEP_MODEL, LESSON_MODEL
from lib.training.optim import OPTIMIZERS
from lib.training.presets import SOURCE_ACCURACY, SOURCE_LESSON, SOURCE_SERIES, preset
from ui import captions, charts, gradients, probes, resources
from ui.common import link_to, page
from ui.i18n import t

# Streamlit's syntax colours are 2.2-3.7:1 on its code background; these reach 5.8:1 or more (WCAG 2.1 AA asks 4.5).
CODE_COLOURS = {"#0B5CAD": "keyword tag function class-name selector builtin", "#17703A": "string char attr-value "
                "boolean constant symbol", "#0A6B61": "number regex", "#5E6270": "comment prolog doctype cdata "
                "punctuation", "#A0420A": "operator entity decorator atrule", "#0B5F8A": "attr-name property variable",
                "#7A3E9D": "url", "#B3261E": "important"}


def lesson_model():
    """The shipped lesson model and its card, or (None, None) if it is missing."""
    return resources.shipped().get(LESSON_MODEL, (None, None))


def toggle_play() -> None:
    playing = not st.session_state.get("playing", False)
    st.session_state["playing"] = playing
    st.session_state["play_changed"] = True
    if playing and st.session_state.get("lesson_step", 1) >= 28:
        st.session_state["lesson_step"] = 1


@st.fragment(run_every=0.6 if st.session_state.get("playing") else None)
def reader(image: np.ndarray, seen: dict | None, index: int, label: int) -> None:
    """The digit fed row by row: a step slider (or Play), the highlighted row, and the model's guess so far."""
    # run_every is read when the whole page runs, and a click in here reruns only this fragment: so Play, Pause
    # and the end of the digit rerun the page, which starts or stops the 0.6 s timer.
    if st.session_state.pop("play_changed", False):
        st.rerun()
    if st.session_state.get("playing"):
        st.session_state["lesson_step"] = min(st.session_state.get("lesson_step", 1) + 1, 28)
        if st.session_state["lesson_step"] >= 28:
            st.session_state["playing"] = False
            st.session_state["play_changed"] = True
    a, b = st.columns([1, 6], vertical_alignment="bottom")
    a.button(t("Pause") if st.session_state.get("playing") else t("Play"), on_click=toggle_play,
             icon=":material/pause:" if st.session_state.get("playing") else ":material/play_arrow:")
    st.session_state.setdefault("lesson_step", 14)  # mid-digit: the first rows of most digits are blank
    step = b.slider(t("Step: rows fed so far"), 1, 28, key="lesson_step")
    left, mid, right = st.columns([1.1, 1.1, 1.4])
    left.plotly_chart(charts.digit(image, line=step - 1, read=list(range(step)), title=t("The image")),
                      key="lesson_digit", width="stretch")
    left.caption(t("Test digit #{i}, a handwritten {label}: rows 1 to {k} are read, row {k} is outlined and the rows "
                   "below are dimmed.", i=index, label=label, k=step))
    mid.plotly_chart(charts.heatmap(image[step - 1:step], list(range(28)), [t("row {k}", k=step)],
                                    t("Input at step {k}: 28 numbers", k=step), colorscale="gray", zmin=0, zmax=255,
                                    height=200),
                     key="lesson_strip", width="stretch")
    mid.caption(t("Row {k}: {ink} of its 28 pixels have ink; the brightest is {top} of 255.", k=step,
                  **row_ink(image, step)))
    mid.markdown(t("At step {k} the LSTM receives row {k} as a vector of 28 pixel values and updates its "
                   "memory. It sees nothing else of the image at that moment.", k=step))
    if seen is not None:  # lib.experiments.drawing.read_digit's trace of the lesson model on this digit
        right.plotly_chart(charts.bars([str(c) for c in range(10)], seen["probs"][step - 1].tolist(),
                                       t("The lesson model's guess after row {k}", k=step), yrange=[0, 1.15],
                                       digits=0), key="lesson_probs", width="stretch")
        right.metric(t("Best guess so far"), str(seen["predicted"][step - 1]))
        right.caption(t("After row {k} the lesson model's top class is {guess}, with a probability of {p:.0%}; the "
                        "digit is a {label}.", k=step, guess=seen["predicted"][step - 1],
                        p=seen["confidence"][step - 1], label=label))


def diagram() -> str:
    """Graphviz DOT of the unrolled two-layer LSTM that keeps only the last output."""
    steps = [1, 2, 3, 28]
    scores = t("10 class scores")  # translated outside the f-strings, where the extractor sees them
    nodes = [f'x{s} [label="{t("row {k}", k=s)}", shape=box, style=filled, fillcolor="#F3F5F9"];' for s in steps]
    for layer, fill in ((1, "#D6E9F5"), (2, "#F9D9CF")):
        nodes += [f'l{layer}_{s} [label="LSTM {layer}", style=filled, fillcolor="{fill}"];' for s in steps]
    edges = [f"x{s} -> l1_{s}; l1_{s} -> l2_{s};" for s in steps]
    edges += [f"l{layer}_{a} -> l{layer}_{b} [style={'dashed' if a == 3 else 'solid'}];"
              for layer in (1, 2) for a, b in zip(steps, steps[1:])]
    edges += ['l2_28 -> fc; fc -> out;']
    head = (f'fc [label="Linear({preset("lesson").hidden} → 10)", shape=box, style=filled, '
            f'fillcolor="{charts.PRIMARY}", fontcolor=white]; '
            f'out [label="{scores}", shape=box];')
    return ("digraph { rankdir=LR; node [fontname=Helvetica, shape=ellipse]; " + " ".join(nodes) + head
            + " ".join(edges) + " }")


def source() -> None:
    """Credit the lesson this app teaches, and say what the app adds to it."""
    st.info(t("This page follows the Chinese tutorial “{title}”, one of the notes of the series [*Pytorch "
              "Note*]({series}): a two-layer LSTM "
              "with 100 hidden units reads each MNIST digit row by row and classifies it from its last output, "
              "trained with SGD at learning rate 0.1 for 10 epochs ({source:.2%} test accuracy in the original). Row "
              "by Row adds training with your own settings and live curves, the row-order experiment that tests "
              "the lesson's claim that order does not matter, and a look inside the network as it reads.",
              title=SOURCE_LESSON, source=SOURCE_ACCURACY, series=SOURCE_SERIES), icon=":material/menu_book:")


def idea(data) -> None:
    st.subheader(t("1 · A digit becomes a sequence of 28 rows"))
    idx = st.number_input(t("Test digit #"), 0, len(data.test_y) - 1, value=0, key="lesson_digit_idx")
    image = data.test_x[idx].numpy()
    model, _ = lesson_model()
    reader(image, read_digit(model, image, "forward") if model is not None else None, idx, int(data.test_y[idx]))
    st.subheader(t("2 · The LSTM reads one row per step and keeps only its last output"))
    st.graphviz_chart(diagram(), width="stretch")
    st.markdown(t("Each step passes a memory (hidden and cell state) to the next. After row 28 the top layer's "
                  "output goes through one Linear layer to 10 scores, one per digit. The outputs after rows 1–27 "
                  "are computed too, but the lesson ignores them."))


def model_code() -> None:
    st.subheader(t("3 · The model in code"))
    cfg = preset("lesson")
    st.html("<style>" + " ".join(f'[data-testid="stCode"] .token.{c} {{color: {colour} !important}}'
                                 for colour, classes in CODE_COLOURS.items() for c in classes.split()) + "</style>")
    st.code(inspect.getsource(RowClassifier), language="python", wrap_lines=True)
    st.markdown(t("The lesson trains it with **{opt}**, learning rate **{lr}**, batch **{bs}**, for **{ep}** "
                  "epochs: `{code}`.", opt=t(OPTIMIZERS[cfg.optimizer].label), lr=cfg.lr, bs=cfg.batch_size,
                  ep=cfg.epochs, code=f'RowClassifier("{cfg.family}", hidden={cfg.hidden}, layers={cfg.layers})'))


def why_last_step() -> None:
    st.subheader(t("4 · Why the last step?"))
    _, card = lesson_model()
    st.markdown(t("Only after the last row has the network seen the whole digit, so the lesson classifies from the "
                  "last output and trains the classifier on that output alone. The chart asks the same classifier "
                  "for an answer after fewer rows. That shows whether this classifier can already read the state, "
                  "not what the network knows: it was never trained to answer early, so a low value does not mean "
                  "an empty memory."))
    if card is None:
        return
    by_rows = card["metrics"]["acc_by_rows"]
    series = [{"name": t("lesson model (trained on the last answer)"), "x": list(range(1, 29)), "y": by_rows,
               "color": "#D55E00"}]
    _, every = resources.shipped().get(EVERY_STEP_MODEL, (None, None))
    if every is not None:
        series.append({"name": t("another model of the same shape, trained on every row's answer"),
                       "x": list(range(1, 29)),
                       "y": every["metrics"]["acc_by_rows"], "color": "#0072B2", "dash": "dash"})
    st.plotly_chart(charts.lines(series, t("rows read"), t("test accuracy"), t("Accuracy if we stopped after k "
                                 "rows"), yrange=[0, 1.02], percent=True), key="lesson_by_rows", width="stretch")
    st.caption(t("After 14 rows: {half:.1%}; after all 28: {full:.2%} (on the {n:,} MNIST test digits). Chance is "
                 "10%.", half=by_rows[13], full=by_rows[27], n=card["metrics"]["n"]))
    if every is not None:
        st.caption(captions.every_step_text(every, by_rows[27]))



def conclusions() -> None:
    st.subheader(t("7 · What the lesson shows"))
    _, card = lesson_model()
    if card is not None:
        st.markdown(captions.lesson_result_text(card, SOURCE_ACCURACY))
    st.markdown(t("- **But an RNN is sequential.** Step 28 needs step 27, which needs step 26…: the 28 steps "
                  "cannot run at the same time. A CNN looks at all pixels at once, so its work can run in "
                  "parallel."))
    cards = {name: card for name, (_, card) in resources.shipped().items()}
    st.markdown(captions.order_claim_text(shipped_order_results(cards, resources.shipped_seed_cards())))
    link_to("views/conclusion.py", t("Both claims, measured against a CNN and a Transformer: the Conclusion page"),
            ":material/balance:")


def main() -> None:
    data = page(t("Row by Row: an RNN that reads digits"),
                t("An LSTM is made for sequences: words, sounds, prices. Here it classifies **images** by reading "
                  "each 28×28 MNIST digit as a sequence of 28 rows, top to bottom, and answering after the last "
                  "row."))
    source()
    idea(data)
    model_code()
    why_last_step()
    probes.lesson_section()
    gradients.lesson_section()
    conclusions()


main()
