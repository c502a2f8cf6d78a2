"""The GPU check of issue 15 in one call: on a CUDA or MPS device, what a class gets, printed as ONE JSON line.

Run: MNIST_ROOT=... python -m bench.gpu [--device auto|cuda|mps]   (a few minutes at most; progress on stderr)

- lesson_epoch: one epoch of the lesson model (2×100 LSTM, SGD, batch 64) over 60,000 digits through
  `lib.training.train.train`, the clock read after the device has finished (the step event's flush waits for it); with the
  shipped sample only (10,000 training digits) they are repeated to 60,000 and "tiled" says so;
- samples_per_s: the lesson model at batch 64 and 1024, timed after warm-up steps;
- time_to_98: the `fast` preset from model creation until the full test set first reaches 98 % (needs MNIST_ROOT);
- concurrent: one job alone, then 3 identical jobs at once through `lib.runs.local.LocalExecutor` (on MPS they take turns,
  by design), with the wall time, the most that ran at once and the device copies of the data that were made;
- out_of_memory: the process's device memory capped, a job far too big for it submitted beside a small one: the big
  one must end in "error" with the job.out_of_memory message and its model on the CPU, the small one must finish.

Without CUDA or MPS (or with a GPU this PyTorch build cannot run) it says so on stderr and exits with status 2.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import traceback

LESSON_EPOCH = 60_000  # digits in one epoch of the lesson
OOM_CAP_BYTES = 2 * 1024 ** 3  # the device memory the out-of-memory check leaves the process


def log(text: str) -> None:
    print(f"bench.gpu: {text}", file=sys.stderr, flush=True)


def pick_device(name: str) -> str | None:
    import torch

    cuda, mps = torch.cuda.is_available(), torch.backends.mps.is_available()
    if name == "auto":
        return "cuda" if cuda else "mps" if mps else None
    return name if (name == "cuda" and cuda) or (name == "mps" and mps) else None


def lesson_data(data):
    """At least 60,000 training digits: the data itself, or (the shipped sample) its digits repeated."""
    from lib.data.mnist import MnistData

    n = len(data.train_y)
    if n >= LESSON_EPOCH:
        return data, False
    times = -(-LESSON_EPOCH // n)
    return MnistData(data.train_x.repeat(times, 1, 1)[:LESSON_EPOCH], data.train_y.repeat(times)[:LESSON_EPOCH],
                     data.test_x, data.test_y, data.source, data.origin), True


def lesson_epoch(kind: str, data) -> dict:
    from lib.training.config import build_model
    from lib.training.presets import preset
    from lib.training.train import train

    data, tiled = lesson_data(data)
    cfg = preset("lesson", device=kind, epochs=1, log_every=10 ** 6)  # one flush (and wait) at the epoch's end
    events = list(train(cfg, data, build_model(cfg)))
    last_step = next(e for e in reversed(events) if e["event"] == "step")
    epoch = next(e for e in events if e["event"] == "epoch")
    return {"seconds": last_step["elapsed"], "with_test_scoring_s": epoch["elapsed"], "digits": events[0]["n_train"],
            "tiled": tiled, "samples_per_s": events[0]["n_train"] / last_step["elapsed"],
            "test_acc": epoch["test_acc"], "precision": events[0]["precision"], "device": events[0]["device"]}


def samples_per_s(kind: str, data, batch_size: int, warmup: int, steps: int) -> dict:
    from lib.training.config import build_model
    from lib.training.presets import preset
    from lib.training.train import train

    cfg = preset("lesson", device=kind, batch_size=batch_size, epochs=50, max_steps=warmup + steps,
                 log_every=warmup)
    marks = {}
    run = train(cfg, data, build_model(cfg))
    for e in run:
        if e["event"] == "step":
            marks[e["step"]] = e["elapsed"]
            if e["step"] == warmup + steps:
                run.close()  # no end-of-run scoring inside the sample
                break
    timed = marks[warmup + steps] - marks[warmup]
    return {"batch": batch_size, "samples_per_s": steps * batch_size / timed, "timed_steps": steps,
            "warmup_steps": warmup, "first_window_s": marks[warmup]}


def time_to_98(kind: str, data) -> dict:
    from lib.training.config import build_model
    from lib.training.presets import preset
    from lib.training.train import train

    cfg = preset("fast", device=kind, test_subset=0)
    t0 = time.perf_counter()
    run, last = train(cfg, data, build_model(cfg)), {}
    for e in run:
        if e["event"] == "start":
            last["precision"] = e["precision"]
        if e["event"] == "epoch":
            last.update(epoch=e["epoch"], test_acc=e["test_acc"], seconds_at_epoch=time.perf_counter() - t0)
            if e["test_acc"] >= 0.98:
                run.close()
                return {"seconds": last["seconds_at_epoch"], **last, "n_test": len(data.test_y),
                        "n_train": len(data.train_y)}
    return {"seconds": None, **last, "n_test": len(data.test_y), "n_train": len(data.train_y)}


def _watch(manager, jobs) -> dict:
    """Wait for the jobs, sampling how many run at once and how many device copies of the data exist."""
    most = copies = 0
    while not all(j.finished for j in jobs):
        most = max(most, sum(j.state == "running" for j in jobs))
        copies = max(copies, len(manager._copies))
        time.sleep(0.01)
    return {"most_at_once": most, "device_copies": copies}


def _speed(job) -> float | None:
    readings = [e["samples_per_s"] for e in job.of_kind("step")]
    return statistics.median(readings) if readings else None


def concurrent(kind: str, data, n: int = 3) -> dict:
    import torch

    from lib.runs.local import LocalExecutor
    from lib.training.presets import preset

    cfg = preset("lesson", device=kind, epochs=1, max_steps=600, log_every=50, test_subset=2000)
    manager = LocalExecutor(max_running=n, max_gpu_jobs=n, threads=torch.get_num_threads())
    t0 = time.perf_counter()
    solo = manager.submit(cfg, data, owner="bench", name="solo")
    _watch(manager, [solo])
    solo_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    jobs = [manager.submit(cfg, data, owner="bench", name=f"job-{i}") for i in range(n)]
    seen = _watch(manager, jobs)
    return {"jobs": n, "steps_each": cfg.max_steps, "solo_s": solo_s, "solo_samples_per_s": _speed(solo),
            "wall_s": time.perf_counter() - t0, **seen, "cap": manager.cap(kind),
            "states": [j.state for j in jobs], "samples_per_s_each": [_speed(j) for j in jobs],
            "test_acc_each": [j.result and j.result["acc"] for j in jobs]}


def _memory(kind: str) -> dict:
    import torch

    if kind == "cuda":
        return {"allocated_mb": torch.cuda.memory_allocated() / 2 ** 20,
                "reserved_mb": torch.cuda.memory_reserved() / 2 ** 20}
    return {"allocated_mb": torch.mps.current_allocated_memory() / 2 ** 20,
            "driver_mb": torch.mps.driver_allocated_memory() / 2 ** 20}


def out_of_memory(kind: str, data) -> dict:
    import torch

    from lib.runs.local import LocalExecutor
    from lib.training.config import TrainConfig
    from lib.training.presets import preset

    if kind == "cuda":
        total = torch.cuda.get_device_properties(0).total_memory
        torch.cuda.set_per_process_memory_fraction(min(1.0, OOM_CAP_BYTES / total))
    else:
        torch.mps.set_per_process_memory_fraction(min(1.0, OOM_CAP_BYTES / torch.mps.recommended_max_memory()))
    try:
        manager = LocalExecutor(max_running=2, max_gpu_jobs=2, threads=torch.get_num_threads())
        small = manager.submit(preset("lesson", device=kind, epochs=1, max_steps=200, log_every=50, test_subset=2000),
                               data, owner="bench", name="small")
        big = manager.submit(TrainConfig(hidden=1024, layers=4, batch_size=8192, epochs=1, max_steps=20, device=kind,
                                         test_subset=2000), data, owner="bench", name="too-big")
        _watch(manager, [small, big])
        while manager.counts()["running"] + manager.counts()["queued"]:
            time.sleep(0.01)  # the jobs' own clean-up (model back, cache emptied) is done
        return {"cap_mb": OOM_CAP_BYTES / 2 ** 20, "big_state": big.state,
                "big_message_id": big.message.id if big.message else None,
                "big_message": big.message.render() if big.message else None,
                "big_model_device": str(next(big.model.parameters()).device) if big.model is not None else None,
                "small_state": small.state, "small_test_acc": small.result and small.result["acc"],
                "memory_after": _memory(kind)}
    finally:
        if kind == "cuda":
            torch.cuda.set_per_process_memory_fraction(1.0)
        else:
            torch.mps.set_per_process_memory_fraction(1.7)  # PyTorch's default high-watermark ratio


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.gpu", description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=["auto", "cuda", "mps"], default="auto")
    args = parser.parse_args(argv)
    import torch

    from lib.data.mnist import load_mnist
    from lib.experiments.scaling import scaling
    from lib.training.devices import choose_device, device_label, probe

    kind = pick_device(args.device)
    if kind is None:
        log(f"no CUDA or MPS device on this machine ({args.device} asked; torch {torch.__version__}, "
            f"cuda available: {torch.cuda.is_available()}, mps available: {torch.backends.mps.is_available()}); "
            "nothing to measure")
        return 2
    error = probe(kind)
    if error:
        log(f"the {kind} device cannot run this PyTorch build: {error}")
        return 2
    data = load_mnist()
    auto, note = choose_device("auto", "lstm", 64)
    result = {"device": device_label(torch.device(kind)), "kind": kind, "torch": torch.__version__,
              "cuda": torch.version.cuda, "data": data.describe(), "auto_for_the_lesson": auto.type,
              "auto_note": note.id if note else None}
    sections = [("lesson_epoch", lambda: lesson_epoch(kind, data)),
                ("samples_per_s_64", lambda: samples_per_s(kind, data, 64, warmup=20, steps=300)),
                ("samples_per_s_1024", lambda: samples_per_s(kind, data, 1024, warmup=5, steps=50)),
                ("time_to_98", lambda: time_to_98(kind, data)),
                ("scaling", lambda: scaling(kind)),  # sequential against parallel: lib.cli scaling's numbers
                ("concurrent", lambda: concurrent(kind, data)),
                ("out_of_memory", lambda: out_of_memory(kind, data))]
    t0 = time.perf_counter()
    for name, measure in sections:  # one failing section is reported in the line, the others still run
        log(f"{name} …")
        try:
            result[name] = measure()
        except Exception as exc:  # noqa: BLE001
            traceback.print_exc()
            result[name] = {"error": f"{type(exc).__name__}: {str(exc)[:300]}"}
    if kind == "cuda":
        result["tf32"] = {"matmul": torch.backends.cuda.matmul.allow_tf32, "cudnn": torch.backends.cudnn.allow_tf32}
    result["total_s"] = time.perf_counter() - t0
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
