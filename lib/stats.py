"""Uncertainty of what the app measures: a test accuracy's interval, whether two accuracies differ, seed spread.

A test accuracy is a share of n test digits, so it carries a binomial uncertainty (about ±0.2 points at 98 % on 10,000
digits, ±0.6 on 2,000). Captions name a "highest" only when the gap is larger than that; otherwise they say "tie".
Seed-to-seed spread (the same run repeated with other seeds) is another uncertainty, measured by repeating runs.
"""

from __future__ import annotations

import math
import statistics

Z95 = 1.96  # two-sided 95 %


def interval(acc: float, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a share `acc` of `n` trials: (low, high), inside [0, 1] even at 0 % or 100 %."""
    if n <= 0:
        return 0.0, 1.0
    centre = (acc + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(acc * (1 - acc) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def margin(acc: float, n: int) -> float:
    """Half the width of the 95 % interval: the "±" printed beside an accuracy."""
    low, high = interval(acc, n)
    return (high - low) / 2


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


def extremes(acc: dict[str, float], n: dict[str, int], se: dict[str, float] | None = None) -> dict:
    """The names tied for highest and for lowest accuracy (within the noise of the best and of the worst).

    The noise is each accuracy's binomial error on its n test digits, or `se` when given (e.g. the standard error
    of a mean over seeds). {"highest": [...], "lowest": [...], "all_tie": bool}, names in the order of `acc`.
    """
    se = se or {k: standard_error(acc[k], n[k]) for k in acc}
    best, worst = max(acc, key=acc.get), min(acc, key=acc.get)
    highest = [k for k in acc if not differ_se(acc[k], se[k], acc[best], se[best])]
    lowest = [k for k in acc if not differ_se(acc[k], se[k], acc[worst], se[worst])]
    return {"highest": highest, "lowest": lowest, "all_tie": len(highest) == len(acc)}


def spread(values: list[float]) -> dict:
    """Mean, sample standard deviation, its standard error, min and max of repeated measurements (several seeds)."""
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return {"mean": statistics.fmean(values), "sd": sd, "se": sd / math.sqrt(len(values)), "min": min(values),
            "max": max(values), "runs": len(values)}
