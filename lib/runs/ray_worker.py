"""What runs inside a Ray worker: one training job as a streaming generator task (the same lib.runs.execute as the
in-process queue), the versions a node runs, and the stop flags the app sets (an actor).

Nothing here imports Ray when the module loads: the app imports lib without Ray installed, and lib.runs.ray_driver
wraps these functions with ray.remote in its own process.
"""

from __future__ import annotations

import os
import platform
import socket
import threading
import traceback
import warnings
from typing import Iterator

import numpy as np
import torch

import lib
from lib.data.mnist import MnistData
from lib.messages import msg
from lib.runs.execute import execute, failure
from lib.runs.job import Job
from lib.storage.checkpoints import FORMAT, to_bytes

FLUSH_S = 0.25  # events leave the worker at most this often: a batch per flush, not an object per logged step
COMPARED = {"ray": "Ray", "python": "Python", "torch": "PyTorch", "row_by_row": "Row by Row"}  # what must match
# between the app and every node -> its name in messages


def versions() -> dict[str, str]:
    """What this process runs, as the app compares it: Python major.minor (what pickled code depends on), torch
    without its build tag (a CUDA build on a GPU node and a CPU build on the app's server are the same version)."""
    try:
        import ray
        ray_version = ray.__version__
    except ImportError:  # the app's own process, which needs no Ray
        ray_version = ""
    return {"ray": ray_version, "python": ".".join(platform.python_version_tuple()[:2]),
            "torch": torch.__version__.split("+")[0], "row_by_row": lib.__version__}


def mismatch(ours: dict, theirs: dict, where: str):
    """The first difference between two versions() as a Message naming what differs and where, or None."""
    for key in COMPARED:
        if ours.get(key) and theirs.get(key) != ours[key]:
            return msg("ray.mismatch", what=COMPARED[key], theirs=theirs.get(key) or "?", ours=ours[key], node=where)
    return None


def cluster_name(address: str | None):
    """The cluster in words, for messages: 'the Ray cluster at 10.0.0.5:6379', or the local Ray the app starts."""
    return msg("ray.at", address=address) if address else msg("ray.local")


def worker_name() -> str:
    """The host and process that trains, its Ray node and GPU share: 'host pid 1234 (Ray node 5f3a9c1e)', or
    'host pid 1234 (Ray node 5f3a9c1e, GPU 0 × 0.25)'."""
    import ray
    context = ray.get_runtime_context()
    share = context.get_assigned_resources().get("GPU")
    gpu = f", GPU {','.join(map(str, ray.get_gpu_ids()))} × {share:g}" if share else ""
    return f"{socket.gethostname()} pid {os.getpid()} (Ray node {context.get_node_id()[:8]}{gpu})"


class Control:
    """The runs the app asked to stop (a Ray actor, one per driver): workers poll it while they train."""

    def __init__(self):
        self._stopped: set[int] = set()

    def stop(self, job_id: int) -> None:
        self._stopped.add(job_id)

    def stopped(self, job_id: int) -> bool:
        return job_id in self._stopped


def mnist_from(arrays: dict) -> MnistData:
    """The digits the driver put in the object store once: numpy arrays that Ray maps read-only from the node's
    shared memory (no copy per job), seen as uint8 (N, 28, 28) and int64 (N,) tensors. Training only reads them."""
    with warnings.catch_warnings():  # torch warns that a read-only array is not writable through the tensor
        warnings.simplefilter("ignore", UserWarning)
        tensors = {k: torch.from_numpy(arrays[k]) for k in ("train_x", "train_y", "test_x", "test_y")}
    return MnistData(**tensors, source=arrays["source"], origin=arrays["origin"])


def train_job(record: dict, arrays: dict, control, expected: dict, threads: int) -> Iterator[dict]:
    """One run on this worker, as a Ray streaming generator: {"state": "running", "worker"} first, then
    {"events": [...]} at most every FLUSH_S while it trains, then {"record": its final record (weights as
    safetensors bytes), "card": its card}. A Stop reaches it through `control` within FLUSH_S."""
    job = Job.from_dict(record)
    job.executor, job.worker = "ray", worker_name()
    different = mismatch(expected, versions(), job.worker)
    if different is not None:  # a node that joined after the app connected, with other versions
        job.state, job.message = "error", different
        yield {"record": job.to_dict(), "card": None}
        return
    job.state = "running"
    yield {"state": "running", "worker": job.worker}
    torch.set_num_threads(max(1, threads))  # the CPUs Ray gave this job: one thread each, never more
    data = mnist_from(arrays)
    trainer = threading.Thread(target=_train, args=(job, data), daemon=True, name=f"job-{job.id}")
    trainer.start()
    sent, asked = 0, None
    while trainer.is_alive():
        trainer.join(FLUSH_S)
        asked = _poll_stop(job, control, asked)
        n = len(job.events)
        if n > sent:
            yield {"events": job.events[sent:n]}
            sent = n
    if len(job.events) > sent:
        yield {"events": job.events[sent:]}
    yield _final(job, data)


def _train(job: Job, data: MnistData) -> None:
    try:
        execute(job, data)
    except Exception as exc:  # noqa: BLE001 - the run reports its failure; the worker lives on for the next job
        job.state, job.message = "error", failure(job, exc)
        traceback.print_exc()


def _poll_stop(job: Job, control, asked):
    """Ask `control` whether the app stopped this run, without waiting for the answer: the pending question is
    returned and read on a later call. Sets the job's stop flag when the answer is yes."""
    import ray
    if job.stop_event.is_set():
        return None
    if asked is None:
        return control.stopped.remote(job.id)
    ready, _ = ray.wait([asked], timeout=0)
    if not ready:
        return asked
    try:
        if ray.get(ready[0]):
            job.stop()
    except ray.exceptions.RayError:  # the control actor is gone with its driver: nobody is waiting for this run
        job.stop()
    return None


def _final(job: Job, data: MnistData) -> dict:
    """The run's record with its weights as safetensors bytes, and the card that goes with them."""
    card = job.card(data.describe()) if job.scored else None
    if job.model is not None and job.state != "error":
        job.weights, _ = to_bytes(job.model, card or {"format": FORMAT, "config": job.config.to_dict()})
    return {"record": job.to_dict(), "card": card}


def arrays_of(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, test_y: np.ndarray, source: str,
              origin: str) -> dict:
    """What the driver puts in the object store for one data set (plain numpy: Ray maps it without a copy)."""
    return {"train_x": train_x, "train_y": train_y, "test_x": test_x, "test_y": test_y, "source": source,
            "origin": origin}
