"""Inspect's look through the steps for a one-way recurrent model: how far back its gradient reaches (trained, and
from its initial weights) and what its state holds after k rows (linear probes). Behind a switch: the gradients take
seconds and the probes minutes, so nothing is computed until the student asks."""

from __future__ import annotations

import streamlit as st

from ui import gradients, probes
from ui.i18n import t


def through_the_steps(key: str, choice: dict) -> None:
    """The panels of `choice` (Inspect's picked model, `key` its picker key), for a model that answers after every
    step; nothing for one that reads all lines at once or both ways."""
    if not getattr(choice["model"], "answers_each_step", False):
        return
    st.header(t("Through the steps"))
    if not st.toggle(t("Measure how far back the gradient reaches and what the state holds after k rows"),
                     key="inspect_through_steps"):
        st.caption(t("The Lesson page explains both for the shipped models: why the LSTM has gates, and what a linear "
                     "probe reads from the memory."))
        return
    gradients.inspect_panel(key, choice)
    probes.inspect_panel(key, choice)
