"""One run's state in words: its place in the queue, its live progress, or how it ended, in the visitor's language."""

from __future__ import annotations

import streamlit as st

from lib.experiments import stats
from lib.messages import LIST_SEPARATOR, Message
from lib.runs.job import Job
from lib.runs.record import STATES, left_out
from ui import resources, state
from ui.i18n import sentences, t, tr


def state_label(job: Job) -> str:
    """A run's state as people read it ("done", "queued", "failed"), translated."""
    return t(STATES[job.state])


def status(job: Job) -> None:
    """Queue place, live progress, or the outcome of one run."""
    if job.state == "queued" and getattr(job, "waiting", None) is not None:  # its turn, but not its GPU memory yet
        st.info(tr(job.waiting))
    elif job.state == "queued":
        st.info(t("Waiting for a free slot: place {n} in the queue ({running} running, cap {cap}).",
                  n=resources.jobs().position(job), **_counts(job)))
    elif job.state == "running":
        step = job.last("step")
        if step is None:
            st.progress(0.0, text=t("Starting…"))
            return
        start = job.last("start")
        st.progress(min(step["progress"], 1.0), text=t(
            "Epoch {e}/{E} · step {s:,}/{S:,} · {sps:,.0f} digits/s · about {left:.0f} s left · {device}",
            e=step["epoch"], E=job.config.epochs, s=step["step"], S=start["steps_total"],
            sps=step["samples_per_s"], left=step["left_s"], device=state.device_text(start)))
        if start.get("message"):  # why "auto" did not choose the accelerator
            st.caption(tr(Message.from_dict(start["message"])))
    else:
        outcome(job)


def _counts(job: Job) -> dict:
    """How many runs train on the job's device, and how many may (a GPU's line is not the CPU's)."""
    c = resources.jobs().counts(job.device)
    return {"running": c["running"], "cap": c["cap"]}


def outcome(job: Job) -> None:
    """The end of a run in one line: accuracy and time, or why it ended early."""
    if job.state == "diverged":
        st.error(sentences(t("Diverged."), why(job)))
    elif job.state == "error":
        st.error(t("This run failed: {msg}", msg=why(job)))
    elif job.result is None:
        st.info(t("Stopped before any training step. {msg}", msg=why(job)))
    else:
        text = t("Test accuracy {acc:.2%} ± {margin:.2%} on the {n:,} MNIST test digits (95% interval), after "
                 "{s:.1f} s of training on {device}.", acc=job.result["acc"],
                 margin=stats.margin(job.result["acc"], job.result["n"]), n=job.result["n"], s=job.seconds,
                 device=state.device_text(job.last("start") or {}))
        if job.state == "stopped":
            st.warning(sentences(t("Stopped early; the model is kept as trained so far."), text))
        elif job.message is not None:  # finished, but the verdict is that it did not learn
            st.warning(sentences(t("Not learning."), why(job), text))
        else:
            st.success(text)


def why(job: Job) -> str:
    """Why a run ended as it did (diverged, stopped by itself, failed, did not learn), translated; '' if nothing."""
    return tr(job.message) if job.message else ""


def left_out_note(jobs: list[Job]) -> None:
    """Say which runs a comparison leaves out, and why (stopped early, or did not learn): it pools only comparable
    runs (lib.runs.record.RunRecord.comparable)."""
    out = left_out(jobs)
    if out:
        st.caption(t("Left out of these figures: {runs}.", runs=t(LIST_SEPARATOR).join(
            t("{run} (stopped early)", run=state.run_label(j)) if j.state == "stopped" else
            t("{run} (did not learn)", run=state.run_label(j)) for j in out)))
