"""The sections of bench/device_check.py, each a function (kind, data, plan) -> dict of plain data. A section may put
"checks" {name: True | False | None} in its result (None: measured but not checked, e.g. in a quick run) and raises
Skip(reason) when it does not apply here. Imports only what training needs: torch and lib (data, models, training,
runs, the scaling measurement); Ray only inside its own section."""

from __future__ import annotations

import os
import statistics
import sys
import time
from dataclasses import dataclass, replace

LESSON_FIRST_EPOCH = 0.8156  # pretrained/lesson-forward.json: test accuracy after its first epoch (read from the card)
RESCORED = ("lesson-forward", "cnn-forward", "transformer-forward")  # three families, three kinds of GPU kernels
TARGETS_S = {64: 1.5, 256: 0.5}  # a lesson epoch on an H100-class card, from the launch-bound floor (issue 23)
OOM_CAP_BYTES = 2**30  # the device memory the out-of-memory section leaves this process


class Skip(Exception):
    """A section that does not apply here; its text says why."""


@dataclass(frozen=True)
class Plan:
    """How much each section does: the full check on a lent GPU, or a quick smoke run of the same code."""

    quick: bool
    steps: int  # training steps of a quick run's sections (a full run trains whole epochs)
    rescore_digits: int  # test digits each shipped model is re-scored on (0 = all)
    heights: tuple  # the scaling measurement's image sizes
    repeats: int  # timed steps per scaling measurement
    shared_steps: int  # steps of each job in the sharing section
    shared_test: int  # test digits each of those jobs scores at its end


FULL = Plan(False, 0, 0, (28, 56, 112, 224), 5, 300, 2000)
QUICK = Plan(True, 6, 200, (28,), 1, 4, 50)


def log(text: str) -> None:
    print(f"device_check: {text}", file=sys.stderr, flush=True)


def _train(cfg, data, on_event=lambda e: None):
    """lib.training.fit on `data`: (its events, its final scores)."""
    from lib.training.fit import fit

    fitted = fit(cfg, data, on_event=on_event)
    return fitted.events, fitted.scores


def _needs_full(data) -> None:
    if len(data.train_y) < 60000:
        raise Skip(f"needs the full 60,000 training digits; {len(data.train_y):,} are loaded")


def _scored_on(data, plan: Plan):
    """The data a section's runs score at their end: every test digit, or in a quick run a few hundred."""
    n = plan.rescore_digits
    return replace(data, test_x=data.test_x[:n], test_y=data.test_y[:n]) if plan.quick else data


# ---------------------------------------------------------------- correctness

def correctness(kind: str, data, plan: Plan) -> dict:
    """Fast & accurate after one epoch (≥ 97 %), the lesson's first epoch against its card's (within a point), and
    three shipped models re-scored on the device against their cards (within 0.1 point) and the CPU's answers."""
    _needs_full(data)
    from lib.training.presets import preset

    steps, scored = {"max_steps": plan.steps} if plan.quick else {}, _scored_on(data, plan)
    _, fast = _train(preset("fast", device=kind, epochs=1, **steps), scored)
    lesson_events, _ = _train(preset("lesson", device=kind, epochs=1, **steps), scored)
    first = next(e for e in lesson_events if e["event"] == "epoch")
    checked = not plan.quick  # a quick run trains a few steps: too short to compare with an epoch
    out = {"fast_one_epoch": {"test_acc": fast["acc"], "n": fast["n"], "at_least": 0.97},
           "lesson_first_epoch": {"test_acc": first["test_acc"], "n": first["test_n"], "card": LESSON_FIRST_EPOCH},
           "rescored": [rescore(name, kind, data, plan.rescore_digits) for name in RESCORED]}
    out["checks"] = {"fast_one_epoch_97": fast["acc"] >= 0.97 if checked else None,
                     "lesson_first_epoch_within_a_point": (abs(first["test_acc"] - LESSON_FIRST_EPOCH) <= 0.01
                                                           if checked else None),
                     "rescored_within_0.1_point": (all(r["within_0.1_point"] for r in out["rescored"])
                                                   if not plan.rescore_digits else None),
                     "rescored_agree_with_the_cpu": all(r["agree_with_cpu"] >= 0.998 for r in out["rescored"])}
    return out


def rescore(name: str, kind: str, data, digits: int) -> dict:
    """A shipped model scored on the device (all test digits, or the first `digits`), against its card's accuracy
    and, digit by digit, against the CPU's answers on the same digits."""
    import torch

    from lib.experiments.evaluate import evaluate
    from lib.storage.checkpoints import load_checkpoint
    from lib.storage.pretrained import FOLDER

    model, card = load_checkpoint(FOLDER / f"{name}.safetensors")
    order = card["config"]["order"]
    part = data if not digits else replace(data, test_x=data.test_x[:digits], test_y=data.test_y[:digits])
    on_device = evaluate(model.to(kind), part.to(kind), order)
    on_cpu = evaluate(model.to("cpu"), part, order) if kind != "cpu" else on_device  # the CPU's own: the same
    agree = (torch.tensor(on_device["predictions"]) == torch.tensor(on_cpu["predictions"])).float().mean().item()
    return {"model": name, "acc": on_device["acc"], "n": on_device["n"], "card_acc": card["metrics"]["acc"],
            "within_0.1_point": abs(on_device["acc"] - card["metrics"]["acc"]) <= 0.001 + 1e-9 if not digits else None,
            "agree_with_cpu": agree}


# ---------------------------------------------------------------- speed

def speed(kind: str, data, plan: Plan) -> dict:
    """A lesson epoch (60,000 digits) at batch 64 and 256, its training steps timed and never an epoch's end; the
    Fast & accurate preset's time to 98 % on every test digit."""
    _needs_full(data)
    out = {f"lesson_epoch_{batch}": lesson_epoch(kind, data, batch, plan) for batch in (64, 256)}
    out["time_to_98"] = time_to_98(kind, data) if not plan.quick else {"skipped": "quick run: several epochs"}
    on_h100 = kind == "cuda" and not plan.quick
    out["checks"] = {f"lesson_epoch_{b}_within_{t}_s": (out[f"lesson_epoch_{b}"]["seconds"] <= t if on_h100 else None)
                     for b, t in TARGETS_S.items()}
    out["targets_apply_to"] = "an H100-class card, full run" if on_h100 else "nothing here (quick run or no CUDA)"
    return out


def lesson_epoch(kind: str, data, batch: int, plan: Plan) -> dict:
    """The lesson model at `batch`, one epoch (a quick run: its first steps), timed by train()'s own clock at the
    epoch's last step: the end-of-epoch scoring comes after it and is not in the window."""
    from lib.training.presets import preset

    per_epoch = -(-len(data.train_y) // batch)
    steps = min(plan.steps, per_epoch) if plan.quick else per_epoch
    cfg = preset("lesson", device=kind, batch_size=batch, epochs=1, max_steps=steps, log_every=steps,
                 test_subset=1000)
    events, _ = _train(cfg, _scored_on(data, plan))
    step = next(e for e in events if e["event"] == "step")  # one step event: the last step, after waiting
    assert step["step"] == steps <= per_epoch and step["epoch"] == 1  # the window stays inside one epoch
    digits = steps * batch if steps < per_epoch else len(data.train_y)
    return {"batch": batch, "steps": steps, "digits": digits, "whole_epoch": steps == per_epoch,
            "seconds": step["elapsed"], "samples_per_s": step["samples_per_s"],  # the speed leaves out step 1
            "seconds_after_first_step": (digits - batch) / step["samples_per_s"],  # cuDNN's setup is in step 1
            "target_s": TARGETS_S.get(batch),
            "precision": events[0]["precision"], "device": events[0]["device"]}


def time_to_98(kind: str, data) -> dict:
    """Seconds from model creation until all 10,000 test digits first reach 98 % (the Fast & accurate preset)."""
    from lib.training.config import build_model
    from lib.training.presets import preset
    from lib.training.train import train

    cfg = preset("fast", device=kind, test_subset=0)
    t0 = time.perf_counter()
    run, last = train(cfg, data, build_model(cfg)), {}
    for e in run:
        if e["event"] == "epoch":
            last = {"epoch": e["epoch"], "test_acc": e["test_acc"], "seconds": time.perf_counter() - t0}
            if e["test_acc"] >= 0.98:
                run.close()
                return {**last, "reached": True, "n_test": len(data.test_y)}
    return {**last, "reached": False, "n_test": len(data.test_y)}


# ---------------------------------------------------------------- the scaling measurement

def scaling(kind: str, data, plan: Plan) -> dict:
    """lib.experiments.scaling on the device, as the Conclusion page measures it (LSTM, GRU, CNN, Transformer)."""
    from lib.experiments.scaling import scaling as measure

    return measure(kind, heights=plan.heights, repeats=plan.repeats)


# ---------------------------------------------------------------- sharing one device

def sharing(kind: str, data, plan: Plan) -> dict:
    """The lesson model alone, then four at once through the in-process executor: wall time, speed of each, the most
    that ran together and the device copies of the data (one expected)."""
    import torch

    from lib.runs.local import LocalExecutor
    from lib.training.presets import preset

    part = replace(data, test_x=data.test_x[:plan.shared_test], test_y=data.test_y[:plan.shared_test])
    cfg = preset("lesson", device=kind, epochs=1, max_steps=plan.shared_steps,
                 log_every=max(1, plan.shared_steps // 4), test_subset=0)
    manager = LocalExecutor(max_running=4, max_gpu_jobs=4, heartbeat_timeout=3600.0,
                            threads=torch.get_num_threads())
    t0 = time.perf_counter()
    solo = [manager.submit(cfg, part, owner="check", name="alone")]
    watched_solo, solo_s = _watch(manager, solo), time.perf_counter() - t0
    t0 = time.perf_counter()
    jobs = [manager.submit(cfg, part, owner="check", name=f"shared-{i}") for i in range(4)]
    watched = _watch(manager, jobs)
    wall = time.perf_counter() - t0
    states = [j.state for j in solo + jobs]
    return {"steps_each": plan.shared_steps, "alone_s": solo_s, "alone_samples_per_s": _speed(solo[0]),
            "four_s": wall, "samples_per_s_each": [_speed(j) for j in jobs], **watched,
            "alone_most_at_once": watched_solo["most_at_once"], "cap": manager.cap(kind),
            "throughput_gain": 4 * solo_s / wall, "states": states,
            "checks": {"all_done": all(s == "done" for s in states),
                       "one_device_copy": watched["device_copies"] <= 1}}


def _watch(manager, jobs) -> dict:
    """Wait for the jobs, sampling how many run at once and how many device copies of the data exist."""
    most = copies = 0
    while not all(j.finished for j in jobs):
        most = max(most, sum(j.state == "running" for j in jobs))
        copies = max(copies, len(manager._copies._copies))
        time.sleep(0.01)
    while any(manager.counts(d)["running"] + manager.counts(d)["queued"] for d in ("cpu", "cuda", "mps")):
        time.sleep(0.01)  # the jobs' own clean-up (model back on the CPU, cache emptied) is done
    return {"most_at_once": most, "device_copies": copies}


def _speed(job) -> float | None:
    readings = [e["samples_per_s"] for e in job.of_kind("step")]
    return statistics.median(readings) if readings else None


# ---------------------------------------------------------------- out of memory, and the estimate that prevents it

def out_of_memory(kind: str, data, plan: Plan) -> dict:
    """A run estimated bigger than the card is refused before it starts; then, the process's memory capped at 1 GiB
    behind the estimate's back (as another process taking the card would), a run far too big for it fails alone,
    its model back on the CPU, while a small one beside it trains to its end."""
    if kind == "cpu":
        raise Skip("one process's CPU memory cannot be capped here; tests/test_devices.py fakes the CPU's own error")
    import torch

    from lib.messages import Problem
    from lib.runs.local import LocalExecutor
    from lib.training.config import TrainConfig
    from lib.training.memory import MPS_RATIO_VARIABLE, estimate_bytes, limit_mps_memory
    from lib.training.presets import preset

    manager = LocalExecutor(max_running=2, max_gpu_jobs=2, heartbeat_timeout=3600.0, threads=torch.get_num_threads())
    try:
        manager.submit(TrainConfig(hidden=1024, layers=8, batch_size=8192, steps_per_row=4, bidirectional=True,
                                   device=kind), data, owner="check")
        refused = None
    except Problem as problem:
        refused = problem.messages[0].id
    total = torch.cuda.get_device_properties(0).total_memory if kind == "cuda" else torch.mps.recommended_max_memory()
    # far more than the cap in truth, yet estimated to fit this card, so the executor lets it start
    big_cfg = next((c for c in (TrainConfig(hidden=512, layers=2, batch_size=b, epochs=1, max_steps=5, device=kind,
                                            validation=0.0, test_subset=0) for b in (4096, 2048, 1024))
                    if estimate_bytes(c) <= 0.8 * total), None)
    if big_cfg is None:
        raise Skip(f"the card's {total / 2**30:.1f} GiB hold no run both estimated to fit and far beyond the cap")
    cap = min(1.0, OOM_CAP_BYTES / total)
    backend = torch.cuda if kind == "cuda" else torch.mps
    before = 1.0 if kind == "cuda" else float(os.environ.get(MPS_RATIO_VARIABLE) or limit_mps_memory() or 1.0)
    backend.set_per_process_memory_fraction(cap)
    try:
        part = replace(data, test_x=data.test_x[:1000], test_y=data.test_y[:1000])
        small = manager.submit(preset("lesson", device=kind, epochs=1, max_steps=max(plan.steps, 100), log_every=10,
                                      test_subset=0), part, owner="check", name="small")
        big = manager.submit(big_cfg, part, owner="check", name="too-big")
        _watch(manager, [small, big])
    finally:
        backend.set_per_process_memory_fraction(before)  # the limit this process had before
    model_device = str(next(big.model.parameters()).device) if big.model is not None else None
    return {"refused": refused, "cap_bytes": int(cap * total), "big_config": big_cfg.to_dict(),
            "big_estimate_bytes": estimate_bytes(big_cfg), "big_state": big.state,
            "big_message": big.message.id if big.message else None, "big_model_device": model_device,
            "small_state": small.state, "small_test_acc": small.result and small.result["acc"],
            "checks": {"refused_before_start": refused == "job.too_big_for_device",
                       "big_failed_alone": big.state == "error" and big.message is not None
                       and big.message.id == "job.out_of_memory" and model_device == "cpu",
                       "small_trained_on": small.state == "done"}}


def memory_estimate(kind: str, data, plan: Plan) -> dict:
    """lib.training.memory's estimate against the peak this card really reached over a few training steps and an
    epoch-end scoring (CUDA's allocator counts it): the estimate must be above, and by how much says how to tune it."""
    if kind != "cuda":
        raise Skip("only CUDA's allocator reports a peak; tests/test_memory.py checks the estimate on the CPU")
    import torch

    from lib.training.config import TrainConfig
    from lib.training.memory import data_bytes, estimate_bytes

    configs = [TrainConfig(), TrainConfig(hidden=128, layers=1, batch_size=128, optimizer="adam"),
               TrainConfig(family="gru", hidden=256, layers=2, batch_size=1024),
               TrainConfig(family="cnn", hidden=256, layers=4, batch_size=1024),
               TrainConfig(family="transformer", hidden=256, layers=4, batch_size=1024, optimizer="adamw")]
    if not plan.quick:
        configs += [TrainConfig(hidden=512, layers=4, batch_size=2048), TrainConfig(
            hidden=256, layers=2, batch_size=512, steps_per_row=4, bidirectional=True)]
    part = replace(data, test_x=data.test_x[:1000], test_y=data.test_y[:1000])
    copy = data_bytes(part)  # the digits on the card: the executor counts them apart from a run's estimate
    rows = []
    for cfg in configs:
        cfg = replace(cfg, device=kind, epochs=1, max_steps=3, validation=0.0, test_subset=0)
        torch.cuda.empty_cache()
        base = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        _train(cfg, part)
        peak, estimate = torch.cuda.max_memory_allocated() - base - copy, estimate_bytes(cfg)
        rows.append({"config": {k: v for k, v in cfg.to_dict().items() if v != TrainConfig().to_dict()[k]},
                     "peak_bytes": peak, "estimate_bytes": estimate, "estimate_over_peak": estimate / max(peak, 1)})
    return {"runs": rows, "checks": {"estimate_above_peak": all(r["estimate_bytes"] >= r["peak_bytes"] for r in rows)}}


# ---------------------------------------------------------------- Ray

def ray(kind: str, data, plan: Plan) -> dict:
    """Four lesson jobs through the Ray executor (lib.runs.ray_executor, issue 25) at a quarter of the GPU each:
    all done, and how long, against the same four through the in-process executor (the sharing section)."""
    import importlib.util

    if importlib.util.find_spec("ray") is None:
        raise Skip("Ray is not installed (requirements-ray.txt)")
    if importlib.util.find_spec("lib.runs.ray_executor") is None:
        raise Skip("lib/runs/ray_executor.py is not in this checkout (issue 25)")
    if kind != "cuda":
        raise Skip("fractional GPUs need a CUDA GPU")
    from lib.runs.ray_executor import RayExecutor
    from lib.training.presets import preset

    os.environ.setdefault("ROW_BY_ROW_RAY_GPU_FRACTION", "0.25")
    part = replace(data, test_x=data.test_x[:plan.shared_test], test_y=data.test_y[:plan.shared_test])
    cfg = preset("lesson", device=kind, epochs=1, max_steps=plan.shared_steps,
                 log_every=max(1, plan.shared_steps // 4), test_subset=0)
    executor = RayExecutor()
    t0 = time.perf_counter()
    jobs = [executor.submit(cfg, part, owner="check", name=f"ray-{i}") for i in range(4)]
    end = t0 + 180
    while not all(j.finished for j in jobs) and time.perf_counter() < end:
        executor.touch("check")
        time.sleep(0.1)
    states = [j.state for j in jobs]
    return {"fraction": os.environ["ROW_BY_ROW_RAY_GPU_FRACTION"], "four_s": time.perf_counter() - t0,
            "states": states, "workers": sorted({j.worker for j in jobs}),
            "samples_per_s_each": [_speed(j) for j in jobs], "checks": {"all_done": all(s == "done" for s in states)}}
