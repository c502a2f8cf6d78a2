"""Things shared by every session of the server, made once (st.cache_resource): read-only data and models, plus the
two shared services by design, the job queue and the measurements it runs. Never mutate the read-only ones."""

from __future__ import annotations

import streamlit as st
import torch

from lib.data.mnist import DataUnavailable, MnistData, load_mnist
from lib.experiments.evaluate import evaluate
from lib.experiments.scaling import Measurements
from lib.experiments.tuning import budgets
from lib.messages import Message, Problem
from lib.runs.choice import open_executor
from lib.runs.executor import Executor
from lib.runs.local import LocalExecutor
from lib.runs.settings import Settings, load_settings
from lib.storage.checkpoints import CheckpointError, list_checkpoints, load_checkpoint
from lib.storage.pretrained import FOLDER, seed_cards, tuning_records
from ui.i18n import t, tr, tr_all

_warm: set = set()  # what this server has loaded once: later calls are cache hits and need no spinner


def _first_time(key, text: str, load, *args):
    """`load(*args)` (a cached function) under a spinner in the visitor's language, the first time only."""
    if key in _warm:
        return load(*args)
    with st.spinner(text):
        result = load(*args)
    _warm.add(key)
    return result


@st.cache_resource(show_spinner=False)
def _settings() -> tuple[Settings, list]:
    try:
        return load_settings(), []
    except Problem as exc:  # a teacher's typo must not take the app down: defaults plus a visible error
        return Settings(), exc.messages


def settings() -> Settings:
    """The server's settings (classroom limits), read once."""
    return _settings()[0]


def settings_error() -> str:
    """Why the classroom settings could not be read, in the visitor's language ('' when they could)."""
    return tr_all(_settings()[1])


def reload_settings() -> None:
    _settings.clear()


@st.cache_resource(show_spinner=False)
def _mnist() -> tuple[MnistData | None, list]:
    try:
        return load_mnist(), []
    except DataUnavailable as exc:  # kept as lib Messages: each visitor reads them in their own language
        return None, exc.messages


def mnist() -> MnistData | None:
    """The shared dataset, or None when no source worked (see data_error())."""
    return _first_time("mnist", t("Loading MNIST…"), _mnist)[0]


@st.cache_resource(show_spinner=False)
def test_labels() -> tuple[int, ...]:
    """The shared test digits' labels as plain ints, made once per server (McNemar's tests on the pages read them on
    every rerun); read-only."""
    return tuple(mnist().test_y.tolist())


def data_error() -> str:
    """Why no data could be loaded, in the visitor's language."""
    return tr_all(_mnist()[1])


@st.cache_resource(show_spinner=False)
def _jobs() -> tuple[Executor, Message | None]:
    s = settings()
    return open_executor(lambda: LocalExecutor(max_running=s.max_jobs, heartbeat_timeout=s.heartbeat_s,
                                               limits=settings, max_gpu_jobs=s.max_gpu_jobs,
                                               mps_memory_fraction=s.mps_memory_fraction),
                         limits=settings, heartbeat_s=s.heartbeat_s)


def jobs() -> Executor:
    """The one executor of this server: the in-process queue (its cap from the settings), or a Ray cluster when
    ROW_BY_ROW_EXECUTOR=ray (lib.runs.choice). Pages use it the same way whichever it is."""
    return _first_time("jobs", t("Starting the training queue…"), _jobs)[0]


def executor_notice() -> str:
    """Why training does not run where the server was told to (a Ray cluster it cannot use), in the visitor's
    language; '' when it does."""
    notice = _jobs()[1]
    return tr(notice) if notice else ""


@st.cache_resource(show_spinner=False)
def measurements() -> Measurements:
    """The server's sequential-against-parallel measurements, one per device, shared by every session (like the job
    queue, a shared object by design: a class measures once, not 30 times at once)."""
    return Measurements()


def shipped() -> dict[str, tuple[torch.nn.Module, dict]]:
    """name -> (model in eval mode, card) for every valid file in pretrained/; broken files are skipped."""
    return _first_time("shipped", t("Loading the shipped models…"), _shipped)


@st.cache_resource(show_spinner=False)
def _shipped() -> dict[str, tuple[torch.nn.Module, dict]]:
    models = {}
    for name, path in list_checkpoints(FOLDER).items():
        try:
            models[name] = load_checkpoint(path)
        except CheckpointError as exc:
            print(f"skipping shipped model {name}: {exc}")
    return models


@st.cache_resource(show_spinner=False)
def shipped_seed_cards() -> dict[str, dict]:
    """The cards of the shipped configs trained with other seeds (pretrained/seeds/): the row-order spread."""
    return seed_cards()


@st.cache_resource(show_spinner=False)
def tuning_budgets() -> dict[str, dict]:
    """What each family's tuning tried and found (lib.experiments.tuning.budgets of pretrained/tuning/)."""
    return budgets(tuning_records())


def shipped_evaluation(name: str, order: str) -> dict:
    """evaluate() of a shipped model on the full test set (predictions included), computed once per server."""
    return _first_time(("evaluation", name, order), t("Evaluating the model on the test set…"), _shipped_evaluation,
                       name, order)


@st.cache_resource(show_spinner=False, max_entries=16)
def _shipped_evaluation(name: str, order: str) -> dict:
    model, _ = shipped()[name]
    return evaluate(model, mnist(), order)
