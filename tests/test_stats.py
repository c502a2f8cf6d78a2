"""Uncertainty: intervals, ties and seed spread, and the captions that follow from them."""

import pytest

from lib import stats


def test_interval_matches_the_binomial_rule_of_thumb():
    low, high = stats.interval(0.98, 10000)
    assert low < 0.98 < high and (high - low) / 2 == pytest.approx(1.96 * (0.98 * 0.02 / 10000) ** 0.5, rel=0.02)
    assert stats.margin(0.98, 2000) > stats.margin(0.98, 10000) * 2.2  # 5x fewer digits: about sqrt(5)x wider
    assert stats.interval(1.0, 100)[1] == pytest.approx(1.0) and stats.interval(0.0, 100)[0] == 0.0
    assert stats.interval(1.0, 100)[0] > 0.95  # 100 of 100 right still leaves room below


def test_a_gap_within_the_noise_is_a_tie():
    assert not stats.differ(0.9929, 10000, 0.9909, 10000)  # lstm forward vs reversed: 0.2 points, a tie
    assert stats.differ(0.9929, 10000, 0.9135, 10000)  # forward vs random per image: a real gap
    assert not stats.differ(0.99, 100, 0.95, 100)  # the same 4 points on 100 digits: noise


def test_extremes_name_every_order_tied_for_highest_and_lowest():
    acc = {"forward": 0.9929, "reversed": 0.9909, "shuffled": 0.9817, "random": 0.9135, "columns": 0.9899}
    n = dict.fromkeys(acc, 10000)
    found = stats.extremes(acc, n)
    assert found == {"highest": ["forward", "reversed"], "lowest": ["random"], "all_tie": False}
    assert stats.extremes({"a": 0.98, "b": 0.981}, {"a": 10000, "b": 10000})["all_tie"]


def test_spread_of_repeated_runs():
    s = stats.spread([0.97, 0.98, 0.99])
    assert s["mean"] == pytest.approx(0.98) and s["sd"] == pytest.approx(0.01) and s["runs"] == 3
    assert stats.spread([0.5])["sd"] == 0.0
