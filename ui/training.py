"""Training widgets shared by the Train and Row order pages: start a run, show it live, draw run curves."""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from lib.data.orders import ORDERS
from lib.experiments import stats
from lib.messages import Message, Problem
from lib.runs.jobs import Job
from lib.training.config import TrainConfig, classroom_problems, sized_to_data
from ui import charts, resources, state
from ui.i18n import sentences, t, tc, tr, tr_all


def start_repeats(cfg: TrainConfig, seeds: int) -> list[Job]:
    """The same settings `seeds` times with seeds cfg.seed, cfg.seed + 1, …; the runs share a group id."""
    first = start_run(cfg)
    if first is None or seeds <= 1:
        return [first] if first else []
    first.group = first.id
    rest = [start_run(replace(cfg, seed=cfg.seed + k), group=first.id) for k in range(1, seeds)]
    return [first] + [j for j in rest if j is not None]


def start_run(cfg: TrainConfig, name: str = "", group: int = 0) -> Job | None:
    """Queue a run for this session, or explain in the page why it cannot start (earlier runs stay)."""
    data = resources.mnist()
    if data is None:
        st.error(sentences(t("Cannot train: no data."), resources.data_error()))
        return None
    cfg = fit(cfg)  # sized once, here; the job queue validates it once, on submit
    problems = classroom_problems(cfg, resources.settings(), n_train=len(data.train_y))
    try:
        if not problems:
            job = resources.jobs().submit(cfg, data, state.owner(), name, group=group)
    except Problem as exc:
        problems += exc.messages
    if problems:
        st.error(t("This run cannot start: {why}", why=tr_all(problems)))
        return None
    for dropped in state.add_run(job):
        st.toast(t("Removed the oldest run {run} (a session keeps {n} runs).", run=state.run_label(dropped),
                   n=resources.settings().max_runs))
    return job


def loaded() -> tuple[int, int]:
    """How many training and test digits are loaded (60,000 and 10,000 for the full MNIST)."""
    data = resources.mnist()
    return len(data.train_y), len(data.test_y)


def sized(cfg: TrainConfig) -> tuple[TrainConfig, list[str]]:
    """`cfg` asking for no more digits than are loaded (the shipped sample has fewer than a link may ask), and why."""
    return sized_to_data(cfg, *loaded())


def fit(cfg: TrainConfig) -> TrainConfig:
    """`cfg` sized to the loaded digits; a toast (it outlives the rerun that follows Train) says what changed."""
    cfg, notes = sized(cfg)
    for note in notes:
        st.toast(tr(note), icon=":material/info:")
    return cfg


def status(job: Job) -> None:
    """Queue place, live progress, or the outcome of one run."""
    if job.state == "queued":
        st.info(t("Waiting for a free slot: place {n} in the queue ({running} running, cap {cap}).",
                  n=resources.jobs().position(job), **_counts()))
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


def _counts() -> dict:
    c = resources.jobs().counts()
    return {"running": c["running"], "cap": c["cap"]}


def outcome(job: Job) -> None:
    """The end of a run in one line: accuracy and time, or why it ended early."""
    if job.state == "diverged":
        st.error(sentences(t("Diverged."), _why(job)))
    elif job.state == "error":
        st.error(t("This run failed: {msg}", msg=_why(job)))
    elif job.result is None:
        st.info(t("Stopped before any training step. {msg}", msg=_why(job)))
    else:
        text = t("Test accuracy {acc:.2%} ± {margin:.2%} on the {n:,} MNIST test digits (95% interval), after "
                 "{s:.1f} s of training on {device}.", acc=job.result["acc"],
                 margin=stats.margin(job.result["acc"], job.result["n"]), n=job.result["n"], s=job.seconds,
                 device=state.device_text(job.last("start") or {}))
        if job.state == "stopped":
            st.warning(sentences(t("Stopped early; the model is kept as trained so far."), text))
        elif job.message is not None:  # finished, but the verdict is that it did not learn
            st.warning(sentences(t("Not learning."), _why(job), text))
        else:
            st.success(text)


def _scored_on(job: Job) -> str:
    """'val' or 'test': what this run scored after each epoch (its epoch dicts say)."""
    first = job.last("epoch") or {}
    return "test" if "test_acc" in first or (not first and job.config.validation == 0) else "val"


def _epoch_title(jobs: list[Job]) -> str:
    """The per-epoch accuracy chart's title: what the solid lines were measured on, and how many digits."""
    kinds = {_scored_on(j) for j in jobs}
    sizes = {(j.last("epoch") or {}).get(f"{_scored_on(j)}_n") for j in jobs} - {None}
    n = sizes.pop() if len(sizes) == 1 else None
    if kinds == {"val"}:
        return (t("Accuracy each epoch: {n:,} held-out validation digits (solid), training digits (dotted)", n=n)
                if n else t("Accuracy each epoch: held-out validation digits (solid), training digits (dotted)"))
    if kinds == {"test"}:
        return (t("Accuracy each epoch: {n:,} test digits (solid), training digits (dotted)", n=n)
                if n else t("Accuracy each epoch: test digits (solid), training digits (dotted)"))
    return t("Accuracy each epoch: validation or test digits (solid), training digits (dotted)")


def _accuracy_series(job: Job, look: dict) -> list[dict]:
    """A run's held-out accuracy per epoch (solid) and its training accuracy (dotted, thinner)."""
    rows, kind = job.of_kind("epoch"), _scored_on(job)
    x = [r["epoch"] for r in rows]
    held, trained = (t("validation") if kind == "val" else t("test")), t("training")
    return [{"name": f"{state.run_label(job)} · {held}", "x": x, "y": [r[f"{kind}_acc"] for r in rows], **look},
            {"name": f"{state.run_label(job)} · {trained}", "x": x, "y": [r["train_acc"] for r in rows],
             **look, "dash": "dot", "width": 1.5}]


def _why(job: Job) -> str:
    return tr(job.message) if job.message else ""


def curves(jobs: list[Job], key: str, color_by_order: bool = False) -> None:
    """Training loss per step, test accuracy per epoch and learning rate, one line per run."""
    def series(job, kind, x, y):
        rows = job.of_kind(kind)
        look = order_look(job.config.order) if color_by_order else {}
        return {"name": state.run_label(job), "x": [r[x] for r in rows], "y": [r[y] for r in rows], **look}

    left, mid, right = st.columns(3)
    left.plotly_chart(charts.lines([series(j, "step", "step", "loss") for j in jobs], tc("training", "step"),
                                   t("training loss"), t("Loss")), key=f"{key}_loss", width="stretch")
    looks = [order_look(j.config.order) if color_by_order else {"color": charts.PALETTE[i % len(charts.PALETTE)]}
             for i, j in enumerate(jobs)]  # a run keeps its colour from the loss chart (the colorway's i-th)
    accuracy = [s for j, look in zip(jobs, looks) for s in _accuracy_series(j, look)]
    mid.plotly_chart(charts.lines(accuracy, t("epoch"), t("accuracy"), _epoch_title(jobs), percent=True,
                                  whole_x=True), key=f"{key}_acc", width="stretch")
    if any(_scored_on(j) == "test" for j in jobs):
        mid.caption(t("This run scores the test set after every epoch, as the original lesson does. Better "
                      "practice holds out validation digits from the training set for that, and scores the test "
                      "set once, at the end: settings chosen by looking at test scores make the test score too "
                      "optimistic."))
    right.plotly_chart(charts.lines([series(j, "step", "step", "lr") for j in jobs], tc("training", "step"),
                                    t("learning rate"),
                                    t("Learning rate")), key=f"{key}_lr", width="stretch")
    summary = curves_text(jobs)  # the three charts' text alternative
    if summary:
        st.caption(summary)


def curves_text(jobs: list[Job]) -> str:
    """What the curves show, run by run: the loss from first to last step, the last accuracy, the learning rate."""
    parts = []
    for job in jobs:
        steps, epochs = job.of_kind("step"), job.of_kind("epoch")
        if not steps:
            continue
        values = dict(run=state.run_label(job), a=steps[0]["loss"], b=steps[-1]["loss"], n=steps[-1]["step"],
                      lr0=steps[0]["lr"], lr1=steps[-1]["lr"])
        if not epochs:
            parts.append(t("{run}: training loss from {a:.3f} to {b:.3f} over {n:,} steps; learning rate from "
                           "{lr0:.2g} to {lr1:.2g}.", **values))
            continue
        kind = _scored_on(job)
        parts.append(t("{run}: training loss from {a:.3f} to {b:.3f} over {n:,} steps; {held} accuracy {acc:.1%} "
                       "after epoch {e}; learning rate from {lr0:.2g} to {lr1:.2g}.", **values, e=epochs[-1]["epoch"],
                       held=t("validation") if kind == "val" else t("test"), acc=epochs[-1][f"{kind}_acc"]))
    return sentences(*parts)


def order_look(order: str) -> dict:
    """A row order's line style, from its registry entry: colour plus dash (a cue that does not rely on colour)."""
    entry = ORDERS[order]
    return {"color": entry.color, "dash": entry.dash}


def remember_active() -> None:
    """On a full page run: note which runs wait and which are unfinished, so a fragment can tell what changed."""
    st.session_state["active_ids"] = {j.id for j in state.active_runs()}
    st.session_state["queued_ids"] = {j.id for j in state.active_runs() if j.state == "queued"}


def poll_seconds() -> float | None:
    """How often a live panel polls: every second while a run trains, slowly while runs only wait, else never."""
    active = state.active_runs()
    if any(j.state == "running" for j in active):
        return 1.0
    return 10.0 if active else None


def rerun_when_finished() -> None:
    """From a polling fragment: rerun the whole page when a run has ended or left the queue (new poll rate)."""
    active, queued = st.session_state.get("active_ids", set()), st.session_state.get("queued_ids", set())
    if any(j.finished and j.id in active or j.state != "queued" and j.id in queued for j in state.runs()):
        st.rerun(scope="app")
