"""How much of a training step is the LSTM itself? Times the bare model step and lib.training.train's full step.

Run: MNIST_ROOT=... python -m bench.step_profile  (lesson model: 2×100 LSTM, SGD, batch 64)
"""

from __future__ import annotations

import json
import time
from dataclasses import replace

import torch
import torch.nn.functional as F

from lib.data.mnist import load_mnist
from lib.training.config import build_model
from lib.training.presets import preset
from lib.training.train import train


def bare_step_ms(precision: str, steps: int = 200) -> float:
    """Milliseconds per forward + backward + SGD step on a fixed random batch: the model's floor."""
    cfg = preset("lesson")
    model, (x, y) = build_model(cfg), (torch.randn(64, 28, 28), torch.randint(0, 10, (64,)))
    opt = torch.optim.SGD(model.parameters(), lr=cfg.lr)

    def step():
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
            loss = F.cross_entropy(model(x).float(), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    for _ in range(10):
        step()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - t0) / steps * 1e3


def pipeline_step_ms(precision: str, data, steps: int = 300) -> float:
    """Milliseconds per step of lib.training.train.train (batches by index, normalise, order, step), from its samples/s."""
    cfg = replace(preset("lesson"), precision=precision, max_steps=steps, log_every=100, device="cpu")
    rates = [e["samples_per_s"] for e in train(cfg, data, build_model(cfg)) if e["event"] == "step"][1:]
    return 64 / (sum(rates) / len(rates)) * 1e3


def main() -> None:
    data = load_mnist()
    out = {p: {"bare_step_ms": bare_step_ms(p), "pipeline_step_ms": pipeline_step_ms(p, data)}
           for p in ("fp32", "bf16")}
    for p in out.values():
        p["model_share"] = p["bare_step_ms"] / p["pipeline_step_ms"]
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
