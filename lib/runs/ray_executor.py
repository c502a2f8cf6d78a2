"""Training jobs on a Ray cluster, behind the same interface as the in-process queue (lib.runs.executor).

The app never imports Ray: a driver process of its own (lib.runs.ray_driver) talks to the cluster, and this module
talks to the driver over lib.runs.wire. Each run asks Ray for `cpus` CPUs (its torch threads) and, when it trains on
a GPU, `gpu_fraction` of one, so that several small jobs share a card; Ray queues what does not fit. The handles the
pages hold fill in as the driver relays the runs' batches: "running" with the worker's name, events at most every
lib.runs.ray_worker.FLUSH_S, then the final record with the weights as safetensors bytes and their card, from which
the model is rebuilt here. A worker that dies ends its run in "error" with its curve kept (no retry: a second try
would redraw the curve from its start while the student watches); a lost cluster ends every unfinished run so.
Measurements (submit_task) time the app's own server, so they stay in an in-process line.
"""

from __future__ import annotations

import importlib.util
import math
import os
import select
import subprocess
import sys
import threading
from typing import Callable

from lib import ROOT
from lib.data.mnist import MnistData
from lib.messages import Message, Problem, msg
from lib.runs.executor import Executor
from lib.runs.job import Job
from lib.runs.ray_worker import cluster_name, versions
from lib.runs.wire import Wire
from lib.storage.checkpoints import FORMAT, from_bytes
from lib.training.config import TrainConfig
from lib.training.devices import usable_cpus

CONNECT_S = 300.0  # starting a local Ray and a first worker per node on a busy 2-core machine takes tens of seconds
DRIVER_ENV = {"RAY_USAGE_STATS_ENABLED": "0",  # never report usage to Ray's servers
              "RAY_gcs_rpc_server_reconnect_timeout_s": "10"}  # a lost cluster ends the driver in 10 s, not 60


def ray_installed() -> bool:
    """Whether Ray can be imported here (looked up, not imported: the app's process never loads it)."""
    try:
        return importlib.util.find_spec("ray") is not None
    except (ImportError, ValueError):
        return False


class RayExecutor(Executor):
    """Runs on the cluster at `address` (RAY_ADDRESS), or on a local Ray the driver starts when it is None."""

    name = "ray"

    def __init__(self, address: str | None = None, limits=None, heartbeat_timeout: float = 60.0, cpus: int = 1,
                 gpu_fraction: float = 0.25, connect_timeout: float = CONNECT_S, log: Callable | None = None):
        super().__init__(limits, heartbeat_timeout)
        if not ray_installed():
            raise Problem(msg("ray.not_installed"))
        self.address, self.cpus, self.gpu_fraction = address, max(1, int(cpus)), gpu_fraction
        self.connect_timeout = connect_timeout
        self.place = cluster_name(address)
        self._jobs: dict[int, Job] = {}  # unfinished runs, in submission order
        self._via: dict[int, Wire] = {}  # the driver link each unfinished run was sent through
        self._lock = threading.Lock()
        self._local = None  # the in-process line for measurements, made when the first one comes
        self._replies: list[dict] = []  # answers to where()
        self._answered = threading.Condition(self._lock)
        self._proc, self._wire, self._shipped = None, None, {}
        self.capacity = {"cpus": 0.0, "gpus": 0.0, "nodes": 0}
        self._connect()
        self.start_reaper()

    # ----------------------------------------------------------------------------------------- the driver process
    def _connect(self) -> None:
        """Start a driver and wait for it to connect; a Problem (unreachable, versions differ) if it cannot."""
        env = os.environ | DRIVER_ENV
        proc = subprocess.Popen([sys.executable, "-m", "lib.runs.ray_driver"], cwd=ROOT, env=env,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        wire = Wire(proc.stdout, proc.stdin)
        try:
            wire.send({"op": "hello", "address": self.address, "versions": versions(), "threads": self.cpus,
                       "local_cpus": usable_cpus()})
            ready, _, _ = select.select([proc.stdout], [], [], self.connect_timeout)
        except OSError:  # the driver ended at once
            ready = [proc.stdout]
        got = wire.receive() if ready else None
        if got is None or got[0]["op"] != "ready":
            proc.kill()
            proc.wait()
            if got is not None:
                raise Problem(Message.from_dict(got[0]["message"]))
            detail = f"the driver process exited with code {proc.returncode}" if ready else \
                f"no answer within {self.connect_timeout:.0f} s"
            raise Problem(msg("ray.unreachable", cluster=self.place, detail=detail))
        self._proc, self._wire, self._shipped = proc, wire, {}
        self.capacity = {k: got[0][k] for k in self.capacity}
        threading.Thread(target=self._pump, args=(wire,), daemon=True, name="ray-driver-link").start()

    def connected(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def close(self) -> None:
        """End the driver (and the local Ray it started); unfinished runs end as with a lost cluster."""
        if self.connected():
            try:
                self._wire.send({"op": "close"})
                self._proc.wait(30)
            except (OSError, subprocess.TimeoutExpired):
                self._proc.kill()

    def _send(self, message: dict, blobs: tuple[bytes, ...] = ()) -> None:
        """Send a request to the driver; OSError when it has ended."""
        if not self.connected():
            raise OSError("the Ray driver process has ended")
        self._wire.send(message, blobs)

    def _pump(self, wire: Wire) -> None:
        """Apply the driver's messages to the handles until the link closes, then end what was left unfinished."""
        while (got := wire.receive()) is not None:
            message = got[0]
            if message["op"] == "batch":
                self._apply(message)
            elif message["op"] == "capacity":
                self.capacity = {k: message[k] for k in self.capacity}
            elif message["op"] == "where":
                with self._answered:
                    self._replies.append(message)
                    self._answered.notify_all()
        for job in self.unfinished():
            if self._via.get(job.id) is wire:
                self._end(job, state="error", message=msg("ray.cluster_lost", cluster=self.place))

    def _apply(self, batch: dict) -> None:
        job = self._jobs.get(batch["id"])
        if job is None:
            return
        if batch.get("state") == "running":
            job.worker, job.state = batch["worker"], "running"
        job.events.extend(batch.get("events", []))
        if "record" in batch:
            self._finish(job, batch["record"], batch["card"])
        elif "cancelled" in batch:
            self._end(job, state="stopped")
        elif "failed" in batch:
            why = msg("ray.worker_died", worker=job.worker or batch["detail"]) if batch["failed"] == "lost" else \
                msg("job.failed", error=batch["detail"])
            self._end(job, state="error", message=why)

    def _finish(self, job: Job, record: dict, card: dict | None) -> None:
        """Take the worker's final record: its outcome, and the model rebuilt from its safetensors bytes."""
        done = Job.from_dict(record)
        job.events.extend(done.events[len(job.events):])  # anything a lost batch did not bring
        job.result, job.seconds, job.worker, job.weights = done.result, done.seconds, done.worker, done.weights
        if done.weights is not None:
            try:
                job.model, _ = from_bytes(done.weights, card or {"format": FORMAT, "config": done.config.to_dict()})
            except Problem as exc:  # CheckpointError: never expected from our own worker, but said, not hidden
                self._end(job, state="error", message=msg("job.failed", error=str(exc)))
                return
        self._end(job, state=done.state, message=done.message or job.message)  # keep "session closed"

    def _end(self, job: Job, state: str, message: Message | None = None) -> None:
        job.message = message
        job.state = state  # last: readers take a finished state to mean the result and model are there
        with self._lock:
            self._jobs.pop(job.id, None)
            self._via.pop(job.id, None)

    # ------------------------------------------------------------------------------------------ the interface
    def submit(self, cfg: TrainConfig, data: MnistData, owner: str, name: str = "", group: int = 0) -> Job:
        """Check a run (settings, classroom limits, a device the cluster has) and send it to the cluster."""
        self.check(cfg, data)
        if not self.connected():  # the cluster was lost, or the driver ended: connect again (or say why not)
            self._connect()
        device, resources = self._placement(cfg)
        job = Job(cfg, owner, name, group=group, device=device, executor=self.name, on_stop=self._stop)
        with self._lock:
            self._jobs[job.id], self._via[job.id] = job, self._wire
        self.touch(owner)
        try:
            key = self._ship(data)
            self._send({"op": "submit", "id": job.id, "record": job.to_dict(), "key": key, "resources": resources})
        except OSError as exc:
            self._end(job, state="error", message=msg("ray.cluster_lost", cluster=self.place))
            raise Problem(msg("ray.unreachable", cluster=self.place, detail=str(exc))) from None
        return job

    def _placement(self, cfg: TrainConfig) -> tuple[str, dict]:
        """(device type, Ray resources) for a run: a GPU share when it asks for CUDA; for 'auto', a GPU share while
        the cluster's GPU slots are not all taken by this server's runs, else CPUs (a lecture hall fills the GPUs
        first, then the CPU nodes, instead of queueing for the cards while CPUs idle)."""
        gpus = self.capacity["gpus"] > 0
        if cfg.device == "mps" or (cfg.device == "cuda" and not gpus):
            raise Problem(msg("ray.no_device", device="GPU" if cfg.device == "cuda" else "Apple MPS"))
        gpu_line = self.counts("cuda")
        free_gpu = gpus and gpu_line["running"] + gpu_line["queued"] < gpu_line["cap"]
        if cfg.device == "cuda" or (cfg.device == "auto" and (free_gpu or gpus and not self.capacity["cpus"])):
            return "cuda", {"num_cpus": self.cpus, "num_gpus": self.gpu_fraction}
        return "cpu", {"num_cpus": self.cpus}

    def _ship(self, data: MnistData) -> str:
        """The key of `data` in the driver, sending its arrays the first time (they are put into the object store
        once, and Ray copies them once to each node that trains on them)."""
        key = str(id(data))
        if key not in self._shipped:
            arrays = [data.train_x, data.train_y, data.test_x, data.test_y]
            self._send({"op": "data", "key": key, "source": data.source, "origin": data.origin,
                        "arrays": [[str(a.numpy().dtype), list(a.shape)] for a in arrays]},
                       tuple(a.contiguous().numpy().tobytes() for a in arrays))
            self._shipped[key] = data  # kept, so that its id is never reused by another data set
        return key

    def _stop(self, job: Job) -> None:
        if not job.finished and self.connected():
            try:
                self._wire.send({"op": "stop", "id": job.id})
            except OSError:
                pass

    def where(self, data: MnistData, timeout: float = 30.0) -> dict:
        """{"nodes": the Ray nodes whose object store holds `data`, "puts": how many data sets were put, "sent": how
        many training tasks the driver has submitted to Ray}."""
        key = self._ship(data)
        self._send({"op": "where", "key": key})
        with self._answered:
            self._answered.wait_for(lambda: any(r["key"] == key for r in self._replies), timeout)
            reply = next(r for r in self._replies if r["key"] == key)
            self._replies.remove(reply)
        return {"nodes": reply["nodes"], "puts": reply["puts"], "sent": reply["sent"]}

    def submit_task(self, task: Callable[[Job], None], owner: str, name: str, device: str = "cpu") -> Job:
        """A measurement of this server (the Conclusion page's timing) runs here, in a line of its own."""
        if self._local is None:
            from lib.runs.local import LocalExecutor
            self._local = LocalExecutor(max_running=1, heartbeat_timeout=self.heartbeat_timeout)
        return self._local.submit_task(task, owner, name, device)

    def unfinished(self) -> list[Job]:
        with self._lock:
            return list(self._jobs.values())

    def position(self, job: Job) -> int:
        """1-based place among this server's runs waiting for the same kind of slot, 0 if running or finished."""
        if job.task is not None and self._local is not None:
            return self._local.position(job)
        waiting = [j for j in self.unfinished() if j.state == "queued" and j.device == job.device]
        return waiting.index(job) + 1 if job in waiting else 0

    def cap(self, device: str = "cpu") -> int:
        """How many runs fit on the cluster at once: its CPUs over each run's, or its GPUs over each run's share."""
        if device == "cpu":
            return max(1, int(self.capacity["cpus"] // self.cpus))
        return int(math.floor(self.capacity["gpus"] / self.gpu_fraction + 1e-9))

    def counts(self, device: str = "cpu") -> dict:
        line = [j for j in self.unfinished() if j.device == device]
        running = sum(j.state == "running" for j in line)
        return {"running": running, "queued": len(line) - running, "cap": self.cap(device)}

    def touch(self, owner: str) -> None:
        super().touch(owner)
        if self._local is not None:
            self._local.touch(owner)
