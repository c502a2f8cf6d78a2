"""Training one job to its end, and why it failed, in words: the same for every executor (in this process, or in a
Ray worker)."""

from __future__ import annotations

import torch

from lib.data.mnist import MnistData
from lib.messages import Message, Problem, msg
from lib.runs.job import Job
from lib.training.config import build_model
from lib.training.devices import CPU_OOM_SIGN, device_label, is_out_of_memory
from lib.training.fit import fit


def execute(job: Job, data: MnistData) -> None:
    """Train through lib.training.fit (the same end-of-run scoring as the CLI), mirroring every dict into job.events
    (the start event with the executor and worker that train it); the job ends with its state, result, message,
    time and model (back on the CPU, in eval mode)."""
    job.model = build_model(job.config)
    ran_by = {"executor": job.executor, "worker": job.worker}  # the start event says what and where trained it
    fitted = fit(job.config, data, job.model, stop=job.stop_event,
                 on_event=lambda e: job.events.append(e | ran_by if e["event"] == "start" else e))
    job.seconds, job.result = fitted.seconds, fitted.scores
    if "message" in fitted.end:  # why it diverged, or that a finished run did not learn
        job.message = Message.from_dict(fitted.end["message"])
    job.model.to("cpu").eval()
    job.state = fitted.end["event"]


def failure(job: Job, exc: Exception) -> Message:
    """Why a job failed, for people: out of memory (with advice), a problem lib described, or the error itself."""
    if is_out_of_memory(exc):
        if job.device == "cpu" or CPU_OOM_SIGN in str(exc):  # the server's memory, also during a GPU run
            return msg("job.out_of_memory_cpu")  # not lib's English "CPU (2 threads)" inside a translated sentence
        start = job.last("start")
        return msg("job.out_of_memory", device=start["device"] if start else device_label(torch.device(job.device)))
    if isinstance(exc, Problem):
        return exc.messages[0]
    return msg("job.failed", error=f"{type(exc).__name__}: {exc}")
