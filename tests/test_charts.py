"""Chart builders: safe to call from many sessions' threads at once."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_charts_finish_importing_pandas_before_any_session_draws():
    # plotly looks pandas up in sys.modules while validating data; a half-imported pandas (another session's
    # thread importing it lazily) made a chart raise "partially initialized module 'pandas'" under a class load.
    code = "import sys, ui.charts; m = sys.modules.get('pandas'); print(m is not None and hasattr(m, 'Series'))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"


def test_line_chart_builds_from_run_series():
    from ui import charts

    fig = charts.lines([{"name": "run 1", "x": [1, 2, 3], "y": [2.3, 1.1, 0.4], "color": None}], "step", "loss", "Loss")
    assert list(fig.data[0].y) == [2.3, 1.1, 0.4] and fig.data[0].name == "run 1"


# ---------------------------------------------------------------- honest accuracy axes on every page

def _figures(at) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def _share_axes(fig: dict) -> list[dict]:
    """The y axes of a figure that show shares (a percent tick format): accuracies and probabilities."""
    layout = fig.get("layout", {})
    return [axis for name, axis in layout.items() if name.startswith("yaxis") and "%" in str(axis.get("tickformat"))]


def _walk_every_page(mnist):
    """Every page with its charts drawn: the Conclusion's three predictions answered, Train and Inspect with a
    finished run of this session."""
    from streamlit.testing.v1 import AppTest

    from lib.runs.job import Job
    from lib.training.config import TrainConfig
    from lib.training.fit import fit

    cfg = TrainConfig(hidden=16, layers=1, subset=1000, test_subset=500, epochs=2, validation=0.0, device="cpu",
                      optimizer="adam", lr=0.01, log_every=5)
    fitted = fit(cfg, mnist)
    job = Job(cfg, "test", state="done", events=fitted.events, result=fitted.scores, model=fitted.model.eval(),
              seconds=fitted.seconds)
    views = Path(__file__).resolve().parent.parent / "views"
    for name in ("lesson.py", "train.py", "row_order.py", "inspector.py", "conclusion.py"):
        at = AppTest.from_file(str(views / name), default_timeout=120)
        at.session_state["runs"] = [job]
        at.session_state["inspect_run"] = job.id
        at.run()
        if name == "lesson.py":  # the gradient and probe charts (the probes where they are recorded)
            for key, answer in (("predict_gradients", "rnn"), ("predict_probes", "more")):
                at.radio(key=key).set_value(answer).run()
        if name == "conclusion.py":
            for key, answer in (("predict_order", "none"), ("predict_scaling", "cnn"), ("predict_parallel", "half"),
                                ("predict_time", "lstm")):
                at.radio(key=key).set_value(answer).run()
        assert not at.exception, name
        yield name, _figures(at)


def test_every_accuracy_axis_starts_at_zero_or_says_it_is_cut(mnist):
    """A share near 100% drawn from 88% makes a 7-point gap look like most of the bar: every percent axis on every
    page starts at 0, or its title says where it starts (and its marks are dots, not bars)."""
    seen = 0
    for name, figures in _walk_every_page(mnist):
        for fig in figures:
            for axis in _share_axes(fig):
                seen += 1
                start = (axis.get("range") or [0])[0]
                title = (axis.get("title") or {}).get("text", "")
                assert start == 0 or "axis cut: starts at" in title, (name, title, axis.get("range"))
                if start != 0:
                    assert all(trace.get("type") != "bar" for trace in fig["data"]), (name, title)
    assert seen >= 8  # the charts were drawn: accuracy by order, per epoch, per class, after k rows, …


def test_a_cut_axis_says_where_it_starts_and_bars_refuse_one():
    from ui import charts

    fig = charts.dots(["a", "b"], [0.99, 0.92], "test accuracy", errors=[0.002, 0.005])
    axis = fig.layout.yaxis
    assert axis.range[0] == pytest.approx(0.9) and "axis cut: starts at 90%" in axis.title.text
    low = charts.dots(["a", "b"], [0.95, 0.15], "test accuracy")
    assert low.layout.yaxis.range[0] == 0 and "cut" not in low.layout.yaxis.title.text
    with pytest.raises(ValueError, match="starts at 0"):
        charts.bars(["a"], [0.98], yrange=[0.9, 1.0])
