"""Training as a generator of flat metric dicts, plus evaluation; configs are frozen dataclasses."""

from __future__ import annotations

import math
import threading
from dataclasses import asdict, dataclass, replace
from typing import Iterator

import torch

from lib.data.mnist import MnistData, stratified_indices
from lib.data.orders import ORDERS
from lib.experiments.evaluate import evaluate
from lib.messages import N_, Message, Problem, Term, msg
from lib.models.families import FAMILIES, OPTIONAL, family, seeded, uses
from lib.models.nets import model_input
from lib.storage.fields import typed_fields
from lib.training.devices import choose_device, device_label, exact_fp32, synchronize, use_bf16
from lib.training.loop import Clock as _Clock
from lib.training.loop import PrivateStream, optimisation_step
from lib.training.loop import Window as _Window
from lib.training.optim import lr_factor, make_optimizer

OPTIMIZERS = {"sgd": N_("SGD"), "sgd-momentum": N_("SGD + momentum"), "adam": N_("Adam"), "adamw": N_("AdamW")}
SCHEDULERS = {"none": N_("constant"), "step": N_("step (×0.1 at 50% and 75%)"), "cosine": N_("cosine decay"),
              "one-cycle": N_("one-cycle (warm up, then anneal)")}
DEVICES = ("auto", "cpu", "cuda", "mps")
LOSSES = {"last-step": N_("after the last row only (the lesson)"), "every-step": N_("after every row")}
PRECISIONS = {"fp32": N_("float32 (the lesson's)"), "bf16": N_("bfloat16 mixed precision"),
              "auto": N_("auto (bfloat16 where the CPU computes it natively, else float32)")}
FIELD_NAMES = {  # each setting's name inside a sentence ("the batch size must be ..."), for messages
    "cell": N_("the model family"), "positions": N_("the position embedding"), "hidden": N_("the hidden size"), "layers": N_("the number of layers"),
    "dropout": N_("dropout"), "lr": N_("the learning rate"), "optimizer": N_("the optimizer"),
    "momentum": N_("momentum"), "weight_decay": N_("weight decay"), "scheduler": N_("the learning-rate schedule"),
    "batch_size": N_("the batch size"), "epochs": N_("the number of epochs"),
    "subset": N_("the number of training digits"), "test_subset": N_("the number of test digits"),
    "validation": N_("the validation share"),
    "order": N_("the row order"), "seed": N_("the seed"), "device": N_("the device"),
    "precision": N_("the precision"), "loss": N_("the loss"), "clip": N_("gradient clipping"), "log_every": N_("the logging interval"),
    "max_steps": N_("the step limit"),
}
DIVERGED_LOSS = 50.0  # a mean loss above this (chance is ln 10 = 2.3) means the run blew up
CHANCE_LOSS = math.log(10)  # the loss of a uniform guess over 10 classes
NOT_LEARNING_ACC = 0.2  # a last epoch below this training accuracy (chance: 0.1) has learned next to nothing


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a run; a checkpoint stores it and loading rebuilds the model from it."""

    cell: str = "lstm"  # model family, see lib.models.families: lstm | gru | rnn | cnn | transformer (named `cell` since
    # the first version, when every model was a recurrent cell: shared links and cards keep working)
    hidden: int = 100  # hidden units per layer (the lesson used 100)
    layers: int = 2  # stacked recurrent layers (the lesson used 2)
    dropout: float = 0.0  # dropout between stacked layers
    lr: float = 0.1  # learning rate (peak rate for schedules)
    optimizer: str = "sgd"  # sgd | sgd-momentum | adam | adamw
    momentum: float = 0.9  # used by sgd-momentum only
    weight_decay: float = 0.0  # L2 penalty (decoupled for adamw)
    scheduler: str = "none"  # none | step | cosine | one-cycle, applied every step
    batch_size: int = 64  # digits per step (the lesson used 64)
    epochs: int = 10  # passes over the training digits
    subset: int = 0  # training digits, balanced by class; 0 = all of them
    validation: float = 0.1  # share of those held out and scored after each epoch; 0 = score the test set instead
    test_subset: int = 0  # with validation 0: test digits scored after each epoch, balanced by class; 0 = all
    order: str = "forward"  # row order, see lib.data.orders.ORDERS
    seed: int = 0  # fixes weights, batches and random orders
    device: str = "auto"  # auto | cpu | cuda | mps
    precision: str = "fp32"  # fp32 | bf16 (autocast, ~2x faster on CPUs with AMX) | auto
    clip: float = 0.0  # gradient-norm clipping; 0 = off
    loss: str = "last-step"  # last-step (the lesson: only the answer after row 28 is trained) | every-step
    log_every: int = 50  # steps between progress dicts
    max_steps: int = 0  # stop after this many steps; 0 = no limit
    positions: bool = True  # Transformer only: a learned position embedding per row; False = a bag of rows

    def validate(self) -> "TrainConfig":
        """Raise a Problem (a ValueError) naming every impossible setting and what is allowed; return self."""
        problems = [message for ok, message in _checks(self) if not ok]
        if problems:
            raise Problem(*problems)
        return self

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "TrainConfig":
        """Build from a dict, rejecting unknown keys and wrong types with ValueError."""
        return cls(**typed_fields(cls, values, names=FIELD_NAMES))


def field(name: str) -> Term:
    """A setting's name for messages."""
    return Term(FIELD_NAMES[name])


def _one_of(name: str, value, choices: dict | tuple):
    labels = [Term(v) for v in choices.values()] if isinstance(choices, dict) else list(choices)
    return value in choices, msg("setting.one_of", setting=field(name), choices=labels)


def _between(name: str, value, low, high):
    return low <= value <= high, msg("setting.between", setting=field(name), low=low, high=high)


def _checks(c: TrainConfig) -> list[tuple[bool, Message]]:
    """(condition, message) pairs; every message names the setting and what is allowed."""
    finite = all(math.isfinite(v) for v in (c.lr, c.momentum, c.weight_decay, c.dropout, c.clip, c.validation))
    return [
        _one_of("cell", c.cell, {k: f.label for k, f in FAMILIES.items()}),
        *_family_checks(c),
        _between("hidden", c.hidden, 1, 1024),
        _between("layers", c.layers, 1, 8),
        (finite, msg("setting.finite")),
        (not finite or 0.0 <= c.dropout < 1.0, msg("setting.fraction", setting=field("dropout"))),
        (not finite or 0.0 < c.lr <= 1000.0, msg("setting.learning_rate")),
        _one_of("optimizer", c.optimizer, OPTIMIZERS),
        (not finite or 0.0 <= c.momentum < 1.0, msg("setting.fraction", setting=field("momentum"))),
        (not finite or c.weight_decay >= 0.0, msg("setting.not_negative", setting=field("weight_decay"))),
        _one_of("scheduler", c.scheduler, SCHEDULERS),
        _between("batch_size", c.batch_size, 1, 8192),
        _between("epochs", c.epochs, 1, 200),
        (c.subset == 0 or c.subset >= 10, msg("setting.digits", setting=field("subset"))),
        (not finite or 0.0 <= c.validation <= 0.5, msg("setting.share", setting=field("validation"), high=0.5)),
        (c.test_subset == 0 or c.test_subset >= 10, msg("setting.digits", setting=field("test_subset"))),
        _one_of("order", c.order, {name: o.title for name, o in ORDERS.items()}),
        (c.seed >= 0, msg("setting.not_negative", setting=field("seed"))),
        _one_of("device", c.device, DEVICES),
        _one_of("precision", c.precision, PRECISIONS),
        _one_of("loss", c.loss, LOSSES),
        (not finite or c.clip >= 0.0, msg("setting.not_negative", setting=field("clip"))),
        (c.log_every >= 1, msg("setting.at_least", setting=field("log_every"), low=1)),
        (c.max_steps >= 0, msg("setting.not_negative", setting=field("max_steps"))),
    ]


def _family_checks(c: TrainConfig) -> list[tuple[bool, Message]]:
    """What only some families have: a setting set away from its default for a family it means nothing to, and a
    Transformer's hidden size that its attention heads cannot share."""
    if c.cell not in FAMILIES:
        return []
    label, default = Term(family(c.cell).label), TrainConfig()
    unused = [(not uses(c.cell, name) and getattr(c, name) != getattr(default, name), name)
              for name in OPTIONAL]
    heads = family(c.cell).heads
    return [(not off, msg("setting.every_step" if name == "loss" else "setting.not_for_family", setting=field(name),
                          family=label)) for off, name in unused] + \
        [(not heads or c.hidden % heads == 0, msg("setting.heads", family=label, heads=heads))]


def fit_to_data(cfg: TrainConfig, n_train: int, n_test: int) -> tuple[TrainConfig, list[Message]]:
    """`cfg` asking for no more digits than are loaded (more becomes 0 = all of them), and a note per change."""
    changes, notes = {}, []
    if cfg.subset >= n_train:  # e.g. a link asking for 20,000 on the shipped sample's 10,000
        changes["subset"] = 0
        if cfg.subset > n_train:
            notes.append(msg("train.all_training", n=n_train))
    if cfg.test_subset >= n_test:
        changes["test_subset"] = 0
        if cfg.test_subset > n_test:
            notes.append(msg("train.all_test", n=n_test))
    return replace(cfg, **changes), notes


def build_model(cfg: TrainConfig) -> torch.nn.Module:
    """A freshly initialised model of cfg's family, its weights fixed by cfg.seed (lib.models.families.seeded)."""
    return seeded(cfg.cell, cfg.hidden, cfg.layers, cfg.dropout, cfg.positions, cfg.seed)


def uses_dropout(cfg: TrainConfig) -> bool:
    """Whether the run draws dropout masks: a recurrent family's only between stacked layers, a Transformer's in
    every encoder layer."""
    return cfg.dropout > 0 and (cfg.layers > 1 or not family(cfg.cell).recurrent)


def train(cfg: TrainConfig, data: MnistData, model: torch.nn.Module,
          stop: threading.Event | None = None) -> Iterator[dict]:
    """Train `model` in place, yielding flat dicts: start, step (every log_every), epoch, then done/stopped/diverged.

    Closing the generator or setting `stop` leaves the model as trained so far. Randomness is private to the run:
    weights, batches and random orders use its own generators, and on a CPU dropout draws from the run's own stream
    of the process-wide generator (lib.training.loop.PrivateStream), so runs training side by side never disturb each other.
    On a GPU cuDNN keeps one dropout state per device, seeded here (torch.manual_seed also seeds CUDA's): a GPU
    dropout run is reproducible alone, not bit for bit beside another GPU dropout run.
    """
    cfg.validate()
    device, note = choose_device(cfg.device, cfg.cell, cfg.batch_size, uses_dropout(cfg))
    stream = PrivateStream(cfg.seed) if uses_dropout(cfg) and device.type == "cpu" else None
    if uses_dropout(cfg) and device.type != "cpu":
        torch.manual_seed(cfg.seed)  # the accelerator's generators, which seed its dropout state: see above
    exact_fp32(device)  # float32 on a GPU means float32, as on the CPU that trained the cards (no TF32)
    model.to(device).train()
    data = data.to(device)  # a no-op when lib.runs.jobs hands over its shared copy on this device
    pool, held_out = split_validation(stratified_indices(data.train_y, cfg.subset, cfg.seed), cfg.validation)
    pool = pool.to(device)
    steps_per_epoch = math.ceil(len(pool) / cfg.batch_size)
    total = steps_per_epoch * cfg.epochs if not cfg.max_steps else min(cfg.max_steps, steps_per_epoch * cfg.epochs)
    opt = make_optimizer(cfg, model.parameters())
    gen = torch.Generator().manual_seed(cfg.seed)
    bf16, clock = use_bf16(cfg.precision, device), _Clock()
    yield {"event": "start", "device": device_label(device), "device_type": device.type, "steps_total": total,
           "threads": torch.get_num_threads() if device.type == "cpu" else 0,
           "precision": "bf16" if bf16 else "fp32",
           "steps_per_epoch": steps_per_epoch, "n_train": len(pool), "n_validation": len(held_out),
           "params": model.n_params, "elapsed": 0.0, **({"message": note.to_dict()} if note else {})}
    step, warm_at = 0, 0.0
    for epoch in range(1, cfg.epochs + 1):
        window = _Window()
        # the epoch's digits in batch order, put on the device once (not an index copy every step); the same draw
        # from `gen` as lib.data.mnist.batch_indices
        shuffled = pool[torch.randperm(len(pool), generator=gen).to(device)]
        # a per-image order's (N, 28) lines for the whole epoch, drawn next from `gen` (the same numbers as a draw
        # per batch) and put on the device once
        lines = ORDERS[cfg.order].line_index(len(shuffled), gen).to(device) if ORDERS[cfg.order].per_image else None
        for first in range(0, len(shuffled), cfg.batch_size):
            if stop is not None and stop.is_set():
                yield {"event": "stopped", "epoch": epoch, "step": step, "elapsed": clock.elapsed()}
                return
            for pg in opt.param_groups:
                pg["lr"] = cfg.lr * lr_factor(cfg.scheduler, step / max(total - 1, 1))
            idx = shuffled[first:first + cfg.batch_size]
            x = model_input(data.train_x[idx], cfg.order, gen,  # (B, 28, 28) uint8 -> ordered float lines
                            None if lines is None else lines[first:first + cfg.batch_size])
            loss, correct = optimisation_step(model, opt, x, data.train_y[idx], cfg.clip, bf16,
                                              cfg.loss == "every-step", stream)
            window.add(loss, correct, len(idx))
            step += 1
            if step == 1:  # cuDNN setup / MPS graph compilation: out of the speed and time-left estimates
                synchronize(device)
                window.warmed()
                warm_at = clock.elapsed()
            if step % cfg.log_every == 0 or step == total:
                info = window.flush(clock)
                if not math.isfinite(info["loss"]) or info["loss"] > DIVERGED_LOSS:
                    yield _diverged(cfg, epoch, step, info["loss"], clock)
                    return
                elapsed = clock.elapsed()
                left = (total - step) * ((elapsed - warm_at) / (step - 1) if step > 1 else elapsed)
                yield {"event": "step", "epoch": epoch, "step": step, "lr": opt.param_groups[0]["lr"],
                       "progress": step / total, **info, "elapsed": elapsed, "left_s": left}
            if step == total:
                break
        event, scores = _epoch_end(cfg, model, data, held_out, epoch, step, window, clock)
        yield event
        if step == total:
            break
    yield {"event": "done", "epoch": epoch, "step": step, "elapsed": clock.elapsed(), **_verdict(cfg, event)}
    # the last epoch's test scores, so lib.training.fit need not score them again when they cover every test digit
    return scores if scores["split"] == "test" else None


def split_validation(pool: torch.Tensor, share: float) -> tuple[torch.Tensor, torch.Tensor]:
    """(digits to train on, digits held out to score each epoch): the last `share` of the shuffled, class-balanced
    pool is held out, so it is roughly balanced too; share 0 holds out nothing."""
    held = int(round(len(pool) * share))
    return (pool[:len(pool) - held], pool[len(pool) - held:]) if held else (pool, pool[:0])


def _epoch_end(cfg, model, data, held_out, epoch, step, window, clock) -> tuple[dict, dict]:
    """The epoch's flat dict and the scores it was read from: on the held-out validation digits, or (validation 0,
    the lesson's way) on the test set. Keys say which: val_acc/val_loss or test_acc/test_loss."""
    if len(held_out):
        scores, prefix = evaluate(model, data, cfg.order, seed=cfg.seed, indices=held_out), "val"
    else:
        scores, prefix = evaluate(model, data, cfg.order, limit=cfg.test_subset, seed=cfg.seed), "test"
    return ({"event": "epoch", "epoch": epoch, "step": step, f"{prefix}_acc": scores["acc"],
             f"{prefix}_loss": scores["loss"], f"{prefix}_n": scores["n"], "train_acc": window.epoch_acc(),
             "train_loss": window.epoch_loss(), "elapsed": clock.elapsed()}, scores)


def _verdict(cfg, last_epoch: dict) -> dict:
    """{"message": …} when the last epoch stayed near chance (a loss at or above ln 10, or accuracy under 20%)."""
    if last_epoch["train_loss"] < 0.9 * CHANCE_LOSS and last_epoch["train_acc"] >= NOT_LEARNING_ACC:
        return {}
    adaptive = cfg.optimizer in ("adam", "adamw")
    advice = msg("train.not_learning_adaptive" if adaptive else "train.not_learning",
                 loss=last_epoch["train_loss"], chance=CHANCE_LOSS, acc=last_epoch["train_acc"], lr=cfg.lr,
                 optimizer=Term(OPTIMIZERS[cfg.optimizer]))
    return {"verdict": "not_learning", "message": advice.to_dict()}


def _diverged(cfg, epoch, step, loss, clock) -> dict:
    adaptive = cfg.optimizer in ("adam", "adamw")
    advice = msg("train.diverged_adaptive" if adaptive else "train.diverged", step=step, loss=loss, lr=cfg.lr,
                 optimizer=Term(OPTIMIZERS[cfg.optimizer]), suggested=cfg.lr / 10)
    return {"event": "diverged", "epoch": epoch, "step": step, "loss": loss, "elapsed": clock.elapsed(),
            "message": advice.to_dict()}
