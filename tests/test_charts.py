"""Chart builders: safe to call from many sessions' threads at once."""

import subprocess
import sys
from pathlib import Path

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
