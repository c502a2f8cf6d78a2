"""lib.experiments.readings: the facts Inspect's captions state, on small hand-made arrays."""

import numpy as np

from lib.experiments.readings import (
    class_extremes,
    gate_means,
    map_activity,
    most_attended,
    most_frequent_mistake,
    row_ink,
    state_range,
    top_two,
)


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


def test_row_ink_state_range_and_gate_means():
    image = np.zeros((28, 28), np.uint8)
    image[4, [3, 4, 5]] = [10, 255, 7]
    assert row_ink(image, 5) == {"ink": 3, "top": 255} and row_ink(image, 1) == {"ink": 0, "top": 0}
    hidden = np.zeros((28, 4))
    hidden[2] = [-0.9, 0.1, 0.6, 0.5]
    assert state_range(hidden, 3) == {"low": -0.9, "high": 0.6, "n": 2, "beyond": 0.5, "h": 4}
    seen = {g: np.full((2, 28, 3), v) for g, v in (("input", 0.2), ("forget", 0.9), ("output", 0.5))}
    seen["forget"][1, 6] = [0.0, 0.3, 0.6]
    means = gate_means(seen, 1, 7)
    assert means.keys() == {"i", "f", "o"} and np.allclose([means["i"], means["f"], means["o"]], [0.2, 0.3, 0.5])
