"""Settings in a URL: a config as query parameters and back, where any bad value falls back with a notice."""

from __future__ import annotations

import re
from dataclasses import fields, replace
from typing import Mapping

from .train import TrainConfig, resolve_device

SHARED_FIELDS = [f.name for f in fields(TrainConfig) if f.name != "max_steps"]  # max_steps is not in the form
APP_KEYS = {"lang"}  # query keys that belong to the app, not the config
MAX_VALUE_LEN = 40  # longer values are not settings, whatever they are


def config_to_query(cfg: TrainConfig) -> dict[str, str]:
    """Every shareable field as text, so a link reproduces the setup exactly."""
    return {name: f"{getattr(cfg, name):g}" if isinstance(getattr(cfg, name), float) else str(getattr(cfg, name))
            for name in SHARED_FIELDS}


def _shown(text: str) -> str:
    """A query value made safe to echo in a message: short, and no markup or links."""
    return re.sub(r"[^\w.+-]", "?", text[:MAX_VALUE_LEN])


def config_from_query(params: Mapping[str, object], base: TrainConfig) -> tuple[TrainConfig, list[str]]:
    """Apply each valid query value to `base`; every rejected one is skipped and explained."""
    cfg, notices = base, []
    for key, raw in params.items():
        if key in APP_KEYS:
            continue
        value = raw[-1] if isinstance(raw, list) and raw else raw
        if key not in SHARED_FIELDS:
            notices.append(f"ignored unknown setting '{_shown(key)}'")
            continue
        if not isinstance(value, str) or len(value) > MAX_VALUE_LEN:
            notices.append(f"ignored {key}: not a short text value")
            continue
        try:
            candidate = replace(cfg, **{key: getattr(TrainConfig.from_dict({key: value}), key)})
            candidate.validate()
            if key == "device":
                resolve_device(candidate.device)  # a link made on a GPU machine, opened on a CPU one
        except (ValueError, TypeError) as exc:
            notices.append(f"ignored {key}={_shown(value)!r}: {str(exc).replace(value, _shown(value))}")
            continue
        cfg = candidate
    return cfg, notices
