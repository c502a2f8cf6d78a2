"""Checkpoints: safetensors weights plus a JSON card (config, metrics, data, timing); nothing is ever unpickled."""

from __future__ import annotations

import json
import platform
from datetime import datetime, timezone
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors_bytes
from safetensors.torch import save as save_safetensors_bytes

from . import __version__
from .model import RowClassifier
from .train import TrainConfig, build_model

FORMAT = "row-by-row/1"  # the card's format tag; a file without it is not ours
MB = 2**20  # what messages call a megabyte, as Streamlit's uploader does
MAX_BYTES = 32 * MB  # largest weights file accepted (a 2x1024 LSTM is ~30 MB)
CARD_METRICS = ("acc", "loss", "n", "confusion", "per_class_acc", "acc_by_rows")


class CheckpointError(ValueError):
    """A weights file or card that cannot be used; the message says why in plain words."""


def make_card(name: str, cfg: TrainConfig, test: dict, data: dict, training: dict, history=()) -> dict:
    """The JSON card for a trained model: config, test metrics, data, timing, versions and date."""
    return {"format": FORMAT, "name": name, "config": cfg.to_dict(),
            "metrics": {k: test[k] for k in CARD_METRICS} | {"order": test["order"]},
            "history": list(history), "data": data, "training": training,
            "versions": {"row_by_row": __version__, "torch": torch.__version__, "python": platform.python_version()},
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds")}


def card_from_run(name: str, cfg: TrainConfig, test: dict, data: dict, events: list[dict], seconds: float) -> dict:
    """The card of a finished training run, from train()'s dicts: timing and device from them, history = epochs."""
    start, end = (events[0], events[-1]) if events else ({}, {})
    training = {"seconds": round(seconds, 2), "device": start.get("device", ""), "steps": end.get("step", 0),
                "epochs_done": end.get("epoch", 0), "end": end.get("event", "")}
    return make_card(name, cfg, test, data, training, history=[e for e in events if e["event"] == "epoch"])


def to_bytes(model: RowClassifier, card: dict) -> tuple[bytes, bytes]:
    """(safetensors bytes, card JSON bytes) for download or saving."""
    state = {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in model.state_dict().items()}
    weights = save_safetensors_bytes(state, metadata={"format": FORMAT, "config": json.dumps(card["config"])})
    return weights, json.dumps(card, indent=1).encode()


def save_checkpoint(stem: str | Path, model: RowClassifier, card: dict) -> tuple[Path, Path]:
    """Write STEM.safetensors and STEM.json; returns both paths."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    weights, card_bytes = to_bytes(model, card)
    paths = stem.with_suffix(".safetensors"), stem.with_suffix(".json")
    paths[0].write_bytes(weights)
    paths[1].write_bytes(card_bytes)
    return paths


def parse_card(raw: bytes | str | dict) -> dict:
    """A card dict from JSON text, checked for our format tag and a valid config."""
    if not isinstance(raw, dict):
        try:
            raw = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CheckpointError(f"the card is not valid JSON ({exc})") from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise CheckpointError("the card is not a Row by Row model card (its format tag is missing or different)")
    try:
        TrainConfig.from_dict(raw.get("config", {})).validate()
    except (ValueError, TypeError) as exc:
        raise CheckpointError(f"the card's settings are invalid: {exc}") from None
    return raw


def from_bytes(weights: bytes, card: bytes | str | dict) -> tuple[RowClassifier, dict]:
    """Rebuild a model from safetensors bytes and its card, or raise CheckpointError."""
    if len(weights) > MAX_BYTES:
        raise CheckpointError(f"the weights file is {len(weights) / MB:.1f} MB; the limit is {MAX_BYTES // MB} MB")
    card = parse_card(card)
    try:
        state = load_safetensors_bytes(weights)
    except (SafetensorError, ValueError, RuntimeError, OverflowError) as exc:
        raise CheckpointError(f"the weights file is truncated or not a safetensors file ({exc})") from None
    model = build_model(TrainConfig.from_dict(card["config"]))
    if any(v.dtype != torch.float32 or not torch.isfinite(v).all() for v in state.values()):
        raise CheckpointError("the weights file holds non-float32 or non-finite (NaN/inf) values")
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0:2]
        raise CheckpointError(f"the weights do not fit the model the card describes: {' '.join(first)}") from None
    return model.eval(), card


def load_checkpoint(path: str | Path) -> tuple[RowClassifier, dict]:
    """Load PATH(.safetensors) and its sibling .json card."""
    weights_path = Path(path).with_suffix(".safetensors")
    card_path = weights_path.with_suffix(".json")
    for p in (weights_path, card_path):
        if not p.is_file():
            raise CheckpointError(f"{p} does not exist")
    if weights_path.stat().st_size > MAX_BYTES:
        raise CheckpointError(f"{weights_path} is larger than {MAX_BYTES // MB} MB")
    return from_bytes(weights_path.read_bytes(), card_path.read_bytes())


def list_checkpoints(folder: str | Path) -> dict[str, Path]:
    """name -> weights path for every NAME.safetensors with a NAME.json in `folder`, sorted by name."""
    folder = Path(folder)
    return {p.stem: p for p in sorted(folder.glob("*.safetensors")) if p.with_suffix(".json").is_file()}
