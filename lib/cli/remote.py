"""`python -m lib.cli train --executor ray`: one run through an executor (lib.runs.choice), followed from here the
way a page follows it, its events printed as they arrive, Ctrl-C a Stop that keeps the model trained so far."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Callable

from lib.data.mnist import MnistData
from lib.runs.executor import Executor
from lib.runs.job import Job
from lib.storage.checkpoints import save_checkpoint
from lib.training.config import TrainConfig

POLL_S = 0.1
OWNER = "command line"


def train_on(executor: Executor, cfg: TrainConfig, data: MnistData, name: str,
             on_event: Callable[[dict], None]) -> Job:
    """Submit `cfg`, hand every event to `on_event` as it arrives, and return the finished job."""
    job = executor.submit(cfg, data, OWNER, name)
    seen = 0
    while True:
        try:
            executor.touch(OWNER)  # a heartbeat, as a page sends: the run is wanted
            for event in job.follow(seen):
                on_event(event)
                seen += 1
            if job.finished and seen == len(job.events):
                return job
            time.sleep(POLL_S)
        except KeyboardInterrupt:  # Ctrl-C: stop the run and keep what it learned, as the page's Stop does
            job.stop()


def result_line(job: Job, name: str) -> dict:
    """The last JSON line of `train --json`, as the in-process path writes it."""
    scores = job.result or {}
    return {"event": "result", "name": name, "end": job.state, "message": job.message.render() if job.message else
            None, "order": job.config.order, "seconds": round(job.seconds, 2), "test_acc": scores.get("acc"),
            "test_loss": scores.get("loss"), "n": scores.get("n", 0), "executor": job.executor, "worker": job.worker}


def train_elsewhere(executor: Executor, cfg: TrainConfig, data: MnistData, args, on_event, digits: str) -> int:
    """`train` through an executor: the same output, card and files (--out STEM: STEM.safetensors + STEM.json) as in
    this process; exit code 0 when it finished or was stopped, 1 when it diverged or failed."""
    name = args.name or Path(args.out or "run").stem
    try:
        job = train_on(executor, cfg, data, name, on_event)
    finally:
        getattr(executor, "close", lambda: None)()  # the driver, and the local Ray it may have started
    if args.out and job.scored and job.model is not None:
        save_checkpoint(Path(args.out).with_suffix(""), job.model, job.card(data.describe()))
    if args.json:
        print(json.dumps(result_line(job, name)))
    elif job.scored:
        print(f"test accuracy {job.result['acc']:.4f} on the {job.result['n']:,} {digits}")
    if job.message is not None:
        print(job.message.render(), file=sys.stderr)
    return 0 if job.state in ("done", "stopped") else 1
