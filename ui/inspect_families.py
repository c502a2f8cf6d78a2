"""Inspect's panels for the families that take in all 28 lines at once (lib.models.families: not recurrent): the digit as
the model receives it, its one answer, and what its family shows inside: a Transformer's attention over the lines,
a CNN's first feature maps. No steps, no hidden state, no gates: these models have none."""

from __future__ import annotations

import streamlit as st

from lib.experiments.readings import map_activity, most_attended, top_two
from lib.messages import LIST_SEPARATOR
from lib.models.families import FAMILIES
from ui import inspect_charts
from ui.i18n import sentences, t, tn

# As in ui/inspect_panels.py, each caption says what the chart is, then what it shows for this digit: the chart's
# text alternative, in the visitor's language (docs/accessibility.md).
MAPS = 25  # feature maps drawn at most


def answer_text(seen: dict, digit: dict) -> str:
    """The digit and the model's one answer, in words."""
    guess, p = seen["predicted"][-1], seen["confidence"][-1]
    if digit["label"] is None:
        return t("{title}: with all 28 lines in, the model's top class is {guess}, with a probability of {p:.0%}.",
                 title=digit["title"], guess=guess, p=p)
    return t("{title}, a handwritten {label}: with all 28 lines in, the model's top class is {guess}, with a "
             "probability of {p:.0%}.", title=digit["title"], label=digit["label"], guess=guess, p=p)


def arrangement_text(lines: list[int], axis: int) -> str:
    """Where the lines the model receives come from in the original digit."""
    if axis == 1 and list(lines) == list(range(28)):
        return t("The rows are in their natural order: this is the digit itself.")
    if axis == 1:
        return t("The rows are stacked in the order this model receives them: line 1 is row {first} of the original "
                 "digit, line 28 is row {last}.", first=lines[0] + 1, last=lines[-1] + 1)
    return t("Each column of the digit is laid down as a line, so the digit appears turned: line 1 is column "
             "{first}, line 28 is column {last}.", first=lines[0] + 1, last=lines[-1] + 1)


def top_text(probs) -> str:
    """The top two classes of a (10,) answer."""
    return t("Top: {top} at {p:.1%}, then {second} at {q:.1%}.", **top_two(probs))


def attention_text(weights, lines: list[int], axis: int) -> str:
    """Which lines the class token attends to most in the last layer, and how much stays on itself."""
    facts = most_attended(weights, lines)
    values = {**facts, "lines": t(LIST_SEPARATOR).join(str(n) for n in facts["lines"])}
    if axis == 1:
        return t("In the last layer, rows {lines} get the most attention ({share:.0%} of it together; spread evenly, "
                 "each line would get {even:.1%}); {own:.0%} stays on the class token itself.", **values)
    return t("In the last layer, columns {lines} get the most attention ({share:.0%} of it together; spread evenly, "
             "each line would get {even:.1%}); {own:.0%} stays on the class token itself.", **values)


def features_text(maps) -> str:
    """The most active feature map and how many stay silent on this digit."""
    facts = map_activity(maps)
    strongest = t("On this digit filter {k} responds most (mean {m:.2f}).", k=facts["strongest"], m=facts["mean"])
    silent = tn("{n} of {total} maps is zero everywhere on this digit: its pattern is not in it, or the filter "
                "never responds at all (a dead filter, which this digit alone cannot tell apart).",
                "{n} of {total} maps are zero everywhere on this digit: their patterns are not in it, or those "
                "filters never respond at all (dead filters, which this digit alone cannot tell apart).",
                facts["silent"], total=facts["total"]) if facts["silent"] else ""
    return sentences(strongest, silent)


def show_metrics(seen: dict, digit: dict) -> None:
    """The model's one answer and whether it is right."""
    guess = seen["predicted"][-1]
    st.metric(t("Its guess"), guess, help=t("The class with the highest probability."))
    st.metric(t("Its probability"), f"{seen['confidence'][-1]:.1%}")
    if digit["label"] is not None:
        right = guess == digit["label"]
        st.metric(t("True class"), digit["label"], delta=t("right") if right else t("wrong"), delta_arrow="off",
                  delta_color="normal" if right else "inverse", help=t("Whether the model's answer is right."))


def show_answer(seen: dict, digit: dict) -> None:
    """The digit as the model receives it beside the metrics; then its probability for each class."""
    left, right = st.columns([3, 2])
    with left:
        st.plotly_chart(inspect_charts.arranged(seen["arranged"], seen["lines"], seen["axis"], digit["title"]),
                        key="inspect_digit_chart", width="stretch")
        st.caption(sentences(answer_text(seen, digit), arrangement_text(seen["lines"], seen["axis"])))
    with right:
        show_metrics(seen, digit)
    st.plotly_chart(inspect_charts.class_probs(seen["probs"], t("Probability of each class")), key="inspect_probs_bars",
                    width="stretch")
    st.caption(sentences(t("The model's probability for each class, its chosen class highlighted. It answers once, "
                           "having taken in all 28 lines, so there is no answer after each row to show."),
                         top_text(seen["probs"])))


def show_attention(seen: dict, positions: bool) -> None:
    """Where the class token, whose output the classifier reads, looks in each layer."""
    weights = seen["attention"]  # (L, 28)
    st.subheader(t("Attention over the 28 lines"))
    st.plotly_chart(inspect_charts.attention(weights, seen["lines"], seen["axis"],
                                     t("Attention of the class token, per layer")),
                    key="inspect_attention", width="stretch")
    unordered = "" if positions else t(
        "This model has no position embedding: it takes the lines as an unordered set, so it cannot know the order "
        "of the rows it attends to, only what is in them. Shuffling the rows would not change its answer.")
    st.caption(sentences(t("Each row of the map is one layer: how much the class token (the extra token whose output "
                           "the classifier reads) attends to each line, averaged over the attention heads; darker "
                           "means more. The lines are in the order the model receives them, each labelled with its "
                           "number in the original digit."),
                         t("Attention is not importance: it says where the class token looks, not how much the "
                           "answer depends on that line; and after the first layer every token already mixes all "
                           "the lines, so a later layer's attention to line k is attention to a mixture."),
                         attention_text(weights, seen["lines"], seen["axis"]), unordered))


def show_features(seen: dict) -> None:
    """The first convolution's feature maps, up to MAPS of them."""
    maps = seen["features"]  # (C, 28, 28)
    st.subheader(t("Feature maps of the first layer"))
    st.plotly_chart(inspect_charts.feature_grid(maps, MAPS, t("First convolution: {n} feature maps", n=min(len(maps), MAPS))),
                    key="inspect_features", width="stretch")
    about = t("Each small map is one filter of the first convolution, a 3×3 pattern of weights applied at every "
              "position of the image at once: it is bright where the pattern is found (numbered above it; negative "
              "responses are set to zero by the ReLU). The layers after it combine these maps, and the classifier "
              "reads the average of the last layer's maps.")
    shown = t("The first {shown} of {n} maps are shown.", shown=MAPS, n=len(maps)) if len(maps) > MAPS else ""
    st.caption(sentences(about, shown, features_text(maps[:MAPS])))


def show_inside(seen: dict, cfg) -> None:
    """What the model's family shows inside (lib.models.families.Family.panels)."""
    panels = FAMILIES[cfg.family].panels
    if "attention" in panels:
        show_attention(seen, cfg.positions)
    if "features" in panels:
        show_features(seen)
