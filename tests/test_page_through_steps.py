"""AppTest of the panels on gradients through the steps, linear probes and the parallel part of a step: the Lesson
(predict, then see), Inspect (behind a switch, for shipped models and a session's run), the Conclusion (recorded,
then measured on the server through the queue); in both languages, with no English left on the Chinese page."""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lib.experiments import gradients as G
from lib.experiments import parallel, probes, recorded
from lib.storage.pretrained import LESSON_MODEL
from tests.conftest import wait_for
from tests.test_i18n import english_words, texts
from tests.test_page_inspect import tiny_run
from ui import experiment_results, resources
from ui import parallel as ui_parallel
from ui import probes as ui_probes
from ui.conclusion import server_device
from ui.gradient_charts import share

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py: tiny operations, one thread

VIEWS = Path(__file__).resolve().parent.parent / "views"
SMALL_PROBES = dict(train_digits=300, test_digits=300)


def page(name: str, lang: str = "en", **state) -> AppTest:
    at = AppTest.from_file(str(VIEWS / name), default_timeout=300)
    at.query_params["lang"] = lang
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()


def charts(at: AppTest) -> dict[str, dict]:
    return {c.proto.id.rsplit("-", 1)[-1]: json.loads(c.proto.spec) for c in at.get("plotly_chart")}


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.message for e in at.exception]
    return at


def no_english(at: AppTest) -> None:
    leftovers = sorted({w for text in texts(at.main) for w in english_words(text)})
    assert leftovers == [], leftovers


@pytest.fixture
def small(monkeypatch, tmp_path):
    """Records in a fresh folder (nothing recorded: everything is computed), and small computations: the gradients
    on 30 test digits (clipping: 4 batches), the probes on 300 training and 300 test digits."""
    monkeypatch.setitem(recorded.FILES, "gradients", tmp_path / "gradients.json")
    monkeypatch.setitem(recorded.FILES, "probes", tmp_path / "probes.json")
    monkeypatch.setattr(experiment_results.grads, "of_model", functools.partial(G.of_model, digits=30))
    monkeypatch.setattr(G, "CLIP_BATCHES", 4)  # the clipping figures from 4 training batches, not 20
    monkeypatch.setattr(experiment_results.probes, "of_model", functools.partial(probes.of_model, **SMALL_PROBES))
    for cached in (experiment_results._recorded, experiment_results._computed_gradients, experiment_results.jobs):
        cached.clear()
    yield tmp_path
    for cached in (experiment_results._recorded, experiment_results._computed_gradients, experiment_results.jobs):
        cached.clear()


def record_lesson_probes(mnist) -> dict:
    """The lesson model's probes, computed small and recorded for its weights as `record-experiments` would."""
    model, card = resources.shipped()[LESSON_MODEL]
    found = probes.of_model(model, card["config"], mnist, **SMALL_PROBES)
    recorded.store("probes", LESSON_MODEL, found, mnist.describe(), 1.0)
    experiment_results._recorded.clear()
    return found


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_lesson_gradients_after_the_prediction(small, mnist, lang):
    at = ok(page("lesson.py", lang))
    assert not {"gradients_28_init", "gradients_28_trained"} & set(charts(at))  # nothing before predicting
    init = {f: experiment_results._computed_gradients(n, True) for f, n in G.COMPARED.items()}
    at = ok(at.radio(key="predict_gradients").set_value("rnn").run())
    assert G.least_reached(init, "grad") == ["rnn"]  # freshly initialised, the plain RNN's reaches step 1 least
    verdict = (at.success if "rnn" in G.least_reached(init) else at.warning)[0].value
    assert verdict.startswith("You predicted" if lang == "en" else "你的预测")
    figs = charts(at)
    assert figs["gradients_28_init"]["layout"]["yaxis"]["type"] == "log"
    names = [s["name"] for s in figs["gradients_28_init"]["data"] if s.get("showlegend") is not False]
    assert len(names) == 3  # a line per family, each with its band
    caption = next(c.value for c in at.caption if re.search("reaches step 1|传到第 1 个时间步", c.value))
    assert share(G.reach(init["rnn"])["share"]) in caption
    at = ok(at.radio(key="gradients_quantity").set_value("hidden").run())
    cell = [s for s in charts(at)["gradients_28_trained"]["data"] if s.get("line", {}).get("dash") == "dash"]
    assert cell, "the LSTM's cell state is drawn beside the hidden states"
    figs = charts(at)
    assert {"gradients_112_init", "gradients_112_trained"} <= set(figs)  # the longer readings, shipped
    rnn, rnn_long = (resources.shipped()[n][1]["metrics"]["acc"] for n in (G.COMPARED["rnn"], G.LONG["rnn"]))
    said = " ".join(m.value for m in at.markdown)
    assert f"{rnn:.2%}" in said and f"{rnn_long:.2%}" in said and "112" in said
    assert not any("112" in i.value for i in at.info)
    if lang == "zh":
        no_english(at)


def test_lesson_names_the_longer_models_while_they_are_missing(small, mnist, monkeypatch):
    kept = {name: shipped for name, shipped in resources.shipped().items() if name not in G.LONG.values()}
    monkeypatch.setattr(resources, "shipped", lambda: kept)
    at = ok(page("lesson.py"))
    at = ok(at.radio(key="predict_gradients").set_value("rnn").run())
    assert any(all(n in i.value for n in G.LONG.values()) for i in at.info)
    assert "gradients_112_trained" not in charts(at) and "gradients_28_trained" in charts(at)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_lesson_probes_recorded_then_read(small, mnist, lang, monkeypatch):
    found = record_lesson_probes(mnist)
    at = ok(page("lesson.py", lang))
    assert "lesson_probes" not in charts(at)
    answer = probes.compare_at(found, 14, "probe_acc", "readout_acc")["verdict"]
    compared = []  # every comparison of two curves after a row, made while the page draws: each once per rerun

    def counted(result, k, a, b):
        compared.append((k, a, b))
        return compare_at(result, k, a, b)

    compare_at = probes.compare_at
    monkeypatch.setattr(probes, "compare_at", counted)
    monkeypatch.setattr(ui_probes, "compare_at", counted, raising=False)  # where a page held its own name for it
    at = ok(at.radio(key="predict_probes").set_value(answer).run())
    assert compared and len(compared) == len(set(compared)), sorted(compared)
    assert any(("agrees" if lang == "en" else "一致") in s.value for s in at.success)
    fig = charts(at)["lesson_probes"]
    shown = [s for s in fig["data"] if s.get("showlegend") is not False]
    assert len(shown) == 4  # two probes, the classifier, the every-step model
    caption = next(c.value for c in at.caption if "softmax" in c.value)
    assert f"{found['probe_acc'][13]:.1%}" in caption and f"{found['readout_acc'][13]:.1%}" in caption
    assert "300" in caption and ("300 training digits" in caption if lang == "en" else "300 个训练样本" in caption)
    if lang == "zh":
        no_english(at)


def test_lesson_probes_computed_on_the_server_through_the_queue(small, mnist):
    at = ok(page("lesson.py"))
    at = ok(at.radio(key="predict_probes").set_value("more").run())
    assert any("There is no measurement" in i.value for i in at.info)  # nothing to compare with yet
    at = ok(at.button(key="lesson_probes").click().run())
    key = ("probes", LESSON_MODEL)
    assert wait_for(lambda: experiment_results.jobs().result(key) is not None, timeout=600)
    at = ok(at.run())
    assert "lesson_probes" in charts(at)
    assert not any("There is no measurement" in i.value for i in at.info)  # the prediction is now scored


def test_inspect_behind_a_switch_for_a_shipped_model_and_a_run(small, mnist, tiny):
    record_lesson_probes(mnist)
    at = ok(page("inspector.py"))
    assert "inspect_gradients" not in charts(at)
    at = ok(at.toggle(key="inspect_through_steps").set_value(True).run())
    figs = charts(at)
    assert {"inspect_gradients", "inspect_probes"} <= set(figs)
    assert [s["name"] for s in figs["inspect_gradients"]["data"] if s.get("showlegend") is not False] == \
        ["trained", "initial weights"]
    job = tiny_run(tiny, "forward")
    at = ok(page("inspector.py", runs=[job], inspect_run=job.id, inspect_through_steps=True))
    assert "inspect_gradients" in charts(at) and "inspect_probes" not in charts(at)
    assert ("gradients", True) in at.session_state["analyses"][job.id]  # computed for this session, kept
    at = ok(at.button(key="inspect_probes_start").click().run())
    assert wait_for(lambda: experiment_results.jobs().result(("probes", at.session_state["owner"], f"run:{job.id}"))
                    is not None, timeout=600)
    assert "inspect_probes" in charts(ok(at.run()))


def test_inspect_through_the_steps_in_chinese(small, mnist):
    record_lesson_probes(mnist)
    at = ok(page("inspector.py", "zh", inspect_through_steps=True))
    assert {"inspect_gradients", "inspect_probes"} <= set(charts(at))
    names = [s["name"] for s in charts(at)["inspect_gradients"]["data"] if s.get("showlegend") is not False]
    assert names == ["训练后", "初始权重"]
    no_english(at)


def test_inspect_says_nothing_through_the_steps_for_a_cnn(small, mnist):
    at = ok(page("inspector.py", inspect_model="shipped:cnn-forward"))
    assert at.selectbox(key="inspect_model").value == "shipped:cnn-forward"
    assert "inspect_through_steps" not in [t.key for t in at.toggle]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_conclusion_parallel_recorded_then_measured(small, mnist, monkeypatch, lang):
    monkeypatch.setattr(experiment_results.parallel, "measure", functools.partial(parallel.measure, repeats=2))
    at = ok(page("conclusion.py", lang))
    assert "conclusion_parallel" not in charts(at)
    out = parallel.recorded()
    at = ok(at.radio(key="predict_parallel").set_value(parallel.facts(out)["answers"][0]).run())
    assert at.success and "conclusion_parallel" in charts(at)
    bars = charts(at)["conclusion_parallel"]["data"][0]
    assert sorted(bars["x"]) == sorted(out[key] for key, _ in ui_parallel.PARTS.values())
    at = ok(at.button(key="measure_parallel").click().run())
    device = server_device()
    assert wait_for(lambda: experiment_results.parallel_result(device) is not None, timeout=300)
    at = ok(at.run())
    assert at.button(key="measure_parallel").label in ("Measure again", "重新测量")
    if lang == "zh":
        no_english(at)


def test_a_longer_readings_probes_count_rows_and_name_its_steps(monkeypatch):
    """A model that reads each row in 2 steps (56 in all) is probed after each of its 28 rows: the progress counts
    those rows and the caption says which state a row's probe reads."""
    class HalfDone:  # the queued computation after 14 rows: one "probed" event per row (lib's on_row)
        def of_kind(self, kind):
            return [{"event": kind, "row": k} for k in range(1, 15)]

    monkeypatch.setattr(experiment_results, "running", lambda key: HalfDone())

    def app():
        from lib.experiments.probes import facts, planned_rows
        from ui import probes

        rows = planned_rows()
        found = {"rows": rows, "n_train": 300, "n_test": 300, "hidden": 8, "layers": 1, "cell_state": False,
                 "state_size": 8, "steps_per_row": 2, "data_source": "sample",
                 **{f"{c}{end}": [0.5] * len(rows) for c in ("probe_acc", "state_acc", "readout_acc")
                    for end in ("", "_low", "_high")}}
        found["probe_acc"] = [0.9] * len(rows)
        probes.show(found, facts(found, probes.HALF), "long_probes", "title")
        probes.progress("run:1", len(rows))

    at = ok(AppTest.from_function(app, default_timeout=60).run())
    caption = at.caption[0].value
    assert "each row in 2 steps, 56 in all" in caption and "after 28 of the 28 rows" in caption
    bar = at.get("progress")[0].proto
    assert bar.value == 50 and "14 of 28 rows done" in bar.text
