"""bench/device_check.py, the one script a lent GPU runs: here on the CPU (--quick, under 3 minutes, importing only
what training needs), without MNIST (its JSON names the problem, status 2), with a GPU asked for that is not there,
and its sections' rules on small data (a timed window never crosses an epoch's end; Ray's section with a stand-in)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import types
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from bench import device_sections as sections
from lib.data.mnist import load_idx_folder
from lib.runs.local import LocalExecutor

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "bench" / "device_check.py"
SAMPLE = ROOT / "mnist-sample"
# what the app needs beyond training: a lent machine may lack every one of them
APP_ONLY = ("streamlit", "pandas", "plotly", "torchvision", "PIL", "babel", "tqdm", "streamlit_drawable_canvas",
            "altair", "psutil", "hypothesis", "playwright")
EXPECTED = ("correctness", "speed", "scaling", "sharing", "out_of_memory", "memory_estimate", "ray")


def run_check(*args: str, blocked=(), timeout: float = 600) -> tuple[subprocess.CompletedProcess, float]:
    """The script as a lent machine runs it (python bench/device_check.py …), with `blocked` modules unimportable."""
    code = (f"import sys, runpy; sys.modules.update(dict.fromkeys({list(blocked)!r})); "
            f"sys.argv = {[str(SCRIPT), *args]!r}; runpy.run_path({str(SCRIPT)!r}, run_name='__main__')")
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          env={k: v for k, v in os.environ.items() if k != "MNIST_ROOT"})
    return done, time.perf_counter() - t0


def last_json(done: subprocess.CompletedProcess) -> dict:
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_prepare_copies_mnist_as_gzipped_idx_that_loads_the_same(tmp_path):
    done, _ = run_check("--prepare", "--from", str(SAMPLE), "--mnist", str(tmp_path / "m"))
    assert done.returncode == 0, done.stderr
    raw = tmp_path / "m" / "MNIST" / "raw"
    assert sorted(p.name for p in raw.iterdir()) == sorted(p.name for p in (SAMPLE / "MNIST" / "raw").glob("*.gz"))
    copied, original = load_idx_folder(tmp_path / "m"), load_idx_folder(SAMPLE)
    assert torch.equal(copied.train_x, original.train_x) and torch.equal(copied.test_y, original.test_y)
    done, _ = run_check("--prepare", "--from", str(tmp_path / "nothing"), "--mnist", str(tmp_path / "n"))
    assert done.returncode != 0 and "nothing" in done.stderr


def test_without_mnist_it_writes_its_json_naming_the_problem_and_exits_2(tmp_path):
    out = tmp_path / "check.json"
    done, _ = run_check("--device", "cpu", "--quick", "--mnist", str(tmp_path / "absent"), "--out", str(out),
                        blocked=APP_ONLY)
    assert done.returncode == 2, done.stderr
    result = last_json(done)
    assert json.loads(out.read_text()) == result  # the file and the last line are the same object
    assert result["data"]["status"] == "error" and str(tmp_path / "absent") in result["data"]["error"]
    assert "--prepare" in result["data"]["error"] and result["problems"]
    assert all(result[name] == {"status": "skipped", "reason": "no data"} for name in EXPECTED)
    assert result["environment"]["torch"] == torch.__version__  # the versions are printed all the same


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU")
def test_a_gpu_asked_for_that_is_not_there_is_named_and_exits_2(tmp_path):
    done, _ = run_check("--device", "cuda", "--quick", "--mnist", str(tmp_path / "absent"))
    result = last_json(done)
    assert done.returncode == 2 and result["device"] is None and "not available" in result["problem"]
    assert "not available" in result["problems"][0]


@pytest.mark.slow
def test_the_quick_check_runs_here_on_the_cpu_in_under_three_minutes(tmp_path):
    """The same script a GPU will run, every section small, without any of the app's other packages."""
    folder = tmp_path / "mnist"
    source = os.environ.get("MNIST_ROOT") or str(SAMPLE)
    assert run_check("--prepare", "--from", source, "--mnist", str(folder))[0].returncode == 0
    out = tmp_path / "check.json"
    done, seconds = run_check("--device", "cpu", "--quick", "--mnist", str(folder), "--out", str(out),
                              blocked=APP_ONLY, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    result = last_json(done)
    assert json.loads(out.read_text()) == result and result["problems"] == []
    assert seconds < 180 and result["total_s"] < 180
    assert result["device"] == "cpu" and result["environment"]["auto_for_the_lesson"]["device"] == "cpu"
    full = result["data"]["n_train"] == 60000
    for name in ("correctness", "speed"):
        assert result[name]["status"] == "ok" if full else "needs the full 60,000" in result[name]["reason"]
    assert result["scaling"]["status"] == "ok" and set(result["scaling"]["train_ms"]) == {"lstm", "gru", "cnn",
                                                                                          "transformer"}
    assert result["sharing"]["status"] == "ok" and result["sharing"]["most_at_once"] >= 2
    for name in ("out_of_memory", "memory_estimate", "ray"):  # GPU-only, or Ray with issue 25's executor
        assert result[name]["status"] == "skipped" and result[name]["reason"]
    if full:
        rescored = result["correctness"]["rescored"]
        assert [r["model"] for r in rescored] == list(sections.RESCORED) and all(r["n"] == 200 for r in rescored)
        assert result["speed"]["lesson_epoch_64"]["steps"] == sections.QUICK.steps


def test_a_timed_window_never_crosses_an_epochs_end(tiny):
    """The old GPU benchmark timed 50 steps at batch 1024 over the shipped sample's 10,000 digits: five epoch ends,
    each scoring the test set inside the window. The lesson epoch now stops at its epoch's last step."""
    plan = replace(sections.QUICK, steps=50)
    out = sections.lesson_epoch("cpu", tiny, 64, plan)  # 200 digits: 4 steps make the epoch
    assert (out["steps"], out["whole_epoch"], out["digits"]) == (4, True, 200)
    out = sections.lesson_epoch("cpu", tiny, 16, replace(plan, steps=3))
    assert (out["steps"], out["whole_epoch"], out["digits"]) == (3, False, 48)


def test_the_sections_that_need_the_full_training_set_say_so(tiny):
    for name in ("correctness", "speed"):
        with pytest.raises(sections.Skip, match="60,000"):
            getattr(sections, name)("cpu", tiny, sections.QUICK)


def test_the_ray_section_skips_without_ray_or_its_executor_and_runs_four_jobs_through_it(tiny, monkeypatch):
    import importlib.util

    real_find = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "ray" else real_find(name, *a))
    with pytest.raises(sections.Skip, match="Ray is not installed"):
        sections.ray("cuda", tiny, sections.QUICK)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object() if name == "ray" else real_find(name, *a))
    if "lib.runs.ray_executor" not in sys.modules and real_find("lib.runs.ray_executor") is None:
        with pytest.raises(sections.Skip, match="issue 25"):
            sections.ray("cuda", tiny, sections.QUICK)

    class StandIn(LocalExecutor):  # the interface issue 25's RayExecutor implements, training here on the CPU
        def __init__(self):
            super().__init__(max_running=4, threads=torch.get_num_threads())

        def submit(self, cfg, data, owner, name="", group=0):
            return super().submit(replace(cfg, device="cpu"), data, owner, name, group)
    module = types.ModuleType("lib.runs.ray_executor")
    module.__spec__ = importlib.machinery.ModuleSpec("lib.runs.ray_executor", None)
    module.RayExecutor = StandIn
    monkeypatch.setitem(sys.modules, "lib.runs.ray_executor", module)
    monkeypatch.delenv("ROW_BY_ROW_RAY_GPU_FRACTION", raising=False)
    with pytest.raises(sections.Skip, match="CUDA"):
        sections.ray("cpu", tiny, sections.QUICK)
    out = sections.ray("cuda", tiny, sections.QUICK)
    assert out["states"] == ["done"] * 4 and out["checks"] == {"all_done": True} and out["fraction"] == "0.25"
    monkeypatch.delenv("ROW_BY_ROW_RAY_GPU_FRACTION")
