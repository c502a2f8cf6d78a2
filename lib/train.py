"""Training as a generator of flat metric dicts, plus evaluation; configs are frozen dataclasses."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import asdict, dataclass, replace
from typing import Iterator

import torch
import torch.nn.functional as F

from .data import MnistData, batch_indices, normalize, stratified_indices
from .devices import available_devices, device_label, resolve_device, use_bf16  # noqa: F401 (re-exported)
from .evaluate import evaluate
from .fields import typed_fields
from .model import CELLS, RowClassifier
from .orders import ORDERS, get_order

OPTIMIZERS = {"sgd": "SGD", "sgd-momentum": "SGD + momentum", "adam": "Adam", "adamw": "AdamW"}
SCHEDULERS = {"none": "constant", "step": "step (×0.1 at 50 % and 75 %)", "cosine": "cosine decay",
              "one-cycle": "one-cycle (warm up, then anneal)"}
DEVICES = ("auto", "cpu", "cuda", "mps")
PRECISIONS = {"fp32": "float32 (exact, the lesson's)", "bf16": "bfloat16 mixed precision",
              "auto": "auto (bfloat16 where the CPU computes it natively, else float32)"}
DIVERGED_LOSS = 50.0  # a mean loss above this (chance is ln 10 = 2.3) means the run blew up


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a run; a checkpoint stores it and loading rebuilds the model from it."""

    cell: str = "lstm"  # recurrent cell: lstm | gru | rnn
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
    test_subset: int = 0  # test digits scored after each epoch, balanced by class; 0 = all
    order: str = "forward"  # row order, see lib.orders.ORDERS
    seed: int = 0  # fixes weights, batches and random orders
    device: str = "auto"  # auto | cpu | cuda | mps
    precision: str = "fp32"  # fp32 | bf16 (autocast, ~2x faster on CPUs with AMX) | auto
    clip: float = 0.0  # gradient-norm clipping; 0 = off
    log_every: int = 50  # steps between progress dicts
    max_steps: int = 0  # stop after this many steps; 0 = no limit

    def validate(self) -> "TrainConfig":
        """Raise ValueError with a readable message if any setting is impossible; return self."""
        problems = [msg for ok, msg in _checks(self) if not ok]
        if problems:
            raise ValueError("Invalid settings: " + "; ".join(problems) + ".")
        return self

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "TrainConfig":
        """Build from a dict, rejecting unknown keys and wrong types with ValueError."""
        return cls(**typed_fields(cls, values))


def _checks(c: TrainConfig):
    """(condition, message) pairs; every message names the setting and the allowed range."""
    finite = all(math.isfinite(v) for v in (c.lr, c.momentum, c.weight_decay, c.dropout, c.clip))
    return [
        (c.cell in CELLS, f"cell must be one of {', '.join(CELLS)}"),
        (1 <= c.hidden <= 1024, "hidden size must be between 1 and 1024"),
        (1 <= c.layers <= 8, "layers must be between 1 and 8"),
        (finite, "numbers must be finite"),
        (0.0 <= c.dropout < 1.0, "dropout must be in [0, 1)"),
        (0.0 < c.lr <= 1000.0, "learning rate must be above 0 and at most 1000"),
        (c.optimizer in OPTIMIZERS, f"optimizer must be one of {', '.join(OPTIMIZERS)}"),
        (0.0 <= c.momentum < 1.0, "momentum must be in [0, 1)"),
        (c.weight_decay >= 0.0, "weight decay must not be negative"),
        (c.scheduler in SCHEDULERS, f"scheduler must be one of {', '.join(SCHEDULERS)}"),
        (1 <= c.batch_size <= 8192, "batch size must be between 1 and 8192"),
        (1 <= c.epochs <= 200, "epochs must be between 1 and 200"),
        (c.subset == 0 or c.subset >= 10, "training-set size must be 0 (all) or at least 10 digits"),
        (c.test_subset == 0 or c.test_subset >= 10, "test-set size must be 0 (all) or at least 10 digits"),
        (c.order in ORDERS, f"row order must be one of {', '.join(ORDERS)}"),
        (c.seed >= 0, "seed must not be negative"),
        (c.device in DEVICES, f"device must be one of {', '.join(DEVICES)}"),
        (c.precision in PRECISIONS, f"precision must be one of {', '.join(PRECISIONS)}"),
        (c.clip >= 0.0, "gradient clipping must not be negative"),
        (c.log_every >= 1, "log_every must be at least 1"),
        (c.max_steps >= 0, "max_steps must not be negative"),
    ]


PRESETS = {  # registry: name -> (label, one-line description, config)
    "lesson": ("Original lesson", "2×100 LSTM, SGD lr 0.1, batch 64, 10 epochs: the write-up's setup (98.15 %).",
               TrainConfig()),
    "fast": ("Fast & accurate", "1×128 LSTM with Adam and a one-cycle schedule: about 98 % in 3 epochs on a CPU.",
             TrainConfig(hidden=128, layers=1, lr=0.005, optimizer="adam", scheduler="one-cycle",
                         batch_size=128, epochs=3, clip=1.0, precision="auto")),
    "quick": ("Quick classroom run", "The fast model on 5,000 digits for 2 epochs: done in seconds on a laptop.",
              TrainConfig(hidden=128, layers=1, lr=0.005, optimizer="adam", scheduler="one-cycle",
                          batch_size=64, epochs=2, subset=5000, test_subset=2000, clip=1.0, log_every=10,
                          precision="auto")),
    "too-high-lr": ("Learning rate too high", "SGD at lr 50: the loss explodes within a few steps, on purpose.",
                    TrainConfig(lr=50.0, epochs=1, subset=5000, test_subset=2000, log_every=5)),
}


def preset(name: str, **overrides) -> TrainConfig:
    """A preset's config with some fields replaced."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    return replace(PRESETS[name][2], **overrides)


def fit_to_data(cfg: TrainConfig, n_train: int, n_test: int) -> tuple[TrainConfig, list[str]]:
    """`cfg` asking for no more digits than are loaded (more becomes 0 = all of them), and a note per change."""
    changes, notes = {}, []
    if cfg.subset >= n_train:  # e.g. the quick preset's 5,000 on the offline sample's 4,000
        changes["subset"] = 0
        if cfg.subset > n_train:
            notes.append(f"the loaded data has {n_train:,} training digits, so this run uses all of them")
    if cfg.test_subset >= n_test:
        changes["test_subset"] = 0
        if cfg.test_subset > n_test:
            notes.append(f"the loaded data has {n_test:,} test digits, so this run scores all of them")
    return replace(cfg, **changes), notes


def build_model(cfg: TrainConfig) -> RowClassifier:
    """A freshly initialised model for `cfg`, its weights fixed by cfg.seed."""
    model = RowClassifier(cfg.cell, cfg.hidden, cfg.layers, cfg.dropout)
    model.reset_parameters(cfg.seed)
    return model


def make_optimizer(cfg: TrainConfig, params) -> torch.optim.Optimizer:
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
    if scheduler == "one-cycle":  # linear warm-up over 30 %, then cosine down to nearly 0
        if progress < 0.3:
            return 0.04 + 0.96 * progress / 0.3
        return 0.5 * (1.0 + math.cos(math.pi * (progress - 0.3) / 0.7)) + 1e-4
    return 1.0


def train(cfg: TrainConfig, data: MnistData, model: RowClassifier,
          stop: threading.Event | None = None) -> Iterator[dict]:
    """Train `model` in place, yielding flat dicts: start, step (every log_every), epoch, then done/stopped/diverged.

    Closing the generator or setting `stop` leaves the model as trained so far.
    """
    cfg.validate()
    device = resolve_device(cfg.device)
    torch.manual_seed(cfg.seed)  # only dropout draws from the global generator
    model.to(device).train()
    data = data.to(device)
    pool = stratified_indices(data.train_y, cfg.subset, cfg.seed).to(device)
    steps_per_epoch = math.ceil(len(pool) / cfg.batch_size)
    total = steps_per_epoch * cfg.epochs if not cfg.max_steps else min(cfg.max_steps, steps_per_epoch * cfg.epochs)
    opt = make_optimizer(cfg, model.parameters())
    gen, order = torch.Generator().manual_seed(cfg.seed), get_order(cfg.order)
    bf16, clock = use_bf16(cfg.precision, device), _Clock()
    yield {"event": "start", "device": device_label(device), "device_type": device.type, "steps_total": total,
           "precision": "bf16" if bf16 else "fp32",
           "steps_per_epoch": steps_per_epoch, "n_train": len(pool), "params": model.n_params, "elapsed": 0.0}
    step = 0
    for epoch in range(1, cfg.epochs + 1):
        window = _Window()
        for bidx in batch_indices(len(pool), cfg.batch_size, gen):
            if stop is not None and stop.is_set():
                yield {"event": "stopped", "epoch": epoch, "step": step, "elapsed": clock.elapsed()}
                return
            for pg in opt.param_groups:
                pg["lr"] = cfg.lr * lr_factor(cfg.scheduler, step / max(total - 1, 1))
            idx = pool[bidx.to(device)]
            x = normalize(order.apply(data.train_x[idx], gen))  # (B, 28, 28) uint8 -> ordered float lines
            loss, correct = _step(model, opt, x, data.train_y[idx], cfg.clip, bf16)
            window.add(loss, correct, len(idx))
            step += 1
            if step % cfg.log_every == 0 or step == total:
                info = window.flush(clock)
                if not math.isfinite(info["loss"]) or info["loss"] > DIVERGED_LOSS:
                    yield _diverged(cfg, epoch, step, info["loss"], clock)
                    return
                yield {"event": "step", "epoch": epoch, "step": step, "lr": opt.param_groups[0]["lr"],
                       "progress": step / total, **info, "elapsed": clock.elapsed()}
            if step == total:
                break
        event, scores = _epoch_end(cfg, model, data, epoch, step, window, clock)
        yield event
        if step == total:
            break
    yield {"event": "done", "epoch": epoch, "step": step, "elapsed": clock.elapsed()}
    return scores  # the finished model's full test scores, so callers need not score it again


def run_to_end(run: Iterator[dict], on_event=lambda event: None) -> dict | None:
    """Drive a train() generator, handing each dict to `on_event`; the final test scores, or None if it ended early."""
    while True:
        try:
            on_event(next(run))
        except StopIteration as end:
            return end.value


def _step(model, opt, x, y, clip, bf16):
    """One optimisation step; returns the (unsynchronised) summed loss and correct count tensors."""
    with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=bf16):  # weights stay float32
        logits = model(x)
    loss = F.cross_entropy(logits.float(), y)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    if clip > 0:
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
    opt.step()
    return loss.detach() * len(y), (logits.argmax(1) == y).sum()


def _epoch_end(cfg, model, data, epoch, step, window, clock) -> tuple[dict, dict]:
    """The epoch's flat dict, and the full test scores it was read from."""
    test = evaluate(model, data, cfg.order, limit=cfg.test_subset, seed=cfg.seed)
    return ({"event": "epoch", "epoch": epoch, "step": step, "test_acc": test["acc"], "test_loss": test["loss"],
             "train_acc": window.epoch_acc(), "train_loss": window.epoch_loss(), "elapsed": clock.elapsed()}, test)


def _diverged(cfg, epoch, step, loss, clock) -> dict:
    return {"event": "diverged", "epoch": epoch, "step": step, "loss": loss, "elapsed": clock.elapsed(),
            "message": f"Training diverged at step {step}: the loss became {loss:.3g}. The learning rate "
                       f"{cfg.lr:g} is too high for {OPTIMIZERS[cfg.optimizer]}; lower it (try "
                       f"{cfg.lr / 10:g} or less) or turn on gradient clipping."}


class _Clock:
    def __init__(self):
        self.t0 = time.perf_counter()

    def elapsed(self) -> float:
        return time.perf_counter() - self.t0


class _Window:
    """Loss and accuracy since the last log (what the curve shows) and since the epoch began."""

    def __init__(self):
        self.loss = self.correct = 0.0
        self.count, self.t0 = 0, time.perf_counter()
        self.ep_loss = self.ep_correct = 0.0
        self.ep_count = 0

    def add(self, loss, correct, n):
        self.loss, self.correct, self.count = self.loss + loss, self.correct + correct, self.count + n

    def flush(self, clock) -> dict:
        loss, correct = float(self.loss), float(self.correct)  # one device sync per log step
        now = time.perf_counter()
        info = {"loss": loss / self.count, "acc": correct / self.count,
                "samples_per_s": self.count / max(now - self.t0, 1e-9)}
        self.ep_loss, self.ep_correct, self.ep_count = self.ep_loss + loss, self.ep_correct + correct, \
            self.ep_count + self.count
        self.loss = self.correct = 0.0
        self.count, self.t0 = 0, now
        return info

    def epoch_loss(self) -> float:
        return self.ep_loss / max(self.ep_count, 1)

    def epoch_acc(self) -> float:
        return self.ep_correct / max(self.ep_count, 1)
