"""The Inspect page in Streamlit's AppTest: shipped models, a session's run, every way of picking a digit."""

import base64
import json
import re

import numpy as np
import pytest
from conftest import ROOT
from streamlit.testing.v1 import AppTest

from lib.experiments.evaluate import evaluate
from lib.models.families import FAMILIES
from lib.runs.job import Job
from lib.storage.checkpoints import to_bytes
from lib.training.config import TrainConfig, build_model
from lib.training.train import train
from ui import resources

PAGE = str(ROOT / "views" / "inspector.py")
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


# Every family on Inspect: what only recurrent cells have (the step slider, probabilities per step, hidden state,
# gates) shows only for them; a Transformer shows its attention over the lines, a CNN its first feature maps.
RECURRENT_ONLY = ("inspect_probs_heatmap", "inspect_prob_lines", "inspect_hidden", "inspect_gate_input",
                  "inspect_gate_forget", "inspect_gate_output")
WHOLE = ("inspect_digit_chart", "inspect_probs_bars", "inspect_confusion", "inspect_per_class")
INSIDE = {"cnn": "inspect_features", "transformer": "inspect_attention"}


def family_run(data, cell: str, order: str = "forward", positions: bool = True) -> Job:
    """A finished, untrained session run of a family (small, so the page renders fast)."""
    cfg = TrainConfig(family=cell, hidden=16, layers=1, order=order, positions=positions, device="cpu")
    model = build_model(cfg).eval()
    return Job(cfg, owner="test", name=f"tiny-{cell}", state="done", model=model, events=[],
               result=evaluate(model, data, order))


def family_page(job: Job, lang: str = "en", **state) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.query_params["lang"] = lang
    for key, value in {"runs": [job], "inspect_run": job.id, "inspect_mode": "index", **state}.items():
        at.session_state[key] = value
    return ok(at.run())


def assert_whole_image_panels(at: AppTest, cell: str) -> dict:
    """The panels of a family that takes in all lines at once are there, the recurrent ones are not."""
    figs = charts(at)
    assert all(key in figs for key in WHOLE + (INSIDE[cell],)), sorted(figs)
    assert not [key for key in RECURRENT_ONLY + tuple(v for k, v in INSIDE.items() if k != cell) if key in figs]
    assert not [s for s in at.slider if s.key == "inspect_step"]
    assert not at.info  # no "Gates are shown for LSTMs only" (nor anything else)
    probs = array(figs["inspect_probs_bars"]["data"][0]["y"])
    assert probs.shape == (10,) and abs(probs.sum() - 1) < 1e-4
    return figs


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_cnn_shows_its_feature_maps_and_nothing_recurrent(no_shipped, tiny, lang):
    at = family_page(family_run(tiny, "cnn"), lang)
    figs = assert_whole_image_panels(at, "cnn")
    z = array(figs["inspect_features"]["data"][0]["z"])  # 4 maps of 28 x 28 (hidden 16 // 4), tiled 2 x 2
    assert z.shape == (2 * 34, 2 * 34) and np.isfinite(z).sum() == 4 * 28 * 28
    assert len(figs["inspect_features"]["layout"]["annotations"]) == 4  # each map's filter number
    if lang == "en":
        assert metric(at, "Its guess").value in [str(c) for c in range(10)]
        assert metric(at, "True class").value == str(int(resources.mnist().test_y[0]))
        caption = next(c.value for c in at.caption if c.value.startswith("Each small map"))
        assert "responds most" in caption
        assert any(c.value.startswith("CNN with two convolution") for c in at.caption)
        assert not [c.value for c in at.caption if "after 28 steps" in c.value or "reading top" in c.value]


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("positions", [True, False])
def test_a_transformer_shows_its_attention_over_the_rows(no_shipped, tiny, lang, positions):
    at = family_page(family_run(tiny, "transformer", "reversed", positions), lang)
    figs = assert_whole_image_panels(at, "transformer")
    heat = figs["inspect_attention"]["data"][0]
    z = array(heat["z"])
    assert z.shape == (1, 28) and (z >= 0).all() and z.sum() <= 1 + 1e-5  # one layer; the rest is on the class token
    assert list(heat["x"]) == [str(28 - k) for k in range(28)]  # read bottom → top: labelled by the original row
    if lang == "en":
        caption = next(c.value for c in at.caption if c.value.startswith("Each row of the map is one layer"))
        assert "In the last layer, rows" in caption
        assert ("cannot know the order" in caption) != positions
        assert any("line 1 is row 28 of the original digit" in c.value for c in at.caption)


def test_a_transformer_reading_columns_labels_them(no_shipped, tiny):
    at = family_page(family_run(tiny, "transformer", "columns"))
    heat = charts(at)["inspect_attention"]
    assert heat["layout"]["xaxis"]["title"]["text"].startswith("original column")
    assert any("In the last layer, columns" in c.value for c in at.caption)


def test_a_gru_has_no_gates_but_says_so_with_its_label(no_shipped, tiny):
    at = family_page(family_run(tiny, "gru"))
    figs = charts(at)
    assert all(key in figs for key in DIGIT_CHARTS) and "inspect_gate_input" not in figs
    assert [i.value for i in at.info] == ["Gates are shown for LSTM only; this model is a GRU."]


def _upload(weights: bytes, card: bytes) -> AppTest:
    """upload._load in a script run (the page's file uploader cannot be filled in AppTest)."""
    def script():
        import streamlit as st

        from ui import upload
        st.session_state["error"] = upload._load(st.session_state["w"], st.session_state["c"], "m.safetensors")

    at = AppTest.from_function(script, default_timeout=60)
    at.session_state["w"], at.session_state["c"] = weights, card
    return at.run()


@pytest.mark.parametrize("cell", [name for name, f in FAMILIES.items() if not f.recurrent])
def test_an_uploaded_model_of_a_new_family_is_inspected(no_shipped, tiny, cell):
    job = family_run(tiny, cell)
    loaded = _upload(*to_bytes(job.model, job.card(tiny.describe())))
    assert not loaded.exception and loaded.session_state["error"] == []
    key = f"upload:tiny-{cell} · m.safetensors"
    assert loaded.session_state["inspect_model"] == key
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.session_state["uploads"] = loaded.session_state["uploads"]
    at.session_state["inspect_model"] = key
    at = ok(at.run())
    assert at.selectbox(key="inspect_model").value == key
    assert_whole_image_panels(at, cell)


def test_bad_input_new_family_weights_under_another_familys_card(tiny):
    """Bad input: a CNN's weights uploaded with a Transformer's card are refused with a message, and kept nowhere."""
    cnn, transformer = family_run(tiny, "cnn"), family_run(tiny, "transformer")
    weights, _ = to_bytes(cnn.model, cnn.card(tiny.describe()))
    _, card = to_bytes(transformer.model, transformer.card(tiny.describe()))
    at = _upload(weights, card)
    assert not at.exception and at.session_state["error"]
    assert "uploads" not in at.session_state and "inspect_model" not in at.session_state
    assert [m.id for m in at.session_state["error"]] == ["weights.mismatch"]  # says which tensors do not fit


def test_whole_image_captions_follow_the_data(monkeypatch):
    """The sentences computed from a drawn digit (no true class), the attention and the feature maps."""
    from ui import i18n
    from ui import inspect_families as panels
    monkeypatch.setattr(i18n, "language", lambda: "en")
    seen = {"predicted": [4], "confidence": [0.8]}
    assert panels.answer_text(seen, {"label": None, "title": "Your drawing"}) == (
        "Your drawing: with all 28 lines in, the model's top class is 4, with a probability of 80%.")
    weights = np.full((2, 28), 0.01)
    weights[-1, [3, 10, 20]] = [0.3, 0.2, 0.1]  # the last layer's top three: lines 4, 11, 21 read
    lines = list(range(27, -1, -1))  # bottom → top: line k is row 28 - k
    text = panels.attention_text(weights, lines, axis=1)
    assert text.startswith("In the last layer, rows 25, 18, 8 get the most attention (60% of it together")
    maps = np.zeros((3, 28, 28))
    maps[1, 5, 5] = 2.0
    assert panels.features_text(maps) == ("On this digit filter 2 responds most (mean 0.00). 2 of 3 maps are zero "
                                           "everywhere on this digit: their patterns are not in it, or those filters "
                                           "never respond at all (dead filters, which this digit alone cannot tell "
                                           "apart).")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_shipped_both_ways_model_says_it_has_no_answer_after_k_rows(lang):
    """Inspect on lstm-bi-forward: one answer, no step slider and no per-row chart, and a caption saying why (it has
    read every line at every step), in the visitor's language."""
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.query_params["lang"] = lang
    at.session_state["inspect_model"] = "shipped:lstm-bi-forward"
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert not [s for s in at.slider if s.key == "inspect_step"]
    assert "inspect_prob_lines" not in charts(at)
    why = {"en": "so it has no answer after k rows, only this one", "zh": "所以没有“读 k 行之后的答案”，只有这一个答案"}[lang]
    assert any(why in c.value for c in at.caption), [c.value for c in at.caption]
