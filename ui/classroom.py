"""Being in a class, on every page: joining by a link's `?class=CODE`, the student's token kept in the link (so a
reload or a second tab is the same student), the sidebar's line with a way to leave, and each run the student starts
handed to the server's recorder, which writes it to the class when it finishes (lib.classroom.recorder).

The class database is one shared service of the server (st.cache_resource), like the job queue; a database that
cannot be reached never stops a page: it is said once, and the runs wait in the recorder's spool.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

import streamlit as st

from lib import ROOT
from lib.classroom import db
from lib.classroom.recorder import UNREACHABLE, Recorder, StoreHandle
from lib.classroom.store import ClassStore
from lib.messages import Problem, msg
from lib.training.config import sized_to_data
from ui import resources, state
from ui.i18n import t, tr, tr_all

JOINED = "classroom_student"  # session key: {"code", "token", "number", "nickname", "assigned"}
# Where Streamlit Community Cloud puts an app: it "copies all the files in your repository and executes `streamlit
# run` from its root directory" (Streamlit's docs: Deploy > Community Cloud > File organization), a checkout at
# /mount/src/<repository> (the path Community Cloud apps' tracebacks show). Streamlit documents no environment variable
# that says "Community Cloud", and the user seen there is no signal: its own Kubernetes tutorial (Deploy > Tutorials >
# Kubernetes) runs self-hosted apps as USER appuser with HOME /home/appuser, the names once taken for Community Cloud's,
# whose recent apps show their Python under /home/adminuser instead.
CLOUD_CHECKOUTS = PurePosixPath("/mount/src")


def handle() -> StoreHandle:
    """The server's one class database (ROW_BY_ROW_DB or the default SQLite file), connected on first use."""
    return _handle(db.database_url())


@st.cache_resource(show_spinner=False)
def _handle(url: str) -> StoreHandle:
    return StoreHandle(url)


def recorder() -> Recorder:
    """The server's recorder of finished class runs (one thread, one spool), for the database in use."""
    return _recorder(db.database_url())


@st.cache_resource(show_spinner=False)
def _recorder(url: str) -> Recorder:
    return Recorder(_handle(url))


def store() -> ClassStore | None:
    """The class store, or None while its database cannot be reached (unavailable() says so)."""
    try:
        return handle().get()
    except UNREACHABLE as exc:
        handle().error = str(exc).splitlines()[0][:200]
        return None


def unavailable() -> None:
    """Say that the class database cannot be reached, and that training goes on regardless."""
    st.warning(tr(msg("class.unavailable", detail=handle().error or "?")), icon=":material/cloud_off:")


def client() -> str:
    """Who is guessing, for slowing guesses down: the browser's address, else this browser session."""
    try:
        address = st.context.ip_address
    except (AttributeError, RuntimeError):
        address = None
    return f"ip:{address}" if address else f"session:{state.owner()}"


def joined() -> dict | None:
    """This session's class membership, or None."""
    return st.session_state.get(JOINED)


def _keep_in_link(student: dict) -> None:
    """The class and the student's token in the URL: page links drop the query string, so it is written back."""
    if st.query_params.get("class") != student["code"] or st.query_params.get("student") != student["token"]:
        st.query_params["class"], st.query_params["student"] = student["code"], student["token"]


def join(code, nickname=None, token=None) -> dict | None:
    """Join (or come back to) a class; the reason in the visitor's language if not. None when nothing changed."""
    s = store()
    if s is None:
        unavailable()
        return None
    try:
        s.throttle("join", client())
        try:
            student = s.join(code, token=token, nickname=nickname)
        except Problem as exc:
            if exc.messages[0].id in ("class.unknown_code", "class.bad_code"):
                s.missed("join", client())
            raise
    except Problem as exc:
        st.error(tr_all(exc.messages))
        st.query_params.pop("class", None)
        st.query_params.pop("student", None)
        return None
    except UNREACHABLE as exc:
        handle().error = str(exc).splitlines()[0][:200]
        unavailable()
        return None
    st.session_state[JOINED] = student
    _keep_in_link(student)
    return student


def from_link() -> None:
    """On every page: a link's ?class=CODE (with ?student=TOKEN when the page handed one back) joins; a joined
    student's link keeps both."""
    me, code = joined(), st.query_params.get("class")
    if me is not None and (code is None or code == me["code"]):
        _keep_in_link(me)
        return
    if code:
        join(code, token=st.query_params.get("student"))


def refresh() -> dict | None:
    """This student's membership read again (the teacher may have changed the experiment since they joined)."""
    me, s = joined(), store()
    if me is None or s is None:
        return me
    try:
        st.session_state[JOINED] = s.join(me["code"], token=me["token"])
    except (Problem, *UNREACHABLE):
        return me
    return st.session_state[JOINED]


def leave() -> None:
    """Leave the class: the nickname is removed from it (the runs stay as "student N" until deleted)."""
    me = st.session_state.pop(JOINED, None)
    st.query_params.pop("class", None)
    st.query_params.pop("student", None)
    s = store()
    if me is not None and s is not None:
        try:
            s.leave(me["code"], me["token"])
        except (Problem, *UNREACHABLE):
            pass


def who(student: dict) -> str:
    """'student 7 (Ann)' in the visitor's language."""
    if student.get("nickname"):
        return t("student {n} ({name})", n=student["number"], name=student["nickname"])
    return t("student {n}", n=student["number"])


def sidebar() -> None:
    """Which class this student is in, and a way to leave it (nothing when not in a class)."""
    from_link()
    me = joined()
    if me is None:
        return
    st.info(t("In class {code} as {who}. The class sees your runs' settings and results, never your models.",
              code=me["code"], who=who(me)), icon=":material/groups:")
    st.button(t("Leave the class"), key="class_leave", on_click=leave, icon=":material/logout:")


def assigned_config():
    """The exact config of this student's class run, sized to the loaded digits as every run is (or None)."""
    me = joined()
    if me is None or not me.get("assigned"):
        return None
    data = resources.mnist()
    cfg = me["assigned"]["config"]
    return sized_to_data(cfg, len(data.train_y), len(data.test_y))[0] if data is not None else cfg


def watch(job) -> None:
    """Record `job` in the student's class when it finishes: a class run if it is exactly the assigned setup, else
    one of the student's own runs (shown apart, never pooled)."""
    me = joined()
    if me is None:
        return
    assigned, value = assigned_config(), (me.get("assigned") or {}).get("value")
    recorder().watch(job, me["code"], me["token"],
                     lambda run: ("class", value) if assigned is not None and run.config == assigned else ("free", None))


def on_community_cloud(app_root: Path | str = ROOT) -> bool:
    """Whether the app at `app_root` (this app's folder unless told) is hosted on Streamlit Community Cloud, whose
    disk does not survive a restart: its folder is a repository checkout under /mount/src (CLOUD_CHECKOUTS)."""
    return CLOUD_CHECKOUTS in PurePosixPath(os.path.normpath(os.fspath(app_root))).parents


def cloud_warning() -> None:
    """On Community Cloud with a SQLite file the records die with the app's disk: say so where classes are made."""
    if on_community_cloud() and db.is_local_file(handle().url or db.database_url()):
        st.warning(tr(msg("class.cloud_file", platform="Streamlit Community Cloud", file="SQLite",
                          server="PostgreSQL")), icon=":material/warning:")
