"""Golden runs: short float32 trainings of every preset, family, optimizer and schedule, fingerprinted, so a change
that must not change training (a refactor) can prove it did not.

`python -m tests.golden --write` records tests/golden.json; tests/test_golden.py trains the same runs again and
compares. Each run is fingerprinted twice:
- `sha256` of its weights' exact bytes: identical only on a CPU with the same instruction set, torch version and
  thread count (oneDNN and the BLAS choose other kernels, with other rounding, on another CPU);
- `fingerprint`: the weights' sum, sum of squares and four fixed random projections, in float64, compared with a
  relative tolerance far below what any change to the batches, the initial weights or the update rule would move.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
from pathlib import Path

import torch

from lib.data.mnist import load_sample
from lib.models.families import FAMILIES
from lib.training.config import TrainConfig
from lib.training.fit import fit
from lib.training.presets import PRESETS, preset

FILE = Path(__file__).resolve().parent / "golden.json"
STEPS = 24  # a few dozen optimisation steps per run
THREADS = 1  # the run's torch threads (the bytes of a matrix product can depend on how many share it)
SHORT = dict(precision="fp32", device="cpu", max_steps=STEPS, subset=2000, test_subset=500, log_every=8)
QUICK = preset("quick", **SHORT)  # the base of the family, optimizer and schedule runs


def runs() -> dict[str, TrainConfig]:
    """name -> config of every golden run."""
    out = {f"preset-{name}": preset(name, **SHORT) for name in PRESETS}
    out |= {f"family-{name}": QUICK.__class__(**(QUICK.to_dict() | {"family": name, "hidden": 64, "layers": 2}))
            for name in FAMILIES}
    out |= {
        "lstm-dropout": TrainConfig(**(QUICK.to_dict() | {"layers": 2, "dropout": 0.3})),
        "lstm-every-step": TrainConfig(**(QUICK.to_dict() | {"loss": "every-step"})),
        "lstm-random-order": TrainConfig(**(QUICK.to_dict() | {"order": "random"})),
        "lstm-columns": TrainConfig(**(QUICK.to_dict() | {"order": "columns"})),
        "transformer-dropout-bag": TrainConfig(**(QUICK.to_dict() | {"family": "transformer", "hidden": 64,
                                                                     "dropout": 0.2, "positions": False})),
        "sgd-momentum-step": TrainConfig(**(QUICK.to_dict() | {"optimizer": "sgd-momentum", "lr": 0.05,
                                                               "scheduler": "step", "weight_decay": 1e-4})),
        "adamw-cosine": TrainConfig(**(QUICK.to_dict() | {"optimizer": "adamw", "scheduler": "cosine",
                                                          "weight_decay": 1e-2, "clip": 0.0})),
        "sgd-none-validation": TrainConfig(**(QUICK.to_dict() | {"optimizer": "sgd", "lr": 0.1, "scheduler": "none",
                                                                 "validation": 0.2, "seed": 7})),
    }
    return out


def weights_of(model: torch.nn.Module) -> list[torch.Tensor]:
    return [v.detach().to("cpu", torch.float32).contiguous() for _, v in sorted(model.state_dict().items())]


def fingerprint(tensors: list[torch.Tensor]) -> list[float]:
    """[sum, sum of squares, four fixed random projections] of all weights, in float64 (NaN and inf as 0)."""
    v = torch.cat([t.flatten() for t in tensors]).double().nan_to_num(0.0, 0.0, 0.0)
    r = torch.randn(4, len(v), generator=torch.Generator().manual_seed(1234), dtype=torch.float64)
    return [float(v.sum()), float((v * v).sum()), *map(float, r @ v)]


def sha256(tensors: list[torch.Tensor]) -> str:
    h = hashlib.sha256()
    for t in tensors:
        h.update(t.numpy().tobytes())
    return h.hexdigest()


def run_one(cfg: TrainConfig, data) -> dict:
    threads = torch.get_num_threads()
    torch.set_num_threads(THREADS)
    try:
        fitted = fit(cfg, data)
    finally:
        torch.set_num_threads(threads)
    tensors = weights_of(fitted.model)
    return {"sha256": sha256(tensors), "fingerprint": fingerprint(tensors), "end": fitted.end["event"],
            "steps": fitted.end.get("step", 0)}


def machine() -> dict:
    """What the exact bytes depend on."""
    return {"torch": torch.__version__, "cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "machine": platform.machine(), "threads": THREADS}


def compute() -> dict:
    data = load_sample()
    return {"machine": machine(), "runs": {name: run_one(cfg, data) for name, cfg in runs().items()}}


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--write", action="store_true", help=f"record {FILE.name}")
    args = ap.parse_args()
    result = compute()
    text = json.dumps(result, indent=1)
    if args.write:
        FILE.write_text(text + "\n")
    print(text)
