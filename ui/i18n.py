"""Translations: English text is the key; `t()` returns it in the chosen language (kept in the URL as ?lang=)."""

from __future__ import annotations

import streamlit as st

import re

from ui.zh import ZH, ZH_PATTERNS, ZH_WORDS

LANGUAGES = {"en": "English", "zh": "简体中文"}


def language() -> str:
    """The current language: from the URL (so a shared link keeps it), else this session's last choice, else English.

    Page links drop the query string, so the choice is remembered in the session and written back into the URL.
    """
    lang = st.query_params.get("lang")
    if lang in LANGUAGES:
        st.session_state["lang"] = lang
        return lang
    lang = st.session_state.get("lang", "en")
    if lang != "en":
        st.query_params["lang"] = lang
    return lang


def t(text: str, **values) -> str:
    """`text` in the current language, with {placeholders} filled from `values`."""
    if language() == "zh":
        text = ZH.get(text, text)
    return text.format(**values) if values else text


def tr(message: str) -> str:
    """A message built by lib (with values in it) in the current language; unknown ones stay in English."""
    if language() != "zh":
        return message
    return _zh_message(message)


def _zh_message(text: str) -> str:
    if text in ZH:
        return ZH[text]
    for pattern, template in ZH_PATTERNS:
        match = re.fullmatch(pattern, text, flags=re.DOTALL)
        if match:
            parts = {k: ZH_WORDS.get(v, v) for k, v in match.groupdict().items()}
            if "list" in parts:
                parts["list"] = "；".join(_zh_message(p) for p in parts["list"].split("; "))
            if "why" in parts:
                parts["why"] = _zh_message(parts["why"])
            return template.format(**parts)
    if "; " in text:  # several messages joined by lib (e.g. limits): translate each
        return "；".join(_zh_message(p) for p in text.split("; "))
    return text
