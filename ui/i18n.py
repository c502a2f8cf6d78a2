"""Translations, gettext's way: English source text in the code, one catalog per language in locale/.

`t("…", **values)` translates, then formats; `tn` picks a plural form; `tc` adds a context where one English word has
two meanings. lib's Messages are rendered with the same catalog (`tr`). The compiled catalogs (.mo) are committed,
so nothing is built at install time; locale/README.md says how a translator updates or adds a language.
"""

from __future__ import annotations

import gettext
from functools import cache
from pathlib import Path

import streamlit as st

from lib.messages import LIST_SEPARATOR, Message

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "messages"
LANGUAGES = {"en": "English", "zh": "简体中文"}  # English is the source language: it needs no catalog
SENTENCE_GAP = {"en": " ", "zh": ""}  # between two sentences: a Chinese full stop 。 is followed by no space


@cache
def catalog(lang: str) -> gettext.NullTranslations:
    """The compiled catalog of `lang` (read once per server); English, or a language without one, passes through."""
    if lang == "en":
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang], fallback=True)


def browser_language() -> str:
    """The visitor's preferred language if we speak it (navigator.language, e.g. 'zh-CN'), else English."""
    try:
        locale = (st.context.locale or "").lower()
    except (AttributeError, RuntimeError):  # no browser behind this run (a bare script)
        locale = ""
    return next((lang for lang in LANGUAGES if locale.startswith(lang)), "en")


def language() -> str:
    """The current language: from the URL (so a shared link keeps it), else this session's choice, else the browser's.

    Page links drop the query string, so the choice is remembered in the session and written back into the URL.
    """
    lang = st.query_params.get("lang")
    if lang in LANGUAGES:
        st.session_state["lang"] = lang
        return lang
    lang = st.session_state.setdefault("lang", browser_language())
    if lang != "en":
        st.query_params["lang"] = lang
    return lang


def sentences(*texts: str) -> str:
    """Sentences as the current language joins them: a space after an English full stop, none after a Chinese 。
    (an empty text, a sentence that did not apply, is left out)."""
    return SENTENCE_GAP.get(language(), " ").join(text for text in texts if text)


def _format(text: str, values: dict) -> str:
    return text.format(**values) if values else text


def t(text: str, **values) -> str:
    """`text` in the current language, with {placeholders} filled from `values`."""
    return _format(catalog(language()).gettext(text), values)


def labels(names: dict) -> dict:
    """{choice: English source text} translated now, for a widget's `format_func=labels(...).get`: a format function
    is also called outside the page's run (AppTest's replies), where the visitor's language is not known, so it must
    not call t() itself."""
    return {k: t(v) for k, v in names.items()}


def and_list(items) -> str:
    """Names joined as a sentence lists them in the visitor's language: "A, B and C" / "A、B 和 C"."""
    items = list(items)
    if len(items) < 2:
        return "".join(items)
    return t("{items} and {last}", items=t(LIST_SEPARATOR).join(items[:-1]), last=items[-1])


def tn(singular: str, plural: str, n: int, **values) -> str:
    """The plural form for `n` in the current language (Chinese has one form, English two); {n} is filled too."""
    return _format(catalog(language()).ngettext(singular, plural, n), {"n": n, **values})


def tc(context: str, text: str, **values) -> str:
    """`text` in the current language, told apart by `context` where one English word has two meanings."""
    return _format(catalog(language()).pgettext(context, text), values)


def tr(message: Message) -> str:
    """A Message from lib in the current language: its English source text translated, then formatted."""
    return message.render(t)


def tr_all(messages) -> str:
    """Several lib Messages as one list of reasons in the current language ("; " between them; Chinese "；")."""
    return t("; ").join(tr(m) for m in messages)
