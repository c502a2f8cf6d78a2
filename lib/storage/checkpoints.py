"""Checkpoints: safetensors weights plus a JSON card (config, metrics, data, timing); nothing is ever unpickled."""

from __future__ import annotations

import json
import platform
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors_bytes
from safetensors.torch import save as save_safetensors_bytes

from lib import __version__
from lib.messages import Problem, msg
from lib.models.families import make_model
from lib.training.config import TrainConfig, build_model, model_shape, renamed

FORMAT = "row-by-row/1"  # the card's format tag; a file without it is not ours
MB = 2**20  # what messages call a megabyte, as Streamlit's uploader does
MAX_BYTES = 32 * MB  # largest weights file accepted (a 2x1024 LSTM is ~30 MB)
MAX_CARD_BYTES = 1 * MB  # a real card is ~10 KB; anything far larger is not one
MAX_CARD_DEPTH = 20  # a real card nests 4 deep; checked before parsing (json.loads recurses per level)
CARD_METRICS = ("acc", "loss", "n", "confusion", "per_class_acc", "acc_by_rows")


class CheckpointError(Problem):
    """A weights file or card that cannot be used; its Message says why in plain words."""


def make_card(name: str, cfg: TrainConfig, test: dict, data: dict, training: dict, history=()) -> dict:
    """The JSON card for a trained model: config, test metrics, data, timing, versions and date."""
    answers = {"predictions": "".join(map(str, test["predictions"]))} if _every_digit_in_order(test) else {}
    return {"format": FORMAT, "name": name, "config": cfg.to_dict(),
            "metrics": {k: test[k] for k in CARD_METRICS} | {"order": test["order"]} | answers,
            "history": list(history), "data": data, "training": training,
            "versions": {"row_by_row": __version__, "torch": torch.__version__, "python": platform.python_version()},
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds")}


def _every_digit_in_order(test: dict) -> bool:
    """Whether a result scored every test digit in the file's order: then its answers, one digit each, go in the
    card (10 kB), so two models can be compared digit by digit (McNemar's test) without scoring them again."""
    return test.get("split") == "test" and test.get("indices") == list(range(test["n"]))


def card_from_run(name: str, cfg: TrainConfig, test: dict, data: dict, events: list[dict], seconds: float) -> dict:
    """The card of a finished training run, from train()'s dicts: timing and device from them, history = epochs."""
    start, end = (events[0], events[-1]) if events else ({}, {})
    training = {"seconds": round(seconds, 2), "device": start.get("device", ""),
                "device_type": start.get("device_type", ""), "threads": start.get("threads", 0),
                "steps": end.get("step", 0),
                "epochs_done": end.get("epoch", 0), "end": end.get("event", "")}
    return make_card(name, cfg, test, data, training, history=[e for e in events if e["event"] == "epoch"])


def to_bytes(model: torch.nn.Module, card: dict) -> tuple[bytes, bytes]:
    """(safetensors bytes, card JSON bytes) for download or saving."""
    state = {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in model.state_dict().items()}
    weights = save_safetensors_bytes(state, metadata={"format": FORMAT, "config": json.dumps(card["config"])})
    return weights, card_bytes(card)


def card_bytes(card: dict) -> bytes:
    """A card as the JSON file that is saved and downloaded."""
    return json.dumps(card, indent=1).encode()


def save_checkpoint(stem: str | Path, model: torch.nn.Module, card: dict) -> tuple[Path, Path]:
    """Write STEM.safetensors and STEM.json; returns both paths."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    weights, card_json = to_bytes(model, card)
    paths = stem.with_suffix(".safetensors"), stem.with_suffix(".json")
    paths[0].write_bytes(weights)
    paths[1].write_bytes(card_json)
    return paths


def save_card(stem: str | Path, card: dict) -> Path:
    """Write STEM.json alone (a run whose weights do not ship); returns its path."""
    path = Path(stem).with_suffix(".json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(card_bytes(card))
    return path


def _depth(text: bytes) -> int:
    """How deeply JSON brackets nest in `text` (strings skipped), counted before parsing so no parser recurses far.

    Vectorised (a 1 MB card: milliseconds and about 20 MB at most): a quote after an odd run of backslashes is
    escaped, the others open and close strings, and brackets inside strings do not count. (Outside strings a backslash
    is invalid JSON, which the parser refuses right there, so everything before it is still counted exactly.)
    """
    b = np.frombuffer(text, dtype=np.uint8)
    if not b.size:
        return 0
    quotes = b == 0x22
    backslash = b == 0x5C
    if backslash.any():
        at = np.arange(b.size, dtype=np.int32)  # a card is at most 1 MB (MAX_CARD_BYTES)
        last_plain = np.maximum.accumulate(np.where(backslash, -1, at))  # the last non-backslash at or before each
        quotes[1:] &= (at - last_plain)[:-1] % 2 == 0  # even run of backslashes just before: not escaped
    outside = np.cumsum(quotes, dtype=np.int32) % 2 == 0  # a string runs from its opening quote to its closing one
    steps = ((b == 0x5B) | (b == 0x7B)).view(np.int8) - ((b == 0x5D) | (b == 0x7D)).view(np.int8)
    return max(0, int(np.cumsum(steps * outside, dtype=np.int32).max()))


def parse_card(raw: bytes | str | dict) -> dict:
    """A card dict from JSON text, checked for size, nesting, our format tag and a valid config."""
    if not isinstance(raw, dict):
        text = raw.encode() if isinstance(raw, str) else bytes(raw)
        if len(text) > MAX_CARD_BYTES or _depth(text) > MAX_CARD_DEPTH:
            raise CheckpointError(msg("card.too_big", limit=MAX_CARD_BYTES // MB, depth=MAX_CARD_DEPTH))
        try:
            raw = json.loads(text)
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise CheckpointError(msg("card.not_json", detail=str(exc)[:120])) from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise CheckpointError(msg("card.not_ours"))
    config = raw.get("config")
    if not isinstance(config, dict):
        raise CheckpointError(msg("card.bad_settings", why=msg("card.no_config")))
    try:
        TrainConfig.from_dict(config).validate()
    except Problem as exc:
        raise CheckpointError(msg("card.bad_settings", why=exc.messages[0])) from None
    return raw | {"config": renamed(config)}  # a card written before a setting was renamed reads under the new name


def from_bytes(weights: bytes, card: bytes | str | dict) -> tuple[torch.nn.Module, dict]:
    """Rebuild a model from safetensors bytes and its card, or raise CheckpointError."""
    if len(weights) > MAX_BYTES:
        raise CheckpointError(msg("weights.too_big", size=len(weights) / MB, limit=MAX_BYTES // MB))
    card = parse_card(card)
    try:
        state = load_safetensors_bytes(weights)
    except (SafetensorError, ValueError, RuntimeError, OverflowError) as exc:
        raise CheckpointError(msg("weights.unreadable", detail=str(exc)[:120])) from None
    cfg = TrainConfig.from_dict(card["config"])
    mismatch = _mismatch(cfg, state)  # before building: a 1 KB card must not make the server build a 2x1024 model
    if mismatch:
        raise CheckpointError(msg("weights.mismatch", detail=mismatch[:200]))
    if any(v.dtype != torch.float32 or not torch.isfinite(v).all() for v in state.values()):
        raise CheckpointError(msg("weights.not_finite"))
    model = build_model(cfg)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0:2]
        raise CheckpointError(msg("weights.mismatch", detail=" ".join(first)[:200])) from None
    return model.eval(), card


def _mismatch(cfg: TrainConfig, state: dict) -> str:
    """How the tensors in `state` differ from the model `cfg` describes ('' if they fit), without allocating it."""
    with torch.device("meta"):  # shapes only: no memory, no initialisation
        wanted = {k: tuple(v.shape) for k, v in make_model(cfg.family, cfg.hidden, cfg.layers, cfg.dropout,
                                                           cfg.positions, **model_shape(cfg)).state_dict().items()}
    missing, unexpected = sorted(set(wanted) - set(state)), sorted(set(state) - set(wanted))
    if missing or unexpected:
        return f"missing {', '.join(missing) or 'nothing'}; unexpected {', '.join(unexpected) or 'nothing'}"
    for key, shape in wanted.items():
        if tuple(state[key].shape) != shape:
            return f"{key} has shape {list(state[key].shape)} in the file, {list(shape)} in the model"
    return ""


def load_checkpoint(path: str | Path) -> tuple[torch.nn.Module, dict]:
    """Load PATH(.safetensors) and its sibling .json card."""
    weights_path = Path(path).with_suffix(".safetensors")
    card_path = weights_path.with_suffix(".json")
    for p in (weights_path, card_path):
        if not p.is_file():
            raise CheckpointError(msg("file.missing", path=str(p)))
    if weights_path.stat().st_size > MAX_BYTES:
        raise CheckpointError(msg("weights.too_big", size=weights_path.stat().st_size / MB, limit=MAX_BYTES // MB))
    return from_bytes(weights_path.read_bytes(), card_path.read_bytes())


def list_checkpoints(folder: str | Path) -> dict[str, Path]:
    """name -> weights path for every NAME.safetensors with a NAME.json in `folder`, sorted by name."""
    folder = Path(folder)
    return {p.stem: p for p in sorted(folder.glob("*.safetensors")) if p.with_suffix(".json").is_file()}
