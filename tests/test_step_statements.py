"""The sentences the gradient, probe and parallel panels write, each computed from the numbers: every outcome of each
statement from made-up results that call for it, in both languages (the wording follows the numbers, not the
other way round)."""

from __future__ import annotations

import pytest

from lib.experiments import parallel, probes
from tests.test_i18n import english_words
from ui import gradient_charts as gc
from ui import i18n
from ui import parallel as ui_parallel
from ui import probes as ui_probes


@pytest.fixture(params=["en", "zh"])
def lang(request, monkeypatch):
    monkeypatch.setattr(i18n, "language", lambda: request.param)
    return request.param


def gradient(first: float, spread: float = 1.5, over: int = 0, cell: float | None = None) -> dict:
    """A result whose first step keeps `first` of the last step's gradient (95% interval: first/spread..first*spread)
    and whose clipping threshold was exceeded in `over` of 20 batches."""
    out = {"grad_rel": [first, 1.0], "grad_rel_low": [first / spread, 1.0], "grad_rel_high": [first * spread, 1.0],
           "hidden_rel": [first, 1.0], "hidden_rel_low": [first / spread, 1.0],
           "hidden_rel_high": [first * spread, 1.0],
           "clip": {"threshold": 1.0, "batches": 20, "batch_size": 64, "over": over, "max": 3.0 if over else 0.4,
                    "median": 0.3}}
    if cell is not None:
        out |= {"cell_rel": [cell, 1.0], "cell_rel_low": [cell / spread, 1.0], "cell_rel_high": [cell * spread, 1.0]}
    return out


def chinese(text: str, lang: str) -> None:
    if lang == "zh":
        assert english_words(text) == [], text


def test_the_plain_rnn_statement_follows_its_first_step_share(lang):
    kept = gc.plain_rnn_reading({"rnn": gradient(0.2)}, 0.9855, 28)
    gone = gc.plain_rnn_reading({"rnn": gradient(1e-5)}, 0.9855, 112)
    edge = gc.plain_rnn_reading({"rnn": gradient(0.01, spread=2)}, 0.9855, 56)
    assert len({kept, gone, edge}) == 3
    assert "98.55%" in kept and "98.55%" not in gone and gc.share(1e-5) in gone
    if lang == "en":
        assert "does not vanish" in kept and "vanishes: only" in gone and "within the noise" in edge
    for text in (kept, gone, edge):
        chinese(text, lang)


def test_the_additive_path_statement_says_more_less_or_a_tie(lang):
    rnn = gradient(1e-4)
    more = gc.additive_path({"lstm": gradient(0.1, cell=0.3), "rnn": rnn}, {"lstm": gradient(0.1, cell=0.5),
                                                                              "rnn": rnn})
    tie = gc.additive_path({"lstm": gradient(0.1, cell=1.1e-4), "rnn": rnn},
                           {"lstm": gradient(0.1, cell=1e-6), "rnn": rnn})
    assert gc.comparison(gc.compare_reach(gradient(0.1, cell=0.3), "cell", rnn, "hidden")) in more
    assert gc.comparison(gc.compare_reach(gradient(0.1, cell=1.1e-4), "cell", rnn, "hidden")) in tie
    if lang == "en":
        assert "3,000 times as much" in more and "within the noise" in tie and "100 times less" in tie
    assert gc.additive_path({"rnn": rnn}, {"rnn": rnn}) == ""  # no LSTM to compare with: nothing said
    for text in (more, tie):
        chinese(text, lang)


def test_the_clipping_statement_says_whether_clipping_acted(lang):
    acted = gc.clipping_text({"rnn": gradient(0.1, over=3), "lstm": gradient(0.1)})
    never = gc.clipping_text({"rnn": gradient(0.1), "lstm": gradient(0.1)})
    assert acted != never
    if lang == "en":
        assert "acts on the few batches" in acted and "3 of 20" in acted
        assert "never acted" in never and "0 of 20" in never
    for text in (acted, never):
        chinese(text, lang)


def measurement(by_row: float, batch_cost: float) -> dict:
    return {"device": "CPU", "device_type": "cpu", "threads": 2, "batch_size": 64, "hidden": 100, "layers": 2,
            "steps": 28, "repeats": 5, "projection_ms": 1.0, "projection_by_row_ms": by_row, "recurrence_ms": 6.0,
            "recurrence_one_digit_ms": 6.0 / batch_cost, "head_ms": 1.0, "unrolled_ms": 8.0, "fused_ms": 4.0,
            "share": 0.75, "share_low": 0.7, "share_high": 0.8, "steps_in_sequence": 29, "steps_without_overlap": 56}


def test_the_parallel_statements_follow_the_measurement(lang):
    fast, slow = measurement(by_row=5.0, batch_cost=3.0), measurement(by_row=1.1, batch_cost=60.0)
    parallel_batch = ui_parallel.reading(fast, parallel.facts(fast))
    serial_batch = ui_parallel.reading(slow, parallel.facts(slow))
    assert parallel_batch != serial_batch
    assert "75%" in parallel_batch and "70%" in parallel_batch and "80%" in parallel_batch
    if lang == "en":
        assert "5.0 times as long" in parallel_batch and "not 64 times" in parallel_batch
        assert "about as long here (1.1 ms)" in serial_batch and "hardly runs in parallel" in serial_batch
        assert "29 steps run in sequence" in parallel_batch and "instead of 56" in parallel_batch
    for text in (parallel_batch, serial_batch):
        chinese(text, lang)


def probed(probe: list[float], readout: list[float], state: list[float] | None = None) -> dict:
    return {"rows": list(range(1, len(probe) + 1)), "n_test": 10_000, "probe_acc": probe,
            "state_acc": state or probe, "readout_acc": readout}


def test_the_probe_statements_follow_the_curves(lang):
    rows = 28
    ahead = ui_probes.reading(probes.facts(probed([0.9] * rows, [0.3] * rows, [0.95] * rows), 14,
                                           ([0.5] * rows, 10_000)), "every-step model")
    level = ui_probes.reading(probes.facts(probed([0.5] * rows, [0.5] * rows), 14))
    assert ahead != level
    if lang == "en":
        assert "after 28 of the 28 rows (from row 1 to row 28)" in ahead and "the state holds more" in ahead
        assert "+5.0 points" in ahead and "every-step model reads 50.0%" in ahead
        assert "never reads more than the classifier" in level and "the same, within the noise" in level
    else:
        assert "第 1 行到第 28 行" in ahead
    for text in (ahead, level):
        chinese(text.replace("every-step model", ""), lang)


def card(acc: float, steps_per_row: int = 1, wrong: range = range(0), n: int = 10_000) -> dict:
    """A card scored on n digits whose true class is 0; `wrong` are the digits it answers 1 to."""
    answers = [1 if i in wrong else 0 for i in range(n)]
    return {"metrics": {"acc": acc, "n": n, "predictions": answers}, "config": {"steps_per_row": steps_per_row}}


def test_the_longer_readings_accuracy_change_is_tested_on_the_same_digits(lang):
    labels = [0] * 10_000
    # 10 more errors, all on digits the 28-step model got right: McNemar's test calls it a real drop
    drop = gc.accuracy_change(card(0.99, wrong=range(100)), card(0.989, 4, wrong=range(110)), "LSTM", labels)
    # the same two accuracies, the errors on other digits (110 new, 100 mended): no real change on the same digits
    swap = gc.accuracy_change(card(0.99, wrong=range(100)), card(0.989, 4, wrong=range(100, 210)), "LSTM", labels)
    unpaired = gc.accuracy_change(card(0.99, wrong=range(100)), card(0.989, 4, wrong=range(110)), "LSTM")
    assert drop != swap == unpaired and "112" in drop and "-0.10" in drop  # without labels: the binomial test
    if lang == "en":
        assert "a real drop" in drop and "within the noise" in swap
    chinese(drop + swap, lang)
