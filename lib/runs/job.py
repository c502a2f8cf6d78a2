"""A handle on one run, what the pages hold: its record (plain data, lib.runs.record), Stop, and its model."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Callable

from lib.messages import Message
from lib.models.nets import Classifier
from lib.runs.record import RunRecord


@dataclass
class Job(RunRecord):
    """A run as an executor hands it out: the record it keeps up to date, plus what only this process has."""

    stop_event: threading.Event = field(default_factory=threading.Event, repr=False)
    task: Callable[["Job"], None] | None = field(default=None, repr=False)  # a measurement waiting its turn like a
    # run (Executor.submit_task), instead of training
    model: Classifier | None = field(default=None, repr=False)  # the trained model, on the CPU in eval mode (from
    # the executor's own training, or rebuilt from the record's safetensors bytes when another process trained it)
    need_bytes: int = 0  # the device memory it may take at most (lib.training.memory.estimate_bytes), on a GPU
    waiting: Message | None = field(default=None, repr=False)  # why it is still queued beyond its place in line
    # (not enough free GPU memory yet), for the UI to translate
    on_stop: Callable[["Job"], None] | None = field(default=None, repr=False)  # how an executor whose runs train in
    # another process passes a Stop on (lib.runs.ray_executor)

    def stop(self) -> None:
        """Ask the run to end after its current step (well within a second); the model is kept."""
        self.stop_event.set()
        if self.on_stop is not None:
            self.on_stop(self)
