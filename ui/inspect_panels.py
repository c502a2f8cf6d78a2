"""Inspect's panels for one digit read by a recurrent model: the reading with its metrics, the probabilities after
each step, hidden state and gates (ui/inspect_families.py has the families that take in all lines at once)."""

from __future__ import annotations

import streamlit as st

from lib.experiments.readings import class_extremes, gate_means, most_frequent_mistake, state_range, top_two
from lib.models.families import FAMILIES
from ui import inspect_charts
from ui.i18n import and_list, sentences, t

# Each chart's caption starts with what it is and ends with what it shows for this digit or model: the chart's text
# alternative, in the visitor's language (docs/accessibility.md).


def reading_text(seen: dict, digit: dict, step: int) -> str:
    """The digit and the model's guess after `step` lines, in words."""
    guess, p = seen["predicted"][step - 1], seen["confidence"][step - 1]
    if digit["label"] is None:
        return t("{title}: after {k} steps the model's top class is {guess}, with a probability of {p:.0%}.",
                 title=digit["title"], k=step, guess=guess, p=p)
    return t("{title}, a handwritten {label}: after {k} steps the model's top class is {guess}, with a probability "
             "of {p:.0%}.", title=digit["title"], label=digit["label"], k=step, guess=guess, p=p)


def answers_text(cfg) -> str:
    """What the answers after each step are for this model: trained (every-step loss) or a by-product of the last
    step's training, and what its read-out reads."""
    if cfg.loss == "every-step":
        trained = t("This model was trained to answer after every row, so each early answer is one it was taught to "
                    "give: what it can tell from the rows read so far.")
    else:
        trained = t("It was trained to answer after the last step only, so its early answers are a by-product: for "
                    "models reading top → bottom they often stay unsure until the last rows, even when the telling "
                    "strokes came early.")
    readout = {"last": "", "mean": t("It classifies from the mean of its outputs; after k steps, from the mean of "
                                     "the first k."),
               "max": t("It classifies from the maximum of its outputs; after k steps, from the maximum over the "
                        "first k.")}[cfg.readout]
    pieces = t("It reads each row in {p} pieces ({n} steps); the answers are shown after each whole row.",
               p=cfg.steps_per_row, n=28 * cfg.steps_per_row) if cfg.steps_per_row > 1 else ""
    return sentences(trained, readout, pieces)


def final_text(seen: dict) -> str:
    """The top two classes after the last step and the step the answer settled at."""
    return t("After the last step: {top} at {p:.1%}, then {second} at {q:.1%}; the top class no longer changes "
             "from step {settled} on.", **top_two(seen["probs"][-1]), settled=seen["settled"])


def confusion_text(counts) -> str:
    """How many mistakes and the most frequent one, read from the confusion matrix."""
    facts = most_frequent_mistake(counts)
    if facts["total"] == 0:
        return t("No test digit is misclassified.")
    return t("{total:,} mistakes in all; the most frequent is a {true} read as {pred}, {n:,} times.", **facts)


def class_text(accuracy: list[float]) -> str:
    return t("Lowest: class {low} ({a:.1%}); highest: class {high} ({b:.1%}).", **class_extremes(accuracy))


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


def show_reading(seen: dict, digit: dict, step: int, cfg) -> None:
    """The digit with the current line beside the metrics; then the probabilities as a heatmap and as lines."""
    left, right = st.columns([3, 2])
    with left:
        st.plotly_chart(inspect_charts.reading(digit["image"], seen["lines"], seen["axis"], step, digit["title"]),
                        key="inspect_digit_chart", width="stretch")
        line = int(seen["lines"][step - 1]) + 1  # counted from 1, as on the Lesson page
        st.caption(reading_text(seen, digit, step))
        st.caption(t("Outlined: row {line}, read at step {k}. Dimmed rows are not read yet.", line=line, k=step)
                   if seen["axis"] == 1 else
                   t("Outlined: column {line}, read at step {k}. Dimmed columns are not read yet.", line=line, k=step))
    with right:
        show_metrics(seen, digit, step)
    left, right = st.columns([2, 3])
    with left:
        st.plotly_chart(inspect_charts.step_probs(seen["probs"], step, t("Probabilities per step"), height=480),
                        key="inspect_probs_heatmap", width="stretch")
        st.caption(sentences(t("Each row is what the final classifier says after that many steps (darker = more "
                               "probable)."), answers_text(cfg), final_text(seen)))
    with right:
        st.plotly_chart(inspect_charts.prob_lines(seen["probs"], step, t("Each class, step by step"), height=480),
                        key="inspect_prob_lines", width="stretch")
        st.caption(sentences(t("The same probabilities as lines, one per class."),
                             t("Every step's answer was trained to be right.") if cfg.loss == "every-step" else
                             t("Only the answer after the last step was trained to be right.")))


def show_states(seen: dict, cfg, step: int) -> None:
    """The top layer's hidden state and, for LSTMs, the gates of one layer (what lib.models.families says the model's
    family has)."""
    cell = cfg.family
    hidden = seen["hidden"]  # (28, H)
    st.plotly_chart(inspect_charts.states(hidden, step, t("Hidden state of the top layer ({h} units)", h=hidden.shape[1]),
                                  zmin=-1, zmax=1), key="inspect_hidden", width="stretch")
    reads = {"last": t("Each row is the top layer's output h after that step (blue positive, red negative): the only "
                       "thing the classifier reads, and only after the last step.") if cfg.loss == "last-step" else
             t("Each row is the top layer's output h after that step (blue positive, red negative): the only thing "
               "the classifier reads, after every step (this model was trained to answer after each)."),
             "mean": t("Each row is the top layer's output h after that step (blue positive, red negative): the "
                       "classifier reads their mean over the steps."),
             "max": t("Each row is the top layer's output h after that step (blue positive, red negative): the "
                      "classifier reads their maximum over the steps, unit by unit.")}[cfg.readout]
    about = sentences(reads, t("It is not all the network remembers: an LSTM also carries its cell state c, and each "
                               "lower layer has a state of its own; neither is drawn here. The state can keep "
                               "changing over blank rows too."))
    st.caption(sentences(about, t("At step {k} its values run from {low:.2f} to {high:.2f}; {n} of {h} units are "
                                  "beyond ±{beyond}.", k=step, **state_range(hidden, step))))
    if "gates" not in FAMILIES[cell].panels:
        with_gates = and_list(t(f.label) for f in FAMILIES.values() if "gates" in f.panels)
        st.info(t("Gates are shown for {families} only; this model is a {cell}.", families=with_gates,
                  cell=t(FAMILIES[cell].label)))
        return
    show_gates(seen, step)


def show_gates(seen: dict, step: int) -> None:
    """Input, forget and output gates of a chosen layer (the top one by default), each (28, H) in [0, 1]."""
    n_layers = seen["forget"].shape[0]
    layer = n_layers - 1
    if n_layers > 1:
        layer = st.selectbox(t("Layer for the gates"), list(range(n_layers)), index=n_layers - 1,
                             format_func={k: t("layer {n} of {total}", n=k + 1, total=n_layers)
                                          for k in range(n_layers)}.get,  # translated now: see ui.i18n.labels
                             key="inspect_layer")
    titles = {"input": t("Input gate"), "forget": t("Forget gate"), "output": t("Output gate")}
    for column, (gate, title) in zip(st.columns([4, 4, 5]), titles.items()):
        column.plotly_chart(inspect_charts.states(seen[gate][layer], step, title, zmin=0, zmax=1, colorscale="Viridis",
                                          height=380, scale=gate == "output"),
                            key=f"inspect_gate_{gate}", width="stretch")
    about = t("Input gate: how much of a new candidate is written into the cell state; the candidate is computed "
              "from this layer's input at the step (the row, for layer 1; layer 1's output, for layer 2) and from "
              "the previous h. Forget gate: how much of the cell state is kept; near 1 (yellow) keeps it, near 0 "
              "forgets. Output gate: how much of the cell state goes out as h, to the layer above (or the "
              "classifier) and to this layer's own next step.")
    st.caption(sentences(about, t("At step {k}, averaged over the units of layer {n}: input {i:.2f}, forget {f:.2f}, "
                                  "output {o:.2f}.", k=step, n=layer + 1, **gate_means(seen, layer, step))))
