"""Read-only things shared by every session of the server, loaded once (st.cache_resource). Never mutate them."""

from __future__ import annotations

import streamlit as st
import torch

from lib.checkpoints import CheckpointError, list_checkpoints, load_checkpoint
from lib.data import DataUnavailable, MnistData, load_mnist
from lib.jobs import JobManager
from lib.pretrained import FOLDER
from lib.settings import Settings, load_settings
from lib.train import evaluate


@st.cache_resource(show_spinner=False)
def _settings() -> tuple[Settings, str]:
    try:
        return load_settings(), ""
    except ValueError as exc:  # a teacher's typo must not take the app down: defaults plus a visible error
        return Settings(), str(exc)


def settings() -> Settings:
    """The server's settings (classroom limits), read once."""
    return _settings()[0]


def settings_error() -> str:
    return _settings()[1]


def reload_settings() -> None:
    _settings.clear()


@st.cache_resource(show_spinner="Loading MNIST…")
def _mnist() -> tuple[MnistData | None, str]:
    try:
        return load_mnist(), ""
    except DataUnavailable as exc:
        return None, str(exc)


def mnist() -> MnistData | None:
    """The shared dataset, or None when no source worked (see data_error())."""
    return _mnist()[0]


def data_error() -> str:
    return _mnist()[1]


@st.cache_resource(show_spinner=False)
def jobs() -> JobManager:
    """The one job queue of this server; its cap comes from the settings."""
    s = settings()
    return JobManager(max_running=s.max_jobs, heartbeat_timeout=s.heartbeat_s)


@st.cache_resource(show_spinner="Loading the shipped models…")
def shipped() -> dict[str, tuple[torch.nn.Module, dict]]:
    """name -> (model in eval mode, card) for every valid file in pretrained/; broken files are skipped."""
    models = {}
    for name, path in list_checkpoints(FOLDER).items():
        try:
            models[name] = load_checkpoint(path)
        except CheckpointError as exc:
            print(f"skipping shipped model {name}: {exc}")
    return models


@st.cache_resource(show_spinner="Scoring the model on the test set…", max_entries=16)
def shipped_evaluation(name: str, order: str) -> dict:
    """evaluate() of a shipped model on the full test set (predictions included), computed once per server."""
    model, _ = shipped()[name]
    return evaluate(model, mnist(), order)
