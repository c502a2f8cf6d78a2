"""A finished run as one row of a class's record, and every row read back checked before it is used.

What a class keeps of a run (settings and results, never weights): its config, test accuracy and how many test
digits it rests on, training time, device, how it ended, and its curves cut down to at most CURVE_POINTS points.
A row read from the database is checked field by field (nothing read back unvalidated): a row that fails is left out
and counted, never shown half-read.
"""

from __future__ import annotations

import hashlib
import math

from lib.experiments.stats import interval
from lib.training.config import TrainConfig

KINDS = ("class", "free")  # the run the class experiment assigned, or the student's own
OUTCOMES = ("done", "not_learning", "stopped", "diverged", "error")
POOLED = ("done",)  # outcomes in the class's figures; the others only when the teacher shows them
CURVE_POINTS = 60
DEVICE_MAX = 80


def run_key(record: dict) -> str:
    """One run's identity across retries and reloads: the session that started it, the process that trained it,
    and its id there (a restarted server counts ids again, in another process)."""
    raw = f"{record.get('owner', '')}|{record.get('worker', '')}|{record.get('executor', '')}|{record.get('id')}"
    return hashlib.sha256(raw.encode()).hexdigest()


def outcome(record: dict) -> str:
    """How the run ended: a finished run that did not learn (its message says so) is `not_learning`."""
    message = (record.get("message") or {}).get("id", "")
    if record["state"] == "done" and message.startswith("train.not_learning"):
        return "not_learning"
    return record["state"]


def curve_summary(events: list[dict]) -> dict:
    """The run's curves, cut down for the class chart: training loss and accuracy against the share of training
    done (0..1) at no more than CURVE_POINTS points, and each epoch's held-out accuracy."""
    steps = [e for e in events if e.get("event") == "step"]
    every = max(1, math.ceil(len(steps) / CURVE_POINTS))
    picked = steps[::every] + ([steps[-1]] if steps and (len(steps) - 1) % every else [])
    epochs = [e for e in events if e.get("event") == "epoch"]
    return {"progress": [round(float(e["progress"]), 4) for e in picked],
            "loss": [round(float(e["loss"]), 5) for e in picked],
            "acc": [round(float(e["acc"]), 5) for e in picked],
            "epoch_acc": [round(float(e.get("val_acc", e.get("test_acc", 0.0))), 5) for e in epochs]}


def from_record(record: dict, kind: str, value=None) -> dict:
    """A row to record from RunRecord.to_dict() of a finished run (weights and events are left behind)."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind of run {kind!r}")
    result = record.get("result") or {}
    start = next((e for e in record.get("events", []) if e.get("event") == "start"), {})
    return {"run_key": run_key(record), "kind": kind, "outcome": outcome(record),
            "config": TrainConfig.from_dict(record["config"]).to_dict(),
            "test_acc": result.get("acc"), "test_n": int(result.get("n") or 0),
            "seconds": round(float(record.get("seconds") or 0.0), 2),
            "device": str(start.get("device") or record.get("device") or "")[:DEVICE_MAX],
            "curves": curve_summary(record.get("events", [])), "value": value if kind == "class" else None}


def _number(value, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or \
            not low <= value <= high:
        raise ValueError(f"{value!r} is not a number from {low} to {high}")
    return float(value)


def _curve(values, low: float, high: float) -> list[float]:
    if not isinstance(values, list) or len(values) > CURVE_POINTS + 1:
        raise ValueError("not a curve")
    return [_number(v, low, high) for v in values]


def checked(row: dict) -> dict:
    """A row as read from the database, every field checked (ValueError if one is wrong), with its accuracy's 95%
    interval added (low, high: Wilson's, on its test_n digits)."""
    if row["kind"] not in KINDS or row["outcome"] not in OUTCOMES:
        raise ValueError("unknown kind or outcome")
    if not isinstance(row["config"], dict):
        raise ValueError("the config is not a table")
    config = TrainConfig.from_dict(row["config"]).validate().to_dict()
    acc = None if row["test_acc"] is None else _number(row["test_acc"], 0.0, 1.0)
    n = int(_number(row["test_n"], 0, 10_000_000))
    curves = row["curves"] if isinstance(row["curves"], dict) else {}
    summary = {"progress": _curve(curves.get("progress", []), 0.0, 1.0),
               "loss": _curve(curves.get("loss", []), 0.0, 1e6), "acc": _curve(curves.get("acc", []), 0.0, 1.0),
               "epoch_acc": _curve(curves.get("epoch_acc", []), 0.0, 1.0)}
    setting = row.get("setting")  # the class experiment's varied setting: a class run's value is read from its config
    value = config[setting] if row["kind"] == "class" and setting in config else None
    low, high = interval(acc, n) if acc is not None and n else (None, None)
    return {"kind": row["kind"], "outcome": row["outcome"], "config": config, "test_acc": acc, "test_n": n,
            "low": low, "high": high, "seconds": _number(row["seconds"], 0.0, 1e7),
            "device": str(row["device"])[:DEVICE_MAX], "curves": summary, "value": value,
            "recorded_at": _number(row["recorded_at"], 0.0, 1e11)}
