"""How many SGD steps does the lesson's model need before it leaves chance? The figure behind the "not learning"
advice (lib.training.train.SGD_STEPS_TO_LEAVE_CHANCE): a run that stopped near chance after fewer steps than this was
cut short, not given a bad learning rate.

Run: MNIST_ROOT=... python -m bench.sgd_start [--seeds 5] [--steps 1500]
The lesson's setup (2×100 LSTM, SGD at 0.1, batch 64, float32) on the full training set, one thread, each seed in
turn; a window of 10 steps counts as past chance when its training accuracy reaches lib.training.train's
NOT_LEARNING_ACC (20%) and its loss falls below 90% of ln 10 (the verdict's own rule), and the run has left chance
at the first window after which every window is past it.
"""

from __future__ import annotations

import argparse
import json
import statistics

import torch

from lib.data.mnist import load_mnist
from lib.machine import cpu_name
from lib.training.config import build_model
from lib.training.presets import preset
from lib.training.train import CHANCE_LOSS, NOT_LEARNING_ACC, train

WINDOW = 10  # steps per logged window


def steps_to_leave_chance(seed: int, steps: int, data) -> int | None:
    cfg = preset("lesson", seed=seed, max_steps=steps, log_every=WINDOW, device="cpu", precision="fp32")
    windows = [(e["step"], e["acc"] >= NOT_LEARNING_ACC and e["loss"] < 0.9 * CHANCE_LOSS)
               for e in train(cfg, data, build_model(cfg)) if e["event"] == "step"]
    for k, (step, _) in enumerate(windows):
        if all(past for _, past in windows[k:]):
            return step
    return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=1500)
    args = ap.parse_args()
    torch.set_num_threads(1)
    data = load_mnist()
    found = {seed: steps_to_leave_chance(seed, args.steps, data) for seed in range(args.seeds)}
    left = [s for s in found.values() if s is not None]
    print(json.dumps({"steps_by_seed": found, "median": statistics.median(left) if left else None,
                      "max": max(left) if left else None, "never_within": args.steps, "data": data.describe(),
                      "cpu": cpu_name(), "torch": torch.__version__}))


if __name__ == "__main__":
    main()
