"""Run a command inside a network namespace that has only loopback, for Ray: there Ray can see and advertise no
address but 127.0.0.1, and the PID namespace ends every process it started (raylets, workers, drivers) when the
command ends. Used by the Ray tests (tests/ray_scenarios.py) and the lecture benchmark (bench/lecture.py)."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def available() -> str:
    """'' when loopback-only namespaces can be made here (root, unshare, ip), else why not."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "network namespaces need root here (CI runs as root)"
    missing = [tool for tool in ("unshare", "ip") if shutil.which(tool) is None]
    return f"missing {', '.join(missing)}" if missing else ""


def loopback_env(extra: dict | None = None) -> dict:
    """The environment inside: Ray's usage statistics off, its token authentication on with a token made for this
    run, our code importable, output unbuffered."""
    return os.environ | {"RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "token",
                         "RAY_AUTH_TOKEN": secrets.token_hex(16), "PYTHONPATH": str(ROOT),
                         "PYTHONUNBUFFERED": "1"} | (extra or {})


def in_loopback(argv: list[str], timeout: float, env: dict | None = None, log: Path | None = None):
    """Run `argv` in a new network + PID namespace with only `lo` up; its CompletedProcess (stdout as text, stderr
    into `log` when given)."""
    script = 'ip link set lo up && exec "$@"'
    cmd = ["unshare", "--net", "--pid", "--fork", "--mount-proc", "--kill-child", "bash", "-c", script, "bash", *argv]
    err = open(log, "wb") if log else subprocess.DEVNULL
    try:
        return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=err, text=True, timeout=timeout,
                              env=loopback_env(env), cwd=ROOT)
    finally:
        if log:
            err.close()
