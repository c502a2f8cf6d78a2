"""300 students finishing at once: how fast the class database takes their runs, and that it loses none.

    python -m bench.classroom_db                       # SQLite (a temporary file) and, if ROW_BY_ROW_TEST_PG is set
                                                       # (source .ci/postgres), PostgreSQL, then two processes on it
    python -m bench.classroom_db --students 300 --json

Each simulated student joins the class first (not timed), then all of them record one finished run at the same
moment (a barrier releases the threads together), through the same lib API the app's recorder uses
(ClassStore.record). "Two app processes" runs the students split between two processes with a store each, as two
app replicas behind a load balancer would, on one PostgreSQL. Reported: writes per second (students / wall time from
the barrier to the last commit), the median and 95th-percentile latency of one write, and the runs lost (students
minus the runs found in the class afterwards).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from lib.classroom import experiment
from lib.classroom.store import ClassStore
from lib.classroom.tokens import clean_code
from lib.machine import cpu_name

ROOT = Path(__file__).resolve().parent.parent


def a_row(k: int, assigned: dict) -> dict:
    """A finished class run as the recorder sends it (lib.classroom.rows.from_record's shape), 60 curve points."""
    points = [round(i / 60, 4) for i in range(1, 61)]
    return {"run_key": f"bench-{os.getpid()}-{k}", "kind": "class", "outcome": "done",
            "config": assigned["config"].to_dict(), "test_acc": 0.9 + (k % 50) / 1000, "test_n": 2000,
            "seconds": 25.0, "device": "CPU (2 threads)", "value": assigned["value"],
            "curves": {"progress": points, "loss": [2.3 - p for p in points], "acc": points, "epoch_acc": [0.9, 0.95]}}


def record_at_once(url: str, code: str, students: int) -> dict:
    """Join `students` students, then have them all record a run at once; latencies and wall time."""
    store = ClassStore(url)
    joined = [store.join(code) for _ in range(students)]
    store.close()
    return record_at_once_joined(url, code, joined)


def summary(name: str, students: int, parts: list[dict], found: int) -> dict:
    latencies = sorted(x for p in parts for x in p["latencies"])
    wall = max(p["wall"] for p in parts)
    p95 = latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))] if latencies else None
    return {"setup": name, "students": students, "writes_per_s": round(students / wall, 1),
            "median_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
            "p95_ms": round(p95 * 1000, 1) if p95 is not None else None, "wall_s": round(wall, 2),
            "failed": sum(len(p["failures"]) for p in parts), "lost": students - found,
            "errors": [f for p in parts for f in p["failures"]][:3]}


def new_class(url: str, students: int) -> str:
    exp, _ = experiment.make("lr", "0.001,0.003,0.01", "quick")
    store = ClassStore(url)
    code = store.create_class(exp, max_students=min(500, students))["code"]
    store.close()
    return code


def runs_in(url: str, code: str) -> int:
    store = ClassStore(url)
    found = len(store.view(code)["runs"])
    store.close()
    return found


def one_process(name: str, url: str, students: int) -> dict:
    code = new_class(url, students)
    part = record_at_once(url, code, students)
    return summary(name, students, [part], runs_in(url, code))


def two_processes(url: str, students: int) -> dict:
    """Two processes, each with its own store and half the students, released at the same wall-clock second."""
    code = new_class(url, students)
    at = time.time() + 8.0  # both have joined their students by then
    cmd = [sys.executable, "-m", "bench.classroom_db", "--worker", code, "--url", url, "--at", str(at),
           "--students"]
    procs = [subprocess.Popen(cmd + [str(n)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
             for n in (students // 2, students - students // 2)]
    parts = [json.loads(p.communicate(timeout=600)[0].strip().splitlines()[-1]) for p in procs]
    return summary("PostgreSQL, two app processes", students, parts, runs_in(url, code))


def worker(code: str, url: str, students: int, at: float) -> None:
    """One of the two processes: join its students, wait for the common start, record (its latencies on stdout)."""
    store = ClassStore(url)
    joined = [store.join(code) for _ in range(students)]
    store.close()
    time.sleep(max(0.0, at - time.time()))
    part = record_at_once_joined(url, code, joined)
    print(json.dumps(part), flush=True)


def record_at_once_joined(url: str, code: str, joined: list[dict]) -> dict:
    """Every joined student records one run at the same moment (a barrier), each from a thread of its own."""
    store, students = ClassStore(url), len(joined)
    latencies, failures = [None] * students, []
    barrier = threading.Barrier(students + 1)

    def finish(k: int) -> None:
        barrier.wait()
        start = time.perf_counter()
        try:
            store.record(code, joined[k]["token"], a_row(k, joined[k]["assigned"]))
            latencies[k] = time.perf_counter() - start
        except Exception as exc:  # noqa: BLE001
            failures.append(repr(exc)[:200])

    threads = [threading.Thread(target=finish, args=(k,)) for k in range(students)]
    for th in threads:
        th.start()
    barrier.wait()
    start = time.perf_counter()
    for th in threads:
        th.join()
    wall = time.perf_counter() - start
    store.close()
    return {"latencies": [x for x in latencies if x is not None], "wall": wall, "failures": failures}


def cpu_model() -> str:
    return f"{cpu_name()}, {os.cpu_count()} CPUs"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--students", type=int, default=300)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--url", help=argparse.SUPPRESS)
    ap.add_argument("--at", type=float, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        worker(clean_code(args.worker), args.url, args.students, args.at)
        return 0
    results = []
    with tempfile.TemporaryDirectory() as folder:
        results.append(one_process("SQLite (WAL), one process", f"sqlite:///{folder}/class.sqlite3", args.students))
    pg = os.environ.get("ROW_BY_ROW_TEST_PG")
    if pg:
        results.append(one_process("PostgreSQL, one process", pg, args.students))
        results.append(two_processes(pg, args.students))
    out = {"machine": cpu_model(), "results": results}
    if args.json:
        print(json.dumps(out))
        return 0
    print(f"{out['machine']}; {args.students} students recording one run each at once")
    print("| setup | writes/s | median ms | p95 ms | wall s | failed | lost |\n|---|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['setup']} | {r['writes_per_s']} | {r['median_ms']} | {r['p95_ms']} | {r['wall_s']} | "
              f"{r['failed']} | {r['lost']} |")
    return 0 if all(r["lost"] == 0 and r["failed"] == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
