"""Settings in a URL: a config as query parameters and back, where any bad value falls back with a notice."""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Mapping

from .train import TrainConfig

SHARED_FIELDS = [f.name for f in fields(TrainConfig) if f.name != "max_steps"]  # max_steps is not in the form
APP_KEYS = {"lang"}  # query keys that belong to the app, not the config
MAX_VALUE_LEN = 40  # longer values are not settings, whatever they are


def config_to_query(cfg: TrainConfig) -> dict[str, str]:
    """Every shareable field as text, so a link reproduces the setup exactly."""
    return {name: f"{getattr(cfg, name):g}" if isinstance(getattr(cfg, name), float) else str(getattr(cfg, name))
            for name in SHARED_FIELDS}


def config_from_query(params: Mapping[str, object], base: TrainConfig) -> tuple[TrainConfig, list[str]]:
    """Apply each valid query value to `base`; every rejected one is skipped and explained."""
    cfg, notices = base, []
    for key, raw in params.items():
        if key in APP_KEYS:
            continue
        value = raw[-1] if isinstance(raw, list) and raw else raw
        if key not in SHARED_FIELDS:
            notices.append(f"ignored unknown setting '{key[:MAX_VALUE_LEN]}'")
            continue
        if not isinstance(value, str) or len(value) > MAX_VALUE_LEN:
            notices.append(f"ignored {key}: not a short text value")
            continue
        try:
            candidate = replace(cfg, **{key: getattr(TrainConfig.from_dict({key: value}), key)})
            candidate.validate()
        except (ValueError, TypeError) as exc:
            notices.append(f"ignored {key}={value[:MAX_VALUE_LEN]!r}: {exc}")
            continue
        cfg = candidate
    return cfg, notices
