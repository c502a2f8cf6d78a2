"""Training as a generator of flat dicts (start, step, epoch, then done, stopped or diverged), which the UI, the
CLI and the job log only read."""

from __future__ import annotations

import math
import threading
from typing import Iterator

import torch

from lib.data.mnist import MnistData, stratified_indices
from lib.data.orders import ORDERS
from lib.experiments.evaluate import evaluate
from lib.messages import Term, msg
from lib.models.nets import model_input
from lib.models.seeding import PrivateStream, seed_accelerator
from lib.training.config import TrainConfig, uses_dropout
from lib.training.devices import choose_device, device_label, exact_fp32, synchronize, use_bf16
from lib.training.loop import Clock as _Clock
from lib.training.loop import Window as _Window
from lib.training.loop import optimisation_step
from lib.training.memory import limit_mps_memory
from lib.training.optim import OPTIMIZERS, make_optimizer, make_schedule

DIVERGED_LOSS = 50.0  # a mean loss above this (chance is ln 10 = 2.3) means the run blew up
CHANCE_LOSS = math.log(10)  # the loss of a uniform guess over 10 classes
NOT_LEARNING_ACC = 0.2  # a last epoch below this training accuracy (chance: 0.1) has learned next to nothing
LESSON_SGD_LR = 0.1  # the lesson's learning rate: what SGD is advised towards
SGD_STEPS_TO_LEAVE_CHANCE = 370  # the lesson's model with SGD at 0.1 left chance after 330-370 steps (5 seeds, full
# MNIST, AMD EPYC; `python -m bench.sgd_start`, docs/benchmarks.md): a run that stopped sooner was cut short
ADAM_RANGE = (0.001, 0.01)  # where Adam learned every shipped family here (its tuning grid, lib.storage.pretrained)


def train(cfg: TrainConfig, data: MnistData, model: torch.nn.Module,
          stop: threading.Event | None = None) -> Iterator[dict]:
    """Train `model` in place, yielding flat dicts: start, step (every log_every), epoch, then done/stopped/diverged.

    Closing the generator or setting `stop` leaves the model as trained so far. Randomness is private to the run:
    weights, batches and random orders use its own generators, and on a CPU dropout draws from the run's own stream
    of the process-wide generator (lib.models.seeding.PrivateStream), so runs training side by side never disturb each other.
    On a GPU cuDNN keeps one dropout state per device, drawn from the accelerator's generator, which is seeded here
    (dropout_randomness): a GPU dropout run is reproducible alone, not bit for bit beside another GPU dropout run.
    """
    cfg.validate()
    device, note = choose_device(cfg.device, cfg.family, cfg.batch_size, uses_dropout(cfg))
    stream = dropout_randomness(cfg, device)
    exact_fp32(device)  # float32 on a GPU means float32, as on the CPU that trained the cards (no TF32)
    if device.type == "mps":
        limit_mps_memory()  # PyTorch's default limit lets a big run swap the machine (the server sets its own first)
    model.to(device).train()
    data = data.to(device)  # a no-op when lib.runs.device_data hands over its shared copy on this device
    pool, held_out = split_validation(stratified_indices(data.train_y, cfg.subset, cfg.seed), cfg.validation)
    pool = pool.to(device)
    steps_per_epoch = math.ceil(len(pool) / cfg.batch_size)
    total = steps_per_epoch * cfg.epochs if not cfg.max_steps else min(cfg.max_steps, steps_per_epoch * cfg.epochs)
    opt = make_optimizer(cfg.optimizer, model.parameters(), cfg.lr, cfg.momentum, cfg.weight_decay)
    schedule = make_schedule(cfg.scheduler, opt, total)  # sets the rate of every step, the first one too
    gen = torch.Generator().manual_seed(cfg.seed)
    bf16, clock = use_bf16(cfg.precision, device), _Clock()
    yield {"event": "start", "device": device_label(device), "device_type": device.type, "steps_total": total,
           "threads": torch.get_num_threads() if device.type == "cpu" else 0,
           "precision": "bf16" if bf16 else "fp32",
           "steps_per_epoch": steps_per_epoch, "n_train": len(pool), "n_validation": len(held_out),
           "params": model.n_params, "elapsed": 0.0, **({"message": note.to_dict()} if note else {})}
    step, warm_at, best = 0, 0.0, _Best(cfg.keep == "best")
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
                yield {"event": "stopped", "epoch": epoch, "step": step, "elapsed": clock.elapsed(),
                       **best.restore(model)}
                return
            idx = shuffled[first:first + cfg.batch_size]
            x = model_input(data.train_x[idx], cfg.order, gen,  # (B, 28, 28) uint8 -> ordered float lines
                            None if lines is None else lines[first:first + cfg.batch_size], cfg.steps_per_row)
            loss, correct = optimisation_step(model, opt, x, data.train_y[idx], cfg.clip, bf16,
                                              cfg.loss == "every-step", stream)
            lr = opt.param_groups[0]["lr"]  # the rate this step used
            schedule.step()
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
                yield {"event": "step", "epoch": epoch, "step": step, "lr": lr,
                       "progress": step / total, **info, "elapsed": elapsed, "left_s": left}
            if step == total:
                break
        window.end_epoch()  # the steps since the last log count in the epoch's training accuracy too
        event, scores = _epoch_end(cfg, model, data, held_out, epoch, step, window, clock)
        best.offer(event, model)
        yield event
        if step == total:
            break
    yield {"event": "done", "epoch": epoch, "step": step, "elapsed": clock.elapsed(), **_verdict(cfg, event),
           **best.restore(model)}
    # the last epoch's test scores, so lib.training.fit need not score them again when they cover every test digit
    return scores if scores["split"] == "test" else None


def dropout_randomness(cfg: TrainConfig, device: torch.device) -> PrivateStream | None:
    """Where a run's dropout masks come from: on the CPU its private stream (returned); on an accelerator the device's
    own generator, seeded with the run's seed (nothing returned; the CPU's generator is left alone)."""
    if not uses_dropout(cfg):
        return None
    if device.type == "cpu":
        return PrivateStream(cfg.seed)
    seed_accelerator(device, cfg.seed)
    return None


class _Best:
    """The weights of the epoch with the best validation accuracy (early stopping), when the run keeps those."""

    def __init__(self, wanted: bool):
        self.wanted, self.acc, self.epoch, self.state = wanted, -1.0, 0, None

    def offer(self, event: dict, model: torch.nn.Module) -> None:
        if self.wanted and event.get("val_acc", -1.0) > self.acc:
            self.acc, self.epoch = event["val_acc"], event["epoch"]
            self.state = {k: v.detach().clone() for k, v in model.state_dict().items()}

    def restore(self, model: torch.nn.Module) -> dict:
        """Put the best epoch's weights back; what the end event says of it ({} when the run keeps its last)."""
        if self.state is None:
            return {}
        model.load_state_dict(self.state)
        return {"kept_epoch": self.epoch, "kept_val_acc": self.acc}


def split_validation(pool: torch.Tensor, share: float) -> tuple[torch.Tensor, torch.Tensor]:
    """(digits to train on, digits held out to score each epoch): the last `share` of the shuffled, class-balanced
    pool is held out, so it is roughly balanced too; share 0 holds out nothing."""
    held = int(round(len(pool) * share))
    return (pool[:len(pool) - held], pool[len(pool) - held:]) if held else (pool, pool[:0])


def _epoch_end(cfg, model, data, held_out, epoch, step, window, clock) -> tuple[dict, dict]:
    """The epoch's flat dict and the scores it was read from: on the held-out validation digits, or (validation 0,
    the lesson's way) on the test set. Its `scored` key says which ("val" or "test"), and the scores are under
    val_acc/val_loss/val_n or test_acc/test_loss/test_n (held_out reads them)."""
    if len(held_out):
        scores, prefix = evaluate(model, data, cfg.order, seed=cfg.seed, indices=held_out), "val"
    else:
        scores, prefix = evaluate(model, data, cfg.order, limit=cfg.test_subset, seed=cfg.seed), "test"
    return ({"event": "epoch", "epoch": epoch, "step": step, "scored": prefix, f"{prefix}_acc": scores["acc"],
             f"{prefix}_loss": scores["loss"], f"{prefix}_n": scores["n"], "train_acc": window.epoch_acc(),
             "train_loss": window.epoch_loss(), "elapsed": clock.elapsed()}, scores)


def scored_on(epoch: dict) -> str:
    """What an epoch dict scored: "val" (held-out validation digits) or "test" (its `scored` key; a card's history
    written before that key existed says it by its keys)."""
    return epoch.get("scored") or ("val" if "val_acc" in epoch else "test")


def held_out(epoch: dict) -> dict:
    """An epoch dict's score on the digits it held out: {"split": "val" | "test", "acc", "loss", "n"}."""
    split = scored_on(epoch)
    return {"split": split, "acc": epoch[f"{split}_acc"], "loss": epoch[f"{split}_loss"],
            "n": epoch.get(f"{split}_n")}  # cards written before the count was logged lack it


def _verdict(cfg, last_epoch: dict) -> dict:
    """{"message": …} when the trained model is still near chance: after its last epoch, on the digits it held out
    (validation or test), a loss at or above 90% of ln 10, or under 20% right. The held-out score, not the epoch's
    running training mean, which for a short run is dragged down by its first steps."""
    held = held_out(last_epoch)
    if held["loss"] < 0.9 * CHANCE_LOSS and held["acc"] >= NOT_LEARNING_ACC:
        return {}
    optimizer, steps = OPTIMIZERS[cfg.optimizer], last_epoch["step"]
    advice = msg(not_learning_advice(cfg.optimizer, cfg.lr, steps), lr=cfg.lr, steps=steps,
                 optimizer=Term(optimizer.label), needed=SGD_STEPS_TO_LEAVE_CHANCE, lesson=LESSON_SGD_LR,
                 low=ADAM_RANGE[0], high=ADAM_RANGE[1])
    found = msg("train.not_learning_val" if held["split"] == "val" else "train.not_learning_test",
                loss=held["loss"], chance=CHANCE_LOSS, acc=held["acc"], n=held["n"] or 0, advice=advice)
    return {"verdict": "not_learning", "message": found.to_dict()}


def not_learning_advice(optimizer: str, lr: float, steps: int) -> str:
    """Which advice a run that stayed near chance gets (a lib.messages id), from its optimizer, its learning rate and
    how many steps it took: SGD below the lesson's rate should try it; SGD at it, cut short before it could leave
    chance, needs more steps (or momentum, or Adam); SGD above it should lower it; Adam outside its usual range should
    go back into it, and inside it needs more steps."""
    if OPTIMIZERS[optimizer].adaptive:
        if lr > ADAM_RANGE[1]:
            return "advice.adaptive_high"
        return "advice.adaptive_low" if lr < ADAM_RANGE[0] else "advice.adaptive_short"
    if lr < LESSON_SGD_LR * 0.99:
        return "advice.sgd_low"
    if lr > LESSON_SGD_LR * 1.01:
        return "advice.sgd_high"
    return "advice.sgd_short" if steps < SGD_STEPS_TO_LEAVE_CHANCE else "advice.sgd_stuck"


def _diverged(cfg, epoch, step, loss, clock) -> dict:
    optimizer = OPTIMIZERS[cfg.optimizer]
    advice = msg("train.diverged_adaptive" if optimizer.adaptive else "train.diverged", step=step, loss=loss,
                 lr=cfg.lr, optimizer=Term(optimizer.label), suggested=cfg.lr / 10)
    return {"event": "diverged", "epoch": epoch, "step": step, "loss": loss, "elapsed": clock.elapsed(),
            "message": advice.to_dict()}
