"""Inspect's model picker: shipped, uploaded and this session's models of every family, and their test-set scores
(cached)."""

from __future__ import annotations

import streamlit as st

from lib.experiments.evaluate import evaluate
from lib.storage.pretrained import LESSON_MODEL
from lib.training.config import TrainConfig
from ui import resources, state
from ui.i18n import t
from ui.upload import uploads


def model_options() -> dict[str, dict]:
    """'shipped:NAME' / 'run:ID' -> {label, model, config} for every model there is to inspect."""
    options = {}
    shipped = resources.shipped()
    for name in sorted(shipped, key=lambda n: (n != LESSON_MODEL, n)):
        model, card = shipped[name]
        config = TrainConfig.from_dict(card["config"])
        options[f"shipped:{name}"] = {"label": t("{title} · shipped", title=state.model_title(name, config)),
                                      "model": model, "config": config}
    for name, (model, card) in uploads().items():
        options[f"upload:{name}"] = {"label": t("{name} (uploaded)", name=name), "model": model,
                                     "config": TrainConfig.from_dict(card["config"])}
    for job in reversed(state.finished_runs()):  # newest first
        if job.model is not None and job.state in ("done", "stopped"):
            options[f"run:{job.id}"] = {"label": t("{run} (your run)", run=state.run_label(job)),
                                        "model": job.model, "config": job.config}
    return options


def pick_model() -> tuple[str, dict] | None:
    """The model picker (a run sent here by the Train page's Inspect button comes preselected)."""
    options = model_options()
    if not options:
        st.warning(t("There is no model to inspect yet. Train one on the Train page, or ask whoever runs this "
                     "server to create the shipped models with `python -m lib.cli make-pretrained`."))
        return None
    sent = st.session_state.pop("inspect_run", None)
    if sent is not None and f"run:{sent}" in options:
        st.session_state["inspect_model"] = f"run:{sent}"
    if st.session_state.get("inspect_model") not in options:
        st.session_state.pop("inspect_model", None)
    key = st.selectbox(t("Model"), list(options), format_func=lambda k: options[k]["label"], key="inspect_model")
    return key, options[key]


def evaluation_of(key: str, choice: dict, data) -> dict:
    """Test-set predictions of the chosen model, computed once (per server for shipped, per session for runs)."""
    kind, name = key.split(":", 1)
    order = choice["config"].order
    if kind == "shipped":
        return resources.shipped_evaluation(name, order)
    store = state.analyses().setdefault(int(name) if kind == "run" else key, {})
    if "eval" not in store:
        with st.spinner(t("Scoring this run on the test set…")):
            store["eval"] = evaluate(choice["model"], data, order)
    return store["eval"]
