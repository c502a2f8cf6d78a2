"""What a user gets: our pipeline against the lesson's, each run in a fresh process; then time to 98 % from scratch.

Run: MNIST_ROOT=... python -m bench.throughput [--rounds 3] [--quick] [--json] [--recipe fast]
     [--quiet-wait 600 --max-others 0.15]   (on a shared machine: start samples only when it is idle, rerun disturbed)

Every sample is its own `python -m bench.throughput --child NAME` process, as a CLI run or a fresh server's first job
is: nothing runs before it in that process, so no warm-up of the allocator or of torch carries over. The contenders
alternate within each round (their order rotates from round to round) and the report gives each one's median and the
ratios of the medians. Contenders (same model, `lib.models.nets.RowClassifier`, and batch size):

- lesson: the write-up's input pipeline, torchvision's MNIST with per-sample ToTensor + Normalize in a DataLoader,
  SGD, float32 (it imports `lib` for the model, so it runs with the allocator tuning too, like ours);
- ours_fp32 / ours_auto: `lib.training.train.train` in float32, and with precision "auto" (bfloat16 autocast on a CPU that
  computes it natively; where "auto" means float32 the float32 samples stand for it and it is not run twice);
- *_untuned: the same in a process started with ROW_BY_ROW_NO_MALLOC_TUNING=1, i.e. glibc's default malloc
  thresholds (lib/alloc.py), for the before/after.

Each sample reports samples/s over `--steps` steps after 5 warm-up steps of its own, one pass over the 10,000 test
digits at the same batch size, the minor page faults per timed step, the process's wall time, and how much CPU other
processes on the machine took meanwhile (`others_cores`: a noisy neighbour shows there, not only in a slow figure).
Then time to 98 %: in fresh processes, wall seconds from model creation until the full test set (10,000 digits,
scored after every epoch) first reaches 98 %, for a recipe (a preset name or a JSON object of TrainConfig fields),
beside the whole process's wall time (interpreter start, imports and data loading included).
Variables that tune malloc themselves (MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_, GLIBC_TUNABLES with malloc
settings, ROW_BY_ROW_NO_MALLOC_TUNING) are removed from the children's environment except where a contender sets one.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

from lib.machine import cpu_name

ROOT = Path(__file__).resolve().parent.parent
WARMUP = 5  # steps each training sample runs before its clock starts
UNTUNED = {"ROW_BY_ROW_NO_MALLOC_TUNING": "1"}
CONTENDERS = {  # name -> (what runs in the child, precision, extra environment)
    "lesson": ("lesson", "fp32", {}),
    "ours_fp32": ("ours", "fp32", {}),
    "ours_auto": ("ours", "auto", {}),
    "ours_fp32_untuned": ("ours", "fp32", UNTUNED),
    "ours_auto_untuned": ("ours", "auto", UNTUNED),
    "lesson_untuned": ("lesson", "fp32", UNTUNED),
}
MALLOC_VARIABLES = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "ROW_BY_ROW_NO_MALLOC_TUNING")


# ---------------------------------------------------------------- in the child process: one sample, one JSON line

def _faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def _sync(device) -> None:
    """Wait for the device's queued work before reading a clock (CUDA and MPS queue it; lib.training.devices knows how)."""
    from lib.training.devices import synchronize

    synchronize(device)


def lesson_loaders(root: str, batch_size: int):
    """The original lesson's input pipeline: per-sample ToTensor + Normalize in a DataLoader."""
    import torch
    from torchvision import datasets, transforms

    from lib.data.mnist import MEAN, STD

    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((MEAN,), (STD,))])
    train_set = datasets.MNIST(root, train=True, download=False, transform=tf)
    test_set = datasets.MNIST(root, train=False, download=False, transform=tf)
    return (torch.utils.data.DataLoader(train_set, batch_size=batch_size, shuffle=True),
            torch.utils.data.DataLoader(test_set, batch_size=batch_size, shuffle=False))


def child_lesson(steps: int, batch_size: int, device_name: str) -> dict:
    """The lesson's loop: (B, 1, 28, 28) -> view (B, 28, 28) -> LSTM -> SGD step; then its test pass."""
    import torch
    import torch.nn.functional as F

    from lib.training.config import build_model
    from lib.training.devices import resolve_device
    from lib.training.presets import preset

    device = resolve_device(device_name)
    train_loader, test_loader = lesson_loaders(os.environ["MNIST_ROOT"], batch_size)
    cfg = preset("lesson", batch_size=batch_size)
    model = build_model(cfg).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=cfg.lr)
    model.train()
    seen, t0, f0 = 0, None, None
    for i, (x, y) in enumerate(train_loader):
        if i == WARMUP:
            _sync(device)
            seen, t0, f0 = 0, time.perf_counter(), _faults()
        x, y = x.view(-1, 28, 28).to(device), y.to(device)
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        seen += len(y)
        if i == steps + WARMUP - 1:
            break
    _sync(device)
    train_s, faults = time.perf_counter() - t0, _faults() - f0
    model.eval()
    n, t1 = 0, time.perf_counter()
    with torch.no_grad():
        for x, y in test_loader:
            model(x.view(-1, 28, 28).to(device)).argmax(1).cpu()
            n += len(y)
    _sync(device)
    return {"train_sps": seen / train_s, "eval_sps": n / (time.perf_counter() - t1), "precision": "fp32",
            "faults_per_step": faults / steps, "device_type": device.type}


def child_ours(steps: int, batch_size: int, device_name: str, precision: str) -> dict:
    """lib.training.train.train for WARMUP + steps steps (its own clock, read from the step events); then lib's evaluate."""
    from lib.data.mnist import load_mnist
    from lib.experiments.evaluate import evaluate
    from lib.training.config import build_model
    from lib.training.devices import resolve_device, use_bf16
    from lib.training.presets import preset
    from lib.training.train import train

    device = resolve_device(device_name)
    data = load_mnist()
    cfg = preset("lesson", batch_size=batch_size, precision=precision, device=device_name, epochs=50,
                 max_steps=steps + WARMUP, log_every=WARMUP)
    model = build_model(cfg)
    marks = {}
    for e in train(cfg, data, model):  # one flush (and device sync) every WARMUP steps
        if e["event"] == "step":
            marks[e["step"]] = (e["elapsed"], _faults())
            if e["step"] == steps + WARMUP:
                break  # closes the generator: no end-of-run scoring inside the timed sample
    (t0, f0), (t1, f1) = marks[WARMUP], marks[steps + WARMUP]
    on_device = data.to(device)
    _sync(device)
    t2 = time.perf_counter()
    n = evaluate(model, on_device, cfg.order, batch_size=batch_size)["n"]
    _sync(device)
    return {"train_sps": steps * batch_size / (t1 - t0), "eval_sps": n / (time.perf_counter() - t2),
            "precision": "bf16" if use_bf16(precision, device) else "fp32", "faults_per_step": (f1 - f0) / steps,
            "device_type": device.type}


def recipe_config(recipe: str, device_name: str):
    """A preset's name, or a JSON object of TrainConfig fields (over the defaults), as a validated config."""
    from lib.training.config import TrainConfig
    from lib.training.presets import PRESETS, preset

    cfg = preset(recipe) if recipe in PRESETS else TrainConfig.from_dict(json.loads(recipe))
    return replace(cfg, device=device_name, test_subset=0).validate()  # scored on all 10,000 test digits


def child_time_to_98(recipe: str, device_name: str) -> dict:
    """Seconds from model creation until the test accuracy (all 10,000 digits, after each epoch) first reaches 98 %."""
    from lib.data.mnist import load_mnist
    from lib.training.config import build_model
    from lib.training.train import train

    data = load_mnist()
    cfg = recipe_config(recipe, device_name)
    t0 = time.perf_counter()
    run, last = train(cfg, data, build_model(cfg)), {}
    for e in run:
        if e["event"] == "epoch":
            last = {"epoch": e["epoch"], "test_acc": e["test_acc"], "seconds_at_epoch": time.perf_counter() - t0}
            if e["test_acc"] >= 0.98:
                run.close()
                return {"seconds": last["seconds_at_epoch"], "epoch": e["epoch"], "test_acc": e["test_acc"],
                        "n_test": len(data.test_y), "config": cfg.to_dict()}
    return {"seconds": None, **last, "n_test": len(data.test_y), "config": cfg.to_dict()}


def child(args) -> int:
    import lib.alloc

    if args.child == "t98":
        out = child_time_to_98(args.recipe, args.device)
    else:
        kind, precision, _ = CONTENDERS[args.child]
        out = (child_lesson(args.steps, args.batch_size, args.device) if kind == "lesson"
               else child_ours(args.steps, args.batch_size, args.device, precision))
    print(json.dumps({**out, "malloc_tuned": lib.alloc.tuned(),
                      "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}), flush=True)
    return 0


# ---------------------------------------------------------------- in the parent: fresh processes, rounds, medians

def _busy_seconds() -> float:
    """CPU seconds all processes on this kernel spent busy so far (Linux /proc/stat), or 0 where there is none."""
    try:
        ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0.0
    return (sum(ticks[:8]) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")  # less idle and iowait


def child_env(extra: dict) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in MALLOC_VARIABLES}
    if "glibc.malloc" in env.get("GLIBC_TUNABLES", ""):
        del env["GLIBC_TUNABLES"]
    return {**env, **extra}


def run_child(name: str, args, extra_env: dict, timeout: float = 900) -> dict:
    """One fresh `python -m bench.throughput --child NAME` process; its JSON line plus wall time and others' CPU."""
    cmd = [sys.executable, "-m", "bench.throughput", "--child", name, "--steps", str(args.steps),
           "--batch-size", str(args.batch_size), "--device", args.device, "--recipe", args.recipe]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy0, t0 = _busy_seconds(), time.perf_counter()
    try:
        done = subprocess.run(cmd, cwd=ROOT, env=child_env(extra_env), capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:  # recorded as a failed sample (left out of the medians), the run goes on
        return {"error": f"timed out after {timeout:.0f} s", "process_wall_s": time.perf_counter() - t0}
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    if done.returncode != 0:
        raise RuntimeError(f"child {name} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    out = json.loads(done.stdout.strip().splitlines()[-1])
    others = (_busy_seconds() - busy0 - own) / wall if busy0 else None
    return {**out, "process_wall_s": wall, "cpu_s": own, "others_cores": others}


def _own_cpu() -> float:
    return sum(os.times()[:4])  # this process and its finished children


def wait_quiet(limit: float, below: float = 0.1, window: float = 3.0) -> float:
    """Wait up to `limit` s until other processes use under `below` cores over `window` s; the seconds waited."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < limit:
        busy0, own0 = _busy_seconds(), _own_cpu()
        time.sleep(window)
        if not busy0 or (_busy_seconds() - busy0 - (_own_cpu() - own0)) / window < below:
            break
    return time.perf_counter() - t0


def sample(name: str, args, extra_env: dict) -> dict:
    """run_child, after waiting for an idle machine (--quiet-wait), again while others took over --max-others cores.

    The attempts set aside stay in the result ("disturbed_attempts"); a last attempt that was disturbed too is kept
    and marked, so nothing is silently dropped.
    """
    attempts = []
    for _ in range(1 + max(args.retries, 0)):
        waited = wait_quiet(args.quiet_wait) if args.quiet_wait else 0.0
        s = {**run_child(name, args, extra_env, timeout=args.timeout), "waited_s": waited}
        s["disturbed"] = ("error" not in s and args.max_others is not None
                          and (s["others_cores"] or 0) > args.max_others)
        attempts.append(s)
        if "error" not in s and not s["disturbed"]:
            break
    return {**attempts[-1], "disturbed_attempts": attempts[:-1]}


def median(samples: list[dict], key: str):
    values = [s[key] for s in samples if s.get(key) is not None and "error" not in s]
    return statistics.median(values) if values else None


def contender_device(name: str, batch_size: int) -> str:
    """The one device type every contender runs on: `name` resolved for the lesson's LSTM at `batch_size`, as a run
    of ours would resolve it. Each child is then told that type, not "auto": on a Mac "auto" put the lesson's loop
    (which knew nothing of the run) on MPS and ours (an LSTM at batch 64) on the CPU, and compared the two."""
    from lib.training.devices import resolve_device

    return resolve_device(name, "lstm", batch_size).type


def run(args) -> dict:
    import torch

    from lib.alloc import status
    from lib.training.devices import device_label, use_bf16

    args.device = contender_device(args.device, args.batch_size)
    device = torch.device(args.device)
    bf16 = use_bf16("auto", device)
    names = [] if args.skip_throughput else [n for n in (args.only or CONTENDERS) if bf16 or CONTENDERS[n][1] != "auto"]
    samples: dict[str, list[dict]] = {n: [] for n in names}
    for r in range(args.rounds if names else 0):
        for name in names[r % len(names):] + names[:r % len(names)]:  # alternate, rotating who goes first
            s = sample(name, args, CONTENDERS[name][2])
            samples[name].append({**s, "round": r + 1})
            print(f"round {r + 1} {name}: " + (s["error"] if "error" in s else
                  f"{s['train_sps']:,.0f} samples/s, {s['faults_per_step']:,.0f} faults/step, process "
                  f"{s['process_wall_s']:.1f} s, others {s['others_cores'] or 0:.2f} cores"),
                  file=sys.stderr, flush=True)
    if not bf16:  # "auto" is float32 here: the float32 samples are the auto ones
        for name in [n for n in list(samples) if n.startswith("ours_fp32")]:
            samples[name.replace("fp32", "auto")] = samples[name]
    t98 = {}
    if not args.skip_time_to_98:
        for variant in ("tuned", "untuned")[:1 if args.quick else 2]:
            t98[variant] = []
            for r in range(args.t98_rounds):
                s = sample("t98", args, UNTUNED if variant == "untuned" else {})
                t98[variant].append(s)
                print(f"time to 98 % ({variant}) {r + 1}: " + (s["error"] if "error" in s else
                      f"{_seconds(s['seconds'])} from model creation, epoch {s.get('epoch')}, test acc "
                      f"{s.get('test_acc', 0):.4f}, process {s['process_wall_s']:.1f} s, others "
                      f"{s['others_cores'] or 0:.2f} cores"), file=sys.stderr, flush=True)
    summary = {name: {k: median(v, k) for k in ("train_sps", "eval_sps", "faults_per_step", "process_wall_s",
                                                "others_cores", "maxrss_mb")}
               | {k: next((x[k] for x in v if k in x), None) for k in ("precision", "malloc_tuned")}
               | {"ok": sum("error" not in x for x in v)}
               for name, v in samples.items()}
    summary = {name: x for name, x in summary.items() if x["ok"]}
    ran_on = {x["device_type"] for v in samples.values() for x in v if "device_type" in x}
    if ran_on - {args.device}:  # a contender that ran elsewhere would make every ratio meaningless
        raise RuntimeError(f"contenders ran on {sorted(ran_on)}, not all on {args.device}")
    ratios = {}
    for base in ("lesson", "lesson_untuned"):
        for name in list(summary):
            if base in summary and name.startswith("ours") and name.endswith("untuned") == base.endswith("untuned"):
                ratios[f"{name}/{base}"] = {k: summary[name][k] / summary[base][k] for k in ("train_sps", "eval_sps")}
    for name in [n for n in list(summary) if n.endswith("_untuned") and n[:-8] in summary]:
        ratios[f"{name[:-8]}/{name}"] = {k: summary[name[:-8]][k] / summary[name][k] for k in ("train_sps",)}
    t98_summary = {v: {"seconds": median(s, "seconds"), "process_wall_s": median(s, "process_wall_s"),
                       "epoch": median(s, "epoch"), "test_acc": median(s, "test_acc"),
                       "others_cores": median(s, "others_cores"),
                       "reached": sum(x.get("seconds") is not None for x in s), "runs": len(s)}
                   for v, s in t98.items()}
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {"date": time.strftime("%Y-%m-%d"), "machine": f"{platform.node()} {platform.processor() or ''}".strip(),
            "cpu": cpu_name(), "device": device_label(device), "torch": torch.__version__,
            "malloc": status(), "batch_size": args.batch_size, "steps": args.steps, "rounds": args.rounds,
            "auto_precision": "bf16" if bf16 else "fp32", "summary": summary, "ratios": ratios,
            "time_to_98": t98_summary, "recipe": args.recipe, "loadavg_at_end": load,
            "quiet_wait": args.quiet_wait, "max_others": args.max_others,
            "samples": samples, "time_to_98_samples": t98}


def table(r: dict) -> str:
    """The result as a markdown table (when throughput ran) and a few lines."""
    s, rt, auto = r["summary"], r["ratios"], r["auto_precision"]
    names = {"lesson": "lesson (torchvision DataLoader, per-sample transforms), float32",
             "ours_fp32": "Row by Row, float32", "ours_auto": f"Row by Row, precision auto ({auto})",
             "lesson_untuned": "lesson, glibc's default malloc",
             "ours_fp32_untuned": "Row by Row, float32, glibc's default malloc",
             "ours_auto_untuned": f"Row by Row, precision auto ({auto}), glibc's default malloc"}
    ratios = {"ours_fp32/lesson": "float32 / lesson", "ours_auto/lesson": f"precision auto ({auto}) / lesson",
              "ours_fp32_untuned/lesson_untuned": "float32 / lesson, both with glibc's default malloc",
              "ours_auto_untuned/lesson_untuned": f"precision auto ({auto}) / lesson, both with glibc's default malloc",
              "ours_fp32/ours_fp32_untuned": "float32, tuned / glibc's default malloc",
              "ours_auto/ours_auto_untuned": f"precision auto ({auto}), tuned / glibc's default malloc"}
    shown = [n for n in names if n in s and (auto == "bf16" or "auto" not in n)]  # auto = float32: same samples
    lines = []
    if shown:
        lines += ["| fresh process, median of the rounds | train samples/s | eval samples/s | page faults / step | "
                  "process wall |", "|---|---:|---:|---:|---:|"]
        lines += [f"| {names[n]} | {s[n]['train_sps']:,.0f} | {s[n]['eval_sps']:,.0f} | "
                  f"{s[n]['faults_per_step']:,.0f} | {s[n]['process_wall_s']:.1f} s |" for n in shown]
        for key, label in ratios.items():
            if key in rt and (auto == "bf16" or "auto" not in key):
                ev = f"**{rt[key]['eval_sps']:.2f}×**" if "eval_sps" in rt[key] else ""
                lines.append(f"| **ratio, {label}** | **{rt[key]['train_sps']:.2f}×** | {ev} | | |")
        lines.append(f"\n{r['cpu']}, {r['device']}, torch {r['torch']}, LSTM 2×100, batch {r['batch_size']}, "
                     f"{r['steps']} timed steps per sample, {r['rounds']} rounds; precision auto is {auto} here"
                     + ("." if auto == "bf16" else " (no native bfloat16), so its samples are the float32 ones."))
    every = [x for v in (*r["samples"].values(), *r["time_to_98_samples"].values()) for x in v]
    others = [x["others_cores"] for x in every if x.get("others_cores") is not None]
    if others:
        set_aside = sum(len(x.get("disturbed_attempts", [])) for x in every)
        lines.append(f"Other processes took {min(others):.2f}–{max(others):.2f} cores (median "
                     f"{statistics.median(others):.2f}) while the samples ran"
                     + (f"; {set_aside} attempts during which they took more than {r['max_others']} cores were "
                        "run again (kept in the JSON)" if set_aside else "")
                     + (f"; {sum(bool(x.get('disturbed')) for x in every)} samples stayed disturbed"
                        if any(x.get("disturbed") for x in every) else "") + ".")
    for variant, t in r["time_to_98"].items():
        lines.append(f"Time to 98 % ({variant}, recipe {r['recipe']}): {_seconds(t['seconds'])} from model creation "
                     f"(epoch {t['epoch']}, test acc {t['test_acc'] or 0:.4f} on 10,000 digits; reached in "
                     f"{t['reached']} of {t['runs']} runs); whole process {_seconds(t['process_wall_s'])}.")
    return "\n".join(lines)


def _seconds(v) -> str:
    return "not reached" if v is None else f"{v:.1f} s"


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m bench.throughput", description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=3, help="fresh processes per contender (default 3)")
    ap.add_argument("--quick", action="store_true", help="1 round of 40 steps, tuned time to 98 %% once (a smoke run)")
    ap.add_argument("--json", action="store_true", help="print the whole result as JSON instead of the table")
    ap.add_argument("--out", help="also write the JSON result to this file")
    ap.add_argument("--steps", type=int, default=300, help="timed training steps per sample (default 300)")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--only", nargs="+", choices=list(CONTENDERS), help="run only these contenders")
    ap.add_argument("--recipe", default="fast", help="time-to-98 recipe: a preset or a JSON object of TrainConfig "
                                                     "fields (default: the fast preset)")
    ap.add_argument("--t98-rounds", type=int, default=3, help="fresh processes per time-to-98 variant (default 3)")
    ap.add_argument("--skip-time-to-98", action="store_true")
    ap.add_argument("--skip-throughput", action="store_true", help="time to 98 %% only")
    ap.add_argument("--timeout", type=float, default=600, help="seconds before a sample counts as failed")
    ap.add_argument("--quiet-wait", type=float, default=0, help="before each sample, wait up to this many seconds "
                                                                 "for other processes to use under 0.1 cores")
    ap.add_argument("--max-others", type=float, help="rerun a sample during which other processes took more cores "
                                                     "than this (the attempts set aside are kept in the JSON)")
    ap.add_argument("--retries", type=int, default=3, help="reruns per sample for --max-others (default 3)")
    ap.add_argument("--child", help=argparse.SUPPRESS)  # internal: run one sample in this process
    return ap


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    if args.child:
        return child(args)
    root = os.environ.get("MNIST_ROOT")
    if not root or not (Path(root) / "MNIST" / "raw").is_dir():
        print("bench.throughput needs the full MNIST in torchvision's layout: set MNIST_ROOT", file=sys.stderr)
        return 2
    if args.quick:
        args.rounds, args.steps, args.t98_rounds = 1, 40, 1
    result = run(args)
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result) if args.json else table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
