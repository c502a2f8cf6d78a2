"""The class experiment as plain data (lib.classroom.experiment): values given out, configs exact, pooled figures
with their intervals, a "best" only beyond noise, captions from the numbers; and the training path never imports the
class package."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from lib.classroom import experiment as ex
from lib.messages import Problem
from lib.runs.settings import Settings
from lib.training.presets import preset

ROOT = Path(__file__).resolve().parent.parent


def test_the_training_path_never_imports_the_class_package():
    """lib.training, lib.runs, lib.models and lib.data train without the database: loading all of them loads
    nothing of lib.classroom, SQLAlchemy or Alembic, and no file of theirs names it."""
    paths = [p for pkg in ("training", "runs", "models", "data") for p in (ROOT / "lib" / pkg).rglob("*.py")]
    assert [p.name for p in paths if "lib.classroom" in p.read_text()] == []
    modules = ", ".join(".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__") for p in paths)
    code = f"import sys, {modules}; print(sorted(m for m in sys.modules if m.startswith(('lib.classroom', " \
           f"'sqlalchemy', 'alembic'))))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_values_are_parsed_typed_and_checked():
    assert ex.parse_values("lr", "0.001, 0.003,0.01") == [0.001, 0.003, 0.01]
    assert ex.parse_values("hidden", "32,64") == [32, 64]
    assert ex.parse_values("order", "forward, reversed") == ["forward", "reversed"]
    for setting, text, problem in [("lr", "0.1", "class.value_count"), ("lr", "0.1,0.1", "class.value_twice"),
                                   ("lr", "a,b", "setting.type"), ("device", "cpu,cuda", "class.bad_setting"),
                                   ("x'; DROP TABLE classes;--", "1,2", "class.bad_setting")]:
        with pytest.raises(Problem) as caught:
            ex.parse_values(setting, text)
        assert caught.value.messages[0].id == problem, (setting, text)
    with pytest.raises(Problem) as caught:
        ex.make("order", "forward,upside-down")
    assert caught.value.messages[0].id == "class.value_rejected"


def test_a_base_setup_keeps_the_classroom_caps_and_values_beyond_them_are_refused():
    caps = Settings(max_epochs=1, max_subset=1000, max_hidden=64, classroom=True)
    exp, notes = ex.make("layers", "1,2", "quick", caps)
    assert (exp["base"]["epochs"], exp["base"]["subset"], exp["base"]["hidden"]) == (1, 1000, 64)
    assert {n.id for n in notes} == {"class.base_capped"} and len(notes) == 3
    with pytest.raises(Problem) as caught:
        ex.make("hidden", "32,128", "quick", caps)
    assert caught.value.messages[0].values["why"].id == "classroom.limit"


def test_each_student_gets_the_next_value_and_exactly_the_base_setup_with_it():
    exp, _ = ex.make("lr", "0.001,0.003,0.01", "quick")
    got = [ex.assignment(exp, k) for k in range(1, 8)]
    assert [a["value"] for a in got] == [0.001, 0.003, 0.01, 0.001, 0.003, 0.01, 0.001]
    for k, a in enumerate(got, start=1):  # the preset itself, with the value and the student's own seed
        assert a["config"] == replace(preset("quick"), lr=a["value"], seed=k - 1)
    seeds, _ = ex.make("seed", "5,6", "quick")
    assert ex.assignment(seeds, 2)["config"].seed == 6  # the seed is what varies: it is the value
    assert ex.assignment(None, 1) is None


def row(value, acc, number, outcome="done", kind="class", n=2000, order="forward", seconds=10.0):
    from lib.experiments.stats import interval
    low, high = interval(acc, n)
    return {"kind": kind, "outcome": outcome, "value": value, "test_acc": acc, "test_n": n, "low": low,
            "high": high, "seconds": seconds, "number": number, "config": {"order": order, "lr": value},
            "curves": {"progress": [0.5, 1.0], "loss": [1.0, 0.5], "acc": [0.5, 0.8], "epoch_acc": [0.8]}}


EXP = {"setting": "lr", "values": [0.001, 0.01], "base": {}}


def test_pooled_figures_per_value_with_a_t_interval_and_a_binomial_one_for_a_single_run():
    rows = [row(0.001, 0.90, 1), row(0.001, 0.92, 3), row(0.001, 0.94, 5), row(0.01, 0.97, 2)]
    fig = ex.figures(rows, EXP)
    low_lr, high_lr = fig["per_value"]
    assert low_lr["runs"] == 3 and low_lr["median"] == pytest.approx(0.92) and low_lr["mean"] == pytest.approx(0.92)
    half = 4.303 * 0.02 / 3 ** 0.5  # t95 with 2 degrees of freedom × sd / √n
    assert (low_lr["low"], low_lr["high"]) == pytest.approx((0.92 - half, 0.92 + half))
    assert high_lr["runs"] == 1 and (high_lr["low"], high_lr["high"]) == pytest.approx((rows[3]["low"],
                                                                                          rows[3]["high"]))
    # one run of 0.01 is judged with the seed spread measured at 0.001 (sd 0.02, 2 degrees of freedom): within it
    assert fig["best"]["value"] is None and fig["best"]["tied"] == [0] and fig["best"]["missing"] == []
    assert [m.id for m in fig["captions"]][:2] == ["class.caption_runs", "class.caption_no_best"]
    alone = ex.figures([row(0.001, 0.90, 1), row(0.01, 0.97, 2)], EXP)  # no value run twice: no seed noise known
    assert alone["best"]["value"] is None and alone["best"]["missing"] == [0, 1]
    assert [m.id for m in alone["captions"]][:2] == ["class.caption_runs", "class.caption_need_runs"]


def test_a_value_with_one_run_is_judged_with_the_seed_spread_measured_on_the_others():
    steady = [row(0.001, a, k) for k, a in enumerate((0.900, 0.902, 0.904), 1)]
    far = ex.figures(steady + [row(0.01, 0.97, 4)], EXP)["best"]  # 7 points above, sd 0.002: beyond the noise
    assert far["value"] == 1 and far["missing"] == []
    near = ex.figures(steady + [row(0.01, 0.905, 4)], EXP)["best"]  # 0.3 points above: within it
    assert near["value"] is None and near["tied"] == [0]


def test_a_best_value_is_named_only_beyond_the_noise():
    clear = [row(0.001, a, k) for k, a in enumerate((0.90, 0.91, 0.92), 1)] + \
            [row(0.01, a, k) for k, a in enumerate((0.97, 0.975, 0.98), 4)]
    assert ex.figures(clear, EXP)["best"]["value"] == 1  # the index of lr 0.01 among the values with runs
    assert "class.caption_best" in [m.id for m in ex.figures(clear, EXP)["captions"]]
    noisy = [row(0.001, a, k) for k, a in enumerate((0.90, 0.97, 0.93), 1)] + \
            [row(0.01, a, k) for k, a in enumerate((0.95, 0.91, 0.97), 4)]
    fig = ex.figures(noisy, EXP)
    assert fig["best"]["value"] is None and fig["best"]["tied"]
    caption = next(m for m in fig["captions"] if m.id == "class.caption_no_best")
    assert caption.values["acc"] == pytest.approx((0.95 + 0.91 + 0.97) / 3)


def test_stopped_failed_and_not_learning_runs_are_left_out_unless_shown_and_free_runs_never_pooled():
    rows = [row(0.001, 0.9, 1), row(0.001, 0.5, 2, outcome="stopped"), row(0.01, 0.11, 3, outcome="not_learning"),
            row(None, 0.99, 1, kind="free"), {**row(0.01, 0.0, 4, outcome="diverged"), "test_acc": None}]
    fig = ex.figures(rows, EXP)
    assert [p["number"] for p in fig["points"]] == [1] and fig["left_out"] == 3 and len(fig["free"]) == 1
    shown = ex.figures(rows, EXP, show_all=True)
    assert sorted(p["number"] for p in shown["points"]) == [1, 2, 3]  # a diverged run has no accuracy to draw


def test_a_run_of_an_earlier_experiment_is_shown_apart_not_pooled():
    exp, _ = ex.make("lr", "0.001,0.01", "quick")
    cfg = ex.assignment(exp, 1)["config"].to_dict()
    ours = {**row(0.001, 0.9, 1), "config": cfg}
    earlier = {**row(0.001, 0.8, 2), "config": cfg | {"hidden": 32}}  # the base setup was another one then
    fig = ex.figures([ours, earlier], exp)
    assert [p["number"] for p in fig["points"]] == [1] and [r["number"] for r in fig["free"]] == [2]
    assert ex.belongs(exp, cfg | {"seed": 7, "subset": 0}) and not ex.belongs(exp, cfg | {"lr": 0.5})


def test_the_row_orders_are_pooled_with_the_students_runs_as_seeds():
    exp = {"setting": "order", "values": ["forward", "random"], "base": {}}
    rows = [row("forward", a, k, order="forward") for k, a in enumerate((0.97, 0.975, 0.98), 1)] + \
           [row("random", a, k, order="random") for k, a in enumerate((0.80, 0.84, 0.82), 4)]
    fig = ex.figures(rows, exp)
    assert set(fig["orders"]) == {"forward", "random"} and fig["orders"]["random"]["runs"] == 3
    assert fig["orders"]["random"]["mean"] == pytest.approx(0.82)
    from lib.data.orders import ORDERS
    assert ex.value_label("order", "random") == ORDERS["random"].title
    orders = [m for m in fig["captions"] if m.id == "class.caption_order"]
    assert len(orders) == 2 and orders[1].values["n"] == 3
