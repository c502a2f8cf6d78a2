"""A lecture hall: 300 students press Train at once, through the Executor interface, on a simulated multi-node local
Ray cluster against the in-process queue.

Run: MNIST_ROOT=... python -m bench.lecture [--students 300] [--nodes 2] [--cpus-per-node 1] [--out FILE]
     (as root: the Ray part runs inside a loopback-only network namespace, bench/loopback.py)
     python -m bench.lecture --address HEAD:6379 --device auto --gpu-fraction 0.25   # a real cluster, e.g. GPUs
     python -m bench.lecture --table docs/lecture-300.json   # that record's table into docs/benchmarks.md

Each student's job is the load test's tiny one (bench/load.py): 1,000 training digits, one epoch, hidden 32, scored
on 500 test digits per epoch and on all 10,000 at the end. Reported per executor: the time until all have finished,
the wait from Train to the moment the job runs (median, p95, max), the time a job runs beyond its training (the final
scoring on 10,000 digits, events and the model back), how many were lost (did not end "done"), and the scheduling
overhead per job, measured apart with 60 near-empty jobs (the slot-seconds each takes through the executor, less
its training). Prints ONE JSON line; docs/benchmarks.md has the table.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path

from lib.machine import cpu_name

ROOT = Path(__file__).resolve().parent.parent
MB = 2**20
EMPTY_JOBS = 60  # near-empty jobs that measure each executor's own cost per job


def tiny_job(seed: int):
    """The load test's tiny job (bench/load.py's JOB)."""
    from lib.training.config import TrainConfig

    return TrainConfig(subset=1000, epochs=1, hidden=32, layers=1, test_subset=500, log_every=5, optimizer="adam",
                       lr=0.005, device="cpu", seed=seed)


def empty_job(seed: int):
    """A job that does next to nothing (one step of a 1×8 LSTM on 100 digits, scored on 100): its time through an
    executor is the executor's own cost per job."""
    from lib.training.config import TrainConfig

    return TrainConfig(subset=100, epochs=1, hidden=8, layers=1, batch_size=100, validation=0.0, test_subset=100,
                       max_steps=1, device="cpu", seed=seed)


def few_digits():
    """200 training and 100 test digits (random pixels: their values do not matter here)."""
    import torch

    from lib.data.mnist import MnistData

    gen = torch.Generator().manual_seed(0)
    digits = lambda n: torch.randint(0, 256, (n, 28, 28), generator=gen, dtype=torch.uint8)  # noqa: E731
    return MnistData(digits(200), torch.arange(200) % 10, digits(100), torch.arange(100) % 10, "random", "bench")


def overhead(executor, jobs: int, slots: int) -> dict:
    """The executor's scheduling overhead per job: `jobs` near-empty jobs at once; the slot-seconds each took (the
    time until all ended × the slots, per job) less the time it trained."""
    run = lecture(executor, few_digits(), jobs, make=empty_job)
    per_job = run["all_done_s"] * slots / jobs - run["training_median_s"]
    return {"jobs": jobs, "slots": slots, "all_done_s": run["all_done_s"], "per_job_s": per_job, "lost": run["lost"]}


def lecture(executor, data, students: int, device: str = "cpu", make=tiny_job) -> dict:
    """Submit `students` jobs at once and watch them to the end: per job, when it was submitted, started (its first
    'running' state seen) and ended, and its own training time."""
    from dataclasses import replace

    submitted, started, ended = {}, {}, {}
    t0 = time.perf_counter()
    jobs = []
    for i in range(students):
        job = executor.submit(replace(make(i), device=device), data, f"student-{i}")
        submitted[job.id] = time.perf_counter() - t0
        jobs.append(job)
    submit_s = time.perf_counter() - t0
    while len(ended) < students and time.perf_counter() - t0 < 3600:
        now = time.perf_counter() - t0
        for job in jobs:
            if job.state != "queued" and job.id not in started:
                started[job.id] = now
            if job.finished and job.id not in ended:
                ended[job.id] = now
                started.setdefault(job.id, now)
        for owner in {j.owner for j in jobs if not j.finished}:
            executor.touch(owner)
        time.sleep(0.02)
    waits = sorted(started[j.id] - submitted[j.id] for j in jobs if j.id in started)
    beyond = sorted((ended[j.id] - started[j.id]) - j.seconds for j in jobs if j.id in ended and j.seconds)
    training = [j.seconds for j in jobs if j.state == "done"]
    return {"students": students, "all_done_s": max(ended.values(), default=None), "submit_s": submit_s,
            "wait_median_s": statistics.median(waits) if waits else None, "wait_p95_s": percentile(waits, 95),
            "wait_max_s": waits[-1] if waits else None,
            "beyond_training_median_s": statistics.median(beyond) if beyond else None,
            "beyond_training_p95_s": percentile(beyond, 95), "training_median_s": statistics.median(training) if
            training else None, "done": sum(j.state == "done" for j in jobs),
            "lost": sum(j.state != "done" for j in jobs), "states": sorted({j.state for j in jobs}),
            "workers": len({j.worker for j in jobs})}


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile of sorted `values` (nearest rank)."""
    if not values:
        return None
    return values[min(len(values) - 1, max(0, round(q / 100 * len(values)) - 1))]


def in_process(students: int) -> dict:
    """The default: the server's one queue, at most Settings.max_jobs at once (1 on 2 cores, all threads each)."""
    import torch

    from lib.data.mnist import load_mnist
    from lib.runs.local import LocalExecutor
    from lib.runs.settings import Settings

    executor = LocalExecutor(max_running=Settings().max_jobs, heartbeat_timeout=3600)
    out = lecture(executor, load_mnist(), students) if students else {}
    return out | {"executor": "local", "max_jobs": executor.max_running, "threads": torch.get_num_threads(),
                  "overhead": overhead(executor, EMPTY_JOBS, executor.max_running)}


def on_ray(students: int, nodes: int, cpus_per_node: int, address: str | None, device: str,
           gpu_fraction: float) -> dict:
    """The same jobs on Ray: a simulated cluster of `nodes` local nodes, or the cluster at `address`."""
    from lib.data.mnist import load_mnist
    from lib.runs.ray_executor import RayExecutor

    cluster = None
    if address is None:
        from ray.cluster_utils import Cluster

        cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": cpus_per_node, "include_dashboard": False,
                                                               "object_store_memory": 200 * MB})
        for _ in range(nodes - 1):
            cluster.add_node(num_cpus=cpus_per_node, object_store_memory=200 * MB)
        address = cluster.address
    t0 = time.perf_counter()
    executor = RayExecutor(address, heartbeat_timeout=3600, gpu_fraction=gpu_fraction)
    connect_s = time.perf_counter() - t0
    data = load_mnist()
    out = lecture(executor, data, students, device) if students else {}
    out["overhead"] = overhead(executor, EMPTY_JOBS, executor.cap("cpu"))
    where = executor.where(data)
    executor.close()
    if cluster is not None:
        cluster.shutdown()
    return out | {"executor": "ray", "connect_s": connect_s, "capacity": executor.capacity,
                  "data_puts": where["puts"], "data_nodes": len(where["nodes"]),
                  "nodes": nodes if cluster else executor.capacity["nodes"], "cpus_per_node": cpus_per_node,
                  "gpu_fraction": gpu_fraction, "device": device}


def table(report: dict) -> str:
    """docs/benchmarks.md's table for a recorded report (--out)."""
    local, ray = report["local"], report["ray"]

    def s(value) -> str:
        return "–" if value is None else f"{value * 1000:.0f} ms" if value < 1 else f"{value:,.1f} s"

    def trio(run, key) -> str:
        return f"{s(run[f'{key}_median_s'])} / {s(run[f'{key}_p95_s'])}" + (
            f" / {s(run[f'{key}_max_s'])}" if f"{key}_max_s" in run else "")

    nodes = f"Ray, {ray['nodes']} simulated nodes × {ray['cpus_per_node']} CPU"
    rows = [("measure", "in-process queue (the default)", nodes), ("---", "---", "---"),
            ("students (jobs: 1,000 digits, 1 epoch, 1×32 LSTM)", f"{local['students']}", f"{ray['students']}"),
            ("jobs training at once", f"{local['max_jobs']} ({local['threads']} threads)",
             f"{ray['capacity']['cpus']:.0f} (1 thread each)"),
            ("all done, from the first press", s(local["all_done_s"]), s(ray["all_done_s"])),
            ("wait from Train until running: median / p95 / worst", trio(local, "wait"), trio(ray, "wait")),
            ("training per job, median", s(local["training_median_s"]), s(ray["training_median_s"])),
            ("running beyond training (final scoring on 10,000 digits, result back): median / p95",
             trio(local, "beyond_training"), trio(ray, "beyond_training")),
            (f"scheduling overhead per job ({local['overhead']['jobs']} near-empty jobs)",
             s(local["overhead"]["per_job_s"]), s(ray["overhead"]["per_job_s"])),
            ("lost (not done)", f"{local['lost']}", f"{ray['lost']}"),
            ("datasets put into the object store (MNIST, and the near-empty jobs' 300 digits) / nodes holding a "
             "copy", "–",
             f"{ray['data_puts']} / {ray['data_nodes']}")]
    return "\n".join("| " + " | ".join(row) + " |" for row in rows)


def write_table(record: Path, doc: Path = ROOT / "docs" / "benchmarks.md") -> None:
    """Put a recorded report's table between docs/benchmarks.md's lecture markers (the prose around it is a
    person's to update)."""
    head, rest = doc.read_text().split("<!-- lecture -->\n")
    tail = rest.split("\n<!-- /lecture -->")[1]
    doc.write_text(f"{head}<!-- lecture -->\n{table(json.loads(record.read_text()))}\n<!-- /lecture -->{tail}")


def cpu_model() -> str:
    return f"{cpu_name()}, {os.cpu_count()} CPUs"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--students", type=int, default=300)
    ap.add_argument("--nodes", type=int, default=2, help="simulated Ray nodes (one Ray process tree each)")
    ap.add_argument("--cpus-per-node", type=int, default=1)
    ap.add_argument("--address", help="an existing cluster instead of a simulated one")
    ap.add_argument("--device", default="cpu", choices=["cpu", "auto", "cuda"])
    ap.add_argument("--gpu-fraction", type=float, default=0.25)
    ap.add_argument("--only", choices=["local", "ray"], help="run one executor only")
    ap.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)  # already in the loopback namespace
    ap.add_argument("--out", help="also write the JSON here")
    ap.add_argument("--table", metavar="RECORD", help="only write RECORD's table into docs/benchmarks.md")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    if args.table:
        write_table(Path(args.table))
        return
    report = {"machine": cpu_model(), "students": args.students}
    if args.only != "ray":
        report["local"] = run_apart(in_process, args.students)
    if args.only != "local":
        if args.address or args.inside:
            report["ray"] = on_ray(args.students, args.nodes, args.cpus_per_node, args.address, args.device,
                                   args.gpu_fraction)
        else:
            report["ray"] = loopback_ray(args)
    line = json.dumps(report)
    print(line, flush=True)
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=1) + "\n")


def run_apart(measure, *args) -> dict:
    """`measure(*args)` in a thread, so that the process's main thread only waits (as a server's does)."""
    box = {}
    worker = threading.Thread(target=lambda: box.update(result=measure(*args)))
    worker.start()
    worker.join()
    return box["result"]


def loopback_ray(args) -> dict:
    """This benchmark's Ray part again, inside a loopback-only network namespace (bench/loopback.py)."""
    from bench.loopback import available, in_loopback

    why = available()
    if why:
        return {"error": f"cannot simulate a cluster here: {why}"}
    argv = [sys.executable, "-m", "bench.lecture", "--inside", "--only", "ray", "--students", str(args.students),
            "--nodes", str(args.nodes), "--cpus-per-node", str(args.cpus_per_node), "--device", args.device,
            "--gpu-fraction", str(args.gpu_fraction)]
    done = in_loopback(argv, timeout=7200, log=Path("/tmp/bench-lecture-ray.log"))
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    return json.loads(lines[-1])["ray"] if lines else {"error": f"exit {done.returncode}, see /tmp/bench-lecture-ray.log"}


if __name__ == "__main__":
    main()
