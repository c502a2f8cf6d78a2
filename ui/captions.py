"""Captions that draw a conclusion from numbers: computed from those numbers, so they never say more than they show."""

from __future__ import annotations

from lib.data.orders import ORDERS
from lib.experiments import stats
from lib.experiments.analysis import matrix_facts, peaks
from lib.messages import LIST_SEPARATOR
from ui.i18n import sentences, t


def digit_counts(counts) -> str:
    """The test-digit counts some accuracies were scored on, e.g. "10,000" or "2,000 / 10,000"."""
    return " / ".join(f"{n:,}" for n in sorted(set(counts)))


def _names(orders: list[str], acc: dict) -> str:
    return t(LIST_SEPARATOR).join(f"{t(ORDERS[o].title)} ({acc[o]:.2%})" for o in orders)


def order_ranking(acc: dict[str, float], n: dict[str, int], repeats: int = 1,
                  se: dict[str, float] | None = None) -> str:
    """Which row orders score highest and lowest, naming a winner only when the gap exceeds the uncertainty.

    With repeats > 1, `acc` holds means over seeds and `se` their standard errors, which decide the ties (with
    Student's t for so few runs).
    """
    found = stats.extremes(acc, n, se if repeats > 1 else None, runs=repeats)
    if found["all_tie"] and repeats > 1:
        text = t("All these orders tie: the gaps between their means are within the spread across seeds.")
    elif found["all_tie"]:
        text = t("All these orders tie: the gaps between them are within the uncertainty of the test score "
                 "({n:,} test digits, 95% interval).", n=min(n.values()))
    elif repeats > 1:
        text = t("Highest: {high}. Lowest: {low}. Orders named together tie: the gap between their means is within "
                 "what the spread across seeds allows (95%, Student's t).", high=_names(found["highest"], acc),
                 low=_names(found["lowest"], acc))
    else:
        text = t("Highest: {high}. Lowest: {low}. Orders named together tie: their gap is within the uncertainty "
                 "of the test score (95% interval, shown as error bars).", high=_names(found["highest"], acc),
                 low=_names(found["lowest"], acc))
    parts = [text]
    if any(ORDERS[o].per_image for o in found["lowest"]) and not found["all_tie"]:
        parts.append(t("A fixed order, even a scrambled one, can be learned: at each step the network can count on "
                       "the same row arriving. A new random order for every image takes that away, and accuracy "
                       "falls, though it stays far above chance (10%)."))
    if repeats == 1:
        parts.append(t("Each bar is one training run; another seed would move it too (a few tenths of a point for "
                       "the shipped models on the full MNIST, more on fewer digits), which these intervals do not "
                       "include."))
    else:
        parts.append(t("Each bar is the mean of {k} runs with different seeds; its error bar is ± one standard "
                       "deviation across them.", k=repeats))
    return sentences(*parts)


def matrix_reading(matrix: dict[str, dict[str, float]]) -> str:
    """What the train-order × test-order matrix shows, computed from its cells (the student's runs differ)."""
    facts = matrix_facts(matrix)
    parts = [t("The diagonal is each model on the order it was trained on; off the diagonal it meets its rows in an "
               "order it never saw. The weights are the same at every step; what does not carry over is what the "
               "network learned to expect at each step.")]
    if facts["mean_drop"] is not None:
        parts.append(t("Away from its own order a model loses {mean:.0f} points on average; {order} loses least "
                       "({least:.0f} points).", mean=100 * facts["mean_drop"], order=t(ORDERS[facts["least"]].title),
                       least=100 * facts["least_drop"]))
    if facts["across_axis"] is not None:
        parts.append(t("Read by columns, the models trained on rows score at most {best:.0%}: a column is a "
                       "different kind of line.", best=facts["across_axis"]))
    return sentences(*parts)


def every_step_text(every: dict, lesson: float) -> str:
    """What the curve of the model trained on every answer shows, and what this one run of it does not."""
    known, top = every["metrics"]["acc_by_rows"], peaks(every)
    parts = [t("Trained with a loss on its answer after every row, the same network reaches {half:.1%} after 14 rows "
               "and {full:.2%} after all 28: a lower bound on what can be read after k rows, what this network, "
               "trained this way, gets out of them. The gap between the curves is what the lesson's classifier was "
               "never asked to read.", half=known[13], full=known[27])]
    if top["row"] < len(known):
        parts.append(t("Its best answer comes after row {row} ({acc:.2%}); the rows after it lower its score.",
                       row=top["row"], acc=top["row_acc"]))
    parts.append(t("It ends below the lesson's model ({full:.2%} against {lesson:.2%}) in this one run.",
                   full=known[27], lesson=lesson))
    if top["epoch"] < top["last_epoch"]:
        parts.append(t("Its test accuracy was {acc:.2%} after epoch {epoch} and fell by epoch {last}: part of that "
                       "gap is this run's unsteady end, not only the early answers "
                       "it is trained for.", acc=top["epoch_acc"], epoch=top["epoch"], last=top["last_epoch"]))
    return sentences(*parts)
