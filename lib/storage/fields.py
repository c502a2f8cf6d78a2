"""Typed values for a dataclass's fields from text or JSON (URLs, TOML, environment variables, cards)."""

from __future__ import annotations

from dataclasses import fields

from lib.messages import Problem, Term, msg

_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
MAX_INT_DIGITS = 18  # a whole-number setting fits in 64 bits (torch's seeds do not take 2**64 or more)


class _TooManyDigits(ValueError):
    """A whole number longer than MAX_INT_DIGITS digits."""


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
    if kind == "int" and abs(converted) >= 10**MAX_INT_DIGITS:
        raise _TooManyDigits(value)
    if kind == "int" and float(value) != converted:  # "1.5" is not a whole number
        raise ValueError(value)
    return converted


def _shown(value) -> str:
    """A bad value as it is echoed in a message: its repr, at most 40 characters."""
    try:
        text = repr(value)
    except ValueError:  # an integer too long for Python to print (over 4,300 digits)
        return "..."
    return text if len(text) <= 40 else text[:37] + "..."


def typed_fields(cls, values: dict, names: dict | None = None, scope: str = "setting") -> dict:
    """`values` converted to the types of dataclass `cls`; unknown keys or bad values raise a Problem.

    `names` gives each field's name for messages (else the field's own name); `scope` picks the messages' wording:
    "setting" (a run's settings) or "classroom" (the server's).
    """
    kinds = {f.name: f.type for f in fields(cls)}
    unknown = set(values) - set(kinds)
    if unknown:
        raise Problem(msg(f"{scope}.unknown", names=", ".join(sorted(map(str, unknown)))))
    typed = {}
    for key, value in values.items():
        try:
            typed[key] = _convert(kinds[key], value)
        except (TypeError, ValueError, OverflowError) as exc:
            name = Term(names[key]) if names and key in names else key
            kind = msg("kind.int_digits", digits=MAX_INT_DIGITS) if isinstance(exc, _TooManyDigits) else \
                msg(f"kind.{kinds[key]}")
            raise Problem(msg(f"{scope}.type", **{"setting" if scope == "setting" else "name": name},
                              kind=kind, value=_shown(value))) from None
    return typed
