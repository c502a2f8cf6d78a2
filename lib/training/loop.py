"""The pieces of lib.training.train's loop: one optimisation step, the progress window with its warm-up, and the clock."""

from __future__ import annotations

import time
from contextlib import nullcontext

import torch
import torch.nn.functional as F

from lib.messages import N_
from lib.models.seeding import PrivateStream

KEEPS = {"last": N_("the last epoch's"), "best": N_("the best validation epoch's")}  # the weights a run ends with
LOSSES = {"last-step": N_("after the last row only (the lesson)"), "every-step": N_("after every row")}  # what is
# trained: the answer after the last row alone, or the answer after every row (every_step below)


def optimisation_step(model, opt, x, y, clip, bf16, every_step: bool = False, stream: PrivateStream | None = None):
    """One optimisation step; returns the (unsynchronised) summed loss and correct count tensors.

    every_step: the loss is the mean over all 28 steps' answers (B, 28, 10), so the classifier learns to answer
    after any number of rows; otherwise only the last step's answer is trained, as in the lesson.
    stream: the run's private generator stream for dropout (the forward pass draws the masks; backward reuses them).
    """
    with (stream.active() if stream else nullcontext()), \
            torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=bf16):  # weights stay float32
        steps = model.step_logits(x) if every_step else None  # (B, 28, 10)
        logits = steps[:, -1] if every_step else model(x)  # (B, 10)
    if every_step:
        loss = F.cross_entropy(steps.float().flatten(0, 1), y.repeat_interleave(steps.shape[1]))
    else:
        loss = F.cross_entropy(logits.float(), y)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    if clip > 0:
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
    opt.step()
    return loss.detach() * len(y), (logits.argmax(1) == y).sum()


class Clock:
    def __init__(self):
        self.t0 = time.perf_counter()

    def elapsed(self) -> float:
        return time.perf_counter() - self.t0


class Window:
    """Loss and accuracy since the last log (what the curve shows) and since the epoch began.

    Speed (samples/s, and the run's time left) leaves out the run's first step once `warmed()` is called after it:
    that step pays for cuDNN's setup or MPS's graph compilation, and would make the first readings far too low.
    """

    def __init__(self):
        self.loss = self.correct = 0.0
        self.count, self.t0 = 0, time.perf_counter()
        self.warm_count, self.warm_t0 = 0, None  # samples of this window before the clock restarted, and when
        self.ep_loss = self.ep_correct = 0.0
        self.ep_count = 0

    def add(self, loss, correct, n):
        self.loss, self.correct, self.count = self.loss + loss, self.correct + correct, self.count + n

    def warmed(self) -> None:
        """The first step is done (and waited for): the speed clock starts now."""
        self.warm_count, self.warm_t0 = self.count, time.perf_counter()

    def flush(self, clock) -> dict:
        loss, correct = float(self.loss), float(self.correct)  # one device sync per log step
        now = time.perf_counter()
        timed, t0 = self.count, self.t0
        if self.warm_t0 is not None and self.count > self.warm_count:  # the warm-up step is left out of the speed
            timed, t0 = self.count - self.warm_count, self.warm_t0
        info = {"loss": loss / self.count, "acc": correct / self.count,
                "samples_per_s": timed / max(now - t0, 1e-9)}
        self.ep_loss, self.ep_correct, self.ep_count = self.ep_loss + loss, self.ep_correct + correct, \
            self.ep_count + self.count
        self.loss = self.correct = 0.0
        self.count, self.t0, self.warm_count, self.warm_t0 = 0, now, 0, None
        return info

    def end_epoch(self) -> None:
        """Count the steps since the last log in the epoch's totals too (they are logged with the next window)."""
        if self.count:
            self.ep_loss, self.ep_correct = self.ep_loss + float(self.loss), self.ep_correct + float(self.correct)
            self.ep_count += self.count
            self.loss = self.correct = 0.0
            self.count, self.warm_count, self.warm_t0 = 0, 0, None

    def epoch_loss(self) -> float:
        return self.ep_loss / max(self.ep_count, 1)

    def epoch_acc(self) -> float:
        return self.ep_correct / max(self.ep_count, 1)
