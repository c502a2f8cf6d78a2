"""Comparing two measured results with the test that fits how they were measured, as plain data for captions.

Runs repeated with several seeds are compared by the spread of their seeds (Student's t); two single models scored
on the same test digits by McNemar's test on the digits they disagree on (their cards keep each digit's answer);
anything else by the binomial noise of each accuracy. A caption names a difference only when its test says so.
"""

from __future__ import annotations

import math
from statistics import fmean

from lib.experiments.stats import differ, differ_se, mcnemar, right_answers, spread, t95


def change(base: list[dict], other: list[dict], labels: list[int] | None = None) -> dict:
    """How test accuracy changes from `base` to `other`, each a list of runs' metrics (lib.experiments.evaluate
    results or cards' "metrics", one per seed), scored on the same test digits when `labels` (their true classes)
    is given. {"errors": (base, other) error rates (means over seeds), "ratio": other / base errors, "points": the
    change in errors, in points, "differ": beyond noise, "test": "seeds" | "mcnemar" | "binomial", "spreads": how
    many times the seeds' spread the change is (None without seeds), "verdict": "fewer" or "more" errors in `other`
    beyond noise, else "same"}."""
    a, b = [r["acc"] for r in base], [r["acc"] for r in other]
    errors = (1 - fmean(a), 1 - fmean(b))
    out = {"errors": errors, "ratio": errors[1] / errors[0] if errors[0] else math.inf,
           "points": (errors[1] - errors[0]) * 100, "spreads": None}
    if len(a) > 1 and len(b) > 1:
        sa, sb = spread(a), spread(b)
        pooled = math.sqrt((sa["sd"] ** 2 + sb["sd"] ** 2) / 2)
        out |= {"test": "seeds", "differ": differ_se(sa["mean"], sa["se"], sb["mean"], sb["se"],
                                                     t95(len(a) + len(b) - 2)),
                "spreads": abs(errors[1] - errors[0]) / pooled if pooled else math.inf}
    elif len(a) == len(b) == 1 and labels is not None and None not in (
            right := [right_answers(r, labels) for r in (base[0], other[0])]):
        out |= {"test": "mcnemar", "differ": mcnemar(*right)["differ"]}
    else:
        out |= {"test": "binomial", "differ": differ(fmean(a), base[0]["n"], fmean(b), other[0]["n"])}
    return out | {"verdict": ("fewer" if errors[1] < errors[0] else "more") if out["differ"] else "same"}


def epoch_range(card: dict, first: int) -> dict | None:
    """The lowest and highest held-out accuracy of a card's epochs from `first` on (its own run's wandering), with
    what they were scored on; None when the card has no such epochs."""
    from lib.training.train import held_out  # the epoch dicts' format is lib.training.train's

    scores = [(h["epoch"], held_out(h)) for h in card.get("history", []) if h.get("epoch", 0) >= first]
    if not scores:
        return None
    accs = [s["acc"] for _, s in scores]
    return {"low": min(accs), "high": max(accs), "first": scores[0][0], "last": scores[-1][0],
            "split": scores[0][1]["split"], "n": scores[0][1]["n"]}
