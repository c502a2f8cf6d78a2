"""Optimizers and learning-rate schedules: one registry entry each carries its label and its behaviour, so adding one
touches this file (the form, the CLI, the checks and the advice read it from here)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch

from lib.messages import N_


@dataclass(frozen=True)
class Optimizer:
    """One way of updating the weights from their gradients."""

    label: str  # its name on widgets and in sentences (English source text, translated by the UI)
    build: Callable[..., torch.optim.Optimizer]  # (params, lr, momentum, weight_decay) -> the torch optimizer
    adaptive: bool  # scales each weight's step by its gradients' running size (Adam): its step is about lr itself,
    # whatever the gradient, so what a too-high or too-low learning rate does differs from SGD's, and so does advice
    momentum: bool = False  # the momentum setting means something for it


OPTIMIZERS: dict[str, Optimizer] = {
    "sgd": Optimizer(N_("SGD"), lambda params, lr, momentum, decay: torch.optim.SGD(
        params, lr=lr, momentum=0.0, weight_decay=decay), adaptive=False),
    "sgd-momentum": Optimizer(N_("SGD + momentum"), lambda params, lr, momentum, decay: torch.optim.SGD(
        params, lr=lr, momentum=momentum, weight_decay=decay), adaptive=False, momentum=True),
    "adam": Optimizer(N_("Adam"), lambda params, lr, momentum, decay: torch.optim.Adam(
        params, lr=lr, weight_decay=decay), adaptive=True),
    "adamw": Optimizer(N_("AdamW"), lambda params, lr, momentum, decay: torch.optim.AdamW(
        params, lr=lr, weight_decay=decay), adaptive=True),  # weight decay decoupled from the gradient step
}


def _one_cycle(progress: float) -> float:
    """Linear warm-up over the first 30% from 4% of the peak, then cosine down to nearly 0."""
    if progress < 0.3:
        return 0.04 + 0.96 * progress / 0.3
    return 0.5 * (1.0 + math.cos(math.pi * (progress - 0.3) / 0.7)) + 1e-4


@dataclass(frozen=True)
class Schedule:
    """How the learning rate changes over a run: a factor on the peak rate at each point of it."""

    label: str  # its name on widgets (English source text, translated by the UI)
    factor: Callable[[float], float]  # progress in [0, 1] of the run's steps -> multiplier on the peak rate


SCHEDULES: dict[str, Schedule] = {
    "none": Schedule(N_("constant"), lambda progress: 1.0),
    "step": Schedule(N_("step (×0.1 at 50% and 75%)"),
                     lambda progress: 1.0 if progress < 0.5 else 0.1 if progress < 0.75 else 0.01),
    "cosine": Schedule(N_("cosine decay"), lambda progress: 0.5 * (1.0 + math.cos(math.pi * progress))),
    "one-cycle": Schedule(N_("one-cycle (warm up, then anneal)"), _one_cycle),
}


def make_optimizer(name: str, params, lr: float, momentum: float, weight_decay: float) -> torch.optim.Optimizer:
    """The optimizer registered as `name`, over `params`, at the peak learning rate `lr`."""
    return OPTIMIZERS[name].build(params, lr, momentum, weight_decay)


def make_schedule(name: str, optimizer: torch.optim.Optimizer, total_steps: int):
    """torch's LambdaLR driving `optimizer`'s rate by the schedule `name`: step k of `total_steps` gets the peak rate
    times factor(k / (total_steps - 1)); call its step() after each optimisation step."""
    factor = SCHEDULES[name].factor
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: factor(step / max(total_steps - 1, 1)))
