"""Uncertainty of what the app measures: a test accuracy's interval, whether two accuracies differ, seed spread.

A test accuracy is a share of n test digits, so it carries a binomial uncertainty (about ±0.2 points at 98% on 10,000
digits, ±0.6 on 2,000). Captions name a "highest" only when the gap is larger than that; otherwise they say "tie".
Seed-to-seed spread (the same run repeated with other seeds) is another uncertainty, measured by repeating runs.
"""

from __future__ import annotations

import math
import statistics

Z95 = 1.96  # two-sided 95%
# Student's t, two-sided 95%, by degrees of freedom: a mean over a few seeds knows its spread only roughly, so
# its gap must be wider than 1.96 standard errors (with 3 seeds per side, 2.78) before a caption names a winner.
T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228,
       12: 2.179, 14: 2.145, 16: 2.120, 18: 2.101, 20: 2.086, 30: 2.042}


def t95(df: int) -> float:
    """The two-sided 95% critical value of Student's t with `df` degrees of freedom (rounded down to the table,
    which errs on the careful side; 1.96 beyond 30)."""
    if df > 30:
        return Z95
    return T95[max(k for k in T95 if k <= max(df, 1))]


def interval(acc: float, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a share `acc` of `n` trials: (low, high), inside [0, 1] even at 0% or 100%."""
    if n <= 0:
        return 0.0, 1.0
    centre = (acc + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(acc * (1 - acc) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def margin(acc: float, n: int) -> float:
    """Half the width of the 95% interval: the "±" printed beside an accuracy."""
    low, high = interval(acc, n)
    return (high - low) / 2


def margins(acc: dict, n: dict) -> dict:
    """{key: margin(acc[key], n[key])} for every key of `acc`: the "±" of each accuracy, as plain data for the pages
    (one place for it: the pages read these, they never compute an interval)."""
    return {key: margin(value, n[key]) for key, value in acc.items()}


def differ(a: float, n_a: int, b: float, n_b: int, z: float = Z95) -> bool:
    """Whether accuracies a (of n_a digits) and b (of n_b) differ by more than their sampling noise (z-test)."""
    se = math.sqrt(max(a * (1 - a), 1e-12) / max(n_a, 1) + max(b * (1 - b), 1e-12) / max(n_b, 1))
    return abs(a - b) > z * se


def differ_se(a: float, se_a: float, b: float, se_b: float, z: float = Z95) -> bool:
    """Whether two estimates with standard errors se_a and se_b differ by more than their noise."""
    return abs(a - b) > z * math.sqrt(se_a ** 2 + se_b ** 2)


def standard_error(acc: float, n: int) -> float:
    """The binomial standard error of one test accuracy on n digits."""
    return math.sqrt(max(acc * (1 - acc), 1e-12) / max(n, 1))


def extremes(acc: dict[str, float], n: dict[str, int], se: dict[str, float] | None = None,
             runs: int | None = None) -> dict:
    """The names tied for highest and for lowest accuracy (within the noise of the best and of the worst).

    The noise is each accuracy's binomial error on its n test digits, or `se` when given (the standard error of a
    mean over `runs` seeds each: then Student's t with 2·(runs − 1) degrees of freedom sets the bar, not 1.96).
    {"highest": [...], "lowest": [...], "all_tie": bool}, names in the order of `acc`.
    """
    z = t95(2 * (runs - 1)) if se and runs and runs > 1 else Z95
    se = se or {k: standard_error(acc[k], n[k]) for k in acc}
    best, worst = max(acc, key=acc.get), min(acc, key=acc.get)
    highest = [k for k in acc if not differ_se(acc[k], se[k], acc[best], se[best], z)]
    lowest = [k for k in acc if not differ_se(acc[k], se[k], acc[worst], se[worst], z)]
    return {"highest": highest, "lowest": lowest, "all_tie": len(highest) == len(acc)}


def spread(values: list[float]) -> dict:
    """Mean, sample standard deviation, its standard error, min and max of repeated measurements (several seeds)."""
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return {"mean": statistics.fmean(values), "sd": sd, "se": sd / math.sqrt(len(values)), "min": min(values),
            "max": max(values), "runs": len(values)}


def mcnemar(a_right: list[bool], b_right: list[bool]) -> dict:
    """McNemar's test for two models scored on the same digits: only the digits one gets right and the other wrong
    count. {"only_a", "only_b", "p": the two-sided p-value (exact binomial up to 1,000 discordant digits, then the
    normal approximation with continuity correction), "differ": p < 0.05}."""
    if len(a_right) != len(b_right):
        raise ValueError("McNemar's test compares answers on the same digits")
    only_a = sum(a and not b for a, b in zip(a_right, b_right))
    only_b = sum(b and not a for a, b in zip(a_right, b_right))
    n, k = only_a + only_b, min(only_a, only_b)
    if n == 0:
        p = 1.0
    elif n <= 1000:
        p = min(1.0, 2 * sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n)
    else:
        z = (abs(only_a - only_b) - 1) / math.sqrt(n)
        p = math.erfc(z / math.sqrt(2))
    return {"only_a": only_a, "only_b": only_b, "p": p, "differ": p < 0.05}


def right_answers(card_metrics: dict, labels: list[int]) -> list[bool] | None:
    """Which test digits a card's model got right (its stored answers against the labels), or None when the card
    predates stored answers."""
    answers = card_metrics.get("predictions")
    if not answers or len(answers) != len(labels):
        return None
    return [int(a) == y for a, y in zip(answers, labels)]
