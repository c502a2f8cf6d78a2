"""Sequential against parallel, measured: time per training step and per prediction as the image grows.

The lesson's second conclusion: a recurrent network must finish one step before the next, so it is slow on large
images, while a CNN (or a Transformer) computes in parallel. Here each family reads the same digits upsampled from
28 × 28 to H × H (H = 28, 56, 112, 224; every row then has H pixels, so a recurrent model takes H steps of H pixels),
with the lesson's sizes (hidden 100, 2 layers), at batch 64 on one device. Plain data for the page and the CLI
(`python -m lib.cli scaling --json`).
"""

from __future__ import annotations

import statistics
import threading
import time

import torch
import torch.nn.functional as F

from lib.models.families import FAMILIES, make_model, weight_count
from lib.models.seeding import draw_uniform
from lib.training.devices import device_label, exact_fp32, free_memory, is_out_of_memory, resolve_device, synchronize

HEIGHTS = (28, 56, 112, 224)
MEASURED = tuple(name for name, f in FAMILIES.items() if f.measured)  # lstm, gru, cnn, transformer
BATCH = 64  # the lesson's batch size
HIDDEN, LAYERS = 100, 2  # the lesson's sizes, for every family
WARMUP = 2  # untimed steps first: cuDNN/oneDNN choose their kernels for a new shape there


def build(family: str, height: int) -> torch.nn.Module:
    """The family's model for H × H images (a recurrent one reads H rows of H pixels), its weights drawn from a
    private generator: built on the meta device, nothing is drawn from the process-wide one that jobs share."""
    with torch.device("meta"):
        model = make_model(family, HIDDEN, LAYERS, line=height, steps=height)  # a ValueError names the families
    model = model.to_empty(device="cpu")
    draw_uniform(model, 0, 0.1)  # small uniform weights: the time per step does not depend on them
    return model


def sequential_steps(family: str, height: int, device: str = "cpu") -> int:
    """Computations that must run one after another in a forward pass on a device type: a recurrent layer's H steps
    each wait for the one before (2 layers: 2H on a CPU, H + 1 on a CUDA GPU, where cuDNN overlaps them as a
    wavefront); a CNN's conv layers and a Transformer's encoder layers each process all positions at once."""
    return FAMILIES[family].sequential(height, LAYERS, device)


def upsampled(height: int, batch: int = BATCH, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, H, H) images and (B,) labels: 28 × 28 noise digits upsampled bilinearly (the time does not depend on
    the pixels' values, only on the shape)."""
    gen = torch.Generator().manual_seed(seed)
    small = torch.rand(batch, 1, 28, 28, generator=gen)
    x = small if height == 28 else F.interpolate(small, size=(height, height), mode="bilinear", align_corners=False)
    return x.squeeze(1), torch.randint(0, 10, (batch,), generator=gen)


def _median_ms(fn, device: torch.device, repeats: int) -> float:
    for _ in range(WARMUP):
        fn()
    times = []
    for _ in range(repeats):
        synchronize(device)
        t0 = time.perf_counter()
        fn()
        synchronize(device)  # the GPU's queued work is part of the step
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def count(heights=HEIGHTS, families=MEASURED) -> int:
    """How many measurements scaling() makes: one per family and height."""
    return len(heights) * len(families)


def enlargement(heights=HEIGHTS) -> dict:
    """How much the largest measured image is over the smallest: its side in pixels, how many times taller (and
    wider), and how many times the pixels."""
    times = heights[-1] // heights[0]
    return {"side": heights[-1], "times": times, "pixels": times * times}


def measure(family: str, height: int, device: torch.device, repeats: int = 5, batch: int = BATCH) -> dict:
    """Milliseconds per training step (forward, backward, SGD step) and per prediction (forward, no gradients) at
    `batch`, medians of `repeats` after WARMUP; {"error": "out_of_memory"} when the device cannot hold it."""
    model = build(family, height).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    x, y = (t.to(device) for t in upsampled(height, batch))

    def train_step():
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    @torch.no_grad()
    def predict():
        model(x).argmax(1)

    try:
        model.train()
        train_ms = _median_ms(train_step, device, repeats)
        model.eval()
        predict_ms = _median_ms(predict, device, repeats)
    except RuntimeError as exc:
        if not is_out_of_memory(exc):
            raise
        del model, opt, x, y
        free_memory(device.type)
        return {"error": "out_of_memory"}
    return {"train_ms": train_ms, "predict_ms": predict_ms}


def scaling(device: str = "auto", heights=HEIGHTS, families=MEASURED, repeats: int = 5, batch: int = BATCH,
            on_result=lambda family, height, result: None) -> dict:
    """Every family at every height on one device, as the page and `lib.cli scaling --json` report it: lists of
    milliseconds per step (None where the device ran out of memory), one entry per height. In float32, the lesson's
    precision, on a GPU without TF32 (exact_fp32), whether or not a training run has set that in this process yet."""
    dev = resolve_device(device)
    exact_fp32(dev)
    out = {"device": device_label(dev), "device_type": dev.type, "precision": "fp32", "heights": list(heights),
           "batch_size": batch, "hidden": HIDDEN,
           "layers": LAYERS, "threads": torch.get_num_threads() if dev.type == "cpu" else 0,
           "sequential_steps": {f: [sequential_steps(f, h, dev.type) for h in heights] for f in families},
           "params": {f: weight_count(f, HIDDEN, LAYERS) for f in families},
           "train_ms": {f: [] for f in families}, "predict_ms": {f: [] for f in families}}
    for height in heights:
        for family in families:
            result = measure(family, height, dev, repeats, batch)
            out["train_ms"][family].append(result.get("train_ms"))
            out["predict_ms"][family].append(result.get("predict_ms"))
            on_result(family, height, result)
    return out


def table(out: dict) -> str:
    """Markdown: ms per training step and per prediction for each family and height, the steps that run in
    sequence, and each family's time at the largest height over its time at 28 (docs/benchmarks.md)."""
    heights, families = out["heights"], list(out["train_ms"])
    ms = lambda v: "out of memory" if v is None else f"{v:,.1f}"  # noqa: E731
    head = " | ".join(f"{h} × {h}" for h in heights)
    lines = [f"| family (weights) | ms per | {head} | growth {heights[0]} → {heights[-1]} | steps in sequence |",
             "|---|---|" + "---:|" * len(heights) + "---:|---:|"]
    for f in families:
        for kind in ("train", "predict"):
            values = out[f"{kind}_ms"][f]
            growth = (f"{values[-1] / values[0]:.1f}×" if values[0] and values[-1] else "")
            steps = " → ".join(str(s) for s in (out["sequential_steps"][f][0], out["sequential_steps"][f][-1]))
            name = f"{f} ({out['params'][f]:,})" if kind == "train" else ""
            lines.append(f"| {name} | {'training step' if kind == 'train' else 'prediction'} | "
                         + " | ".join(ms(v) for v in values) + f" | {growth} | {steps if kind == 'train' else ''} |")
    return "\n".join(lines)


class Measurements:
    """The server's measurements, one per key (a device type for the scaling measurement; the other experiments use
    keys of their own), and the job measuring each now. A class shares them: a student who asks while one is
    running joins it, instead of queueing another (30 at once would time each other)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._results: dict = {}
        self._jobs: dict = {}

    def result(self, device) -> dict | None:
        return self._results.get(device)

    def running(self, device):
        """The job measuring `device` now, or None."""
        job = self._jobs.get(device)
        return job if job is not None and not job.finished else None

    def start(self, device, submit, work=None) -> object:
        """The running job for `device`, or a new one from `submit(task)` (a lib.runs.job.Job); the task stores the
        result of `work(job)` under `device` when it ends (by default the scaling measurement of that device)."""
        with self._lock:
            job = self.running(device)
            if job is None:
                work = work or (lambda j: self._measure(device, j))
                job = self._jobs[device] = submit(lambda j: self._results.__setitem__(device, work(j)))
            return job

    def _measure(self, device: str, job) -> dict:
        def progress(family, height, result):
            job.events.append({"event": "measured", "family": family, "height": height, **result})
        return scaling(device, on_result=progress)
