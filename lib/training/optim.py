"""Optimizers and learning-rate schedules for lib.training.train, each chosen by name in a TrainConfig."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:  # lib.training.train imports this module; the config type is for readers only
    from lib.training.train import TrainConfig


def make_optimizer(cfg: "TrainConfig", params) -> torch.optim.Optimizer:
    """The optimizer `cfg.optimizer` names, over `params`, at the config's peak learning rate."""
    if cfg.optimizer in ("sgd", "sgd-momentum"):
        momentum = cfg.momentum if cfg.optimizer == "sgd-momentum" else 0.0
        return torch.optim.SGD(params, lr=cfg.lr, momentum=momentum, weight_decay=cfg.weight_decay)
    kind = torch.optim.Adam if cfg.optimizer == "adam" else torch.optim.AdamW
    return kind(params, lr=cfg.lr, weight_decay=cfg.weight_decay)


def lr_factor(scheduler: str, progress: float) -> float:
    """Multiplier on the peak lr at `progress` in [0, 1] of the run."""
    if scheduler == "step":
        return 1.0 if progress < 0.5 else 0.1 if progress < 0.75 else 0.01
    if scheduler == "cosine":
        return 0.5 * (1.0 + math.cos(math.pi * progress))
    if scheduler == "one-cycle":  # linear warm-up over 30%, then cosine down to nearly 0
        if progress < 0.3:
            return 0.04 + 0.96 * progress / 0.3
        return 0.5 * (1.0 + math.cos(math.pi * (progress - 0.3) / 0.7)) + 1e-4
    return 1.0
