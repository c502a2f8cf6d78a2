"""AppTest of the Lesson and Row order pages (shipped weights, the animation, the order experiment)."""

import json
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lib.experiments.analysis import peaks
from lib.runs.job import Job
from lib.training.config import TrainConfig
from ui import resources

VIEWS = Path(__file__).resolve().parent.parent / "views"


def page(name: str) -> AppTest:
    return AppTest.from_file(str(VIEWS / name), default_timeout=120)


def test_lesson_renders_digit_model_and_conclusions(mnist):
    at = page("lesson.py").run()
    assert not at.exception
    assert at.slider(key="lesson_step").value == 14  # starts mid-digit
    assert len(at.get("plotly_chart")) >= 3  # digit, input row, guesses (+ accuracy by rows)
    assert any("98." in m.value and "It works" in m.value for m in at.markdown)
    assert any("the original lesson reported 98.15%" in m.value for m in at.markdown)  # lib.training.presets.SOURCE_ACCURACY
    assert any("over epochs 5–10" in m.value and "that range" in m.value for m in at.markdown)  # one run wanders
    assert any("Does order matter?" in m.value and "seeds per order" in m.value for m in at.markdown)
    assert any("(98.15% test accuracy in the original)" in i.value for i in at.info)
    assert at.metric[0].label == "Best guess so far"


def test_lesson_says_what_the_every_step_run_shows_and_what_it_does_not(mnist):
    every = json.loads((Path(__file__).resolve().parent.parent / "pretrained" / "lesson-every-step.json").read_text())
    top = peaks(every)  # row 22 at 97.04 %, and epoch 7 at 97.56 % before its last epochs fell to 96.06 %
    assert top["row"] < 28 and top["epoch"] < top["last_epoch"] == every["config"]["epochs"]
    for lang, words in (("en", (f"after row {top['row']}", f"after epoch {top['epoch']}", "lower bound")),
                        ("zh", (f"第 {top['row']} 行", f"第 {top['epoch']} 轮", "下界"))):
        at = page("lesson.py")
        at.query_params["lang"] = lang
        at.run()
        text = next(c.value for c in at.caption if f"{top['epoch_acc']:.2%}" in c.value)
        assert all(w in text for w in words), (lang, text)
        assert f"{top['row_acc']:.2%}" in text and "96.06%" in text


def test_lesson_step_slider_and_play(mnist):
    at = page("lesson.py").run()
    at.slider(key="lesson_step").set_value(28).run()
    assert at.metric[0].value == "7"  # test digit #0 is a 7, and by the last row the lesson model knows it
    at.button[0].click().run()  # Play restarts from row 1 and advances
    assert at.session_state["playing"] is True and at.slider(key="lesson_step").value >= 1
    at.number_input(key="lesson_digit_idx").set_value(1).run()
    assert not at.exception


def test_row_order_shows_shipped_comparison(mnist):
    at = page("row_order.py").run()
    assert not at.exception
    keys = {c.key for c in at.get("plotly_chart")}
    from lib.experiments.readouts import readout_table
    from lib.storage.documents import shipped_cards as cards_now
    readouts = readout_table(cards_now())["acc"]
    assert keys - {"readouts", "readouts_rows"} == {"shipped_bars", "shipped_rows", "shipped_matrix"}
    assert ("readouts" in keys) == (len(readouts) > 1)  # the read-out comparison once two read-outs are shipped
    assert any("Highest:" in c.value for c in at.caption)
    # with seed cards of the shipped configs (pretrained/seeds/): means with ± one standard deviation, the matrix
    # averaged too; with one run per order: each run's 95% interval, and nothing said of seeds
    from lib.experiments.analysis import error_bars, shipped_order_results
    from lib.experiments.readouts import READOUT_ORDERS
    from lib.storage.documents import shipped_cards
    from lib.storage.pretrained import seed_cards
    seeds = max(len(r) for r in shipped_order_results(shipped_cards(), seed_cards())["runs"].values())
    charts = {c.key: json.loads(c.proto.spec) for c in at.get("plotly_chart")}
    assert charts["shipped_bars"]["data"][0]["error_y"]["visible"]
    results = shipped_order_results(shipped_cards(), seed_cards())  # the bars are lib's numbers, read as they are
    assert charts["shipped_bars"]["data"][0]["error_y"]["array"] == list(error_bars(results)["errors"].values())
    if "readouts" in keys:
        margins = readout_table(cards_now())["margin"]
        assert [s["error_y"]["array"] for s in charts["readouts"]["data"]] == [
            [m.get(o, 0) for o in READOUT_ORDERS if any(o in a for a in readouts.values())] for m in margins.values()]
    subtitle = charts["shipped_bars"]["layout"]["title"]["subtitle"]["text"]
    if seeds > 1:
        assert f"mean ± spread over {seeds} seeds" in subtitle
        assert f"mean over {seeds} seeds" in charts["shipped_matrix"]["layout"]["title"]["text"]
        assert any(f"with {seeds} seeds" in c.value for c in at.caption)
    else:
        assert "± 95% interval" in subtitle and "seeds" not in subtitle
        assert "seeds" not in charts["shipped_matrix"]["layout"]["title"]["text"]


@pytest.mark.slow
def test_train_every_order_compares_your_models(mnist):
    at = page("row_order.py")
    tiny = TrainConfig(hidden=32, layers=1, optimizer="adam", lr=0.005, batch_size=64, epochs=2, subset=2000,
                       test_subset=500, log_every=5, scheduler="one-cycle")  # learns (a run that did not is left out)
    at.session_state["runs"] = [Job(tiny, owner="test", state="done")]
    at.run()
    at.radio(key="exp_base").set_value("train").run()
    at.button[0].click().run()
    runs = at.session_state["runs"]
    assert [j.config.order for j in runs[1:]] == ["forward", "reversed", "shuffled"]
    end = time.time() + 120
    while not all(j.finished for j in runs) and time.time() < end:
        time.sleep(0.3)
    at.run()
    assert not at.exception and all(j.state == "done" for j in runs[1:])
    assert any(h.value == "Your results" for h in at.subheader)
    keys = {c.key for c in at.get("plotly_chart")}
    assert {"exp_live_acc", "yours_bars", "yours_rows", "yours_matrix"} <= keys


@pytest.mark.slow
def test_three_seeds_per_order_show_mean_and_spread(mnist):
    at = page("row_order.py")
    tiny = TrainConfig(hidden=32, layers=1, optimizer="adam", lr=0.005, batch_size=64, epochs=2, subset=2000,
                       log_every=5)  # learns: a run that did not is left out of the figures
    at.session_state["runs"] = [Job(tiny, owner="test", state="done")]
    at.run()
    at.radio(key="exp_base").set_value("train").run()
    at.multiselect(key="exp_orders").set_value(["forward", "random"])
    at.radio(key="exp_seeds").set_value(3).run()
    at.button[0].click().run()
    runs = at.session_state["runs"][1:]
    assert [(j.config.order, j.config.seed) for j in runs] == [("forward", 0), ("forward", 1), ("forward", 2),
                                                               ("random", 0), ("random", 1), ("random", 2)]
    end = time.time() + 300
    while not all(j.finished for j in runs) and time.time() < end:
        resources.jobs().touch(runs[0].owner)  # the heartbeat an open tab sends
        time.sleep(0.3)
    at.run()
    assert not at.exception and all(j.state == "done" for j in runs)
    bars = next(c for c in at.get("plotly_chart") if c.key == "yours_bars")
    spec = json.loads(bars.proto.spec)
    assert "mean ± spread over 3 seeds" in spec["layout"]["title"]["subtitle"]["text"]
    assert spec["data"][0]["error_y"]["visible"] and len(spec["data"][0]["error_y"]["array"]) == 2
    assert any("mean of 3 runs with different seeds" in c.value for c in at.caption)


@pytest.mark.slow
def test_row_order_experiment_with_a_cnn_has_no_rows_chart(mnist):
    """A family that takes in all rows at once has no answer after k rows: the page says so instead of a chart."""
    at = page("row_order.py")
    cnn = TrainConfig(family="cnn", hidden=16, layers=1, optimizer="adam", lr=0.005, batch_size=32, epochs=3,
                      subset=4000, log_every=5)  # 375 steps: enough to learn, in a random order too
    at.session_state["runs"] = [Job(cnn, owner="test", state="done")]
    at.run()
    at.radio(key="exp_base").set_value("train").run()
    at.multiselect(key="exp_orders").set_value(["forward", "random"]).run()
    at.button[0].click().run()
    runs = at.session_state["runs"][1:]
    assert [(j.config.family, j.config.order) for j in runs] == [("cnn", "forward"), ("cnn", "random")]
    end = time.time() + 300
    while not all(j.finished for j in runs) and time.time() < end:
        resources.jobs().touch(runs[0].owner)
        time.sleep(0.3)
    at.run()
    assert not at.exception and all(j.state == "done" for j in runs)
    keys = {c.key for c in at.get("plotly_chart")}
    assert {"yours_bars", "yours_matrix"} <= keys and "yours_rows" not in keys
    assert any("no answer after k rows" in i.value for i in at.info)


@pytest.mark.parametrize("family", ["lstm", "cnn"])
def test_your_finished_runs_are_drawn_with_lib_s_error_bars(mnist, family):
    """The student's finished runs (here made without training: the figures only read their results), three seeds
    per order: the bars are the seeds' spread as lib.experiments.analysis.error_bars gives it; a CNN has no chart
    after k rows."""
    from lib.experiments.analysis import error_bars, run_order_results
    from lib.training.config import build_model

    accs = {"forward": (0.95, 0.96, 0.97), "random": (0.80, 0.85, 0.90)}
    jobs = []
    for order, values in accs.items():
        for seed, acc in enumerate(values):
            cfg = TrainConfig(family=family, hidden=8, layers=1, order=order, seed=seed, device="cpu")
            rows = None if family == "cnn" else [acc * k / 28 for k in range(1, 29)]
            jobs.append(Job(cfg, owner="test", state="done", result={"acc": acc, "n": 500, "acc_by_rows": rows},
                            model=build_model(cfg).eval()))
    at = page("row_order.py")
    at.session_state["runs"] = jobs
    at.session_state["followed"] = {"experiment": {"ids": [j.id for j in jobs], "tags": {}}}
    at.run()
    assert not at.exception
    charts = {c.key: json.loads(c.proto.spec) for c in at.get("plotly_chart")}
    bars = error_bars(run_order_results({o: [j.result for j in jobs if j.config.order == o] for o in accs}))
    assert bars["kind"] == "seeds" and bars["runs"] == 3
    assert charts["yours_bars"]["data"][0]["error_y"]["array"] == pytest.approx(list(bars["errors"].values()))
    assert "mean ± spread over 3 seeds" in charts["yours_bars"]["layout"]["title"]["subtitle"]["text"]
    assert ("yours_rows" in charts) == (family != "cnn") and "yours_matrix" in charts
