"""What a class of 30 should expect from the two sweeps docs/classroom.md suggests, run as a class runs them: a class
with the experiment (the *Quick classroom run* preset, the learning rate or the hidden size varied) in a real SQLite
class database; 30 students join and are handed their value and seed by the store (lib.classroom.experiment
.assignment: student k gets value k mod the list, seed k − 1); each class run trains on the in-process executor, is
recorded as the server's recorder records it (lib.classroom.rows.from_record), and the teacher's view is read back
from the database (ClassStore.view: lib.classroom.experiment.figures), so the table is what the projector shows.

    MNIST_ROOT=... python -m bench.class_sweeps [--students 30] [--json]

One executor slot, runs one after another, as a server's queue runs them, with one torch thread: the run's CPU time
(this process's, which runs nothing else meanwhile) then measures its work whatever else the machine does, where
its wall time (what the view shows, also recorded) depends on the load and two threads' CPU time counts their
spinning. The table gives the CPU time's median (the upper one where the count is even); bench.class_runs gives
the wall time of a 2-thread run on a quiet server. A run that diverged or did not
learn is counted apart, as the page leaves it out. docs/classroom.md quotes the table; tests/test_docs.py checks it
against docs/class-sweeps.json.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from lib.classroom import experiment
from lib.classroom.rows import from_record
from lib.classroom.store import ClassStore
from lib.data.mnist import load_mnist
from lib.machine import cpu_name
from lib.runs.local import LocalExecutor

SWEEPS = {"lr": "0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10", "hidden": "8, 16, 32, 64, 128"}
STUDENTS = 30  # a class, one class run each
NAMES = {"lr": "learning rate", "hidden": "hidden size"}


def run_class(store: ClassStore, executor: LocalExecutor, data, setting: str, values: str, students: int) -> dict:
    """One class: every student joins, trains their assigned run, and the run is recorded; the teacher's view back."""
    exp, _ = experiment.make(setting, values, "quick")
    code = store.create_class(exp)["code"]
    cpu_seconds = {}
    for _ in range(students):
        student = store.join(code)
        given = experiment.assignment(exp, student["number"])
        cpu = time.process_time()
        job = executor.submit(given["config"], data, f"student-{student['number']}")
        while not job.finished:
            time.sleep(0.05)
        cpu_seconds[student["number"]] = time.process_time() - cpu  # this process's CPU time: the run alone
        store.record(code, student["token"], from_record(job.to_dict(), "class", given["value"]))
        print(setting, student["number"], given["value"], job.state, (job.result or {}).get("acc"), flush=True)
    view = store.view(code)
    figures = view["figures"]
    return {"setting": setting, "values": exp["values"], "students": students,
            "outcomes": {o: sum(r["outcome"] == o for r in view["runs"]) for o in {r["outcome"] for r in view["runs"]}},
            "per_value": figures["per_value"], "best": figures["best"], "left_out": figures["left_out"],
            "runs": [{k: r[k] for k in ("number", "value", "outcome", "test_acc", "test_n", "seconds")}
                     | {"cpu_seconds": round(cpu_seconds[r["number"]], 1)} for r in view["runs"]]}


def table(result: dict) -> str:
    """The Markdown table docs/classroom.md quotes."""
    lines = ["| sweep | value | runs counted | test accuracy: mean (95% interval of the mean) | median CPU time |",
             "|---|---|---|---|---|"]
    for s in result["sweeps"]:
        counted = {g["value"]: g for g in s["per_value"]}
        for value in s["values"]:
            runs = [r for r in s["runs"] if r["value"] == value]
            g = counted.get(value)
            out = {r["outcome"] for r in runs if r["outcome"] != "done"}
            count = f"{g['runs'] if g else 0} of {len(runs)}" + (f" ({', '.join(sorted(o.replace('_', ' ') for o in out))} left out)" if out else "")
            acc = f"{g['mean']:.1%} ({g['low']:.1%}–{g['high']:.1%})" if g else "—"
            cpu = sorted(r["cpu_seconds"] for r in runs if r["outcome"] == "done")
            when = f"{cpu[len(cpu) // 2]:.0f} s" if cpu else "—"
            lines.append(f"| {NAMES[s['setting']]} | {value:g} | {count} | {acc} | {when} |")
    return "\n".join(lines)


def verdict(sweep: dict) -> str:
    """The best value beyond the noise as the teacher's view names it (lib.classroom.experiment.best, applied to the
    recorded per-value figures, so the line follows the view's rule), or why none is named."""
    groups = dict(enumerate(sweep["per_value"]))
    best = experiment.best(groups)
    name = lambda k: f"{groups[k]['value']:g}"  # noqa: E731 - a value's index -> as written
    if best["value"] is not None:
        return f"best beyond the noise: {name(best['value'])}"
    if best.get("tied"):
        return f"highest mean {name(best['top'])}, not beyond the noise of {', '.join(map(name, best['tied']))}"
    return f"no best named: {', '.join(map(name, best.get('missing', [])))} have fewer than two runs"


def block(result: dict) -> str:
    """What docs/classroom.md quotes between its class-sweeps markers: the table, what the view concludes, and
    what it was measured on."""
    lines = [table(result), ""]
    lines += [f"- {NAMES[s['setting']]}: {verdict(s)}." for s in result["sweeps"]]
    load = ", ".join(f"{x:.1f}" for x in result["load_before"])
    lines.append(f"- Measured on {result['cpu']} with {result['threads']} torch thread per run, "
                 f"{sum(s['students'] for s in result['sweeps'])} runs in {result['seconds'] / 60:.0f} min beside "
                 f"other work (load average {load} at the start).")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=STUDENTS)
    parser.add_argument("--json", action="store_true", help="write docs/class-sweeps.json")
    args = parser.parse_args()
    data = load_mnist()
    start, load = time.perf_counter(), os.getloadavg()
    with tempfile.TemporaryDirectory() as folder:
        store = ClassStore(f"sqlite:///{Path(folder) / 'class.sqlite3'}")
        executor = LocalExecutor(max_running=1, threads=1, heartbeat_timeout=24 * 3600.0)  # no page to touch it
        sweeps = [run_class(store, executor, data, k, v, args.students) for k, v in SWEEPS.items()]
        store.close()
    result = {"cpu": cpu_name(), "threads": 1, "sweeps": sweeps, "seconds": round(time.perf_counter() - start),
              "load_before": load, "load_after": os.getloadavg()}
    print(block(result))
    if args.json:
        path = Path(__file__).resolve().parent.parent / "docs" / "class-sweeps.json"
        path.write_text(json.dumps(result, indent=1, default=str) + "\n")


if __name__ == "__main__":
    main()
