"""Experiments on the shipped models, recorded once in a file and read back only while they still fit the weights.

The probes take minutes per model on a 2-core CPU (56 softmax regressions on 10,000 states each) and the gradients
seconds, so their results for the shipped models are recorded by `python -m lib.cli record-experiments` into
docs/gradients.json and docs/probes.json, next to the recorded scaling measurement, instead of into the shipped
cards: the cards are what training wrote, and the app never rewrites them. Each entry carries a fingerprint of the
weights file it was computed from; when a model is retrained its entry no longer fits and is not used (the pages then
compute it once on their server, and the command records it again).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import torch

from lib import ROOT, __version__
from lib.data.sample import sha256
from lib.machine import cpu_name
from lib.storage.pretrained import FOLDER

FILES = {"gradients": ROOT / "docs" / "gradients.json", "probes": ROOT / "docs" / "probes.json"}
INIT = ":init"  # the key suffix of a gradient measured on a model's initial weights


def fingerprint(weights: Path) -> str:
    """The first 16 hex digits of the SHA-256 of a weights file: which weights a result was computed from."""
    return sha256(weights)[:16]


def key(name: str, init: bool = False) -> str:
    return name + (INIT if init else "")


def read(kind: str, path: Path | None = None) -> dict[str, dict]:
    """Every entry of a record file ({} when it is missing or unreadable: the pages then compute what they need)."""
    try:
        entries = json.loads(Path(path or FILES[kind]).read_text())
    except (OSError, ValueError):
        return {}
    return entries if isinstance(entries, dict) else {}


def lookup(kind: str, name: str, init: bool = False, folder: Path = FOLDER, path: Path | None = None) -> dict | None:
    """The recorded result of a shipped model, or None when there is none or it was computed from other weights
    (the file in `folder` has changed since)."""
    entry = read(kind, path).get(key(name, init))
    weights = Path(folder) / f"{name}.safetensors"
    if not isinstance(entry, dict) or not weights.is_file() or entry.get("weights") != fingerprint(weights):
        return None
    return entry.get("result")


def store(kind: str, name: str, result: dict, data: dict, seconds: float, init: bool = False,
          folder: Path = FOLDER, path: Path | None = None) -> Path:
    """Record `result` for the shipped model `name` (its weights' fingerprint, the data it rests on, how long it took
    on which machine); the other entries are kept. Returns the file."""
    path = Path(path or FILES[kind])
    entries = read(kind, path)
    entries[key(name, init)] = {
        "weights": fingerprint(Path(folder) / f"{name}.safetensors"), "data": data, "seconds": round(seconds, 1),
        "machine": {"cpu": cpu_name(), "threads": torch.get_num_threads(),
                    "torch": torch.__version__, "row_by_row": __version__},
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "result": result}
    path.write_text(json.dumps(dict(sorted(entries.items())), indent=1) + "\n")
    return path
