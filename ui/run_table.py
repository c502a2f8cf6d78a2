"""The session's finished runs as a table people read: translated headers and values, the mean and spread of runs
repeated with other seeds, and the exports."""

from __future__ import annotations

import streamlit as st

from lib.data.orders import ORDERS
from lib.messages import LIST_SEPARATOR
from lib.models.families import FAMILIES
from lib.runs.export import export_runs
from lib.runs.job import Job
from lib.runs.record import seed_group_spreads
from lib.training.optim import OPTIMIZERS
from ui import runs, state
from ui.i18n import t
from ui.run_status import left_out_note, state_label


def columns() -> dict:
    """Translated headers for the runs table (accuracy as a percentage)."""
    labels = {"run": t("run"), "name": t("name"), "family": t("Model family"), "hidden": t("Hidden size"),
              "layers": t("Layers"), "optimizer": t("Optimizer"), "lr": t("Learning rate"), "batch": t("Batch size"),
              "epochs": t("Epochs"), "order": t("Row order"), "digits": t("Training digits"), "state": t("state"),
              "device": t("Device")}
    out = {k: st.column_config.Column(v) for k, v in labels.items()}
    out["test_acc"] = st.column_config.NumberColumn(t("test accuracy ({n:,} test digits)", n=runs.loaded()[1]),
                                                    format="percent")
    out["seconds"] = st.column_config.NumberColumn(t("seconds"), format="%.1f")
    return out


def row(job: Job) -> dict:
    """A run's summary row with its values as people read them, in their language (lib keeps the identifiers)."""
    values = job.summary()
    return values | {"family": t(FAMILIES[values["family"]].label),
                     "optimizer": t(OPTIMIZERS[values["optimizer"]].label),
                     "order": t(ORDERS[values["order"]].title), "state": state_label(job),
                     "device": state.device_text(job.last("start") or {})}


def table(done: list[Job], key: str) -> list[Job]:
    """The finished runs, one row each; returns the rows the visitor selected."""
    rows = [row(j) for j in done]
    shown = [c for c in rows[0] if c != "name" or any(r["name"] for r in rows)]
    picked = st.dataframe(rows, key=key, on_select="rerun", selection_mode="multi-row", hide_index=True,
                          column_order=shown, column_config=columns())
    return [done[i] for i in picked.selection.rows]


def repeats(done: list[Job]) -> None:
    """One line per group of runs repeated with other seeds: the mean and spread of their test accuracy (runs that
    were stopped or did not learn are left out, and named)."""
    for s in seed_group_spreads(done):
        st.info(t("Runs {runs}: the same settings with {k} seeds. Test accuracy {mean:.2%} ± {sd:.2%} (mean ± "
                  "standard deviation across seeds), from {low:.2%} to {high:.2%}.",
                  runs=t(LIST_SEPARATOR).join(f"#{i}" for i in s["ids"]), k=s["runs"], mean=s["mean"], sd=s["sd"],
                  low=s["min"], high=s["max"]), icon=":material/functions:")
    if seed_group_spreads(done):
        left_out_note([j for j in done if j.group])


def exports(done: list[Job]) -> None:
    """The runs as CSV and as JSON with every logged dict (built when clicked, not on every rerun of the page)."""
    bar = st.container(horizontal=True)
    bar.download_button(t("All runs (.csv)"), lambda: export_runs(done)[0], "row-by-row-runs.csv", "text/csv",
                        key="export_csv", icon=":material/table:", width="content")
    bar.download_button(t("All runs with curves (.json)"), lambda: export_runs(done)[1], "row-by-row-runs.json",
                        "application/json", key="export_json", icon=":material/data_object:", width="content")
