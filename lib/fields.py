"""Typed values for a dataclass's fields from text or JSON (URLs, TOML, environment variables, cards)."""

from __future__ import annotations

from dataclasses import fields

_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
NOUNS = {"int": "whole number", "float": "number", "str": "text", "bool": "true or false"}


def _convert(kind: str, value):
    """One value as `kind` ('int', 'float', 'str' or 'bool'); TypeError/ValueError if it is not one."""
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if str(value).lower() in _TRUE + _FALSE:
            return str(value).lower() in _TRUE
        raise ValueError(value)
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise TypeError(value)
    converted = {"int": int, "float": float, "str": str}[kind](value)
    if kind == "int" and float(value) != converted:  # "1.5" is not a whole number
        raise ValueError(value)
    return converted


def typed_fields(cls, values: dict, label: str = "") -> dict:
    """`values` converted to the types of dataclass `cls`; unknown keys or bad values raise a readable ValueError."""
    kinds = {f.name: f.type for f in fields(cls)}
    unknown = set(values) - set(kinds)
    if unknown:
        raise ValueError(f"unknown {label}settings: {', '.join(sorted(unknown))}")
    typed = {}
    for key, value in values.items():
        try:
            typed[key] = _convert(kinds[key], value)
        except (TypeError, ValueError, OverflowError):
            name = f"{label}setting {key}" if label else key
            raise ValueError(f"{name} must be a {NOUNS[kinds[key]]}, not {value!r}") from None
    return typed
