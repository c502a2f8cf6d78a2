"""The app with ROW_BY_ROW_EXECUTOR=ray in real Chromium: the Train page trains on Ray, draws its live curve, and
Stop works. The app (started by bench/server.py), the local Ray it starts and the browser all run inside a network
namespace with only loopback (tests/ray_scenarios.py browser), which reports what the page showed."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import ray_scenarios

pytestmark = [pytest.mark.browser, pytest.mark.slow]
IN_CI = bool(os.environ.get("CI"))
ROOT = Path(__file__).resolve().parent.parent


def test_the_train_page_trains_on_ray_draws_its_live_curve_and_stops(tmp_path):
    why = ray_scenarios.available() or ("" if Path("/usr/bin/chromium").exists() else "/usr/bin/chromium is missing")
    root = os.environ.get("MNIST_ROOT")
    if not why and not (root and (Path(root) / "MNIST" / "raw").is_dir()):
        why = "set MNIST_ROOT to run the browser test on the real MNIST"
    if why:
        if IN_CI:
            pytest.fail(f"the Ray browser test must run in CI: {why}")
        pytest.skip(why)
    pytest.importorskip("ray")
    report = ray_scenarios.run("browser", str(tmp_path), log=tmp_path / "browser.log", timeout=600)
    assert report["notices"] == [], f"the app did not use Ray: {report['notices']}"
    assert len([p for p in report["points"] if p]) >= 3, f"the live curve was not redrawn: {report}"
    assert any(re.match(r"Epoch \d+/10 · step [\d,]+/", p) for p in report["progress"]), report["progress"]
    assert report["stopped"].startswith("Stopped early; the model is kept as trained so far. Test accuracy")
    assert report["summary"]["state"] == "stopped" and report["summary"]["test_acc"] > 0.5
    assert report["start"]["executor"] == "ray" and "Ray node" in report["start"]["worker"]
    assert report["console_errors"] == [] and report["tracebacks"] == [], report
    shot = ROOT / "tests" / "artifacts" / "train-ray.png"
    shot.parent.mkdir(exist_ok=True)
    shot.write_bytes((tmp_path / "train-ray.png").read_bytes())
