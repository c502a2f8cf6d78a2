"""Settings in a URL: a config as query parameters and back, where any bad value falls back with a notice."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Mapping

from lib.messages import Message, Problem, Term, msg
from lib.training.config import TrainConfig, renamed
from lib.training.devices import resolve_device
from lib.training.limits import LABELS, SETTINGS

SHARED_FIELDS = [name for name, s in SETTINGS.items() if s.in_form]  # what a link carries (not max_steps)
APP_KEYS = {"lang"}  # query keys that belong to the app, not the config
MAX_VALUE_LEN = 40  # longer values are not settings, whatever they are


def config_to_query(cfg: TrainConfig) -> dict[str, str]:
    """Every shareable field as text, so a link reproduces the setup exactly."""
    return {name: f"{getattr(cfg, name):g}" if isinstance(getattr(cfg, name), float) else str(getattr(cfg, name))
            for name in SHARED_FIELDS}


def _shown(text: str) -> str:
    """A query value made safe to echo in a message: short, and no markup or links."""
    return re.sub(r"[^\w.+-]", "?", text[:MAX_VALUE_LEN])


def config_from_query(params: Mapping[str, object], base: TrainConfig) -> tuple[TrainConfig, list[Message]]:
    """Apply each valid query value to `base`; every rejected one is skipped and explained (one Message each)."""
    cfg, notices = base, []
    # the family first (also under its old name, cell): whether a setting such as positions=false is allowed depends
    # on it, wherever it is written
    for key, raw in sorted(renamed(dict(params)).items(), key=lambda item: item[0] != "family"):
        if key in APP_KEYS:
            continue
        value = raw[-1] if isinstance(raw, list) and raw else raw
        if key not in SHARED_FIELDS:
            notices.append(msg("link.unknown", key=_shown(str(key))))
            continue
        if not isinstance(value, str) or len(value) > MAX_VALUE_LEN:
            notices.append(msg("link.too_long", key=key))
            continue
        try:
            candidate = replace(cfg, **{key: getattr(TrainConfig.from_dict({key: value}), key)})
            candidate.validate()
            if key == "device":
                resolve_device(candidate.device)  # a link made on a GPU machine, opened on a CPU one
        except Problem as exc:
            notices.append(msg("link.rejected", key=key, value=repr(_shown(value)), why=_first_relevant(exc, key)))
            continue
        cfg = candidate
    return cfg, notices


def _first_relevant(problem: Problem, key: str) -> Message:
    """The reason that concerns `key` (a link changes one setting at a time, so the others were valid before)."""
    named = [m for m in problem.messages if m.values.get("setting") == LABELS.get(key)]
    reason = (named or problem.messages)[0]
    safe = {k: _shown(v) if isinstance(v, str) and not isinstance(v, Term) else v for k, v in reason.values.items()}
    return Message(reason.id, safe)  # the link's own text is echoed only as safe characters
