"""Train: pick settings in a form, train in the background with live curves, compare and manage runs."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlencode

import streamlit as st

from lib.storage.checkpoints import to_bytes
from lib.storage.share import config_from_query, config_to_query
from lib.training.presets import PRESETS, SOURCE_ACCURACY, preset
from ui import resources, run_charts, run_status, run_table, runs, state
from ui.common import page
from ui.i18n import labels, language, t, tr
from ui.train_form import from_widgets, settings_form, to_widgets

DEFAULT_PRESET = "quick"


def on_preset() -> None:
    to_widgets(preset(st.session_state["preset"]))


def first_visit() -> None:
    """Seed the form from the URL (a shared link) or the default preset; explain rejected URL values."""
    if "form_seeded" in st.session_state:
        return
    st.session_state["form_seeded"] = True
    cfg, notices = config_from_query(st.query_params.to_dict(), preset(DEFAULT_PRESET))
    to_widgets(cfg)
    if notices:
        st.session_state["url_notices"] = notices


def share_link() -> None:
    """The current form settings as a link: a student who opens it gets exactly this setup."""
    cfg = from_widgets()
    base = (st.context.url or "").split("?")[0]
    with st.expander(t("Share these settings"), icon=":material/link:"):
        st.caption(t("Anyone who opens this link gets the same settings in the form (and the same language)."))
        st.code(f"{base}?{urlencode(config_to_query(cfg) | {'lang': language()})}", language=None)


def live(jobs: list) -> None:
    """The run just started (the first of its seeds): progress, curves, Stop."""
    job = jobs[0] if jobs else None
    if job is None:
        st.info(t("Choose settings and press **Train**. The curves draw here while it trains; you can visit "
                  "other pages meanwhile."))
        return
    head, stop = st.columns([5, 1])
    with head:
        st.subheader(state.run_label(job))
        run_status.status(job)
    if not job.finished:
        stop.button(t("Stop"), key=f"stop_{job.id}", on_click=job.stop, icon=":material/stop:", width="stretch")
    if job.state == "running":  # queued: nothing to draw yet; finished: its curves are in "Your runs" below
        run_charts.curves([job], key="live")


def history() -> None:
    """This session's finished runs: table, overlaid curves and per-run actions."""
    done = state.finished_runs()
    st.header(t("Your runs"))
    if not done:
        st.caption(t("Finished runs appear here, to compare, inspect, download or delete."))
        return
    chosen = run_table.table(done, "runs_table") or done[-1:]
    run_table.repeats(done)
    st.caption(t("Select rows to overlay their curves; actions apply to the first selected run."))
    run_charts.curves(chosen, key="compare")
    actions(chosen[0])
    run_table.exports(done)


def actions(job) -> None:
    """Inspect, download (weights + card) or delete one run."""
    st.markdown(t("**Run {run}**", run=state.run_label(job)))
    row = st.container(horizontal=True)
    if row.button(t("Inspect"), key=f"inspect_{job.id}", icon=":material/search:", disabled=job.state == "diverged"):
        st.session_state["inspect_run"] = job.id
        st.switch_page("views/inspector.py")
    if job.result is not None:
        files = state.analyses().setdefault(job.id, {})
        if "files" not in files:  # serialise once per run, not on every rerun of the page
            files["files"] = to_bytes(job.model, job.card(resources.mnist().describe()))
        weights, card = files["files"]
        row.download_button(t("Weights (.safetensors)"), weights, f"run-{job.id}.safetensors",
                            "application/octet-stream", key=f"dl_w_{job.id}", icon=":material/download:")
        row.download_button(t("Card (.json)"), card, f"run-{job.id}.json", "application/json",
                            key=f"dl_c_{job.id}", icon=":material/description:")
    if row.button(t("Delete"), key=f"delete_{job.id}", icon=":material/delete:"):
        state.delete_run(job)
        st.rerun()


def main() -> None:
    page(t("Train an RNN on MNIST rows"))
    first_visit()
    for notice in st.session_state.pop("url_notices", []):
        st.warning(t("The link had a setting this page could not use, so the default was kept: {n}", n=tr(notice)))
    st.selectbox(t("Start from a preset"), list(PRESETS), key="preset", on_change=on_preset,
                 index=list(PRESETS).index(DEFAULT_PRESET),
                 format_func=labels({p: v[0] for p, v in PRESETS.items()}).get)
    chosen = st.session_state["preset"]
    if from_widgets() == runs.sized(preset(chosen))[0]:
        st.caption(t(PRESETS[chosen][1], source=SOURCE_ACCURACY))
    else:
        st.caption(t("Settings changed from the preset (or opened from a link)."))
    cfg = settings_form()
    share_link()
    if cfg is not None:  # the link first: starting reruns the page
        st.query_params.from_dict(config_to_query(cfg) | {"lang": language()})
        seeds = st.session_state.get("form_repeats", 1)
        runs.start("train", [replace(cfg, seed=cfg.seed + k) for k in range(seeds)], seed_group=True)
    runs.follow("train", live)
    history()


main()
