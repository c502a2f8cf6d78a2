"""Ray scenarios on a REAL local cluster, run inside a network namespace that has only loopback.

The test process cannot share a namespace with the cluster (pytest runs in the machine's own, other services of the
suite too), so `run()` starts this file as a script under `unshare --net --pid --fork --mount-proc`: Ray can then
see and advertise no address but 127.0.0.1, and when the script ends the PID namespace ends every process it started
(raylets, workers, the driver) with it. The script reports what it observed as ONE JSON line; the tests
(tests/test_ray.py, tests/test_browser_ray.py) assert on it. Usage statistics are off and Ray's token
authentication is on, with a token made for the run.

    python tests/ray_scenarios.py cluster          # one simulated multi-node cluster, every scenario in turn
    python tests/ray_scenarios.py cluster lost     # only the scenarios named (`lost`: time a lost cluster)
    PYTHONPATH=. python tests/ray_scenarios.py --loopback cluster lost  # from a shell: the same, in a namespace
    python tests/ray_scenarios.py cli OUT_DIR      # `ray start --head` + the CLI with --executor ray and local
    python tests/ray_scenarios.py browser OUT_DIR  # the app with ROW_BY_ROW_EXECUTOR=ray, in Chromium
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import replace
from pathlib import Path

from bench.loopback import available, in_loopback  # noqa: F401 - available: for the tests

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
MB = 2**20
LONG = 200  # epochs (the most allowed) of a run that the scenario stops long before it ends
OTHER_TORCH = "2.13.0"  # a real torch release other than requirements.txt's, for a node that runs it


def run(scenario: str, *args: str, timeout: float = 900, log: Path | None = None, env: dict | None = None) -> dict:
    """The JSON report of one scenario group run in its own loopback namespace (`env`: added to its environment)."""
    done = in_loopback([sys.executable, str(Path(__file__)), scenario, *args], timeout, env=env, log=log)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
        raise AssertionError(f"{scenario}: no report (exit {done.returncode}):\n{done.stdout[-2000:]}\n{tail}")
    return json.loads(lines[-1])


def other_torch() -> Path:
    """A folder holding a real torch release other than the app's (OTHER_TORCH, installed once with pip and kept in
    the user's cache): a Ray node whose PYTHONPATH starts with it runs that torch, as a node set up from another
    requirements file would. Made outside the namespace, which has no network."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "row-by-row"
    done, partial = cache / f"torch-{OTHER_TORCH}", cache / f"torch-{OTHER_TORCH}.partial"
    if not (done / "torch").is_dir():
        shutil.rmtree(partial, ignore_errors=True)
        pip = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-compile",
                              "--target", str(partial), f"torch=={OTHER_TORCH}"], capture_output=True, text=True)
        if pip.returncode:
            raise RuntimeError(f"pip could not install torch {OTHER_TORCH}: {pip.stderr[-1500:]}")
        partial.rename(done)  # whole or not at all: an interrupted install is never taken for a finished one
    return done


# --------------------------------------------------------------------------------------- inside the namespace
def wait(predicate, timeout: float, every: float = 0.02) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(every)
    return False


def pid_of(worker: str) -> int:
    return int(re.search(r"pid (\d+)", worker).group(1))


def node_of(worker: str) -> str:
    return re.search(r"Ray node ([0-9a-f]+)", worker).group(1)


def follow(job, timeout: float) -> list[tuple[float, int, str]]:
    """(time, events seen, state) each time the handle changes, until the run ends: what a page polling it sees."""
    seen, start, last = [], time.monotonic(), None
    while time.monotonic() - start < timeout:
        now = (len(job.events), job.state)
        if now != last:
            seen.append((time.monotonic() - start, *now))
            last = now
        if job.finished:
            break
        time.sleep(0.01)
    return seen


def live_run(ex, data, cfg, owner) -> dict:
    """One run end to end: the arrivals at the handle, its record, card and model."""
    job = ex.submit(replace(cfg, epochs=40), data, owner)
    seen = follow(job, 300)
    running = [t for t, n, state in seen if state == "running"]
    arrivals = [t for (t, n, state), (_, before, _) in zip(seen[1:], seen) if n > before]
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:])]
    card = job.card(data.describe()) if job.scored else {}
    return {"states": [s for _, _, s in seen], "events": len(job.events), "steps": len(job.of_kind("step")),
            "max_gap": max(gaps, default=None), "arrivals": len(arrivals), "trained_s": job.seconds,
            "running_s": (running[-1] - running[0]) if running else 0, "state": job.state,
            "start": {k: job.events[0].get(k) for k in ("event", "executor", "worker")} if job.events else {},
            "card": {k: card.get(k) for k in ("executor", "worker")}, "model": job.model is not None,
            "weights": len(job.weights or b""), "acc": job.result and job.result["acc"], "worker": job.worker}


def stop_run(ex, data, cfg, owner) -> dict:
    job = ex.submit(replace(cfg, epochs=LONG), data, owner)
    wait(lambda: len(job.of_kind("step")) >= 3, 300)
    asked = time.monotonic()
    job.stop()
    wait(lambda: job.finished, 60)
    return {"latency": time.monotonic() - asked, "state": job.state, "last": job.events[-1]["event"], "worker": job.worker,
            "n": job.result and job.result["n"], "model": job.model is not None, "steps": len(job.of_kind("step"))}


def killed_worker(ex, data, cfg, owner) -> dict:
    """Two runs on two nodes; the worker of the first is killed mid-run; the second must not notice."""
    victim = ex.submit(replace(cfg, epochs=LONG), data, owner)
    other = ex.submit(replace(cfg, epochs=60), data, owner)
    wait(lambda: victim.state == other.state == "running" and len(victim.of_kind("step")) >= 2, 300)
    before = len(victim.of_kind("step"))
    os.kill(pid_of(victim.worker), signal.SIGKILL)
    wait(lambda: victim.finished and other.finished, 300)
    return {"victim": {"state": victim.state, "message": victim.message and victim.message.id,
                       "text": victim.message and victim.message.render(), "steps_before": before,
                       "steps": len(victim.of_kind("step")), "worker": victim.worker},
            "other": {"state": other.state, "worker": other.worker, "n": other.result and other.result["n"]}}


def packed_on_gpu(ex, data, cfg, owner, gpu_node: str) -> dict:
    """Five runs on 'auto' while the GPU node's one logical GPU has four slots at 0.25: four train on it at once,
    the fifth goes to a CPU node instead of waiting for the card."""
    jobs = [ex.submit(replace(cfg, epochs=LONG, device="auto"), data, owner) for _ in range(5)]
    packed = wait(lambda: all(j.state == "running" and j.of_kind("step") for j in jobs), 400)
    on_gpu = [j for j in jobs if j.device == "cuda"]
    snapshot = {"packed": packed, "running": sum(j.state == "running" for j in jobs), "counts": ex.counts("cuda"),
                "devices": [j.device for j in jobs], "gpu_node": gpu_node, "workers": [j.worker for j in on_gpu],
                "overflow": [j.worker for j in jobs if j.device == "cpu"]}
    waiting = ex.submit(replace(cfg, epochs=LONG, device="cuda"), data, owner)  # the card is full: it waits
    time.sleep(3.0)
    snapshot["waiting"] = {"state": waiting.state, "position": ex.position(waiting)}
    waiting.stop()  # taken out of Ray's queue
    wait(lambda: waiting.finished, 60)
    snapshot["waiting"] |= {"end": waiting.state, "events": len(waiting.events), "result": waiting.result}
    for job in jobs:
        job.stop()
    wait(lambda: all(j.finished for j in jobs), 120)
    return snapshot | {"ends": sorted(j.state for j in jobs)}


def classroom_caps(ex, data, cfg, owner) -> dict:
    """With classroom caps set, a run over them is refused before it is sent (the same messages as the in-process
    queue gives; the driver's count of tasks sent to Ray and the executor's lines unchanged); a run within them is
    sent and trains."""
    from lib.messages import Problem
    from lib.runs.local import LocalExecutor
    from lib.runs.settings import Settings

    caps = Settings(max_epochs=5, max_hidden=8, max_subset=300, classroom=True)
    over = replace(cfg, epochs=10)  # hidden 16 > 8, all 400 digits > 300, 10 epochs > 5
    within = replace(cfg, hidden=8, epochs=2, subset=300)

    def refusal(executor) -> list | None:
        try:
            executor.submit(over, data, owner)
        except Problem as exc:
            return [m.to_dict() for m in exc.messages]
        return None

    def seen() -> dict:
        return {"sent": ex.where(data)["sent"], "unfinished": len(ex.unfinished()), "counts": ex.counts("cpu")}

    ex.limits = lambda: caps  # read at each submission, as a teacher's change is
    try:
        before = seen()
        refused = refusal(ex)
        after_refusal = seen()
        job = ex.submit(within, data, owner)
        wait(lambda: job.finished, 300)
        after_run = seen()
    finally:
        ex.limits = None
    return {"ray": refused, "local": refusal(LocalExecutor(limits=lambda: caps)), "before": before,
            "after_refusal": after_refusal, "after_run": after_run,
            "within": {"state": job.state, "epochs": job.config.epochs, "worker": job.worker,
                       "n": job.result and job.result["n"]}}  # n: the test digits it was scored on (all 100)


def other_torch_node(cluster, torch_dir: str) -> dict:
    """A node joins whose Python runs another torch release (a real one, first on its PYTHONPATH): an app that
    connects now is refused, the message naming PyTorch, both versions and that node. Ray itself lets such a node
    join: it compares only its own and Python's versions."""
    from lib.messages import Problem
    from lib.runs.ray_executor import RayExecutor
    from lib.runs.ray_worker import versions

    if not (Path(torch_dir) / "torch").is_dir():
        raise FileNotFoundError(f"no other torch release in {torch_dir}")
    node = cluster.add_node(num_cpus=1, object_store_memory=150 * MB, env_vars={"PYTHONPATH": f"{torch_dir}:{ROOT}"})
    out = {"node": node.node_id, "ours": versions()["torch"]}
    try:
        ex = RayExecutor(cluster.address)
        out["refused"] = None
        ex.close()
    except Problem as exc:
        out["refused"] = {"id": exc.messages[0].id, "values": exc.messages[0].values, "text": exc.messages[0].render()}
    finally:
        cluster.remove_node(node)
    return out


def determinism(ex, real) -> dict:
    """The same config and seed, float32 on a CPU with one thread: the Ray worker's weights against the in-process
    executor's."""
    import torch

    from lib.runs.local import LocalExecutor
    from lib.training.config import TrainConfig

    cfg = TrainConfig(hidden=32, layers=1, subset=2000, epochs=1, batch_size=64, test_subset=500, log_every=10,
                      precision="fp32", device="cpu", seed=3, optimizer="adam", lr=0.005)
    local = LocalExecutor(max_running=1, threads=1)
    here, there = local.submit(cfg, real, "det"), ex.submit(cfg, real, "det")
    wait(lambda: here.finished and there.finished, 600)
    a, b = here.model.state_dict(), there.model.state_dict()
    return {"states": [here.state, there.state], "threads": [here.events[0]["threads"], there.events[0]["threads"]],
            "bitwise": all(torch.equal(a[k], b[k]) for k in a), "keys": sorted(a) == sorted(b),
            "max_diff": max(float((a[k] - b[k]).abs().max()) for k in a), "acc": [here.result["acc"],
                                                                                  there.result["acc"]]}


def refusals(address: str) -> dict:
    """A cluster whose versions differ, one that cannot be reached, and what each fallback makes of them."""
    import lib
    from lib.messages import Problem
    from lib.runs.choice import open_executor
    from lib.runs.ray_executor import RayExecutor

    out = {}
    real_version, lib.__version__ = lib.__version__, "0.0.0-elsewhere"  # the app now differs from the cluster
    try:
        RayExecutor(address)
    except Problem as exc:
        out["mismatch"] = {"id": exc.messages[0].id, "text": exc.messages[0].render()}
    finally:
        lib.__version__ = real_version
    t0 = time.monotonic()
    try:
        RayExecutor("127.0.0.1:1")
    except Problem as exc:
        out["unreachable"] = {"id": exc.messages[0].id, "seconds": time.monotonic() - t0}
    env = {"ROW_BY_ROW_EXECUTOR": "ray", "RAY_ADDRESS": "127.0.0.1:1"}
    local, notice = open_executor(lambda: "the local executor", env=env)
    out["fallback_local"] = {"executor": local, "notice": notice.id, "why": notice.values["why"].id}
    refused, notice = open_executor(lambda: "the local executor", env=env | {"ROW_BY_ROW_RAY_FALLBACK": "refuse"})
    try:
        refused.submit(None, None, "x")
    except Problem as exc:
        out["refuse"] = {"executor": refused.name, "notice": notice.id, "submit": exc.messages[0].id}
    return out


def cluster_lost(ex, cluster, data, cfg, owner) -> dict:
    """The head node dies while a run trains: the run ends with a message and its curve; a new run cannot start."""
    from lib.messages import Problem

    job = ex.submit(replace(cfg, epochs=LONG), data, owner)
    wait(lambda: len(job.of_kind("step")) >= 2, 300)
    t0 = time.monotonic()
    for node in [cluster.head_node, *cluster.worker_nodes]:
        node.kill_all_processes(check_alive=False, allow_graceful=False)
    wait(lambda: job.finished, 120)
    out = {"state": job.state, "message": job.message and job.message.id, "seconds": time.monotonic() - t0,
           "steps": len(job.of_kind("step"))}
    # The run can end (its worker died) before the driver has given up on the cluster; a Train pressed in between is
    # sent and ends with ray.cluster_lost moments later. Once the driver has ended, a new run is refused at once.
    wait(lambda: not ex.connected(), 120)
    out["driver_gone_s"] = time.monotonic() - t0
    try:
        ex.submit(cfg, data, owner)
        out["after"] = "submitted"
    except Problem as exc:
        out["after"] = exc.messages[0].id
    return out


def scenario_cluster(only: list[str]) -> dict:
    """One cluster of three simulated nodes: head (1 CPU), a CPU node (1 CPU), a node advertising 1 logical GPU;
    every scenario in turn, or those named in `only` (e.g. `lost`, to time it alone)."""
    from conftest import synthetic
    from ray.cluster_utils import Cluster

    from lib.data.mnist import load_mnist
    from lib.runs.ray_executor import RayExecutor
    from lib.training.config import TrainConfig

    report, t0 = {}, time.monotonic()
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False,
                                                           "object_store_memory": 150 * MB})
    cluster.add_node(num_cpus=1, object_store_memory=150 * MB)
    gpu_node = cluster.add_node(num_cpus=4, num_gpus=1, object_store_memory=150 * MB)
    report["cluster_s"] = time.monotonic() - t0
    ex = RayExecutor(cluster.address, heartbeat_timeout=3600)
    report["connect_s"], report["capacity"] = time.monotonic() - t0 - report["cluster_s"], ex.capacity
    data = synthetic(n_train=400, n_test=100)
    cfg = TrainConfig(hidden=16, layers=1, optimizer="adam", lr=0.01, batch_size=20, epochs=3, log_every=2,
                      device="cpu", validation=0.0)
    steps = [("live", lambda: live_run(ex, data, cfg, "a")), ("stop", lambda: stop_run(ex, data, cfg, "a")),
             ("killed", lambda: killed_worker(ex, data, cfg, "b")),
             ("data", lambda: ex.where(data) | {"trained_on": sorted({node_of(w) for w in workers(report)})}),
             ("caps", lambda: classroom_caps(ex, data, cfg, "e")),
             ("gpu", lambda: packed_on_gpu(ex, data, cfg, "c", gpu_node.node_id)),
             ("determinism", lambda: determinism(ex, load_mnist())),
             ("other_torch", lambda: other_torch_node(cluster, os.environ["ROW_BY_ROW_TEST_OTHER_TORCH"])),
             ("refusals", lambda: refusals(cluster.address)),
             ("lost", lambda: cluster_lost(ex, cluster, data, cfg, "d"))]
    for name, step in steps:
        if only and name not in only:
            continue
        started = time.monotonic()
        try:
            report[name] = step()
        except Exception:  # noqa: BLE001 - reported, asserted on by the test of that scenario
            report[name] = {"error": traceback.format_exc()[-3000:]}
        report[name + "_s"] = time.monotonic() - started
        print(f"scenario {name}: {report[name + '_s']:.1f} s", file=sys.stderr, flush=True)
    return report


def workers(report: dict) -> list[str]:
    """The workers that trained the scenarios' runs so far (all on the same data set)."""
    found = [report.get("live", {}).get("worker"), report.get("stop", {}).get("worker")]
    found += [report.get("killed", {}).get(k, {}).get("worker") for k in ("victim", "other")]
    return [w for w in found if w]


def scenario_cli(out_dir: str) -> dict:
    """`ray start --head`, then the same `train` command with --executor ray and with --executor local."""
    port = "6390"
    head = subprocess.run(["ray", "start", "--head", "--node-ip-address", "127.0.0.1", "--port", port, "--num-cpus",
                           "2", "--include-dashboard", "false", "--disable-usage-stats"], capture_output=True,
                          text=True)
    report = {"head": head.returncode}
    command = [sys.executable, "-m", "lib.cli", "train", "--preset", "quick", "--precision", "fp32", "--seed", "3",
               "--json"]
    for executor, env in (("ray", {"RAY_ADDRESS": f"127.0.0.1:{port}"}), ("local", {"OMP_NUM_THREADS": "1"})):
        t0 = time.monotonic()
        done = subprocess.run(command + ["--executor", executor, "--out", f"{out_dir}/{executor}"], cwd=ROOT,
                              capture_output=True, text=True, env=os.environ | env)
        lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
        report[executor] = {"rc": done.returncode, "seconds": time.monotonic() - t0, "first": lines[:1],
                            "last": lines[-1:], "stderr": done.stderr[-1500:]}
    subprocess.run(["ray", "stop", "--force"], capture_output=True)
    return report


BROWSER_RUN = "subset=10000&epochs=10&hidden=64&test_subset=1000"  # long enough to be stopped midway
STOP_BUTTON = '[class*="st-key-stop_"] button'  # the live panel's Stop (key stop_<run id>)
PROGRESS = '[data-testid="stProgress"]'


def scenario_browser(out_dir: str) -> dict:
    """The app with ROW_BY_ROW_EXECUTOR=ray (a local Ray it starts) in Chromium: the Train page trains, draws its
    live curve and stops; the runs' JSON export says which executor and worker trained the run."""
    from playwright.sync_api import sync_playwright

    from bench import server as app

    out, report, errors = Path(out_dir), {}, []
    srv = app.start(out, wait_s=120, extra_env={"ROW_BY_ROW_EXECUTOR": "ray"})
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=app.CHROMIUM, args=app.CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" and not any(
                n in m.text or n in (m.location or {}).get("url", "") for n in ("/_stcore/health",
                                                                                 "/_stcore/host-config")) else None)
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.set_default_timeout(180_000)
            page.goto(f"{srv.url}/train?{BROWSER_RUN}")
            page.locator("h1", has_text="Train an RNN on MNIST rows").first.wait_for()
            page.wait_for_selector(app.SETTLED)
            report["notices"] = page.locator('[data-testid="stAlertContentWarning"]').all_inner_texts()
            page.get_by_text("More settings").click()
            page.locator(".st-key-form_log_every input").fill("5")
            page.locator(".st-key-form_log_every input").press("Tab")
            page.get_by_text("More settings").click()
            page.locator(".st-key-form_log_every input").wait_for(state="hidden")
            page.locator('[data-testid="stFormSubmitButton"] button').click()
            page.wait_for_selector(STOP_BUTTON)
            report |= follow_page(page)
            page.locator(STOP_BUTTON).click()
            stopped = page.locator('[data-testid="stAlertContentWarning"]', has_text="Stopped early")
            stopped.first.wait_for(state="visible", timeout=30_000)
            report["stopped"] = stopped.first.inner_text()
            page.wait_for_selector(app.SETTLED)
            page.screenshot(path=str(out / "train-ray.png"))
            with page.expect_download(timeout=60_000) as download:
                page.get_by_role("button", name=re.compile(r"All runs with curves \(\.json\)")).click()
            runs = json.loads(Path(download.value.path()).read_text())
            report["start"] = next(e for e in runs[0]["events"] if e["event"] == "start")
            report["summary"] = runs[0]["summary"]
            browser.close()
    finally:
        srv.stop()
    logs = srv.logs()
    report["console_errors"] = errors
    report["tracebacks"] = [log[log.index("Traceback"):][:3000] for log in logs if "Traceback" in log]
    return report


def follow_page(page) -> dict:
    """The live panel while the run trains: how many points the loss curve had at each look, the progress texts."""
    points, progress = [], []
    end = time.monotonic() + 180
    while time.monotonic() < end and len(set(points)) < 4:
        state = page.evaluate("""([progress]) => {
            const plots = [...document.querySelectorAll('.js-plotly-plot')];
            const first = plots.length && plots[0].data && plots[0].data[0];
            return {points: first && first.x ? first.x.length : 0,
                    progress: [...document.querySelectorAll(progress)].map(e => e.innerText).join(' ')};
        }""", [PROGRESS])
        points.append(state["points"])
        progress.append(state["progress"])
        page.wait_for_timeout(500)
    return {"points": sorted(set(points)), "progress": sorted(set(p for p in progress if p))[:20]}


if __name__ == "__main__":
    sys.path.insert(0, str(TESTS))
    sys.path.insert(0, str(ROOT))
    if sys.argv[1] == "--loopback":  # outside: run the rest of the command line in a loopback namespace
        named = sys.argv[3:] if sys.argv[2] == "cluster" else ["-"]
        env = {"ROW_BY_ROW_TEST_OTHER_TORCH": str(other_torch())} if not named or "other_torch" in named else {}
        log = Path(tempfile.mkdtemp(prefix="rbr-ray-")) / "scenarios.log"
        print(json.dumps(run(*sys.argv[2:], log=log, env=env)))
        sys.exit(0)
    which = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix="rbr-ray-") as tmp:
        os.environ["RAY_TMPDIR"] = tmp
        groups = {"cluster": lambda: scenario_cluster(sys.argv[2:]), "cli": lambda: scenario_cli(sys.argv[2]),
                  "browser": lambda: scenario_browser(sys.argv[2])}
        result = groups[which]()
    print(json.dumps(result), flush=True)
