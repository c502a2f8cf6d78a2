"""Class: a whole class as one experiment. Students join by link and train the run the class gives them; the
teacher creates the class, shows the join link and the live results on the projector, and controls the class."""

from __future__ import annotations

import streamlit as st

from lib.classroom.recorder import UNREACHABLE
from lib.messages import Problem
from ui import classroom, classroom_teacher, classroom_view, run_status, runs, state
from ui.common import page
from ui.i18n import t, tc, tr_all


def shared_notice() -> None:
    st.caption(t("What a class shares: each run's settings and results (accuracy, time, device, its curves), with "
                 "your student number and the nickname you choose, if any. Never your models' weights, never "
                 "personal data. Leaving removes your nickname; you may delete your runs here at any time."))


def join_form() -> None:
    """Join a class with its code (a join link does this by itself)."""
    with st.form("class_join"):
        left, right = st.columns(2)
        code = left.text_input(t("Class code"), max_chars=64, key="join_code")
        nickname = right.text_input(t("Nickname (optional)"), max_chars=200, key="join_nickname")
        if st.form_submit_button(t("Join the class"), icon=":material/group_add:"):
            if classroom.join(code, nickname=nickname):
                st.rerun()


def class_run(me: dict) -> None:
    """The run the class experiment gives this student, exactly the base setup with the student's value."""
    assigned, cfg = me.get("assigned"), classroom.assigned_config()
    if not assigned:
        st.info(t("This class has no experiment: train freely on the other pages; your runs are shown apart."))
        return
    st.markdown(t("**Your part of the experiment:** {setting} = **{value}**, on the base setup, with seed {seed}. "
                  "Every student trains one such run; together they are the class's experiment.",
                  setting=classroom_view.setting_name(assigned["setting"]),
                  value=classroom_view.value_text(assigned["setting"], assigned["value"]), seed=cfg.seed))
    if st.button(t("Train the class run"), key="class_train", icon=":material/play_arrow:", type="primary"):
        runs.start("class", [cfg], names=[t("class run")])
    runs.follow("class", live_run)


def live_run(jobs: list) -> None:
    for job in jobs[:1]:
        head, stop = st.columns([5, 1])
        head.markdown(f"**{state.run_label(job)}**")
        if not job.finished:
            stop.button(t("Stop"), key=f"stop_{job.id}", on_click=job.stop, icon=":material/stop:")
        with head:
            run_status.status(job)


def student_panel(me: dict) -> None:
    st.subheader(t("You are {who} in class {code}", who=classroom.who(me), code=me["code"]))
    shared_notice()
    with st.form("class_nickname"):
        nickname = st.text_input(t("Nickname (optional)"), value=me.get("nickname") or "", max_chars=200,
                                 key="class_nickname_text")
        if st.form_submit_button(t("Save the nickname")):
            if classroom.join(me["code"], nickname=nickname, token=me["token"]):
                st.rerun()
    class_run(me)
    with st.expander(t("Delete my runs in this class"), icon=":material/delete:"):
        if st.button(t("Delete my runs"), key="class_delete_mine"):
            delete_mine(me)


def delete_mine(me: dict) -> None:
    s = classroom.store()
    if s is None:
        classroom.unavailable()
        return
    try:
        st.success(t("Deleted {n} of your runs from the class.", n=s.delete_my_runs(me["code"], me["token"])))
    except Problem as exc:
        st.error(tr_all(exc.messages))
    except UNREACHABLE:
        classroom.unavailable()


def teacher_section() -> None:
    """Creating and opening classes, behind the server's teacher key and each class's token."""
    st.header(t("For teachers"))
    if not classroom_teacher.server_key():
        classroom_teacher.no_key_notice()
        return
    teacher = classroom_teacher.opened()
    if teacher is None:
        classroom.cloud_warning()
        with st.expander(t("Create a class"), icon=":material/add_circle:"):
            classroom_teacher.create_form()
        with st.expander(t("Open a class you teach"), icon=":material/lock_open:"):
            classroom_teacher.open_form()
        return
    classroom_teacher.new_token_notice()
    big = st.toggle(t("Projector mode (large type)"), key="class_projector")
    classroom_teacher.join_panel(teacher.code)
    shown = st.toggle(t("Show stopped, failed and not-learning runs too"), key="class_show_all")
    classroom_view.live(teacher.code, "teacher", show_all=shown, big=big)
    with st.expander(t("Teacher controls"), icon=":material/tune:"):
        classroom_teacher.controls(teacher)


def main() -> None:
    page(tc("school", "Class"), t("A class is one experiment: every student trains one run of it, and the class sees what "
                       "all the runs show together."))
    me = classroom.refresh()
    if classroom.store() is None and (me or st.query_params.get("class")):
        classroom.unavailable()
    if me is None:
        st.header(t("Join a class"))
        shared_notice()
        join_form()
    else:
        student_panel(me)
        st.header(t("Your class's results"))
        classroom_view.live(me["code"], "student")
    teacher_section()


main()
