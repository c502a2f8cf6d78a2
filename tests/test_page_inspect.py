"""The Inspect page in Streamlit's AppTest: shipped models, a session's run, every way of picking a digit."""

import base64
import json
import re

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from conftest import ROOT
from lib.checkpoints import to_bytes
from lib.jobs import Job
from lib.evaluate import evaluate
from lib.train import TrainConfig, build_model, train
from ui import resources

PAGE = str(ROOT / "views" / "inspect.py")
SHIPPED = ROOT / "pretrained" / "lesson-forward.safetensors"
DIGIT_CHARTS = ("inspect_digit_chart", "inspect_probs_heatmap", "inspect_prob_lines", "inspect_hidden")


def app(**state) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()


def charts(at: AppTest) -> dict[str, dict]:
    """key -> plotly figure dict of every chart on the page."""
    return {c.proto.id.rsplit("-", 1)[-1]: json.loads(c.proto.spec) for c in at.get("plotly_chart")}


def array(value) -> np.ndarray:
    """A plotly figure's array, also when plotly wrote it as a base64 typed array."""
    if isinstance(value, dict) and "bdata" in value:
        shape = [int(n) for n in str(value.get("shape", "-1")).split(",")]
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"]).reshape(shape)
    return np.asarray(value)


def metric(at: AppTest, label_start: str):
    return next(m for m in at.metric if m.label.startswith(label_start))


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.message for e in at.exception]
    return at


@pytest.fixture
def shipped():
    if not SHIPPED.is_file():
        pytest.skip("pretrained/lesson-forward.safetensors is missing: run `python -m lib.cli make-pretrained`")


@pytest.fixture
def no_shipped(monkeypatch):
    """The page as on a server without pretrained/ (resources.shipped is looked up at every call)."""
    monkeypatch.setattr(resources, "shipped", lambda: {})


def tiny_run(data, order: str) -> Job:
    """A finished session run: a small LSTM trained for a few steps on the synthetic digits."""
    cfg = TrainConfig(hidden=12, layers=2, lr=0.01, optimizer="adam", batch_size=20, epochs=1, order=order,
                      device="cpu", log_every=5)
    model = build_model(cfg)
    events = list(train(cfg, data, model))
    return Job(cfg, owner="test", name="tiny", state="done", model=model.eval(), events=events,
               result=evaluate(model, data, order))


def test_shipped_model_renders_every_chart(shipped):
    at = ok(app())
    assert at.selectbox(key="inspect_model").value.startswith("shipped:")
    figs = charts(at)
    for key in DIGIT_CHARTS + ("inspect_gate_input", "inspect_gate_forget", "inspect_gate_output",
                               "inspect_confusion", "inspect_per_class"):
        assert key in figs, key
    counts = array(figs["inspect_confusion"]["data"][0]["text"]).astype(float)  # (10, 10) true x predicted
    assert counts.shape == (10, 10) and counts.sum() == len(resources.mnist().test_y)
    # the gallery of mistakes: Markdown images with a text alternative each, a caption below
    alts = [m for md in at.markdown for m in re.findall(r"!\[([^\]]*)\]\(data:image/png", md.value)]
    captions = [c.value for c in at.caption if c.value.startswith("true ")]
    assert 1 <= len(alts) <= 24 and all("which the model reads as" in a for a in alts)
    assert len(captions) == len(alts) and all("→ predicted" in c for c in captions)


def test_digit_by_index_shows_probabilities_per_step(shipped, mnist):
    at = ok(app(inspect_mode="index"))
    at = ok(at.number_input(key="inspect_index").set_value(3).run())
    assert metric(at, "True class").value == str(int(mnist.test_y[3]))
    assert metric(at, "Guess after 28 steps").value in [str(c) for c in range(10)]
    z = array(charts(at)["inspect_probs_heatmap"]["data"][0]["z"])
    assert z.shape == (28, 10) and np.allclose(z.sum(1), 1, atol=1e-4)
    at = ok(at.slider(key="inspect_step").set_value(5).run())
    assert metric(at, "Guess after 5 steps")
    lines = charts(at)["inspect_prob_lines"]["data"]
    assert len(lines) == 10 and all(len(array(s["y"])) == 28 for s in lines)


def test_misclassified_random_class_and_draw_modes(shipped):
    at = ok(app(inspect_mode="wrong"))
    wrong = at.selectbox(key="inspect_wrong_shipped:lesson-forward")
    assert wrong.options and "→" in wrong.options[0]
    true, shown = metric(at, "True class"), metric(at, "Guess after 28 steps")
    assert true.value != shown.value  # a misclassified digit is shown
    at = ok(at.radio(key="inspect_mode").set_value("random").run())
    assert 0 <= at.session_state["inspect_random"] < len(resources.mnist().test_y)
    at = ok(at.radio(key="inspect_mode").set_value("class").run())
    at = ok(at.selectbox(key="inspect_class").set_value(4).run())
    assert metric(at, "True class").value == "4"
    at = ok(at.radio(key="inspect_mode").set_value("draw").run())
    assert any("Draw a digit" in i.value for i in at.info)  # the canvas returns no drawing in AppTest
    assert "inspect_digit_chart" not in charts(at) and "inspect_confusion" in charts(at)


@pytest.mark.parametrize("order", ["columns", "random"])
def test_session_run_is_preselected(no_shipped, tiny, order):
    job = tiny_run(tiny, order)
    at = ok(app(runs=[job], inspect_run=job.id, inspect_mode="index"))
    assert at.selectbox(key="inspect_model").value == f"run:{job.id}"
    assert "inspect_run" not in at.session_state  # used once, so the picker can be changed afterwards
    assert at.session_state["analyses"][job.id]["eval"]["n"] == len(resources.mnist().test_y)
    figs = charts(at)
    assert all(key in figs for key in DIGIT_CHARTS + ("inspect_gate_forget", "inspect_confusion"))
    assert array(figs["inspect_hidden"]["data"][0]["z"]).shape == (28, 12)  # steps x units
    word = "column" if order == "columns" else "row"
    assert any(c.value.startswith(f"Outlined: {word}") for c in at.caption)
    at = ok(at.selectbox(key="inspect_layer").set_value(0).run())


def test_diverged_runs_are_not_offered_and_no_model_says_how_to_get_one(no_shipped, tiny):
    job = tiny_run(tiny, "forward")
    job.state = "diverged"
    at = ok(app(runs=[job]))
    assert any("make-pretrained" in w.value for w in at.warning)
    assert not at.get("plotly_chart")


def test_a_new_upload_under_a_known_name_drops_the_old_ones_scores(tiny):
    job = tiny_run(tiny, "forward")
    weights, card = to_bytes(job.model, job.card(tiny.describe()))

    def script():
        import streamlit as st

        from ui import upload
        st.session_state["error"] = upload._load(st.session_state["w"], st.session_state["c"], "m.safetensors")

    at = AppTest.from_function(script, default_timeout=60)
    key = "upload:tiny · m.safetensors"  # the card's name · the file's name
    at.session_state["w"], at.session_state["c"] = weights, card
    at.session_state["analyses"] = {key: {"eval": "scores of the model uploaded earlier under this name"}}
    at.run()
    assert not at.exception and at.session_state["error"] == []
    assert key not in at.session_state["analyses"] and at.session_state["inspect_model"] == key
