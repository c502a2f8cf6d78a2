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


# ---------------------------------------------------------------- issue 22: each computed caption follows its numbers

def test_what_an_answer_after_k_rows_means_follows_how_the_models_were_trained():
    last, every = captions.rows_read_text({"forward": 23}, frozenset({"last-step"})), \
        captions.rows_read_text({"forward": 9}, frozenset({"every-step"}))
    assert "top → bottom: 23 rows" in last and "trained to answer after the last row only" in last
    assert "trained to answer after every row" in every and "last row only" not in every
    mixed = captions.rows_read_text({"forward": 9, "random": 20}, frozenset({"every-step", "last-step"}))
    assert "compare curves of the same kind" in mixed


def test_inspects_answers_follow_the_models_loss_and_read_out():
    from lib.training.config import TrainConfig
    from ui.inspect_panels import answers_text

    assert "trained to answer after the last step only" in answers_text(TrainConfig())
    every = answers_text(TrainConfig(loss="every-step"))
    assert "trained to answer after every row" in every and "by-product" not in every
    assert "from the mean of the first k" in answers_text(TrainConfig(readout="mean"))
    assert "each row in 4 pieces (112 steps)" in answers_text(TrainConfig(steps_per_row=4))


def _scaling(lstm, cnn):
    return {"heights": [28, 56, 112, 224], "train_ms": {"lstm": lstm, "cnn": cnn}}


def test_the_cpu_why_says_what_the_measurement_shows_either_way():
    from lib.experiments.conclusion import against, recorded_scaling
    from ui.conclusion import speed_text

    recorded = speed_text(against(recorded_scaling()))  # docs/scaling-cpu.json: the LSTM faster at every height
    assert "faster than the CNN's at every size" in recorded and "does not appear" in recorded
    slower = speed_text(against(_scaling([90, 200, 900, 7000], [30, 60, 120, 300])))
    assert "slower than the CNN's at every size" in slower and "does not appear" not in slower
    crossing = speed_text(against(_scaling([20, 60, 400, 3000], [30, 60, 120, 300])))
    assert "faster than the CNN's at 28 pixels and slower at the other sizes" in crossing


def _runs(*accs, n=10000):
    return [{"acc": a, "n": n, "seed": k} for k, a in enumerate(accs)]


def test_the_lessons_order_claim_names_a_cost_only_beyond_the_seeds():
    costly = captions.order_claim_text({"runs": {"forward": _runs(0.9929, 0.9920, 0.9922),
                                                 "shuffled": _runs(0.9817, 0.9812, 0.9810),
                                                 "random": _runs(0.9135, 0.9150, 0.9140)}})
    assert "raises their errors from 0.76% to 1.87%" in costly and "times the spread between seeds" in costly
    same = captions.order_claim_text({"runs": {"forward": _runs(0.9929, 0.9910, 0.9922),
                                               "shuffled": _runs(0.9925, 0.9912, 0.9931),
                                               "random": _runs(0.9135, 0.9150, 0.9140)}})
    assert "is learned as well as top → bottom" in same and "within the spread between seeds" in same


def test_a_fixed_order_cost_is_judged_on_the_same_digits_when_the_cards_keep_their_answers():
    labels = [0] * 1000
    right, wrong = "0" * 1000, "0" * 980 + "1" * 20
    costs = {"cnn": {"errors": (0.0, 0.02), "ratio": float("inf"), "points": 2.0, "differ": True, "test": "mcnemar",
                     "spreads": None}}
    text = captions.fixed_order_text(costs, lambda v: v.upper())
    assert "CNN: errors from 0.00% to 2.00%" in text and "beyond chance on the same digits (McNemar's test)" in text
    from lib.experiments.compare import change
    paired = change([{"acc": 1.0, "n": 1000, "predictions": right}], [{"acc": 0.98, "n": 1000, "predictions": wrong}],
                    labels)
    assert paired["test"] == "mcnemar" and paired["differ"]  # 20 against 0 digits: beyond chance


def test_the_lessons_score_is_set_beside_its_own_wandering():
    card = {"metrics": {"acc": 0.9861, "n": 10000}, "training": {"seconds": 168, "device_type": "cpu", "threads": 2},
            "history": [{"event": "epoch", "epoch": e, "test_acc": a, "test_loss": 0.05}
                        for e, a in enumerate([0.8, 0.9, 0.95, 0.96, 0.9741, 0.98, 0.9845, 0.9861, 0.985, 0.9861], 1)]}
    text = captions.lesson_result_text(card, 0.9815)
    assert "98.61%** ± 0.23%" in text and "between 97.41% and 98.61% over epochs 5–10" in text
    assert "lies inside that range" in text
    assert "lies outside that range" in captions.lesson_result_text(card, 0.9900)


def test_reading_both_ways_is_judged_in_each_order_on_the_same_digits():
    """The read-out caption's two answers: random per image (where the order carries nothing) and top → bottom (where
    it does), each a McNemar test on the same digits, in each outcome."""
    from lib.experiments.readouts import readout_table
    from ui import readouts

    labels = [k % 10 for k in range(1000)]

    def wrong(k: int) -> str:  # the first k digits answered wrong
        return "".join(str((y + 1) % 10) if i < k else str(y) for i, y in enumerate(labels))

    def card(errors: int) -> dict:
        return {"metrics": {"acc": 1 - errors / 1000, "n": 1000, "acc_by_rows": None, "predictions": wrong(errors)}}

    cards = {"lstm-random": card(60), "lstm-bi-random": card(0), "lstm-forward": card(8), "lstm-bi-forward": card(9)}
    text = readouts.both_text(readout_table(cards), labels)
    assert "Yes: in a random order per image its errors fall from 6.00% one way to 0.00%" in text
    assert "Top → bottom, where the order does carry information, its errors are 0.90% against 0.80% one way: the " \
           "same within chance." in text
    cards |= {"lstm-bi-forward": card(60), "lstm-forward": card(0)}
    assert "it does worse: its errors rise from 0.00% one way to 6.00%, beyond chance" in \
        readouts.both_text(readout_table(cards), labels)
    cards |= {"lstm-bi-forward": card(0), "lstm-forward": card(60)}
    assert "it helps too: its errors fall from 6.00% one way to 0.00%" in readouts.both_text(readout_table(cards), labels)
    del cards["lstm-bi-forward"]  # not shipped: the contrast is left out, the answer stays
    assert "Top → bottom" not in readouts.both_text(readout_table(cards), labels)
    assert readouts.both_text(readout_table({"lstm-random": card(60)}), labels) == ""
