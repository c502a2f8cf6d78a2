"""Translations: English text is the key; `t()` returns it in the chosen language (kept in the URL as ?lang=)."""

from __future__ import annotations

import streamlit as st

from ui.zh import ZH

LANGUAGES = {"en": "English", "zh": "简体中文"}


def language() -> str:
    """The current language code, from the URL (so a shared link keeps it) or English."""
    lang = st.query_params.get("lang", "en")
    return lang if lang in LANGUAGES else "en"


def t(text: str, **values) -> str:
    """`text` in the current language, with {placeholders} filled from `values`."""
    if language() == "zh":
        text = ZH.get(text, text)
    return text.format(**values) if values else text
