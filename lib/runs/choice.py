"""Which executor trains: the in-process queue (the default: `streamlit run` and Community Cloud need no Ray) or a Ray
cluster, chosen once by the server (ui.resources.jobs) or the command line (`--executor`), from the environment:

- ROW_BY_ROW_EXECUTOR=local|ray (the CLI's --executor overrides it);
- RAY_ADDRESS (Ray's own variable): the cluster to use; without it the driver starts a local Ray on 127.0.0.1;
- ROW_BY_ROW_RAY_FALLBACK=local|refuse: when the cluster cannot be used (unreachable, versions differ, Ray not
  installed), train in this process with a notice (default), or turn training off with that notice;
- ROW_BY_ROW_RAY_CPUS (default 1): CPUs, and torch threads, per run; ROW_BY_ROW_RAY_GPU_FRACTION (default 0.25):
  the share of a GPU each run asks for, so that four small runs share one card.
"""

from __future__ import annotations

import os
from typing import Callable

from lib.messages import N_, Message, Problem, Term, msg
from lib.runs.executor import Executor
from lib.runs.job import Job

EXECUTORS = ("local", "ray")
FALLBACKS = ("local", "refuse")
GPU_FRACTION = 0.25  # four tiny runs per card; not yet measured on a GPU here (docs/scaling-out.md says how)


class Refused(Executor):
    """Training is off (ROW_BY_ROW_RAY_FALLBACK=refuse and the cluster cannot be used): every submission is refused
    with the reason, in the visitor's language; nothing ever queues."""

    name = "refused"

    def __init__(self, why: Message, limits=None):
        super().__init__(limits)
        self.why = why

    def submit(self, cfg, data, owner, name="", group=0) -> Job:
        raise Problem(self.why)

    def submit_task(self, task, owner, name, device="cpu") -> Job:
        raise Problem(self.why)

    def unfinished(self) -> list[Job]:
        return []

    def position(self, job: Job) -> int:
        return 0

    def cap(self, device: str = "cpu") -> int:
        return 0

    def counts(self, device: str = "cpu") -> dict:
        return {"running": 0, "queued": 0, "cap": 0}


def open_executor(local: Callable[[], Executor | None], flag: str | None = None, env: dict | None = None,
                  limits=None, heartbeat_s: float = 60.0) -> tuple[Executor | None, Message | None]:
    """(the executor to train with, a notice for people or None). `local()` makes the in-process one (the CLI's
    gives None: it trains in its own process, as before); `flag` is the CLI's --executor, which overrides the
    environment. A Ray cluster that cannot be used falls back as ROW_BY_ROW_RAY_FALLBACK says."""
    env = os.environ if env is None else env
    kind = flag or env.get("ROW_BY_ROW_EXECUTOR", "local").strip().lower() or "local"
    if kind not in EXECUTORS:
        return local(), msg("ray.fallback_local", why=msg("executor.unknown", value=kind))
    if kind == "local":
        return local(), None
    fallback = env.get("ROW_BY_ROW_RAY_FALLBACK", "local").strip().lower() or "local"
    try:
        if fallback not in FALLBACKS:
            raise Problem(msg("ray.bad_setting", name="ROW_BY_ROW_RAY_FALLBACK", value=fallback,
                              expected=Term(N_("`local` or `refuse`"))))
        from lib.runs.ray_executor import RayExecutor
        return RayExecutor(env.get("RAY_ADDRESS") or None, limits=limits, heartbeat_timeout=heartbeat_s,
                           **ray_resources(env)), None
    except Problem as exc:
        if fallback == "refuse":
            return Refused(msg("ray.refused", why=exc.messages[0]), limits), msg("ray.refused", why=exc.messages[0])
        return local(), msg("ray.fallback_local", why=exc.messages[0])


def ray_resources(env: dict) -> dict:
    """{"cpus", "gpu_fraction"} per run from ROW_BY_ROW_RAY_CPUS and ROW_BY_ROW_RAY_GPU_FRACTION, checked."""
    cpus, fraction = env.get("ROW_BY_ROW_RAY_CPUS", "1"), env.get("ROW_BY_ROW_RAY_GPU_FRACTION", str(GPU_FRACTION))
    if not cpus.strip().isdigit() or not 1 <= int(cpus) <= 256:
        raise Problem(msg("ray.bad_setting", name="ROW_BY_ROW_RAY_CPUS", value=cpus,
                          expected=Term(N_("a whole number from 1 to 256"))))
    try:
        share = float(fraction)
    except ValueError:
        share = -1.0
    if not 0.0 < share <= 1.0:  # NaN fails here too
        raise Problem(msg("ray.bad_setting", name="ROW_BY_ROW_RAY_GPU_FRACTION", value=fraction,
                          expected=Term(N_("a number above 0 and at most 1"))))
    return {"cpus": int(cpus), "gpu_fraction": share}
