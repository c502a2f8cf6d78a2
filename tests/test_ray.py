"""Training jobs on Ray (lib.runs.ray_executor, ray_driver, ray_worker, choice).

The quick tests need no cluster: lib and the executor choice without Ray installed, bad settings, the app-driver
link. The `slow` ones run on a REAL local Ray cluster of three simulated nodes (ray.cluster_utils.Cluster), inside a
network namespace with only loopback, usage statistics off and token authentication on (tests/ray_scenarios.py):
the scenarios run there once per session and report what they saw; each test below asserts on its part.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import ray_scenarios

from lib.runs.choice import open_executor, ray_resources
from lib.runs.wire import Wire

ROOT = Path(__file__).resolve().parent.parent
IN_CI = bool(os.environ.get("CI"))


def loopback_or_skip() -> None:
    why = ray_scenarios.available()
    if why:
        if IN_CI:
            pytest.fail(f"the Ray tests must run in CI: {why}")
        pytest.skip(why)
    pytest.importorskip("ray")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """What the scenarios saw on the simulated three-node cluster (about two minutes on two quiet cores, seven
    on busy ones)."""
    loopback_or_skip()
    log = tmp_path_factory.mktemp("ray") / "cluster.log"
    try:  # a real other torch release for one node (pip, once; the namespace has no network)
        env = {"ROW_BY_ROW_TEST_OTHER_TORCH": str(ray_scenarios.other_torch())}
    except RuntimeError as exc:  # reported by the one test that needs it (the scenario finds no folder)
        env = {"ROW_BY_ROW_TEST_OTHER_TORCH": f"/nonexistent ({exc})"}
    return ray_scenarios.run("cluster", log=log, env=env)


def part(report: dict, name: str) -> dict:
    assert "error" not in report[name], report[name]["error"]
    return report[name]


# ------------------------------------------------------------------------------------------ no cluster needed
HIDE_RAY = """
import importlib.abc, sys
class NoRay(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "ray" or name.startswith("ray."):
            raise ModuleNotFoundError("No module named 'ray'", name="ray")
sys.meta_path.insert(0, NoRay())
"""


def test_lib_imports_and_training_falls_back_to_this_process_without_ray_installed():
    from test_architecture import lib_modules

    modules = ", ".join(name for name in lib_modules() if not name.endswith("__main__"))
    code = HIDE_RAY + f"""
import json, {modules}
from lib.runs.choice import open_executor
executor, notice = open_executor(lambda: "in-process", env={{"ROW_BY_ROW_EXECUTOR": "ray"}})
refused, _ = open_executor(lambda: "in-process", env={{"ROW_BY_ROW_EXECUTOR": "ray",
                                                       "ROW_BY_ROW_RAY_FALLBACK": "refuse"}})
print(json.dumps([executor, notice.id, notice.values["why"].id, refused.name, "ray" in sys.modules]))
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert json.loads(out.stdout.splitlines()[-1]) == ["in-process", "ray.fallback_local", "ray.not_installed",
                                                       "refused", False]


def test_the_in_process_queue_stays_the_default_and_bad_settings_fall_back_with_a_notice():
    assert open_executor(lambda: "in-process", env={}) == ("in-process", None)
    assert open_executor(lambda: "in-process", flag="local", env={"ROW_BY_ROW_EXECUTOR": "ray"}) == ("in-process",
                                                                                                     None)
    executor, notice = open_executor(lambda: "in-process", env={"ROW_BY_ROW_EXECUTOR": "rya"})
    assert executor == "in-process" and notice.values["why"].id == "executor.unknown"
    for name, value in (("ROW_BY_ROW_RAY_GPU_FRACTION", "0"), ("ROW_BY_ROW_RAY_GPU_FRACTION", "nan"),
                        ("ROW_BY_ROW_RAY_GPU_FRACTION", "1.5"), ("ROW_BY_ROW_RAY_CPUS", "0"),
                        ("ROW_BY_ROW_RAY_CPUS", "two"), ("ROW_BY_ROW_RAY_FALLBACK", "maybe")):
        executor, notice = open_executor(lambda: "in-process", env={"ROW_BY_ROW_EXECUTOR": "ray", name: value})
        why = notice.values["why"]
        assert executor == "in-process" and why.id == "ray.bad_setting" and why.values["name"] == name, (name, value)
    assert ray_resources({}) == {"cpus": 1, "gpu_fraction": 0.25}
    assert ray_resources({"ROW_BY_ROW_RAY_CPUS": "2", "ROW_BY_ROW_RAY_GPU_FRACTION": "0.5"}) == \
        {"cpus": 2, "gpu_fraction": 0.5}


def test_the_executor_is_a_flag_of_the_command_never_a_training_setting():
    from dataclasses import fields

    from lib.cli.main import parser
    from lib.storage.share import config_to_query
    from lib.training.config import TrainConfig

    assert "executor" not in {f.name for f in fields(TrainConfig)}
    assert "executor" not in config_to_query(TrainConfig())
    args = parser().parse_args(["train", "--executor", "ray"])
    assert args.executor == "ray" and parser().parse_args(["train"]).executor is None


def test_the_link_to_the_driver_carries_json_and_raw_bytes_and_notices_the_end():
    pipe = io.BytesIO()
    Wire(io.BytesIO(), pipe).send({"op": "data", "key": "1"}, (b"\x00\xff" * 5, b""))
    Wire(io.BytesIO(), pipe).send({"op": "close"})
    reader = Wire(io.BytesIO(pipe.getvalue()), io.BytesIO())
    assert reader.receive() == ({"op": "data", "key": "1"}, [b"\x00\xff" * 5, b""])
    assert reader.receive() == ({"op": "close"}, [])
    assert reader.receive() is None
    cut = Wire(io.BytesIO(pipe.getvalue()[:-3]), io.BytesIO())
    assert cut.receive()[0]["op"] == "data" and cut.receive() is None  # a message cut short is the end, not junk


OTHER = {"ray": "2.59.0", "python": "3.12", "torch": "2.13.0", "row_by_row": "0.0.9"}  # a plausible other release


@pytest.mark.parametrize("key, what", [("ray", "Ray"), ("python", "Python"), ("torch", "PyTorch"),
                                       ("row_by_row", "Row by Row")])
def test_each_version_differing_on_its_own_is_named_with_both_versions_and_the_node(key, what):
    """On this process's real versions(), one key changed at a time: the refusal names that package, the node's
    version and ours, and where; identical versions pass."""
    pytest.importorskip("ray")
    from lib.runs.ray_worker import mismatch, versions

    ours = versions()
    assert all(ours.values()) and ours[key] != OTHER[key], ours  # Ray is installed here: nothing is left out
    assert mismatch(ours, dict(ours), "10.0.0.6 (Ray node 5f3a9c1e)") is None
    theirs = ours | {key: OTHER[key]}
    found = mismatch(ours, theirs, "10.0.0.6 (Ray node 5f3a9c1e)")
    assert found.id == "ray.mismatch"
    assert found.values == {"what": what, "theirs": OTHER[key], "ours": ours[key], "node": "10.0.0.6 (Ray node 5f3a9c1e)"}
    assert f"{what} {OTHER[key]} on 10.0.0.6 (Ray node 5f3a9c1e)" in found.render() and ours[key] in found.render()
    missing = mismatch(ours, {k: v for k, v in ours.items() if k != key}, "n")  # a node that cannot say: refused
    assert missing.values["what"] == what and missing.values["theirs"] == "?"


# ------------------------------------------------------------------------------------------- a real cluster
@pytest.mark.slow
def test_a_run_on_ray_streams_live_events_and_comes_back_with_weights_and_card(cluster):
    live = part(cluster, "live")
    assert cluster["capacity"] == {"cpus": 6.0, "gpus": 1.0, "nodes": 3}
    assert live["state"] == "done" and live["states"][0] == "queued" and "running" in live["states"]
    assert live["steps"] == 400 and live["arrivals"] >= 5  # 40 epochs of 20 steps, logged every 2nd
    assert live["max_gap"] < 1.0, f"events reached the handle only every {live['max_gap']:.2f} s"
    assert live["model"] and live["weights"] > 1000 and live["acc"] is not None
    assert live["start"]["executor"] == live["card"]["executor"] == "ray"
    assert live["start"]["worker"] == live["card"]["worker"] == live["worker"]
    assert ray_scenarios.node_of(live["worker"]) and ray_scenarios.pid_of(live["worker"]) > 1


@pytest.mark.slow
def test_stop_ends_a_ray_run_within_a_second_and_keeps_its_model(cluster):
    stop = part(cluster, "stop")
    assert stop["state"] == "stopped" and stop["last"] == "stopped" and stop["model"] and stop["n"] == 100
    assert stop["latency"] < 2.0, stop  # the worker polls every 0.25 s; the batch then travels back


@pytest.mark.slow
def test_a_killed_worker_ends_its_run_with_the_curve_kept_and_spares_the_others(cluster):
    killed = part(cluster, "killed")
    victim, other = killed["victim"], killed["other"]
    assert victim["state"] == "error" and victim["message"] == "ray.worker_died", victim
    assert victim["steps"] >= victim["steps_before"] >= 2  # the curve it had drawn is still there
    assert other["state"] == "done" and other["n"] == 100
    assert ray_scenarios.node_of(victim["worker"]) != ray_scenarios.node_of(other["worker"])


@pytest.mark.slow
def test_mnist_goes_into_the_object_store_once_and_onto_each_node_once(cluster):
    data = part(cluster, "data")
    assert data["puts"] == 1  # one ray.put for every run on this data set (the determinism runs put the next one)
    assert len(data["nodes"]) == len(set(data["nodes"])) == 2  # one copy on each node that trained, no more
    assert sorted(n[:8] for n in data["nodes"]) == data["trained_on"]


@pytest.mark.slow
def test_four_runs_share_one_logical_gpu_at_a_quarter_each_and_the_fifth_takes_a_cpu(cluster):
    gpu = part(cluster, "gpu")
    assert gpu["packed"] and gpu["running"] == 5, gpu
    assert gpu["devices"] == ["cuda"] * 4 + ["cpu"] and gpu["counts"] == {"running": 4, "queued": 0, "cap": 4}
    assert all(f"Ray node {gpu['gpu_node'][:8]}, GPU 0 × 0.25" in w for w in gpu["workers"]), gpu["workers"]
    assert len({ray_scenarios.pid_of(w) for w in gpu["workers"]}) == 4  # four processes on one card
    assert "GPU" not in gpu["overflow"][0] and gpu["gpu_node"][:8] not in gpu["overflow"][0]
    assert gpu["ends"] == ["stopped"] * 5
    # a sixth that must have a GPU waits in line, and Stop takes it out of Ray's queue before it ever trains
    assert gpu["waiting"] == {"state": "queued", "position": 1, "end": "stopped", "events": 0, "result": None}


@pytest.mark.slow
def test_classroom_caps_refuse_a_run_before_it_reaches_ray_with_the_in_process_messages(cluster):
    caps = part(cluster, "caps")
    ids = [m["id"] for m in caps["ray"]]
    assert ids == ["classroom.limit"] * 3, caps["ray"]  # hidden, epochs and digits: each cap it breaks, named
    assert caps["ray"] == caps["local"]  # word for word what the in-process queue says
    assert caps["after_refusal"] == caps["before"]  # nothing was sent to Ray, nothing waits in a line
    assert caps["before"]["unfinished"] == 0 and caps["before"]["counts"]["queued"] == 0
    assert caps["within"]["state"] == "done" and caps["within"]["epochs"] == 2 and caps["within"]["n"] == 100
    assert caps["after_run"]["sent"] == caps["before"]["sent"] + 1  # the run within the caps did go to Ray
    assert "Ray node" in caps["within"]["worker"]


@pytest.mark.slow
def test_a_node_running_another_torch_release_is_named_and_the_cluster_refused(cluster):
    """A real torch release other than the app's (tests/ray_scenarios.py OTHER_TORCH) on one node's PYTHONPATH.
    Ray lets that node join (it checks only its own and Python's versions); the app's probe refuses it. A node with
    another Ray or Python cannot be made: Ray refuses it before it joins (the unit test above covers those keys)."""
    other = part(cluster, "other_torch")
    refused = other["refused"]
    assert refused is not None and refused["id"] == "ray.mismatch", other
    assert refused["values"]["what"] == "PyTorch" and refused["values"]["theirs"] == ray_scenarios.OTHER_TORCH
    assert refused["values"]["ours"] == other["ours"] != ray_scenarios.OTHER_TORCH
    assert f"Ray node {other['node'][:8]}" in refused["values"]["node"]
    assert f"PyTorch {ray_scenarios.OTHER_TORCH} on " in refused["text"]


@pytest.mark.slow
def test_a_ray_worker_trains_the_same_weights_as_the_in_process_executor_bit_for_bit(cluster):
    """Same config and seed, float32, CPU, one thread each: the same code on the same CPU gives the same bits
    (tolerance 0). Only with one thread on both sides: other thread counts split the sums differently, so the bits
    would differ (not measured here, hence no tolerance claimed for that case)."""
    same = part(cluster, "determinism")
    assert same["states"] == ["done", "done"] and same["threads"] == [1, 1]
    assert same["keys"] and same["bitwise"] and same["max_diff"] == 0.0, same
    assert same["acc"][0] == same["acc"][1]


@pytest.mark.slow
def test_a_cluster_with_other_versions_or_out_of_reach_is_refused_and_the_fallback_decides(cluster):
    refused = part(cluster, "refusals")
    assert refused["mismatch"]["id"] == "ray.mismatch" and "Row by Row 0.1.0" in refused["mismatch"]["text"]
    assert "0.0.0-elsewhere" in refused["mismatch"]["text"]
    assert refused["unreachable"]["id"] == "ray.unreachable" and refused["unreachable"]["seconds"] < 60
    assert refused["fallback_local"] == {"executor": "the local executor", "notice": "ray.fallback_local",
                                         "why": "ray.unreachable"}
    assert refused["refuse"] == {"executor": "refused", "notice": "ray.refused", "submit": "ray.refused"}


@pytest.mark.slow
def test_a_lost_cluster_ends_the_run_with_a_message_and_its_curve(cluster):
    lost = part(cluster, "lost")
    assert lost["state"] == "error" and lost["message"] in ("ray.cluster_lost", "ray.worker_died"), lost
    # measured 0.7-11.3 s and 11.1-11.3 s at load 10 on two cores (docs/scaling-out.md): Ray's 10 s reconnect timeout
    assert lost["steps"] >= 2 and lost["seconds"] < 30
    assert lost["driver_gone_s"] < 30  # the driver gives the lost cluster up by itself
    assert lost["after"] == "ray.unreachable"  # then a new run is refused with a message, the server lives on


@pytest.mark.slow
def test_the_cli_trains_on_a_ray_start_head_cluster_and_gives_the_local_weights(tmp_path):
    """`RAY_ADDRESS=… python -m lib.cli train --preset quick --precision fp32 --executor ray --seed 3 --json --out
    PATH` against `ray start --head`, and the same command with --executor local (one thread, as the Ray job has):
    the same weights, bit for bit, and cards that say where each was trained."""
    loopback_or_skip()
    from safetensors.torch import load_file

    out = tmp_path / "out"
    out.mkdir()
    report = ray_scenarios.run("cli", str(out), log=tmp_path / "cli.log")
    assert report["head"] == 0
    for executor in ("ray", "local"):
        done = report[executor]
        assert done["rc"] == 0, done["stderr"]
        assert done["first"][0]["event"] == "start" and done["last"][0]["end"] == "done"
        assert (out / f"{executor}.safetensors").is_file() and (out / f"{executor}.json").is_file()
    ray_card = json.loads((out / "ray.json").read_text())
    assert ray_card["executor"] == "ray" and "Ray node" in ray_card["worker"]
    assert report["ray"]["last"][0]["test_acc"] == report["local"]["last"][0]["test_acc"]
    a, b = load_file(out / "ray.safetensors"), load_file(out / "local.safetensors")
    assert sorted(a) == sorted(b) and all((a[k] == b[k]).all() for k in a)


def test_the_pages_say_in_the_visitors_language_where_training_runs_when_the_cluster_cannot_be_used(monkeypatch,
                                                                                                       mnist):
    """A typo in ROW_BY_ROW_EXECUTOR trains in the app's queue with a sidebar notice; a cluster out of reach with
    ROW_BY_ROW_RAY_FALLBACK=refuse turns training off, and pressing Train says why (here in Chinese)."""
    from streamlit.testing.v1 import AppTest
    from test_page_train import PAGE, press_train, set_tiny

    from ui import resources

    def open_train(lang: str) -> AppTest:
        at = AppTest.from_file(PAGE, default_timeout=120)
        at.query_params["lang"] = lang
        return at.run()

    try:
        monkeypatch.setenv("ROW_BY_ROW_EXECUTOR", "rya")
        resources._jobs.clear()
        notices = [w.value for w in open_train("zh").sidebar.warning]
        assert any(n.startswith("训练在本服务器上进行，而不是在 Ray 集群上") and "rya" in n for n in notices), notices
        monkeypatch.setenv("ROW_BY_ROW_EXECUTOR", "ray")
        monkeypatch.setenv("RAY_ADDRESS", "127.0.0.1:1")  # nothing listens there: refused at once
        monkeypatch.setenv("ROW_BY_ROW_RAY_FALLBACK", "refuse")
        resources._jobs.clear()
        at = open_train("zh")
        assert any("本服务器已关闭训练" in w.value for w in at.sidebar.warning)
        set_tiny(at, epochs=1, subset=1000)
        at = press_train(at)
        assert not at.exception
        assert "runs" not in at.session_state or at.session_state["runs"] == []  # nothing queued anywhere
        assert any("本服务器已关闭训练" in e.value for e in at.error), [e.value for e in at.error]
    finally:
        resources._jobs.clear()  # the next test gets the default executor again

