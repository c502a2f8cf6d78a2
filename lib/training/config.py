"""A run's settings: one frozen dataclass with a comment on each default. A checkpoint carries it and loading rebuilds
the model from it; which values each setting may take is declared once, in lib.training.limits."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

from lib.messages import Message, Problem
from lib.models.families import family, seeded
from lib.models.nets import LINE
from lib.storage.fields import typed_fields
from lib.training import limits

LEGACY_NAMES = {"cell": "family"}  # settings renamed since the first version: old links, cards and flags still load


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a run; a checkpoint stores it and loading rebuilds the model from it."""

    family: str = "lstm"  # model family, see lib.models.families: lstm | gru | rnn | cnn | transformer
    hidden: int = 100  # hidden units per layer (the lesson used 100)
    layers: int = 2  # stacked recurrent layers (the lesson used 2)
    dropout: float = 0.0  # dropout between stacked layers
    lr: float = 0.1  # learning rate (peak rate for schedules)
    optimizer: str = "sgd"  # see lib.training.optim: sgd | sgd-momentum | adam | adamw
    momentum: float = 0.9  # used by sgd-momentum only
    weight_decay: float = 0.0  # L2 penalty (decoupled for adamw)
    scheduler: str = "none"  # see lib.training.optim: none | step | cosine | one-cycle, applied every step
    batch_size: int = 64  # digits per step (the lesson used 64)
    epochs: int = 10  # passes over the training digits
    subset: int = 0  # training digits, balanced by class; 0 = all of them
    validation: float = 0.1  # share of those held out and scored after each epoch; 0 = score the test set instead
    test_subset: int = 0  # with validation 0: test digits scored after each epoch, balanced by class; 0 = all
    order: str = "forward"  # row order, see lib.data.orders.ORDERS
    seed: int = 0  # fixes weights, batches and random orders
    device: str = "auto"  # auto | cpu | cuda | mps
    precision: str = "fp32"  # fp32 | bf16 (autocast, faster only on CPUs that compute bfloat16 natively) | auto
    clip: float = 0.0  # gradient-norm clipping; 0 = off
    loss: str = "last-step"  # last-step (the lesson: only the answer after row 28 is trained) | every-step
    log_every: int = 50  # steps between progress dicts
    max_steps: int = 0  # stop after this many steps; 0 = no limit
    positions: bool = True  # Transformer only: a learned position embedding per row; False = a bag of rows
    readout: str = "last"  # recurrent only: classify from the last step's output (the lesson), or the mean or max
    bidirectional: bool = False  # recurrent only: also read the lines from the last to the first
    steps_per_row: int = 1  # recurrent only: each line cut into this many steps (1, 2 or 4: 28, 56 or 112 steps)
    keep: str = "last"  # the weights a run ends with: the last epoch's, or the best validation epoch's (early stopping)

    def validate(self) -> "TrainConfig":
        """Raise a Problem (a ValueError) naming every impossible setting and what is allowed; return self."""
        found = limits.problems(self.to_dict(), DEFAULTS)
        if found:
            raise Problem(*found)
        return self

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "TrainConfig":
        """Build from a dict, rejecting unknown keys and wrong types with ValueError; a setting under its old name
        (LEGACY_NAMES) is read under its new one."""
        return cls(**typed_fields(cls, renamed(values), names=limits.LABELS))


DEFAULTS = TrainConfig().to_dict()


def renamed(values: dict) -> dict:
    """`values` with settings under an old name (LEGACY_NAMES) moved to the new one, unless both are given."""
    out = dict(values)
    for old, new in LEGACY_NAMES.items():
        if old in out and new not in out:
            out[new] = out.pop(old)
    return out


def sized_to_data(cfg: TrainConfig, n_train: int, n_test: int) -> tuple[TrainConfig, list[Message]]:
    """`cfg` asking for no more digits than are loaded (more becomes 0 = all of them), and a note per change."""
    values, notes = limits.fit_to_data(cfg.to_dict(), n_train, n_test)
    return TrainConfig(**values), notes


def classroom_problems(cfg: TrainConfig, settings, n_train: int = 60000) -> list[Message]:
    """Why `cfg` breaks the classroom limits of `settings` (lib.runs.settings.Settings); [] if it keeps them."""
    return limits.classroom_problems(cfg.to_dict(), settings, n_train)


def model_shape(cfg: TrainConfig) -> dict:
    """The settings that shape a model beyond its family and size (lib.models.families.make_model's keywords)."""
    return {"line": LINE // cfg.steps_per_row, "readout": cfg.readout, "bidirectional": cfg.bidirectional}


def build_model(cfg: TrainConfig) -> torch.nn.Module:
    """A freshly initialised model of cfg's family, its weights fixed by cfg.seed (lib.models.families.seeded)."""
    return seeded(cfg.family, cfg.hidden, cfg.layers, cfg.dropout, cfg.positions, cfg.seed, **model_shape(cfg))


def uses_dropout(cfg: TrainConfig) -> bool:
    """Whether the run draws dropout masks: a recurrent family's only between stacked layers, a Transformer's in
    every encoder layer."""
    return cfg.dropout > 0 and (cfg.layers > 1 or not family(cfg.family).recurrent)
