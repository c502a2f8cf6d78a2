"""Randomness private to a run: a model's initial weights and its dropout masks are drawn from the run's own
streams, never from a stream other runs training beside it draw from."""

from __future__ import annotations

import threading
from contextlib import contextmanager

import torch
from torch import nn

_GLOBAL_GENERATOR = threading.Lock()  # held while a run's private stream is in PyTorch's process-wide generator


class PrivateStream:
    """A run's own stream of PyTorch's process-wide CPU generator, for the one thing PyTorch draws only from it: the
    dropout between a recurrent layer's stacked layers. The run's state is swapped in for its forward pass (under a
    lock) and out again after, so a dropout run is reproducible bit for bit while other runs train beside it, and
    never moves their streams. Dropout runs' forward passes take turns; runs without dropout never wait.
    """

    def __init__(self, seed: int):
        self.state = torch.Generator().manual_seed(seed).get_state()  # what torch.manual_seed(seed) would give

    @contextmanager
    def active(self):
        with _GLOBAL_GENERATOR:
            saved = torch.get_rng_state()
            torch.set_rng_state(self.state)
            try:
                yield
            finally:
                self.state = torch.get_rng_state()
                torch.set_rng_state(saved)


def seed_accelerator(device: torch.device, seed: int) -> None:
    """Seed only the accelerator's own generator, from which cuDNN draws its dropout state (reseeding it makes cuDNN
    draw a fresh state at the next dropout step), under the lock of the process-wide generators.

    Never torch.manual_seed: it also reseeds the CPU generator, the one other runs' private streams are swapped in and
    out of (PrivateStream), and would move their dropout masks while they train.
    """
    with _GLOBAL_GENERATOR:
        if device.type == "cuda" and device.index is not None:
            with torch.cuda.device(device.index):
                torch.cuda.manual_seed(seed)
        elif device.type == "cuda":
            torch.cuda.manual_seed(seed)  # the current GPU's, the one a run on "cuda" trains on
        elif device.type == "mps":
            torch.mps.manual_seed(seed)


def draw_uniform(module: nn.Module, seed: int, bound: float) -> None:
    """Every parameter from U(-bound, bound), drawn from a private generator seeded with `seed` (never from the
    process-wide one that other jobs' dropout draws from)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.rand(p.shape, generator=gen) * 2 * bound - bound)
