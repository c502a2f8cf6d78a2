"""The teacher's side of the Class page: creating a class (the server's teacher key), opening one with its teacher
token, the join link large with its QR code for the projector, and the controls only that token unlocks. The key
and the tokens are typed into password fields and kept in the server's session memory, never in a URL."""

from __future__ import annotations

import streamlit as st
from streamlit.errors import StreamlitSecretNotFoundError

from lib.classroom import experiment
from lib.classroom.export import to_csv, to_json
from lib.classroom.recorder import UNREACHABLE
from lib.classroom.store import MAX_CLASS_SIZE, MAX_RETENTION, MAX_STUDENTS, RETENTION_DAYS
from lib.classroom.teacher import Teacher, create_with_key
from lib.classroom.teacher import server_key as key_from_env
from lib.messages import Problem, msg
from lib.training.presets import PRESETS
from ui import classroom, resources
from ui.classroom_view import setting_name
from ui.i18n import labels, t, tr, tr_all

OPENED = "classroom_teacher"  # session key: {"code", "token"} of the class this session teaches
NEW_TOKEN = "classroom_new_token"  # a token just made, shown once
NOTES = "classroom_notes"  # what changed in the base setup of the class just made (the classroom limits)


def server_key() -> str:
    """ROW_BY_ROW_TEACHER_KEY from the environment, else from the app's Streamlit secrets; '' when neither."""
    key = key_from_env()
    if key:
        return key
    try:
        return str(st.secrets.get("ROW_BY_ROW_TEACHER_KEY", "") or "")
    except (FileNotFoundError, StreamlitSecretNotFoundError):
        return ""


def opened() -> Teacher | None:
    """The class this session teaches, its token checked again (a rotated or deleted class closes it)."""
    held, s = st.session_state.get(OPENED), classroom.store()
    if held is None or s is None:
        return None
    try:
        return Teacher(s, held["code"], held["token"], classroom.client())
    except Problem as exc:
        st.session_state.pop(OPENED, None)
        st.error(tr_all(exc.messages))
    except UNREACHABLE:
        classroom.unavailable()
    return None


def _act(action) -> bool:
    """Run a teacher's action; its problem in the visitor's language. True if it worked."""
    try:
        action()
        return True
    except Problem as exc:
        st.error(tr_all(exc.messages))
    except UNREACHABLE:
        classroom.unavailable()
    return False


def experiment_fields(prefix: str) -> tuple[str, str, str]:
    """The base setup, the setting that varies and its values, as typed (inside a form)."""
    preset = st.selectbox(t("Base setup"), list(PRESETS), key=f"{prefix}_preset",
                          index=list(PRESETS).index(experiment.DEFAULT_PRESET),
                          format_func=labels({p: v[0] for p, v in PRESETS.items()}).get)
    names = {"": t("nothing: free runs only")} | {s: setting_name(s) for s in experiment.VARIED}
    setting = st.selectbox(t("The setting that varies"), list(names), format_func=names.get, key=f"{prefix}_setting")
    values = st.text_input(t("Its values, separated by commas"), placeholder="0.001, 0.003, 0.01",
                           key=f"{prefix}_values")
    return preset, setting, values


def change_form(teacher: Teacher) -> None:
    """A new experiment for the class: students keep their numbers and get the new values; runs already recorded
    keep the settings they trained with."""
    with st.form("class_change"):
        preset, setting, values = experiment_fields("class_change")
        if not st.form_submit_button(t("Change the experiment")):
            return
    try:
        exp, notes = experiment.make(setting or None, values, preset, resources.settings())
    except Problem as exc:
        st.error(tr_all(exc.messages))
        return
    if _act(lambda: teacher.set_experiment(exp)):
        st.session_state[NOTES] = notes
        st.rerun()


def create_form() -> None:
    """A new class: the server key, the base setup and the setting that varies with its values."""
    with st.form("class_create"):
        key = st.text_input(t("The server's teacher key"), type="password", key="class_key")
        preset, setting, values = experiment_fields("class")
        left, right = st.columns(2)
        days = left.number_input(t("Days the results are kept after the class is closed"), 1, MAX_RETENTION,
                                 RETENTION_DAYS, key="class_retention")
        size = right.number_input(t("Most students"), 1, MAX_CLASS_SIZE, MAX_STUDENTS, key="class_size")
        if not st.form_submit_button(t("Create the class"), icon=":material/add:"):
            return
    s = classroom.store()
    if s is None:
        classroom.unavailable()
        return
    try:
        exp, notes = experiment.make(setting or None, values, preset, resources.settings())
        made = create_with_key(s, key, server_key(), classroom.client(), exp, retention_days=days, max_students=size)
    except Problem as exc:
        st.error(tr_all(exc.messages))
        return
    st.session_state[OPENED] = {"code": made["code"], "token": made["teacher_token"]}
    st.session_state[NEW_TOKEN], st.session_state[NOTES] = made["teacher_token"], notes
    st.rerun()


def open_form() -> None:
    """Open an existing class with its code and teacher token."""
    with st.form("class_open"):
        left, right = st.columns(2)
        code = left.text_input(t("Class code"), key="class_open_code")
        token = right.text_input(t("Teacher token"), type="password", key="class_open_token")
        if not st.form_submit_button(t("Open as its teacher"), icon=":material/lock_open:"):
            return
    s = classroom.store()
    if s is None:
        classroom.unavailable()
        return
    if _act(lambda: Teacher(s, code, token, classroom.client())):
        st.session_state[OPENED] = {"code": Teacher(s, code, token).code, "token": token}
        st.rerun()


def join_panel(code: str) -> None:
    """The code and the join link, large, with a QR code of the link, for the projector."""
    import segno

    link = f"{(st.context.url or '').split('?')[0]}?class={code}"
    left, right = st.columns([3, 2])
    left.markdown(f"## {t('Class code')}: `{code}`")
    left.markdown(t("Students open this link (or scan the code) on any page of the app:"))
    left.markdown(f"### {link}")
    qr = segno.make(link, error="m")
    alt = t("QR code of the join link {link}", link=link)
    right.markdown(f"![{alt}]({qr.png_data_uri(scale=8, border=2)})")


def new_token_notice() -> None:
    """The token just made (shown once), and the notes on the base setup of a class just created."""
    for note in st.session_state.pop(NOTES, []):
        st.info(tr(note))
    token = st.session_state.pop(NEW_TOKEN, None)
    if token:
        st.warning(t("The class's teacher token, shown only now: keep it to open this class again (on another "
                     "computer too). Whoever has it controls the class; if it leaks, rotate it below."))
        st.code(token, language=None)


def controls(teacher: Teacher) -> None:
    """Everything only this class's token may do."""
    info = teacher.store.info(teacher.code)
    row = st.container(horizontal=True)
    if info["open"]:
        row.button(t("Close the class"), key="class_close", icon=":material/lock:",
                   on_click=lambda: _act(teacher.close))
    else:
        row.button(t("Reopen the class"), key="class_reopen", icon=":material/lock_open:",
                   on_click=lambda: _act(teacher.reopen))
    row.button(t("New teacher token"), key="class_rotate", icon=":material/key:", on_click=lambda: _rotate(teacher))
    row.button(t("Stop teaching here"), key="class_forget", icon=":material/logout:",
               on_click=lambda: st.session_state.pop(OPENED, None))
    hidden = st.toggle(t("Hide nicknames (erases them; students appear as numbers)"), value=info["hide_nicknames"],
                       key="class_hide")
    if hidden != info["hide_nicknames"]:
        _act(lambda: teacher.hide_nicknames(hidden))
    days = st.number_input(t("Days the results are kept after the class is closed"), 1, MAX_RETENTION,
                           info["retention_days"], key="class_days")
    if days != info["retention_days"]:
        _act(lambda: teacher.set_retention(days))
    exported = teacher.export()
    row = st.container(horizontal=True)
    row.download_button(t("Results (.csv)"), to_csv(exported), f"class-{teacher.code}.csv", "text/csv",
                        key="class_csv", icon=":material/download:")
    row.download_button(t("Results (.json)"), to_json(exported), f"class-{teacher.code}.json", "application/json",
                        key="class_json", icon=":material/download:")
    with st.expander(t("Change the experiment"), icon=":material/science:"):
        change_form(teacher)
    with st.expander(t("Reset or delete"), icon=":material/delete:"):
        sure = st.checkbox(t("Yes, I am sure: this cannot be undone."), key="class_sure")
        row = st.container(horizontal=True)
        if row.button(t("Delete every recorded run"), key="class_reset", disabled=not sure):
            _act(teacher.reset)
        if row.button(t("Delete the class now"), key="class_delete", disabled=not sure) and _act(teacher.delete):
            st.session_state.pop(OPENED, None)
            st.rerun()


def _rotate(teacher: Teacher) -> None:
    """A new token for the class: the old one stops working at once; the new one is shown once."""
    made = []
    if _act(lambda: made.append(teacher.rotate())):
        st.session_state[OPENED]["token"] = st.session_state[NEW_TOKEN] = made[0]


def no_key_notice() -> None:
    st.caption(tr(msg("class.no_key")))
