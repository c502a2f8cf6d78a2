"""Captions that draw a conclusion from numbers: computed from those numbers, so they never say more than they show."""

from __future__ import annotations

from lib.data.orders import ORDERS
from lib.experiments import stats
from lib.experiments.analysis import matrix_facts, peaks
from lib.experiments.compare import change, epoch_range
from lib.messages import LIST_SEPARATOR
from ui.i18n import sentences, t
from ui.state import device_text


def digit_counts(counts) -> str:
    """The test-digit counts some accuracies were scored on, e.g. "10,000" or "2,000 / 10,000"."""
    return " / ".join(f"{n:,}" for n in sorted(set(counts)))


def _names(orders: list[str], acc: dict) -> str:
    return t(LIST_SEPARATOR).join(t("{order} ({acc:.2%})", order=t(ORDERS[o].title), acc=acc[o]) for o in orders)


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
    parts = [t("Another network of the same shape, trained with a loss on its answer after every row, reaches "
               "{half:.1%} after 14 rows and {full:.2%} after all 28: a lower bound on what a network of this shape "
               "can tell from the first k rows when it is trained to. The gap between the two curves mixes two "
               "things: a classifier that was never asked to answer early, and a memory that was trained "
               "differently.", half=known[13], full=known[27])]
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


def lesson_result_text(card: dict, source: float) -> str:
    """The lesson model's score beside the source's, each one run: with its interval, and how far this run itself
    wandered over its last epochs (the test set was scored after each, as the source did)."""
    m = card["metrics"]
    text = t("- **It works.** The lesson's LSTM reaches **{acc:.2%}** ± {margin:.2%} on the {n:,} MNIST test digits "
             "here (95% interval), trained in {s:.0f} s on {dev}; the original lesson reported {source:.2%}.",
             acc=m["acc"], margin=stats.margin(m["acc"], m["n"]), n=m["n"], s=card["training"]["seconds"],
             dev=device_text(card["training"]), source=source)
    wander = epoch_range(card, first=5)
    if wander is None:
        return text
    inside = wander["low"] <= source <= wander["high"]
    return sentences(text, t("Each is one training run, and a run wanders: scored after every epoch, this one moved "
                             "between {low:.2%} and {high:.2%} over epochs {first}–{last}.", **wander),
                     t("The original's {source:.2%} lies inside that range.", source=source) if inside else
                     t("The original's {source:.2%} lies outside that range.", source=source))


def order_claim_text(results: dict, base: str = "forward", fixed: str = "shuffled", per_image: str = "random") -> str:
    """The Lesson's answer to "does order matter?", from the shipped row-order models (lib.experiments.analysis
    .shipped_order_results): what a fixed scrambled order and a new random order per image do to the errors, each
    named a cost only beyond the spread between seeds."""
    runs = results["runs"]
    if not all(o in runs for o in (base, fixed, per_image)):
        return ""
    shuffled, random = change(runs[base], runs[fixed]), change(runs[base], runs[per_image])
    values = dict(k=len(runs[base]), e0=shuffled["errors"][0], e1=shuffled["errors"][1], e2=random["errors"][1],
                  ratio=shuffled["ratio"], spreads=shuffled["spreads"] or 0)
    if shuffled["differ"]:
        return t("- **Does order matter?** The original lesson says an image can be read in any order. The *Row "
                 "order* page tests it with the shipped LSTMs, {k} seeds per order: one fixed scrambled order "
                 "raises their errors from {e0:.2%} to {e1:.2%} (×{ratio:.1f}, {spreads:.0f} times the spread "
                 "between seeds), and a new random order for every image to {e2:.2%}.", **values)
    return t("- **Does order matter?** The original lesson says an image can be read in any order. The *Row order* "
             "page tests it with the shipped LSTMs, {k} seeds per order: one fixed scrambled order is learned as "
             "well as top → bottom (errors {e0:.2%} and {e1:.2%}, within the spread between seeds), but a new random "
             "order for every image raises the errors to {e2:.2%}.", **values)


def fixed_order_text(costs: dict[str, dict], name) -> str:
    """What one fixed scrambled order costs each model (lib.experiments.conclusion.fixed_order_costs), a clause each
    saying whether the change is beyond its test's noise; `name` gives a model's name."""
    test = {"seeds": t("beyond the spread between its seeds"), "mcnemar": t("beyond chance on the same digits "
                                                                            "(McNemar's test)"),
            "binomial": t("beyond the noise of the test score")}
    same = {"seeds": t("within the spread between its seeds"), "mcnemar": t("within chance on the same digits "
                                                                           "(McNemar's test)"),
            "binomial": t("within the noise of the test score")}
    clauses = [t("{model}: errors from {e0:.2%} to {e1:.2%} (×{ratio:.1f}), {verdict}", model=name(v),
                 e0=c["errors"][0], e1=c["errors"][1], ratio=c["ratio"],
                 verdict=(test if c["differ"] else same)[c["test"]]) for v, c in costs.items()]
    return t("Read in one fixed scrambled order instead of top → bottom: {clauses}.",
             clauses=t("; ").join(clauses)) if clauses else ""


def rows_read_text(reached: dict[str, int], losses: frozenset) -> str:
    """When each order's curve reaches 90% of its final accuracy, and what the curve means for how the models were
    trained: a read-out never asked to answer early (last-step loss), or what they learned to read by then."""
    found = t("Rows read before the answer reaches 90% of its final accuracy: {list}.",
              list=t(LIST_SEPARATOR).join(t("{order}: {k} rows", order=t(ORDERS[o].title), k=k)
                                          for o, k in reached.items()))
    if losses == {"last-step"}:
        meaning = t("These models were trained to answer after the last row only, so the curves show when that "
                    "read-out starts to work, not when the information arrives.")
    elif losses == {"every-step"}:
        meaning = t("These models were trained to answer after every row, so each curve shows what its network "
                    "learned to tell from the first k rows: a lower bound on what those rows hold.")
    else:
        meaning = t("Some of these models were trained to answer after every row, others after the last row only: "
                    "their curves mean different things, so compare curves of the same kind.")
    return sentences(found, meaning)
