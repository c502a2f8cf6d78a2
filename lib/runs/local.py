"""The default executor: training jobs in threads of this server process, a FIFO line per device with a cap on how
many train at once, Stop, heartbeats from the pages, and results kept in memory.

Jobs on an accelerator wait in a line of their own: at most `max_gpu_jobs` train on a CUDA GPU at once, and one at a
time on Apple MPS (a backend not safe to drive from two threads, taken through a process-wide lock). A GPU job also
waits until the memory it may need (lib.training.memory's estimate) is free beside the jobs training there, and one
that could never fit on the card is refused when it is submitted. They share one copy of the data on the device, and
a job that runs out of device memory all the same ends alone, with its model back on the CPU.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import traceback
from typing import Callable

import torch

from lib.data.mnist import MnistData
from lib.messages import Problem, msg
from lib.runs.device_data import SharedCopies
from lib.runs.execute import execute, failure
from lib.runs.executor import Executor
from lib.runs.job import Job
from lib.training.config import TrainConfig, uses_dropout
from lib.training.devices import EXCLUSIVE, accelerator_name, free_memory, is_out_of_memory, resolve_device, usable_cpus
from lib.training.memory import GB, allocated, data_bytes, device_memory, estimate_bytes, limit_mps_memory, room

BACKGROUND_NICE = 5  # training threads yield the CPU to the page scripts (nice 0) of the same server process


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


class LocalExecutor(Executor):
    """Runs at most `max_running` CPU jobs and `max_gpu_jobs` CUDA jobs at once (one on MPS), each line in submission
    order; the others wait with a queue position."""

    name = "local"
    device_locks = {kind: threading.Lock() for kind in EXCLUSIVE}  # process-wide: a job holds its device's to train

    def __init__(self, max_running: int = 1, heartbeat_timeout: float = 60.0, threads: int | None = None,
                 max_gpu_jobs: int = 2, limits=None, mps_memory_fraction: float | None = None):
        super().__init__(limits, heartbeat_timeout)
        limit_mps_memory(mps_memory_fraction)  # before any job allocates on Apple's GPU (nothing without one)
        self.max_running = max(1, int(max_running))
        self.max_gpu_jobs = max(1, int(max_gpu_jobs))
        self.worker = f"{socket.gethostname()} pid {os.getpid()}"
        self._active: list[Job] = []  # queued and running jobs, oldest first
        self._cond = threading.Condition()
        self._copies = SharedCopies()
        # Concurrent jobs share the cores: give each its share instead of letting them oversubscribe.
        torch.set_num_threads(threads or max(1, usable_cpus() // self.max_running))
        self.start_reaper()

    def submit(self, cfg: TrainConfig, data: MnistData, owner: str, name: str = "", group: int = 0) -> Job:
        """Check and queue a run (a Problem before anything is queued if the config is impossible, breaks a classroom
        limit, its device is missing or cannot run a tiny op, or it needs more memory than the GPU has in all)."""
        self.check(cfg, data)
        device = resolve_device(cfg.device, cfg.family, cfg.batch_size, uses_dropout(cfg))
        need = estimate_bytes(cfg) if device.type != "cpu" else 0
        memory = device_memory(device.type)
        if memory is not None and need > memory[1]:
            raise Problem(msg("job.too_big_for_device", need=need / GB, total=memory[1] / GB,
                              device=accelerator_name(device.type)))
        job = Job(cfg, owner, name, group=group, device=device.type, executor=self.name, worker=self.worker,
                  need_bytes=need)
        self._queue(job, data)
        return job

    def submit_task(self, task: Callable[[Job], None], owner: str, name: str, device: str = "cpu") -> Job:
        """Queue work that is not a training run (lib.experiments.scaling's measurement) in the same line as the
        runs; it runs alone on its device (see _may_start), so it never times itself against a run training beside
        it; `task(job)` appends its progress to job.events."""
        job = Job(TrainConfig(), owner, name, device=device, task=task, executor=self.name, worker=self.worker)
        self._queue(job, None)
        return job

    def _queue(self, job: Job, data: MnistData | None) -> None:
        with self._cond:
            self._active.append(job)
        self.touch(job.owner)
        kind = "task" if job.task else "job"
        threading.Thread(target=self._run, args=(job, data), daemon=True, name=f"{kind}-{job.id}").start()

    def position(self, job: Job) -> int:
        """1-based place in its device's waiting line (the CPU's or the GPU's), 0 if running or finished."""
        with self._cond:
            waiting = [j for j in self._active if j.state == "queued" and j.device == job.device]
        return waiting.index(job) + 1 if job in waiting else 0

    def cap(self, device: str = "cpu") -> int:
        """How many jobs may train at once on a device type: one where the backend is not thread-safe (MPS)."""
        return 1 if device in EXCLUSIVE else self.max_gpu_jobs if device != "cpu" else self.max_running

    def counts(self, device: str = "cpu") -> dict:
        with self._cond:
            line = [j for j in self._active if j.device == device]
        running = sum(j.state == "running" for j in line)
        return {"running": running, "queued": len(line) - running, "cap": self.cap(device)}

    def unfinished(self) -> list[Job]:
        with self._cond:
            return list(self._active)

    def _wait_turn(self, job: Job, data: MnistData | None) -> tuple[bool, threading.Lock | None]:
        """Block until `job` may start (_may_start), its memory is free (_fits) and it holds its device's lock, if it
        has one; (False, None) if stopped while queued. It stays "queued", with its place, until then."""
        lock = self.device_locks.get(job.device)
        with self._cond:
            while True:
                if self._may_start(job) and self._fits(job, data) and (lock is None or lock.acquire(blocking=False)):
                    job.state = "running"
                    return True, lock
                if job.stop_event.is_set():
                    return False, None
                self._cond.wait(0.5)  # woken at once when a job ends; the timeout notices a Stop or another holder

    def _may_start(self, job: Job) -> bool:
        """Whether `job` may start now (called holding self._cond): it is among the first cap() active jobs of its
        device, and no measurement (a task) is ahead of it there; a task itself starts only first in its line, when
        nothing else runs on the device, and nothing behind it starts until it ends."""
        line = [j for j in self._active if j.device == job.device]
        place = line.index(job)
        if job.task is not None:
            return place == 0
        return place < self.cap(job.device) and not any(j.task is not None for j in line[:place])

    def _fits(self, job: Job, data: MnistData | None) -> bool:
        """Whether the GPU has room now for what `job` may need (its estimate, plus the data if no job there holds a
        copy yet) beside what the jobs training there may still grow to; if not, job.waiting says so."""
        memory = device_memory(job.device) if job.need_bytes else None
        if memory is None:
            return True
        running = [j for j in self._active if j.device == job.device and j.state == "running"]
        need = job.need_bytes + (0 if data is None or self._copies.holds(data, job.device) else data_bytes(data))
        left = room(memory[0], sum(j.need_bytes for j in running), allocated(job.device))
        job.waiting = None if need <= left else msg("job.waiting_for_memory", need=need / GB, free=max(left, 0) / GB)
        return job.waiting is None

    def _run(self, job: Job, data: MnistData | None) -> None:
        lower_thread_priority()  # a class's page runs stay quick while a job trains (docs/benchmarks.md)
        lock, shared = None, False
        try:
            started, lock = self._wait_turn(job, data)
            if not started:
                job.state = "stopped"
                return
            if job.task is not None:
                job.task(job)
                job.state = "done"
                return
            on_device, shared = self._copies.take(data, job.device), job.device != "cpu"
            execute(job, on_device)
        except Exception as exc:  # noqa: BLE001 - a failed job reports, the server lives on
            job.state, job.message = "error", failure(job, exc)
            if not is_out_of_memory(exc):
                traceback.print_exc()
        finally:  # the failed run's tensors are gone with its traceback now; its model goes back to the CPU
            if job.model is not None and job.state == "error":
                job.model.to("cpu").eval()
            dropped = self._copies.drop(data, job.device) if shared else False
            if job.device != "cpu" and (job.state == "error" or dropped):
                free_memory(job.device)  # before the lock is released: MPS is never driven from two threads
            if lock is not None:
                lock.release()
            with self._cond:
                self._active.remove(job)
                self._cond.notify_all()
