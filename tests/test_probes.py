"""Linear probes after k rows (lib.experiments.probes): on a model whose state is known they read exactly what it
holds; the classifier's own curve is the one lib.experiments.evaluate reports (same digits, same random orders, a
longer reading's row k after its last piece); the page's statements in both outcomes."""

from __future__ import annotations

import pytest
import torch

from lib.data.mnist import normalize
from lib.experiments import probes as P
from lib.experiments.evaluate import evaluate
from lib.models.nets import RowClassifier
from tests.conftest import synthetic

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py: tiny operations, one thread

GAIN = 10.0  # tanh(±10) = ±1 within 4e-9: every unit is a clean yes or no


def shift_register() -> RowClassifier:
    """A plain RNN whose state is known: unit 0 says whether the row just read is lit (its mean pixel is far
    brighter than noise), unit j says whether the row read j steps ago was. After k rows the state holds, exactly,
    which of rows 1 … k was lit, and nothing else. The classifier reads nothing (weights 0): chance."""
    model = RowClassifier("rnn", 28, 1).eval()
    lit, noise = normalize(torch.tensor(255.0)), normalize(torch.tensor(30.0))  # a lit row; the mean of noise
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        model.rnn.weight_ih_l0[0].fill_(GAIN / 28)  # unit 0: GAIN × the row's mean pixel ...
        model.rnn.bias_ih_l0[0] = -GAIN * float(lit + noise) / 2  # ... minus the midpoint: ±1
        model.rnn.weight_hh_l0[1:, :-1] = GAIN * torch.eye(27)  # unit j <- unit j-1 of the step before
    return model


def known_accuracy(k: int) -> float:
    """On tests.conftest.synthetic digits (class c lights row 3 + 2c, balanced classes): after k rows the classes
    whose row has been read are told apart, the others all look alike (a probe can name one of them)."""
    seen = sum(3 + 2 * c + 1 <= k for c in range(10))  # row 3 + 2c (0-based) is read at step 4 + 2c
    return (seen + (seen < 10)) / 10


def test_a_probe_reads_exactly_what_a_known_state_holds():
    data = synthetic(n_train=600, n_test=400, seed=1)
    rows = (1, 3, 4, 5, 6, 12, 21, 22, 28)  # chance, the first class seen, one more, …, all ten, and after
    out = P.probes(shift_register(), data, train_digits=600, test_digits=400, rows=rows)
    assert out["rows"] == list(rows) and out["n_train"] == 600 and out["n_test"] == 400
    for i, k in enumerate(rows):
        assert out["probe_acc"][i] == pytest.approx(known_accuracy(k), abs=0.03), k
        assert out["probe_acc_low"][i] <= out["probe_acc"][i] <= out["probe_acc_high"][i]
    assert out["probe_acc"] == out["state_acc"]  # one layer, no cell state: the same features
    assert max(out["readout_acc"]) == pytest.approx(0.1)  # the classifier reads nothing: chance, every row
    assert P.facts(out, 14)["beyond"] == [k for k in rows if known_accuracy(k) > 0.1]


@pytest.mark.slow  # scores an LSTM on 500 real test digits, three times
@pytest.mark.parametrize("order, line", [("forward", 28), ("random", 28), ("forward", 7)])
def test_the_classifier_curve_is_evaluates(order, line, mnist):
    """Same test digits, same random orders, and after row k of a longer reading its step 4k."""
    torch.manual_seed(0)
    model = RowClassifier("lstm", 12, 2, line=line).eval()
    rows = (1, 9, 14, 28)
    out = P.probes(model, mnist, order, train_digits=100, test_digits=500, rows=rows)
    scored = evaluate(model, mnist, order, limit=500)["acc_by_rows"]
    assert out["readout_acc"] == pytest.approx([scored[k - 1] for k in rows], abs=1 / 500)  # a digit at most: float
    assert out["state_size"] == 2 * 2 * 12 and out["cell_state"] and out["steps_per_row"] == 28 // line


def result(probe: list[float], readout: list[float], n: int = 10_000) -> dict:
    return {"rows": list(range(1, len(probe) + 1)), "n_test": n, "probe_acc": probe, "state_acc": probe,
            "readout_acc": readout}


def test_statements_in_both_outcomes():
    more = P.compare_at(result([0.9], [0.1]), 1, "probe_acc", "readout_acc")
    assert more["verdict"] == "more" and more["gap"] == pytest.approx(0.8)
    assert P.compare_at(result([0.1], [0.9]), 1, "probe_acc", "readout_acc")["verdict"] == "less"
    assert P.compare_at(result([0.981], [0.979]), 1, "probe_acc", "readout_acc")["verdict"] == "same"
    assert P.compare_at(result([0.981], [0.979], n=10 ** 7), 1, "probe_acc", "readout_acc")["verdict"] == "more"
    assert P.against_curve(result([0.9], [0.1]), 1, [0.5], 10_000)["verdict"] == "more"
    assert P.against_curve(result([0.5], [0.1]), 1, [0.9], 10_000)["verdict"] == "less"
    assert P.against_curve(result([0.9], [0.1]), 1, [0.9], 10_000)["verdict"] == "same"


def test_models_that_read_all_at_once_or_both_ways_are_refused(tiny):
    with pytest.raises(ValueError, match="one-way"):
        P.probes(RowClassifier("gru", 4, 1, bidirectional=True), tiny)


def test_a_longer_reading_is_probed_after_each_row_not_each_step():
    """A model that reads each row in 2 pieces (56 steps) is probed after the last piece of each of the 28 rows: the
    progress counts rows, as many as planned_rows() says, and the facts name its steps."""
    data = synthetic(n_train=200, n_test=100, seed=2)
    torch.manual_seed(0)
    model = RowClassifier("rnn", 4, 1, line=14).eval()
    done = []
    out = P.probes(model, data, train_digits=200, test_digits=100, on_row=done.append)
    assert done == out["rows"] == P.planned_rows() == list(range(1, 29)) and out["steps_per_row"] == 2
    said = P.facts(out, 14)
    assert said["probed"] == 28 and said["steps"] == 56 and said["row"] == 14
    assert P.planned_rows((1, 14, 99)) == [1, 14]


def test_facts_hold_each_comparison_the_page_states():
    found = result([0.9, 0.5, 0.2], [0.1, 0.5, 0.1])
    said = P.facts(found, 2, other=([0.5, 0.9, 0.1], 10_000))
    assert said["row"] == 2 and said["top"] == P.compare_at(found, 2, "probe_acc", "readout_acc")
    assert said["every"] == P.compare_at(found, 2, "state_acc", "probe_acc")
    assert said["beyond"] == [1, 3]  # the rows where the probe reads more beyond the noise: not row 2 (a tie)
    assert said["other"] == P.against_curve(found, 2, [0.5, 0.9, 0.1], 10_000) and said["probed"] == 3
    assert P.facts(found, 14)["row"] == 3 and P.facts(found, 14)["other"] is None  # k not probed: the last row
