"""Captions that draw conclusions follow their numbers: a tie is called a tie, a winner only past the noise."""

import pytest

from ui import captions, i18n

SHIPPED = {"forward": 0.9929, "reversed": 0.9909, "shuffled": 0.9817, "random": 0.9135, "columns": 0.9899}


@pytest.fixture(autouse=True)
def english(monkeypatch):
    monkeypatch.setattr(i18n, "language", lambda: "en")


def test_a_tie_is_called_a_tie():
    text = captions.order_ranking({"forward": 0.9929, "reversed": 0.9909}, {"forward": 10000, "reversed": 10000})
    assert text.startswith("All these orders tie") and "Highest" not in text


def test_the_highest_group_holds_every_order_within_the_noise():
    text = captions.order_ranking(SHIPPED, dict.fromkeys(SHIPPED, 10000))
    assert "Highest: top → bottom (99.29%), bottom → top (99.09%)." in text
    assert "Lowest: random per image (91.35%)." in text and "accuracy falls" in text


def test_the_same_gap_on_few_digits_is_a_tie():
    assert captions.order_ranking({"forward": 0.99, "random": 0.95}, {"forward": 100, "random": 100}).startswith(
        "All these orders tie")


def test_the_matrix_reading_is_computed_from_the_cells():
    matrix = {"forward": {"forward": 0.99, "reversed": 0.39, "columns": 0.19},  # drops 60 and 80: 70 on average
              "reversed": {"forward": 0.49, "reversed": 0.99, "columns": 0.29}}  # drops 50 and 70: 60
    text = captions.matrix_reading(matrix)
    assert "loses 65 points on average; bottom → top loses least (60 points)" in text
    assert "score at most 29%" in text


def test_matrix_facts_read_the_matrix():
    from lib.experiments.analysis import matrix_facts
    matrix = {"forward": {"forward": 0.99, "reversed": 0.5, "columns": 0.3},
              "reversed": {"reversed": 0.98, "forward": 0.78, "columns": 0.2},
              "columns": {"columns": 0.97, "forward": 0.1}}
    facts = matrix_facts(matrix)
    assert facts["least"] == "reversed" and abs(facts["least_drop"] - (0.98 - (0.78 + 0.2) / 2)) < 1e-9
    means = [0.99 - 0.4, 0.98 - 0.49, 0.97 - 0.1]
    assert abs(facts["mean_drop"] - sum(means) / 3) < 1e-9
    assert facts["across_axis"] == 0.3  # trained on rows, read by columns (not the columns model read by rows)
    assert matrix_facts({"forward": {"forward": 0.9}}) == {"mean_drop": None, "least": None, "least_drop": None,
                                                         "across_axis": None}


def test_run_order_results_average_each_orders_seeds():
    from lib.experiments.analysis import run_order_results
    rows = [0.1] * 27 + [0.9]
    out = run_order_results({"forward": [{"acc": 0.9, "n": 500, "acc_by_rows": rows},
                                         {"acc": 0.8, "n": 500, "acc_by_rows": [0.3] * 28}],
                             "random": [{"acc": 0.7, "n": 500, "acc_by_rows": None}]})
    assert abs(out["acc"]["forward"] - 0.85) < 1e-9 and out["n"] == {"forward": 500, "random": 500}
    assert abs(out["acc_by_rows"]["forward"][0] - 0.2) < 1e-9 and out["acc_by_rows"]["random"] is None
    assert out["seeds"]["forward"]["runs"] == 2 and out["seeds"]["random"]["runs"] == 1
