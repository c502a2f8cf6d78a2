"""What every page shows: the sidebar (language, data status, running jobs) and the heartbeat that keeps jobs alive."""

from __future__ import annotations

import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

from ui import classroom, resources, state
from ui.i18n import LANGUAGES, language, t, tn

PULSE_S = 10.0  # seconds between heartbeats; the job manager stops jobs of tabs silent for settings.heartbeat_s
# Streamlit makes its main area a Tab stop (tabindex 0, the target of "Skip to main content", so that the keyboard can
# scroll it) but draws no focus indicator on it: a ring inside its edge, in the theme's primary colour (5.1:1 on white).
MAIN_FOCUS_CSS = '<style>#stMain:focus-visible {{ outline: 2px solid {colour}; outline-offset: -2px; }}</style>'


def _set_language() -> None:
    st.query_params["lang"] = st.session_state["lang_choice"]


def sidebar() -> None:
    """Language switch, dataset line, classroom limits and the live list of this session's jobs."""
    with st.sidebar:
        st.selectbox("Language / 语言", list(LANGUAGES), format_func=LANGUAGES.get, key="lang_choice",
                     index=list(LANGUAGES).index(language()), on_change=_set_language)
        data_status(compact=True)
        s = resources.settings()
        if resources.settings_error():
            st.error(t("The classroom settings could not be read, so the defaults apply: {e}",
                       e=resources.settings_error()))
        if resources.executor_notice():
            st.warning(resources.executor_notice())
        if s.classroom:
            jobs = tn("{n} training job at once on this server", "{n} training jobs at once on this server",
                      s.max_jobs)
            st.info(t("Classroom mode: up to {hidden} hidden units, {layers} layers, {epochs} epochs, "
                      "{subset:,} training digits; {jobs}.", hidden=s.max_hidden, layers=s.max_layers,
                      epochs=s.max_epochs, subset=s.max_subset, jobs=jobs))
        classroom.sidebar()
        _pulse()


@st.fragment(run_every=PULSE_S)
def _pulse() -> None:
    """Heartbeat for this session's jobs plus a one-line status of each unfinished one."""
    manager = resources.jobs()
    manager.touch(state.owner())
    for job in state.active_runs():
        if job.state == "queued":
            st.caption(t("⏳ {run}: waiting, place {n} in the queue", run=state.run_label(job),
                         n=manager.position(job)))
        else:
            step = job.last("step")
            st.caption(t("🏃 {run}: {p:.0%} trained", run=state.run_label(job), p=step["progress"] if step else 0))


def data_status(compact: bool = False) -> bool:
    """Say which dataset is loaded (or how to get one); True if there is data to use."""
    data = resources.mnist()
    if data is None:
        st.error(t("No MNIST data could be loaded.") + "\n\n" + resources.data_error())
        return False
    if data.full:
        st.caption(t("Data: full MNIST ({n:,} digits: {train:,} for training, {test:,} for testing).",
                     n=data.total, train=len(data.train_y), test=len(data.test_y)))
    else:
        msg = t("Data: the MNIST sample shipped with the app: {train:,} training digits and all {test:,} MNIST test "
                "digits. Set MNIST_ROOT or go online for all 60,000 training digits.",
                train=len(data.train_y), test=len(data.test_y))
        st.caption(msg) if compact else st.info(msg)
    return True


def require_data() -> bool:
    """On a page's main area: an error when there is no data, a notice for the shipped sample; True if usable."""
    data = resources.mnist()
    if data is None or not data.full:
        return data_status()
    return True


def page(title: str, intro: str = ""):
    """What every page starts with: sidebar, title, intro; stops the page when there is no data, else returns it."""
    st.html(MAIN_FOCUS_CSS.format(colour=st.get_option("theme.primaryColor")))
    sidebar()
    st.title(title)
    if intro:
        st.markdown(intro)
    if not require_data():
        st.stop()
    return resources.mnist()


def link_to(view: str, label: str, icon: str) -> None:
    """A link to another page (views/NAME.py). A page run on its own, outside the router's navigation (an AppTest of
    one view), has no pages to link to: there the label is shown as text."""
    try:
        st.page_link(view, label=label, icon=icon)
    except StreamlitPageNotFoundError:
        st.markdown(f"**{label}**")
