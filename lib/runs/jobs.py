"""Background training jobs: a FIFO queue with a cap on concurrent runs, stop, heartbeats and results.

Jobs on an accelerator wait in a line of their own: at most `max_gpu_jobs` train on a CUDA GPU at once, and one at a
time on Apple MPS (a backend not safe to drive from two threads, taken through a process-wide lock). They share one
copy of the data on the device, and a job that runs out of device memory ends alone, with its model back on the CPU.
"""

from __future__ import annotations

import itertools
import os
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Callable

import torch

from lib.data.mnist import MnistData
from lib.messages import N_, Message, Problem, msg
from lib.models.nets import Classifier
from lib.storage.checkpoints import card_from_run
from lib.training.config import TrainConfig, build_model, uses_dropout
from lib.training.devices import (
    CPU_OOM_SIGN,
    EXCLUSIVE,
    device_label,
    free_memory,
    is_out_of_memory,
    resolve_device,
    usable_cpus,
)
from lib.training.fit import fit

FINISHED = ("done", "stopped", "diverged", "error")
STATES = {"queued": N_("queued"), "running": N_("running"), "done": N_("done"), "stopped": N_("stopped"),
          "diverged": N_("diverged"), "error": N_("failed")}  # a job's state -> its label for people
BACKGROUND_NICE = 5  # training threads yield the CPU to the page scripts (nice 0) of the same server process
_ids = itertools.count(1)


def lower_thread_priority(nice: int = BACKGROUND_NICE) -> bool:
    """Run the calling thread, and the torch worker threads it goes on to start, at a lower CPU priority.

    Linux keeps a nice value per thread and new threads inherit it, so a job's OpenMP team runs at this level too.
    Elsewhere a thread id is not a process id, so nothing is changed there. True if the priority was lowered.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, max(nice, os.getpriority(os.PRIO_PROCESS, tid)))
        return True
    except OSError:
        return False


@dataclass
class Job:
    """One training run: its config, the dicts train() yielded so far, and its model and final result."""

    config: TrainConfig
    owner: str  # the browser session that started it
    name: str = ""
    id: int = field(default_factory=lambda: next(_ids))
    state: str = "queued"  # queued -> running -> done | stopped | diverged | error
    events: list = field(default_factory=list)  # append-only; readers take a len() snapshot
    model: Classifier | None = None
    result: dict | None = None  # evaluate() on the test set when the run ends
    message: Message | None = None  # why it diverged, stopped by itself or failed, for the UI to translate
    seconds: float = 0.0  # training time, queueing excluded
    stop_event: threading.Event = field(default_factory=threading.Event)
    group: int = 0  # runs started together with the same settings and other seeds share the first one's id
    device: str = "cpu"  # the device type it trains on (cpu | cuda | mps), chosen when it is submitted
    task: Callable[["Job"], None] | None = None  # a measurement that waits its turn like a run (submit_task)

    @property
    def finished(self) -> bool:
        return self.state in FINISHED

    def stop(self) -> None:
        """Ask the run to end after its current step (well within a second); the model is kept."""
        self.stop_event.set()

    def last(self, event: str) -> dict | None:
        """The newest dict of one kind ('step', 'epoch', 'start', ...), or None."""
        return next((e for e in reversed(self.events[:]) if e["event"] == event), None)

    def of_kind(self, event: str) -> list[dict]:
        return [e for e in self.events[:] if e["event"] == event]

    def summary(self) -> dict:
        """One flat row for a runs table: config, outcome, accuracy, time, device."""
        c, start = self.config, self.last("start") or {}
        return {"run": self.id, "name": self.name, "family": c.family, "hidden": c.hidden, "layers": c.layers,
                "optimizer": c.optimizer, "lr": c.lr, "batch": c.batch_size, "epochs": c.epochs, "order": c.order,
                "digits": start.get("n_train", c.subset), "state": self.state,
                "test_acc": self.result["acc"] if self.result else None,
                "seconds": round(self.seconds, 1), "device": start.get("device", "")}

    def card(self, data: dict) -> dict:
        """The checkpoint card of a finished run (config, metrics, data, timing), for saving or download."""
        if self.result is None:
            raise ValueError("this run has no test result to put in a card")
        return card_from_run(self.name or f"run-{self.id}", self.config, self.result, data, self.events[:],
                             self.seconds)


class JobManager:
    """Runs at most `max_running` CPU jobs and `max_gpu_jobs` CUDA jobs at once (one on MPS), each line in submission
    order; the others wait with a queue position."""

    device_locks = {kind: threading.Lock() for kind in EXCLUSIVE}  # process-wide: a job holds its device's to train

    def __init__(self, max_running: int = 1, heartbeat_timeout: float = 60.0, threads: int | None = None,
                 max_gpu_jobs: int = 2):
        self.max_running = max(1, int(max_running))
        self.max_gpu_jobs = max(1, int(max_gpu_jobs))
        self.heartbeat_timeout = heartbeat_timeout
        self._active: list[Job] = []  # queued and running jobs, oldest first
        self._seen: dict[str, float] = {}
        self._cond = threading.Condition()
        self._copies: dict[tuple[int, str], tuple[MnistData, MnistData, int]] = {}  # data on a device, and its users
        self._copy_lock = threading.Lock()
        # Concurrent jobs share the cores: give each its share instead of letting them oversubscribe.
        torch.set_num_threads(threads or max(1, usable_cpus() // self.max_running))
        threading.Thread(target=self._reap_forever, daemon=True, name="job-reaper").start()

    def submit(self, cfg: TrainConfig, data: MnistData, owner: str, name: str = "", group: int = 0) -> Job:
        """Validate and queue a run (ValueError before anything is queued if the config is impossible, or its
        device is missing or cannot run a tiny op)."""
        cfg.validate()
        device = resolve_device(cfg.device, cfg.family, cfg.batch_size, uses_dropout(cfg))
        job = Job(cfg, owner, name, group=group, device=device.type)
        with self._cond:
            self._active.append(job)
            self._seen[owner] = time.time()
        threading.Thread(target=self._run, args=(job, data), daemon=True, name=f"job-{job.id}").start()
        return job

    def submit_task(self, task: Callable[[Job], None], owner: str, name: str, device: str = "cpu") -> Job:
        """Queue work that is not a training run (lib.experiments.scaling's measurement) in the same line as the runs, so it
        never times itself against a run training beside it; `task(job)` appends its progress to job.events."""
        job = Job(TrainConfig(), owner, name, device=device, task=task)
        with self._cond:
            self._active.append(job)
            self._seen[owner] = time.time()
        threading.Thread(target=self._run, args=(job, None), daemon=True, name=f"task-{job.id}").start()
        return job

    def position(self, job: Job) -> int:
        """1-based place in its device's waiting line (the CPU's or the GPU's), 0 if running or finished."""
        with self._cond:
            waiting = [j for j in self._active if j.state == "queued" and j.device == job.device]
        return waiting.index(job) + 1 if job in waiting else 0

    def cap(self, device: str = "cpu") -> int:
        """How many jobs may train at once on a device type: one where the backend is not thread-safe (MPS)."""
        return 1 if device in EXCLUSIVE else self.max_gpu_jobs if device != "cpu" else self.max_running

    def counts(self) -> dict:
        with self._cond:
            running = sum(j.state == "running" for j in self._active)
            return {"running": running, "queued": len(self._active) - running, "cap": self.max_running}

    def touch(self, owner: str) -> None:
        """Heartbeat from a browser session: its jobs are alive."""
        self._seen[owner] = time.time()

    def reap(self, now: float | None = None) -> list[Job]:
        """Stop the jobs whose session has not sent a heartbeat within heartbeat_timeout."""
        now = now or time.time()
        with self._cond:
            gone = [j for j in self._active if now - self._seen.get(j.owner, 0) > self.heartbeat_timeout]
            owners = {j.owner for j in self._active}  # forget sessions with nothing running: memory stays bounded
            self._seen = {o: t for o, t in self._seen.items() if o in owners or now - t <= self.heartbeat_timeout}
        for job in gone:
            job.message = msg("job.session_closed")
            job.stop()
        return gone

    def _reap_forever(self) -> None:
        while True:
            time.sleep(min(5.0, self.heartbeat_timeout / 2))
            self.reap()

    def _wait_turn(self, job: Job) -> tuple[bool, threading.Lock | None]:
        """Block until `job` is among the first cap() active jobs of its device and holds that device's lock, if it
        has one; (False, None) if stopped while queued. It stays "queued", with its place, until then."""
        lock = self.device_locks.get(job.device)
        with self._cond:
            while True:
                line = [j for j in self._active if j.device == job.device]
                if line.index(job) < self.cap(job.device) and (lock is None or lock.acquire(blocking=False)):
                    job.state = "running"
                    return True, lock
                if job.stop_event.is_set():
                    return False, None
                self._cond.wait(0.5)  # woken at once when a job ends; the timeout notices a Stop or another holder

    def _run(self, job: Job, data: MnistData) -> None:
        lower_thread_priority()  # a class's page runs stay quick while a job trains (docs/benchmarks.md)
        lock, shared = None, False
        try:
            started, lock = self._wait_turn(job)
            if not started:
                job.state = "stopped"
                return
            if job.task is not None:
                job.task(job)
                job.state = "done"
                return
            on_device, shared = self._take_copy(data, job.device), job.device != "cpu"
            _execute(job, on_device)
        except Exception as exc:  # noqa: BLE001 - a failed job reports, the server lives on
            job.state, job.message = "error", _failure(job, exc)
            if not is_out_of_memory(exc):
                traceback.print_exc()
        finally:  # the failed run's tensors are gone with its traceback now; its model goes back to the CPU
            if job.model is not None and job.state == "error":
                job.model.to("cpu").eval()
            dropped = self._drop_copy(data, job.device) if shared else False
            if job.device != "cpu" and (job.state == "error" or dropped):
                free_memory(job.device)  # before the lock is released: MPS is never driven from two threads
            if lock is not None:
                lock.release()
            with self._cond:
                self._active.remove(job)
                self._cond.notify_all()

    def _take_copy(self, data: MnistData, device: str) -> MnistData:
        """The digits on `device`: one copy shared by every job training there, made by the first of them."""
        if device == "cpu":
            return data
        with self._copy_lock:
            key = (id(data), device)
            source, copy, users = self._copies.get(key, (None, None, 0))
            if source is not data:  # a new data set (an id is reused only once its copy is gone)
                copy, users = data.to(device), 0
            self._copies[key] = (data, copy, users + 1)
            return copy

    def _drop_copy(self, data: MnistData, device: str) -> bool:
        """One job less on a device's copy; True when it was the last and the copy was let go."""
        with self._copy_lock:
            key = (id(data), device)
            if key not in self._copies:
                return False
            source, copy, users = self._copies[key]
            if users > 1:
                self._copies[key] = (source, copy, users - 1)
                return False
            del self._copies[key]
            return True


def seed_groups(jobs: list[Job]) -> list[list[Job]]:
    """The scored runs started together with the same settings and other seeds, one list per group of two or more."""
    groups: dict[int, list[Job]] = {}
    for job in jobs:
        if job.group and job.result is not None:
            groups.setdefault(job.group, []).append(job)
    return [runs for runs in groups.values() if len(runs) > 1]


def _failure(job: Job, exc: Exception) -> Message:
    """Why a job failed, for people: out of device memory (with advice), a problem lib described, or the error."""
    if is_out_of_memory(exc):
        if job.device == "cpu" or CPU_OOM_SIGN in str(exc):  # the server's memory, also during a GPU run
            return msg("job.out_of_memory_cpu")  # not lib's English "CPU (2 threads)" inside a translated sentence
        start = job.last("start")
        return msg("job.out_of_memory", device=start["device"] if start else device_label(torch.device(job.device)))
    if isinstance(exc, Problem):
        return exc.messages[0]
    return msg("job.failed", error=f"{type(exc).__name__}: {exc}")


def _execute(job: Job, data: MnistData) -> None:
    """Train through lib.training.fit (the same end-of-run scoring as the CLI), mirroring every dict into job.events."""
    job.model = build_model(job.config)
    fitted = fit(job.config, data, job.model, stop=job.stop_event, on_event=job.events.append)
    job.seconds, job.result = fitted.seconds, fitted.scores
    if "message" in fitted.end:  # why it diverged, or that a finished run did not learn
        job.message = Message.from_dict(fitted.end["message"])
    job.model.to("cpu").eval()
    job.state = fitted.end["event"]
