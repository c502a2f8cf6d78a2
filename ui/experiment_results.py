"""Where the gradients, probes and the parallel timing shown on the pages come from: recorded for the shipped models
(lib.experiments.recorded, while the record fits their weights), else computed on this server, once for everybody.

The gradients take seconds, so they are computed at once (st.cache_resource: one computation per model per server,
a second visitor waits for the first's). The probes take minutes and the timing must not run beside training, so
they go through the training queue as measurements (lib.experiments.scaling.Measurements): started by a button,
shared by the class, their progress shown while they run.
"""

from __future__ import annotations

import streamlit as st

from lib.experiments import gradients as grads
from lib.experiments import parallel, probes, recorded
from lib.experiments.scaling import Measurements
from ui import resources, state
from ui.i18n import t


@st.cache_resource(show_spinner=False)
def jobs() -> Measurements:
    """The server's probe computations and parallel timings, keyed ("probes", model) or ("parallel", device)."""
    return Measurements()


@st.cache_resource(show_spinner=False, max_entries=64)
def _recorded(kind: str, name: str, init: bool) -> dict | None:
    return recorded.lookup(kind, name, init)


@st.cache_resource(show_spinner=False, max_entries=32)
def _computed_gradients(name: str, init: bool) -> dict:
    model, card = resources.shipped()[name]
    return grads.of_model(model, card["config"], resources.mnist(), init)


def shipped_gradients(name: str, init: bool = False) -> dict | None:
    """The gradient through the steps of a shipped model (None when it is not shipped)."""
    if name not in resources.shipped():
        return None
    found = _recorded("gradients", name, init)
    if found is not None:
        return found
    with st.spinner(t("Computing the gradients of {name} on this server (once for everybody)…", name=name)):
        return _computed_gradients(name, init)


def model_gradients(key: str, model, config: dict, init: bool) -> dict:
    """The gradients of any one-way model on the Inspect page: a shipped one's as above, a run's or an upload's
    computed for this session (seconds) and kept with its other analyses."""
    kind, name = key.split(":", 1)
    if kind == "shipped":
        return shipped_gradients(name, init)
    store = state.analyses().setdefault(int(name) if kind == "run" else key, {})
    if ("gradients", init) not in store:
        with st.spinner(t("Computing the gradients…")):
            store[("gradients", init)] = grads.of_model(model, config, resources.mnist(), init)
    return store[("gradients", init)]


def probe_key(key: str) -> tuple:
    """A model's key in the shared store: a shipped model by name, a session's run or upload by session too."""
    kind, name = key.split(":", 1)
    return ("probes", name) if kind == "shipped" else ("probes", state.owner(), key)


def probe_result(key: str) -> dict | None:
    """A model's probes: recorded (a shipped model), or computed on this server before; None until then."""
    kind, name = key.split(":", 1)
    found = _recorded("probes", name, False) if kind == "shipped" else None
    return found if found is not None else jobs().result(probe_key(key))


def start_probes(key: str, model, config: dict):
    """Queue the probes of a model (joining the computation already running for it)."""
    data = resources.mnist()

    def work(job):
        return probes.of_model(model, config, data, on_row=lambda k: job.events.append({"event": "probed", "row": k}))

    return jobs().start(probe_key(key), _submit("probes"), work)


def parallel_result(device: str) -> dict | None:
    """This server's timing of the parallel and waiting parts, if it has measured; else None."""
    return jobs().result(("parallel", device))


def start_parallel(device: str):
    return jobs().start(("parallel", device), _submit("parallel", device), lambda job: parallel.measure(device))


def running(key) -> object | None:
    return jobs().running(key)


def _submit(name: str, device: str = "cpu"):
    return lambda task: resources.jobs().submit_task(task, state.owner(), name, device)
