"""lib.readings: the facts Inspect's captions state, on small hand-made arrays."""

import numpy as np

from lib.readings import class_extremes, map_activity, most_attended, most_frequent_mistake, top_two


def test_top_two_classes():
    probs = np.array([0.05, 0.6, 0.0, 0.3, 0.05, 0, 0, 0, 0, 0])
    assert top_two(probs) == {"top": 1, "p": 0.6, "second": 3, "q": 0.3}


def test_most_attended_names_original_lines_and_the_share_left_on_the_token():
    weights = np.full((2, 28), 0.01)
    weights[-1, [3, 10, 20]] = [0.3, 0.2, 0.1]
    lines = list(range(27, -1, -1))  # bottom → top: input line k is original row 28 - k (1-based)
    facts = most_attended(weights, lines)
    assert facts["lines"] == [25, 18, 8]
    assert abs(facts["share"] - 0.6) < 1e-9 and abs(facts["own"] - (1 - 0.6 - 25 * 0.01)) < 1e-9
    assert facts["even"] == 1 / 29


def test_map_activity_counts_silent_maps():
    maps = np.zeros((3, 28, 28))
    maps[1, 5, 5] = 2.0
    assert map_activity(maps) == {"strongest": 2, "mean": 2.0 / 784, "silent": 2, "total": 3}


def test_most_frequent_mistake_and_none():
    counts = np.eye(10, dtype=int) * 100
    assert most_frequent_mistake(counts)["total"] == 0
    counts[4, 9], counts[7, 1] = 12, 5
    assert most_frequent_mistake(counts) == {"total": 17, "true": 4, "pred": 9, "n": 12}


def test_class_extremes():
    acc = [0.99, 0.995, 0.97, 0.98, 0.96, 0.99, 0.99, 0.98, 0.97, 0.975]
    assert class_extremes(acc) == {"low": 4, "a": 0.96, "high": 1, "b": 0.995}
