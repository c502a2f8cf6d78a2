"""Runs' curves: training loss per step, held-out accuracy per epoch and the learning rate, one line per run, with
their text alternative."""

from __future__ import annotations

import streamlit as st

from lib.data.orders import ORDERS
from lib.runs.job import Job
from lib.training.train import scored_on
from ui import charts, state
from ui.i18n import sentences, t, tc


def _scored_on(job: Job) -> str:
    """'val' or 'test': what this run scores after each epoch (its epoch dicts say; before the first, its config)."""
    first = job.last("epoch")
    return scored_on(first) if first else "test" if job.config.validation == 0 else "val"


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
    mid.caption(t("The dotted line is the accuracy on the training digits while they trained: a running mean over "
                  "the epoch, taken in training mode (dropout on, the weights still changing), not a score of the "
                  "finished model."))
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
