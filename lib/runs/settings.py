"""Server settings and classroom limits, from environment variables (ROW_BY_ROW_*) or a TOML file."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path

from lib import ROOT
from lib.messages import Problem, msg
from lib.storage.fields import typed_fields
from lib.training.devices import usable_cpus

DEFAULT_FILE = ROOT / "classroom.toml"  # optional, git-ignored by no one


@dataclass(frozen=True)
class Settings:
    """What the server allows; a teacher tightens these for a class (see README, Classroom mode)."""

    max_jobs: int = max(1, usable_cpus() // 2)  # training jobs running at once (1 on a 2-core server or container)
    max_gpu_jobs: int = 2  # training jobs running at once on a CUDA GPU (Apple's MPS: always one), memory allowing
    mps_memory_fraction: float = 1.0  # of Apple's recommended GPU working set this server may use (at most 2)
    max_runs: int = 12  # finished runs kept per browser session (oldest dropped first)
    heartbeat_s: float = 60.0  # a job whose tab sent no heartbeat for this long is stopped
    max_hidden: int = 512  # largest hidden size a student may pick
    max_layers: int = 4  # most stacked layers
    max_epochs: int = 30  # most epochs
    max_subset: int = 60000  # most training digits (60000 = the full set)
    classroom: bool = False  # True when a teacher set any limit (the app then states them)


def load_settings(path: Path | None = None, env: dict | None = None) -> Settings:
    """Defaults, overridden by classroom.toml ([classroom] table), overridden by ROW_BY_ROW_<FIELD> variables."""
    env = os.environ if env is None else env
    values: dict = {}
    file = Path(env.get("ROW_BY_ROW_CLASSROOM_FILE", path or DEFAULT_FILE))
    try:
        table = tomllib.loads(file.read_text()).get("classroom", {}) if file.is_file() else {}
    except (ValueError, OSError) as exc:  # TOMLDecodeError, UnicodeDecodeError, a 5,000-digit number; a name too long
        raise Problem(msg("classroom.not_toml", file=str(file), detail=str(exc)[:200])) from None
    if not isinstance(table, dict):  # classroom = 5 instead of a [classroom] table
        raise Problem(msg("classroom.not_table", file=str(file)))
    values.update(table)
    for f in fields(Settings):
        key = f"ROW_BY_ROW_{f.name.upper()}"
        if key in env:
            values[f.name] = env[key]
    return _coerce(values)


def _coerce(values: dict) -> Settings:
    typed = typed_fields(Settings, values, scope="classroom")
    for key, value in typed.items():
        if not isinstance(value, bool) and not value > 0:  # NaN is not positive either
            raise Problem(msg("classroom.not_positive", name=key))
    if typed.get("mps_memory_fraction", 1.0) > 2:  # PyTorch refuses more than twice the recommended working set
        raise Problem(msg("classroom.mps_fraction", name="mps_memory_fraction", high=2))
    limits = {"max_hidden", "max_layers", "max_epochs", "max_subset", "max_jobs", "max_gpu_jobs"}
    typed.setdefault("classroom", bool(limits & set(typed)))  # any limit set means a class, unless said otherwise
    return replace(Settings(), **typed)
