"""Per-browser-session state: who this session is, its training jobs (runs), and cached analyses of them."""

from __future__ import annotations

import uuid

import streamlit as st

from lib.data.orders import ORDERS
from lib.messages import LIST_SEPARATOR
from lib.models.families import FAMILIES, uses
from lib.runs.job import Job
from ui import resources
from ui.i18n import t, tn


def owner() -> str:
    """A random id for this browser session (job ownership and heartbeats)."""
    return st.session_state.setdefault("owner", uuid.uuid4().hex)


def runs() -> list[Job]:
    """This session's jobs, oldest first: queued, running and finished ones."""
    return st.session_state.setdefault("runs", [])


def active_runs() -> list[Job]:
    return [j for j in runs() if not j.finished]


def finished_runs() -> list[Job]:
    return [j for j in runs() if j.finished]


def run_by_id(job_id: int) -> Job | None:
    return next((j for j in runs() if j.id == job_id), None)


def add_run(job: Job) -> list[Job]:
    """Keep `job`; past the per-session cap drop the oldest finished runs. Returns the dropped ones."""
    kept = runs()
    kept.append(job)
    cap = resources.settings().max_runs
    dropped = []
    while len(kept) > cap:
        oldest = next((j for j in kept if j.finished), None)
        if oldest is None:
            break
        kept.remove(oldest)
        dropped.append(oldest)
        analyses().pop(oldest.id, None)
    return dropped


def delete_run(job: Job) -> None:
    job.stop()
    if job in runs():
        runs().remove(job)
    analyses().pop(job.id, None)


def analyses() -> dict:
    """job id -> {key: result} for evaluations computed on demand (confusion, order matrix, ...)."""
    return st.session_state.setdefault("analyses", {})


def run_label(job: Job) -> str:
    """'#3 LSTM 1×128 · top → bottom', in the visitor's language (the order's title is translated)."""
    c = job.config
    return f"#{job.id} {job.name or t(FAMILIES[c.family].label)} {c.layers}×{c.hidden} · {t(ORDERS[c.order].title)}"


def shape_text(family: str, layers: int, hidden: int) -> str:
    """A model's family and size in words, from its registry entry's shape ("LSTM with 2 layers of 128 units")."""
    return tn(*FAMILIES[family].shape, layers, cell=t(FAMILIES[family].label), hidden=hidden)


def device_text(start: dict) -> str:
    """Where a run trained or a measurement ran (its start event, or lib.experiments.scaling's result), for people: 'CPU (2
    threads)' in the visitor's language, or the GPU's own name."""
    if start.get("device_type") == "cpu":
        return tn("CPU ({n} thread)", "CPU ({n} threads)", start.get("threads") or 1)
    return start.get("device", "")


def model_title(name: str, config) -> str:
    """A shipped model's name in the visitor's language, told apart from the others by its settings (its file's id,
    lstm-forward, is English and stays off the screen)."""
    from lib.storage.pretrained import EVERY_STEP_MODEL, LESSON_MODEL  # the two lesson models have titles of their own

    if name == LESSON_MODEL:
        return t("The lesson's LSTM, retrained here")
    if name == EVERY_STEP_MODEL:
        return t("The lesson's LSTM, trained on every row's answer")
    values = dict(cell=t(FAMILIES[config.family].label), layers=config.layers, hidden=config.hidden,
                  order=t(ORDERS[config.order].title))
    base = t("{cell} {layers}×{hidden} without position embedding, {order}", **values) if \
        uses(config.family, "positions") and not config.positions else t("{cell} {layers}×{hidden}, {order}", **values)
    extras = [t("reading both ways") if config.bidirectional else "",
              {"mean": t("mean read-out"), "max": t("max read-out")}.get(config.readout, ""),
              t("{n} steps per row", n=config.steps_per_row) if config.steps_per_row > 1 else "",
              t("loss on every row") if config.loss == "every-step" else ""]
    return t(LIST_SEPARATOR).join([base, *(e for e in extras if e)])
