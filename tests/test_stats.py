"""Uncertainty: intervals, ties and seed spread, and the captions that follow from them."""

import pytest

from lib.experiments import stats


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


def test_shipped_order_results_are_means_over_seeds():
    from lib.experiments.analysis import shipped_order_results

    def card(order, seed, acc, rows, cross):
        return {"config": {"family": "lstm", "order": order, "seed": seed},
                "metrics": {"acc": acc, "n": 10000, "acc_by_rows": rows}, "cross_order": cross}

    cards = {"lstm-forward": card("forward", 0, 0.99, [0.1, 0.9], {"forward": 0.99, "reversed": 0.4}),
             "lstm-reversed": card("reversed", 0, 0.98, [0.2, 0.8], {"forward": 0.5, "reversed": 0.98}),
             "gru-forward": {"config": {"family": "gru", "order": "forward", "seed": 0}}}
    seeds = {"lstm-forward-seed1": card("forward", 1, 0.97, [0.3, 0.7], {"forward": 0.97, "reversed": 0.2})}
    r = shipped_order_results(cards, seed_cards=seeds)
    assert r["orders"] == ["forward", "reversed"]
    assert r["acc"]["forward"] == pytest.approx(0.98) and r["acc"]["reversed"] == pytest.approx(0.98)
    assert r["acc_by_rows"]["forward"] == pytest.approx([0.2, 0.8])
    assert r["matrix"]["forward"] == pytest.approx({"forward": 0.98, "reversed": 0.3})
    assert r["seeds"]["forward"]["runs"] == 2 and r["seeds"]["forward"]["sd"] == pytest.approx(0.01414, abs=1e-4)
    assert r["seeds"]["reversed"]["runs"] == 1 and r["runs"]["forward"] == [{"seed": 0, "acc": 0.99, "n": 10000},
                                                                             {"seed": 1, "acc": 0.97, "n": 10000}]
    assert shipped_order_results(cards)["acc"]["forward"] == 0.99  # without seed cards: the shipped run alone


def test_each_accuracy_comes_with_its_95_margin_as_plain_data():
    """The pages draw error bars from lib's numbers: no page computes an interval (pages hold no math)."""
    from lib.experiments.analysis import error_bars, run_order_results
    from lib.experiments.readouts import readout_table

    def card(acc, n):
        return {"metrics": {"acc": acc, "n": n, "acc_by_rows": []}}

    table = readout_table({"lstm-forward": card(0.99, 10_000), "lstm-mean-random": card(0.9, 2_000)})
    assert table["margin"] == {"last": {"forward": pytest.approx(stats.margin(0.99, 10_000))},
                               "mean": {"random": pytest.approx(stats.margin(0.9, 2_000))}}
    one = run_order_results({"forward": [{"acc": 0.98, "n": 500, "acc_by_rows": None}],
                             "random": [{"acc": 0.9, "n": 500, "acc_by_rows": None}]})
    assert one["margin"] == {"forward": stats.margin(0.98, 500), "random": stats.margin(0.9, 500)}
    assert error_bars(one) == {"kind": "interval", "runs": 1, "errors": one["margin"]}
    three = run_order_results({o: [{"acc": a, "n": 500, "acc_by_rows": None} for a in accs]
                               for o, accs in {"forward": (0.97, 0.98, 0.99), "random": (0.9, 0.9, 0.9)}.items()})
    bars = error_bars(three)  # three seeds each: the bar is the seeds' spread, not one run's sampling interval
    assert bars["kind"] == "seeds" and bars["runs"] == 3
    assert bars["errors"] == {"forward": pytest.approx(0.01), "random": pytest.approx(0.0)}
    mixed = run_order_results({"forward": [{"acc": 0.98, "n": 500, "acc_by_rows": None}] * 3,
                               "random": [{"acc": 0.9, "n": 500, "acc_by_rows": None}]})
    assert error_bars(mixed)["kind"] == "interval"  # one order has a single run: no spread to show for it


def test_a_mean_over_three_seeds_needs_students_t_not_1_96():
    # gap 0.004, each mean's standard error 0.001: 2.83 standard errors of the difference (sqrt 2 · 0.001 = 0.0014)
    acc, se, n = {"a": 0.990, "b": 0.986}, {"a": 0.001, "b": 0.001}, {"a": 10000, "b": 10000}
    assert not stats.extremes(acc, n, se)["all_tie"]  # with 1.96 (many runs) it would name a winner
    assert not stats.extremes(acc, n, se, runs=3)["all_tie"]  # t(4) = 2.776 < 2.83: still a winner
    assert stats.extremes({"a": 0.990, "b": 0.9865}, n, se, runs=3)["all_tie"]  # 2.47 standard errors: a tie
    assert not stats.extremes({"a": 0.990, "b": 0.9865}, n, se)["all_tie"]
    assert stats.t95(4) == 2.776 and stats.t95(11) == 2.228 and stats.t95(100) == stats.Z95


def test_mcnemar_counts_only_the_digits_the_models_disagree_on():
    from lib.experiments.stats import mcnemar
    same = mcnemar([True] * 90 + [False] * 10, [True] * 90 + [False] * 10)
    assert same == {"only_a": 0, "only_b": 0, "p": 1.0, "differ": False}
    few = mcnemar([True] * 6 + [False] * 2, [False] * 6 + [True] * 2)  # 6 against 2: not enough to tell
    assert (few["only_a"], few["only_b"]) == (6, 2) and round(few["p"], 4) == 0.2891 and not few["differ"]
    many = mcnemar([True] * 40 + [False] * 10 + [True] * 950, [False] * 40 + [True] * 10 + [True] * 950)
    assert many["differ"] and many["p"] < 0.001  # 40 against 10
    big = mcnemar([True] * 700 + [False] * 600, [False] * 700 + [True] * 600)  # normal approximation past 1,000
    assert 0.005 < big["p"] < 0.01 and big["differ"]


def test_a_change_is_judged_by_the_test_that_fits_how_it_was_measured():
    from lib.experiments.compare import change

    def run(acc, predictions=None):
        return {"acc": acc, "n": 10, **({"predictions": predictions} if predictions else {})}
    seeds = change([run(0.992), run(0.993), run(0.991)], [run(0.981), run(0.982), run(0.980)])
    assert seeds["test"] == "seeds" and seeds["differ"] and seeds["spreads"] > 5
    assert seeds["errors"][0] == pytest.approx(0.008) and seeds["ratio"] == pytest.approx(2.375)
    close = change([run(0.992), run(0.990), run(0.994)], [run(0.991), run(0.993), run(0.990)])
    assert close["test"] == "seeds" and not close["differ"]
    assert (seeds["verdict"], close["verdict"]) == ("more", "same")  # the other runs make more errors, or the same
    assert change(*reversed([[run(0.992), run(0.993), run(0.991)], [run(0.981), run(0.982), run(0.980)]]))[
        "verdict"] == "fewer"
    labels = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
    paired = change([run(0.9, "0123456780")], [run(0.8, "0123456700")], labels)  # one digit more wrong: no test
    assert paired["test"] == "mcnemar" and not paired["differ"]
    unpaired = change([run(0.9)], [run(0.8)], labels)  # no stored answers: each accuracy's binomial noise
    assert unpaired["test"] == "binomial" and not unpaired["differ"]


def test_an_epoch_range_reads_the_cards_own_history():
    from lib.experiments.compare import epoch_range
    card = {"history": [{"event": "epoch", "epoch": e, "scored": "test", "test_acc": a, "test_loss": 0.1,
                         "test_n": 100} for e, a in enumerate([0.5, 0.9, 0.95, 0.93, 0.97], start=1)]}
    assert epoch_range(card, 3) == {"low": 0.93, "high": 0.97, "first": 3, "last": 5, "split": "test", "n": 100}
    assert epoch_range({"history": []}, 3) is None
