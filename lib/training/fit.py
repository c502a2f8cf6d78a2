"""The one driver of train(): the CLI, the job queue and make-pretrained all run a config to its end through here."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator

from lib.data.mnist import MnistData
from lib.experiments.evaluate import evaluate
from lib.models.nets import Classifier
from lib.training.config import TrainConfig, build_model
from lib.training.train import train


@dataclass
class Fitted:
    """What a run left: its model, every dict train() yielded, the final test scores (None if there are none)."""

    model: Classifier
    events: list = field(default_factory=list)
    scores: dict | None = None  # evaluate() on every loaded test digit; None if it diverged or never stepped
    seconds: float = 0.0  # training and its per-epoch scoring, not the final scoring

    @property
    def end(self) -> dict:
        return self.events[-1] if self.events else {"event": "stopped"}


def run_to_end(run: Iterator[dict], on_event: Callable[[dict], None] = lambda event: None) -> dict | None:
    """Drive a train() generator, handing each dict to `on_event`; its last epoch's scores, or None if it stopped."""
    while True:
        try:
            on_event(next(run))
        except StopIteration as end:
            return end.value


def fit(cfg: TrainConfig, data: MnistData, model: Classifier | None = None, stop: threading.Event | None = None,
        on_event: Callable[[dict], None] = lambda event: None) -> Fitted:
    """Train a fresh model (or `model`) by `cfg`, then score it on all the loaded test digits.

    The end-of-run rule, the same for every caller: a run that diverged, or was stopped before its first step, has no
    scores; any other run (finished, or stopped midway and kept as trained so far) is scored on every test digit,
    reusing its last epoch's scores when those were already on all of them.
    """
    fitted = Fitted(model if model is not None else build_model(cfg))
    t0 = time.perf_counter()
    try:
        last_epoch = run_to_end(train(cfg, data, fitted.model, stop=stop),
                                lambda e: (fitted.events.append(e), on_event(e)))
    except BaseException:  # out of device memory, or any other failure: the model leaves the device with it
        fitted.model.to("cpu")
        raise
    fitted.seconds = time.perf_counter() - t0
    stepped = any(e["event"] == "step" for e in fitted.events)
    if fitted.end["event"] != "diverged" and stepped:
        complete = last_epoch is not None and last_epoch["n"] == len(data.test_y)
        fitted.scores = last_epoch if complete else evaluate(fitted.model, data, cfg.order)
    return fitted
