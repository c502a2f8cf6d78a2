"""One run lifecycle for every page: start runs, follow them live, finish, keep them in the session.

A page says what to run and what to draw: `start(key, configs)` sizes the configs to the loaded digits, submits them
to the server's executor (which checks them and the classroom limits), keeps them among the session's runs and
reruns the page; `follow(key, draw)` draws the runs started under `key` now and keeps drawing them live, then reruns
the page when one ends, so its finished parts (tables, comparisons) draw from complete runs.
"""

from __future__ import annotations

from typing import Callable

import streamlit as st

from lib.messages import Problem
from lib.runs.job import Job
from lib.training.config import TrainConfig, sized_to_data
from ui import classroom, resources, state
from ui.i18n import sentences, t, tr, tr_all


def loaded() -> tuple[int, int]:
    """How many training and test digits are loaded (60,000 and 10,000 for the full MNIST)."""
    data = resources.mnist()
    return len(data.train_y), len(data.test_y)


def sized(cfg: TrainConfig) -> tuple[TrainConfig, list]:
    """`cfg` asking for no more digits than are loaded (the shipped sample has fewer than a link may ask), and why."""
    return sized_to_data(cfg, *loaded())


def start(key: str, configs: list[TrainConfig], names: list[str] | None = None, tags: list | None = None,
          seed_group: bool = False) -> list[Job]:
    """Submit `configs` for this session under `key` (the page's name for them), with a name and a tag (what the
    page wants to remember of each) per run; `seed_group`: the same settings with other seeds, shown together. Why a
    run cannot start is shown in the page; earlier runs stay. Reruns the page when anything started."""
    data = resources.mnist()
    if data is None:
        st.error(sentences(t("Cannot train: no data."), resources.data_error()))
        return []
    notes, jobs, problems = {}, [], []
    for k, cfg in enumerate(configs):
        cfg, why = sized(cfg)
        notes |= {str(note): note for note in why}  # one note however many runs it concerns
        group = jobs[0].id if seed_group and jobs else 0
        try:
            job = resources.jobs().submit(cfg, data, state.owner(), names[k] if names else "", group=group)
        except Problem as exc:
            problems += [m for m in exc.messages if m not in problems]
            continue
        job.group = job.id if seed_group and not jobs and len(configs) > 1 else job.group
        jobs.append(job)
        _keep(job)
        classroom.watch(job)  # a student in a class: recorded there when it finishes
    for note in notes.values():
        st.toast(tr(note), icon=":material/info:")  # a toast outlives the rerun below
    if problems:
        st.error(t("This run cannot start: {why}", why=tr_all(problems)))
    if jobs:
        st.session_state.setdefault("followed", {})[key] = {"ids": [j.id for j in jobs],
                                                            "tags": dict(zip([j.id for j in jobs], tags or []))}
        st.rerun()
    return jobs


def _keep(job: Job) -> None:
    for dropped in state.add_run(job):
        st.toast(t("Removed the oldest run {run} (a session keeps {n} runs).", run=state.run_label(dropped),
                   n=resources.settings().max_runs))


def followed(key: str) -> list[Job]:
    """The runs last started under `key` that the session still keeps, in the order they were started."""
    ids = st.session_state.get("followed", {}).get(key, {}).get("ids", [])
    return [job for job in map(state.run_by_id, ids) if job is not None]


def tag(key: str, job: Job):
    """What the page remembered of a run it started under `key` (None if nothing)."""
    return st.session_state.get("followed", {}).get(key, {}).get("tags", {}).get(job.id)


def poll_seconds(jobs: list[Job]) -> float | None:
    """How often a live panel polls: every second while a run trains, slowly while runs only wait, else never."""
    if any(j.state == "running" for j in jobs):
        return 1.0
    return 10.0 if any(not j.finished for j in jobs) else None


def follow(key: str, draw: Callable[[list[Job]], None]) -> None:
    """Draw the runs started under `key` with `draw(jobs)`, live: a fragment redraws them every second while one
    trains, and reruns the whole page when one has ended or left the queue since this page run."""
    jobs = followed(key)
    before = {"active": {j.id for j in jobs if not j.finished}, "queued": {j.id for j in jobs if j.state == "queued"}}

    @st.fragment(run_every=poll_seconds(jobs))
    def live() -> None:
        now = followed(key)
        draw(now)
        if any(j.finished and j.id in before["active"] or j.state != "queued" and j.id in before["queued"]
               for j in now):
            st.rerun(scope="app")

    live()
