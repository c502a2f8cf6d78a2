"""Train: pick settings in a form, train in the background with live curves, compare and manage runs."""

from __future__ import annotations

from urllib.parse import urlencode

import streamlit as st

from lib.data.orders import ORDERS
from lib.experiments import stats
from lib.messages import LIST_SEPARATOR
from lib.models.families import FAMILIES
from lib.runs.export import export_runs
from lib.runs.jobs import STATES, seed_groups
from lib.storage.checkpoints import to_bytes
from lib.storage.share import config_from_query, config_to_query
from lib.training.optim import OPTIMIZERS
from lib.training.presets import PRESETS, SOURCE_ACCURACY, preset
from ui import resources, state, training
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


@st.fragment(run_every=training.poll_seconds())
def live() -> None:
    """Poll the watched run: progress, curves, Stop; rerun the page when a run ends."""
    job = state.run_by_id(st.session_state.get("watch", -1))
    if job is None:
        st.info(t("Choose settings and press **Train**. The curves draw here while it trains; you can visit "
                  "other pages meanwhile."))
        return
    head, stop = st.columns([5, 1])
    with head:
        st.subheader(state.run_label(job))
        training.status(job)
    if not job.finished:
        stop.button(t("Stop"), key=f"stop_{job.id}", on_click=job.stop, icon=":material/stop:", width="stretch")
    if job.state == "running":  # queued: nothing to draw yet; finished: its curves are in "Your runs" below
        training.curves([job], key="live")
    training.rerun_when_finished()


def table_columns() -> dict:
    """Translated headers for the runs table (accuracy as a percentage)."""
    labels = {"run": t("run"), "name": t("name"), "family": t("Model family"), "hidden": t("Hidden size"),
              "layers": t("Layers"), "optimizer": t("Optimizer"), "lr": t("Learning rate"), "batch": t("Batch size"),
              "epochs": t("Epochs"), "order": t("Row order"), "digits": t("Training digits"), "state": t("state"),
              "device": t("Device")}
    columns = {k: st.column_config.Column(v) for k, v in labels.items()}
    columns["test_acc"] = st.column_config.NumberColumn(t("test accuracy ({n:,} test digits)",
                                                          n=training.loaded()[1]), format="percent")
    columns["seconds"] = st.column_config.NumberColumn(t("seconds"), format="%.1f")
    return columns


def shown(job) -> dict:
    """A run's summary row with its values as people read them, in their language (lib keeps the identifiers)."""
    row = job.summary()
    return row | {"family": t(FAMILIES[row["family"]].label), "optimizer": t(OPTIMIZERS[row["optimizer"]].label),
                  "order": t(ORDERS[row["order"]].title), "state": t(STATES[row["state"]]),
                  "device": state.device_text(job.last("start") or {})}


def repeats(done: list) -> None:
    """One line per group of runs repeated with other seeds: the mean and spread of their test accuracy."""
    for runs in seed_groups(done):
        s = stats.spread([j.result["acc"] for j in runs])
        st.info(t("Runs {runs}: the same settings with {k} seeds. Test accuracy {mean:.2%} ± {sd:.2%} (mean ± "
                  "standard deviation across seeds), from {low:.2%} to {high:.2%}.",
                  runs=t(LIST_SEPARATOR).join(f"#{j.id}" for j in runs), k=len(runs), mean=s["mean"], sd=s["sd"],
                  low=s["min"], high=s["max"]), icon=":material/functions:")


def history() -> None:
    """This session's finished runs: table, overlaid curves and per-run actions."""
    done = state.finished_runs()
    st.header(t("Your runs"))
    if not done:
        st.caption(t("Finished runs appear here, to compare, inspect, download or delete."))
        return
    rows = [shown(j) for j in done]
    columns = [c for c in rows[0] if c != "name" or any(r["name"] for r in rows)]
    picked = st.dataframe(rows, key="runs_table", on_select="rerun", selection_mode="multi-row", hide_index=True,
                          column_order=columns,
                          column_config=table_columns())
    repeats(done)
    chosen = [done[i] for i in picked.selection.rows] or done[-1:]
    st.caption(t("Select rows to overlay their curves; actions apply to the first selected run."))
    training.curves(chosen, key="compare")
    actions(chosen[0])
    row = st.container(horizontal=True)  # the files are built when clicked, not on every rerun of the page
    row.download_button(t("All runs (.csv)"), lambda: export_runs(done)[0], "row-by-row-runs.csv", "text/csv",
                        key="export_csv", icon=":material/table:", width="content")
    row.download_button(t("All runs with curves (.json)"), lambda: export_runs(done)[1], "row-by-row-runs.json",
                        "application/json", key="export_json", icon=":material/data_object:", width="content")


def actions(job) -> None:
    """Inspect, download (weights + card) or delete one run."""
    st.markdown(t("**Run {run}**", run=state.run_label(job)))
    row = st.container(horizontal=True)
    if row.button(t("Inspect"), key=f"inspect_{job.id}", icon=":material/search:", disabled=job.state == "diverged"):
        st.session_state["inspect_run"] = job.id
        st.switch_page("views/inspect.py")
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
    if from_widgets() == training.sized(preset(chosen))[0]:
        st.caption(t(PRESETS[chosen][1], source=SOURCE_ACCURACY))
    else:
        st.caption(t("Settings changed from the preset (or opened from a link)."))
    cfg = settings_form()
    share_link()
    if cfg is not None:
        started = training.start_repeats(cfg, st.session_state.get("form_repeats", 1))
        if started:
            st.session_state["watch"] = started[0].id
            st.query_params.from_dict(config_to_query(cfg) | {"lang": language()})
            training.remember_active()
            st.rerun()
    training.remember_active()
    live()
    history()


main()
