"""Train: pick settings in a form, train in the background with live curves, compare and manage runs."""

from __future__ import annotations

from urllib.parse import urlencode

import streamlit as st

from lib.checkpoints import to_bytes
from lib.jobs import export_runs
from lib.model import CELLS
from lib.orders import ORDERS
from lib.share import config_from_query, config_to_query
from lib.train import OPTIMIZERS, PRECISIONS, PRESETS, SCHEDULERS, TrainConfig, available_devices, preset
from ui import resources, state, training
from ui.common import page
from ui.i18n import language, t, tr

HIDDEN = [8, 16, 32, 64, 100, 128, 192, 256, 384, 512, 768, 1024]
LRS = [0.0001, 0.0003, 0.001, 0.003, 0.005, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 50.0]
BATCHES = [16, 32, 64, 128, 256, 512, 1024]
SUBSETS = [500, 1000, 2000, 5000, 10000, 20000, 30000]  # plus "all" (however many digits are loaded)
TEST_SUBSETS = [500, 1000, 2000, 5000]
DECAYS = [0.0, 1e-5, 1e-4, 1e-3, 1e-2]
DEFAULT_PRESET = "quick"


def key(field: str) -> str:
    return f"form_{field}"


def fill_form(cfg: TrainConfig) -> None:
    """Put a config's values into the form's widgets (before they are drawn); 'all' is the loaded count."""
    cfg, (n_train, n_test) = training.sized(cfg)[0], training.loaded()
    for field, value in cfg.to_dict().items():
        st.session_state[key(field)] = value
    st.session_state[key("subset")] = cfg.subset or n_train
    st.session_state[key("test_subset")] = cfg.test_subset or n_test
    s = resources.settings()  # sliders cannot show values past their ends; the submit check explains limits
    st.session_state[key("layers")] = min(cfg.layers, s.max_layers)
    st.session_state[key("epochs")] = min(cfg.epochs, s.max_epochs)


def on_preset() -> None:
    fill_form(preset(st.session_state["preset"]))


def first_visit() -> None:
    """Seed the form from the URL (a shared link) or the default preset; explain rejected URL values."""
    if "form_seeded" in st.session_state:
        return
    st.session_state["form_seeded"] = True
    cfg, notices = config_from_query(st.query_params.to_dict(), preset(DEFAULT_PRESET))
    fill_form(cfg)
    if notices:
        st.session_state["url_notices"] = notices


def options(values: list, current) -> list:
    """A slider's choices, including the current value if it came from a preset or a link."""
    return sorted(set(values) | {current})


def form_config() -> TrainConfig:
    """The config as chosen in the form ('all N' digits becomes 0 = all, as in a preset)."""
    values = {f: st.session_state[key(f)] for f in TrainConfig.__dataclass_fields__ if key(f) in st.session_state}
    return training.sized(TrainConfig.from_dict(values))[0]


def count_options(values: list[int], n_all: int, most: int, current: int) -> list[int]:
    """Digit counts to offer: those below what is loaded, then 'all' (n_all), none above the classroom cap."""
    return options([n for n in values + [n_all] if n <= min(n_all, most)], current)


def count_label(n_all: int):
    return lambda n: t("all {n:,}", n=n_all) if n >= n_all else f"{n:,}"


def settings_form() -> TrainConfig | None:
    """The form; returns a config only when Train was pressed."""
    s = resources.settings()
    with st.form("train_form", border=True):
        a, b, c = st.columns(3)
        a.radio(t("Cell"), list(CELLS), format_func=lambda c: t(CELLS[c][1]), key=key("cell"), horizontal=True)
        a.select_slider(t("Hidden size"), options([h for h in HIDDEN if h <= s.max_hidden],
                                                  st.session_state[key("hidden")]), key=key("hidden"))
        a.slider(t("Layers"), 1, s.max_layers, key=key("layers"))
        a.selectbox(t("Row order"), list(ORDERS), format_func=lambda o: t(ORDERS[o].title), key=key("order"),
                    help=" ".join(f"**{t(o.title)}**: {t(o.explanation)}" for o in ORDERS.values()))
        b.select_slider(t("Learning rate"), options(LRS, st.session_state[key("lr")]), key=key("lr"),
                        format_func=lambda v: f"{v:g}", help=t("Log scale. Too high and the loss explodes."))
        b.selectbox(t("Optimizer"), list(OPTIMIZERS), format_func=lambda o: OPTIMIZERS[o], key=key("optimizer"))
        b.selectbox(t("Learning-rate schedule"), list(SCHEDULERS), format_func=lambda v: t(SCHEDULERS[v]),
                    key=key("scheduler"))
        b.select_slider(t("Batch size"), options(BATCHES, st.session_state[key("batch_size")]),
                        key=key("batch_size"))
        c.slider(t("Epochs"), 1, s.max_epochs, key=key("epochs"))
        n_train, _ = training.loaded()
        c.select_slider(t("Training digits"), count_options(SUBSETS, n_train, s.max_subset,
                                                            st.session_state[key("subset")]),
                        key=key("subset"), format_func=count_label(n_train),
                        help=t("Balanced across the 10 classes. Fewer digits train faster."))
        c.radio(t("Device"), devices(), format_func=device_name, key=key("device"), horizontal=True)
        with st.expander(t("More settings")):
            advanced()
        pressed = st.form_submit_button(t("Train"), type="primary", icon=":material/play_arrow:")
    return form_config() if pressed else None


def advanced() -> None:
    a, b, c = st.columns(3)
    a.slider(t("Momentum (SGD + momentum only)"), 0.0, 0.99, step=0.01, key=key("momentum"))
    a.select_slider(t("Weight decay"), options(DECAYS, st.session_state[key("weight_decay")]),
                    key=key("weight_decay"), format_func=lambda v: f"{v:g}")
    b.slider(t("Dropout between layers"), 0.0, 0.5, step=0.05, key=key("dropout"))
    b.number_input(t("Gradient clipping (0 = off)"), 0.0, 100.0, step=0.5, key=key("clip"))
    c.number_input(t("Seed"), 0, 2**31 - 1, step=1, key=key("seed"))
    _, n_test = training.loaded()
    c.select_slider(t("Test digits scored each epoch"),
                    count_options(TEST_SUBSETS, n_test, n_test, st.session_state[key("test_subset")]),
                    key=key("test_subset"), format_func=count_label(n_test))
    c.number_input(t("Log every N steps"), 1, 1000, step=1, key=key("log_every"))
    a.selectbox(t("Precision"), list(PRECISIONS), format_func=lambda p: t(PRECISIONS[p]), key=key("precision"),
                help=t("bfloat16 halves the work of the LSTM on CPUs that compute it natively (AMX), "
                       "at the same accuracy here; float32 is exact and the same on every machine."))


def share_link() -> None:
    """The current form settings as a link: a student who opens it gets exactly this setup."""
    cfg = form_config()
    base = (st.context.url or "").split("?")[0]
    with st.expander(t("Share these settings"), icon=":material/link:"):
        st.caption(t("Anyone who opens this link gets the same settings in the form (and the same language)."))
        st.code(f"{base}?{urlencode(config_to_query(cfg) | {'lang': language()})}", language=None)


def devices() -> list[str]:
    return list(available_devices())


def device_name(d: str) -> str:
    return t(available_devices().get(d, d))


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
    labels = {"run": t("run"), "name": t("name"), "cell": t("Cell"), "hidden": t("Hidden size"),
              "layers": t("Layers"), "optimizer": t("Optimizer"), "lr": t("Learning rate"), "batch": t("Batch size"),
              "epochs": t("Epochs"), "order": t("Row order"), "digits": t("Training digits"), "state": t("state"),
              "device": t("Device")}
    columns = {k: st.column_config.Column(v) for k, v in labels.items()}
    columns["test_acc"] = st.column_config.NumberColumn(t("test acc"), format="percent")
    columns["seconds"] = st.column_config.NumberColumn(t("seconds"), format="%.1f")
    return columns


def history() -> None:
    """This session's finished runs: table, overlaid curves and per-run actions."""
    done = state.finished_runs()
    st.header(t("Your runs"))
    if not done:
        st.caption(t("Finished runs appear here, to compare, inspect, download or delete."))
        return
    rows = [j.summary() for j in done]
    columns = [c for c in rows[0] if c != "name" or any(r["name"] for r in rows)]
    picked = st.dataframe(rows, key="runs_table", on_select="rerun", selection_mode="multi-row", hide_index=True,
                          column_order=columns,
                          column_config=table_columns())
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
                 index=list(PRESETS).index(DEFAULT_PRESET), format_func=lambda p: t(PRESETS[p][0]))
    chosen = st.session_state["preset"]
    if form_config() == training.sized(preset(chosen))[0]:
        st.caption(t(PRESETS[chosen][1]))
    else:
        st.caption(t("Settings changed from the preset (or opened from a link)."))
    cfg = settings_form()
    share_link()
    if cfg is not None:
        job = training.start_run(cfg)
        if job is not None:
            st.session_state["watch"] = job.id
            st.query_params.from_dict(config_to_query(cfg) | {"lang": st.query_params.get("lang", "en")})
            training.remember_active()
            st.rerun()
    training.remember_active()
    live()
    history()


main()
