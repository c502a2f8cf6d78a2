"""What every executor offers the pages: submit a run (or a measurement), its place in line, the caps, heartbeats.
The in-process queue (lib.runs.local) is the default; pages never know which one runs their jobs."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Callable

from lib.data.mnist import MnistData
from lib.messages import Problem
from lib.runs.job import Job
from lib.training.config import TrainConfig, classroom_problems


class Executor(ABC):
    """Runs training jobs in the background; `limits()` gives the classroom caps (lib.runs.settings.Settings) every
    submitted config must keep, read at each submission (a teacher may change them while the server runs)."""

    name = ""  # what a run's record says ran it

    def __init__(self, limits: Callable[[], object] | None = None):
        self.limits = limits

    def check(self, cfg: TrainConfig, data: MnistData) -> None:
        """Raise a Problem naming every impossible setting or broken classroom limit, before anything is queued."""
        cfg.validate()
        broken = classroom_problems(cfg, self.limits(), n_train=len(data.train_y)) if self.limits else []
        if broken:
            raise Problem(*broken)

    @abstractmethod
    def submit(self, cfg: TrainConfig, data: MnistData, owner: str, name: str = "", group: int = 0) -> Job:
        """Check and queue a run; its Job fills in as it trains."""

    @abstractmethod
    def submit_task(self, task: Callable[[Job], None], owner: str, name: str, device: str = "cpu") -> Job:
        """Queue work that is not a training run (a measurement) in the same line as the runs of its device; it runs
        alone there: it starts when nothing else runs on that device, and nothing starts beside it until it ends."""

    @abstractmethod
    def position(self, job: Job) -> int:
        """1-based place in its device's waiting line, 0 if running or finished."""

    @abstractmethod
    def cap(self, device: str = "cpu") -> int:
        """How many jobs may train at once on a device type."""

    @abstractmethod
    def counts(self, device: str = "cpu") -> dict:
        """{"running", "queued", "cap"} on one device type."""

    @abstractmethod
    def touch(self, owner: str) -> None:
        """Heartbeat from a browser session: its jobs are alive."""
