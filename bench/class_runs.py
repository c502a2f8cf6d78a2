"""How long a class's runs take, and how far seeds alone move them: the *Quick classroom run* preset as it is, and
capped by the classroom limits a teacher sets for a lesson (ROW_BY_ROW_MAX_EPOCHS=1, ROW_BY_ROW_MAX_SUBSET=2000).

    MNIST_ROOT=... python -m bench.class_runs [--seeds 5] [--json]

Each run trains in a fresh process (as a student's first run on a fresh server pays for its imports apart: only the
training and the scoring are timed, from lib.training.fit's own clock), the two setups alternated seed by seed, with
the torch threads a 2-core server's one queue slot gets (2). Reported per setup: the median training time and its
range, the test accuracy of each seed on the preset's test digits, their mean and standard deviation, and what 30
runs one after another on one queue slot take (30 × the median). docs/classroom.md quotes the table.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from lib.machine import cpu_name

ROOT = Path(__file__).resolve().parent.parent
SETUPS = {"quick": {}, "quick, capped (1 epoch, 2,000 digits)": {"epochs": 1, "subset": 2000}}
CLASS = 30  # students, one run each

CHILD = """
import json, sys, time
from dataclasses import replace
import torch
from lib.data.mnist import load_mnist
from lib.training.fit import fit
from lib.training.presets import preset
torch.set_num_threads(2)
changes = json.loads(sys.argv[1])
cfg = replace(preset("quick"), device="cpu", **changes)
data = load_mnist()
t = time.perf_counter()
fitted = fit(cfg, data)
wall = time.perf_counter() - t
print(json.dumps({"acc": fitted.scores["acc"], "n": fitted.scores["n"], "seconds": fitted.seconds, "wall": wall,
                  "end": fitted.end["event"], "message": bool(fitted.end.get("message"))}))
"""


def one_run(changes: dict, seed: int) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, json.dumps({**changes, "seed": seed})], cwd=ROOT,
                         capture_output=True, text=True, check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(seeds: int) -> dict:
    runs = {name: [] for name in SETUPS}
    for seed in range(seeds):  # the setups alternated, seed by seed
        for name, changes in SETUPS.items():
            runs[name].append({"seed": seed, **one_run(changes, seed)})
            print(name, runs[name][-1], file=sys.stderr)
    summary = {}
    for name, rs in runs.items():
        times, accs = [r["wall"] for r in rs], [r["acc"] for r in rs]
        summary[name] = {"median_s": statistics.median(times), "min_s": min(times), "max_s": max(times),
                         "acc": accs, "mean_acc": statistics.fmean(accs), "sd_acc": statistics.stdev(accs),
                         "n": rs[0]["n"], "class_minutes": CLASS * statistics.median(times) / 60,
                         "not_learning": sum(r["message"] for r in rs)}
    return {"cpu": cpu_name(), "load": os.getloadavg(), "seeds": seeds, "runs": runs, "summary": summary}


def table(result: dict) -> str:
    lines = ["| setup | training + scoring, median (range) | test accuracy per seed | mean ± sd | 30 runs, one at a "
             "time |", "|---|---|---|---|---|"]
    for name, s in result["summary"].items():
        accs = ", ".join(f"{a:.1%}" for a in s["acc"])
        lines.append(f"| {name} | {s['median_s']:.0f} s ({s['min_s']:.0f}–{s['max_s']:.0f}) | {accs} "
                     f"({s['n']:,} test digits) | {s['mean_acc']:.1%} ± {s['sd_acc']:.1%} | "
                     f"{s['class_minutes']:.0f} min |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = measure(args.seeds)
    print(table(result))
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
