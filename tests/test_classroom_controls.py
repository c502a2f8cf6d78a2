"""AppTest of the Class page's teacher controls in both languages: closing the class, a new teacher token, hiding
nicknames, the retention, the CSV and JSON downloads, reset and delete behind their confirmation; projector mode;
the Community Cloud check and its notice; and the server key read from Streamlit secrets."""

from __future__ import annotations

import csv
import functools
import io
import json
from pathlib import Path

import pytest
from conftest import CLASS_KEY as KEY
from streamlit.testing.v1 import AppTest

from lib import ROOT
from lib.classroom import experiment
from lib.classroom.export import to_csv, to_json
from lib.classroom.store import ClassStore
from lib.classroom.teacher import Teacher
from lib.messages import Message, Problem
from lib.training.limits import SETTINGS
from ui import classroom, i18n

VIEWS = Path(__file__).resolve().parent.parent / "views"
VALUES = "0.001,0.003,0.01"
CLOUD_ROOT = "/mount/src/row-by-row"  # where Streamlit Community Cloud would have checked this app out


def in_lang(lang: str, text: str, **values) -> str:
    """`text` (or a message id's text) as the page shows it in `lang`."""
    old = i18n.language
    i18n.language = lambda: lang
    try:
        return i18n.tr(Message(text, values)) if text.startswith("class.") else i18n.t(text, **values)
    finally:
        i18n.language = old


def a_class(url: str, nickname: str | None = None, runs: int = 0) -> tuple[dict, list[dict]]:
    """A class of the lr experiment with `runs` students who each recorded their class run."""
    store = ClassStore(url)
    exp, _ = experiment.make("lr", VALUES, "quick")
    made, students = store.create_class(exp), []
    for n in range(runs):
        student = store.join(made["code"], nickname=nickname if n == 0 else None)
        cfg = student["assigned"]["config"].to_dict()
        store.record(made["code"], student["token"], {
            "run_key": f"r{n}", "kind": "class", "outcome": "done", "config": cfg, "test_acc": 0.8 + n / 100,
            "test_n": 2000, "seconds": 10.0 + n, "device": "CPU (2 threads)", "value": student["assigned"]["value"],
            "curves": {"progress": [0.5, 1.0], "loss": [1.2, 0.4], "acc": [0.6, 0.9], "epoch_acc": [0.85, 0.9]}})
        students.append(student)
    if nickname and not runs:
        students.append(store.join(made["code"], nickname=nickname))
    store.close()
    return made, students


def page(lang: str = "en", query: dict | None = None, teach: dict | None = None, secrets: dict | None = None):
    at = AppTest.from_file(str(VIEWS / "classroom.py"), default_timeout=120)
    for k, v in ({"lang": lang} | (query or {})).items():
        at.query_params[k] = v
    for k, v in (secrets or {}).items():
        at.secrets[k] = v
    if teach is not None:
        at.session_state["classroom_teacher"] = {"code": teach["code"], "token": teach["teacher_token"]}
    return at.run()


def texts(at: AppTest) -> str:
    return "\n".join(str(e.value) for kind in ("markdown", "caption", "info", "warning", "error", "success",
                                                "subheader", "header") for e in getattr(at, kind))


@pytest.fixture()
def downloads(monkeypatch):
    """The media storages AppTest makes for its runs, kept so that a download button's file can be read back."""
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
    from streamlit.testing.v1 import app_test

    made = []

    class Kept(MemoryMediaFileStorage):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(app_test, "MemoryMediaFileStorage", Kept)

    def content(at: AppTest, key: str) -> bytes:
        url = at.get("download_button")[[b.key for b in at.get("download_button")].index(key)].proto.url
        return made[-1].get_file(url.rsplit("/", 1)[-1].split(".")[0]).content

    return content


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_closing_the_class_stops_new_students_and_says_so_to_everyone(db_url, mnist, lang):
    made, (ann,) = a_class(db_url, nickname="Ann")
    at = page(lang, teach=made)
    assert not at.exception and ClassStore(db_url).info(made["code"])["open"]
    assert in_lang(lang, "This class is closed.") not in texts(at)
    at.button(key="class_close").click().run()
    assert not at.exception and not ClassStore(db_url).info(made["code"])["open"]
    assert in_lang(lang, "This class is closed.") in texts(at)
    assert at.button(key="class_reopen") is not None
    newcomer = page(lang, {"class": made["code"]})
    assert not newcomer.exception and "classroom_student" not in newcomer.session_state
    assert in_lang(lang, "class.closed", code=made["code"]) in [e.value for e in newcomer.error]
    back = page(lang, {"class": made["code"], "student": ann["token"]})  # a student already in comes back …
    assert back.session_state["classroom_student"]["number"] == 1
    assert in_lang(lang, "This class is closed.") in texts(back)  # … and is told the class is closed
    with pytest.raises(Problem) as refused:  # … and the recorder's write of a run is refused
        ClassStore(db_url).record(made["code"], ann["token"], {})
    assert refused.value.messages[0].id == "class.closed"
    at.button(key="class_reopen").click().run()
    assert ClassStore(db_url).info(made["code"])["open"]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_new_teacher_token_is_shown_once_and_the_old_one_opens_nothing(db_url, mnist, lang):
    made, _ = a_class(db_url)
    old = made["teacher_token"]
    at = page(lang, teach=made)
    assert [c.value for c in at.code] == []
    at.button(key="class_rotate").click().run()
    assert not at.exception
    new = at.session_state["classroom_teacher"]["token"]
    assert new != old and [c.value for c in at.code] == [new]
    assert in_lang(lang, "The class's teacher token, shown only now: keep it to open this class again (on another "
                         "computer too). Whoever has it controls the class; if it leaks, rotate it below.") in texts(at)
    at.run()
    assert [c.value for c in at.code] == [] and at.button(key="class_close") is not None  # still teaching, once
    Teacher(ClassStore(db_url), made["code"], new)
    with pytest.raises(Problem):
        Teacher(ClassStore(db_url), made["code"], old)
    stale = page(lang, teach=made)  # another tab still holding the old token is closed out, and told why
    assert not stale.exception and "classroom_teacher" not in stale.session_state
    assert in_lang(lang, "class.wrong_token", code=made["code"]) in [e.value for e in stale.error]
    with pytest.raises(KeyError):
        stale.button(key="class_close")
    stale.text_input(key="class_open_code").set_value(made["code"])
    stale.text_input(key="class_open_token").set_value(old)
    stale = next(b for b in stale.button if b.key.startswith("FormSubmitter:class_open")).click().run()
    assert "classroom_teacher" not in stale.session_state
    stale.text_input(key="class_open_token").set_value(new)
    stale = next(b for b in stale.button if b.key.startswith("FormSubmitter:class_open")).click().run()
    assert stale.session_state["classroom_teacher"]["token"] == new and stale.button(key="class_close") is not None


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_hiding_nicknames_erases_them_from_the_view_the_files_and_the_students_page(db_url, mnist, downloads, lang):
    made, (ann,) = a_class(db_url, nickname="Ann Nick", runs=1)
    at = page(lang, teach=made)
    assert "Ann Nick" in downloads(at, "class_csv").decode()  # shown before: the test can fail
    assert at.toggle(key="class_hide").value is False
    at.toggle(key="class_hide").set_value(True).run()
    assert not at.exception and ClassStore(db_url).info(made["code"])["hide_nicknames"]
    at.run()
    assert "Ann Nick" not in texts(at) and "Ann Nick" not in downloads(at, "class_csv").decode()
    assert "Ann Nick" not in downloads(at, "class_json").decode()
    assert [r["nickname"] for r in ClassStore(db_url).view(made["code"])["runs"]] == [None]
    student = page(lang, {"class": made["code"], "student": ann["token"]})
    assert student.session_state["classroom_student"]["nickname"] is None and "Ann Nick" not in texts(student)
    assert in_lang(lang, "You are {who} in class {code}", who=in_lang(lang, "student {n}", n=1),
                   code=made["code"]) in texts(student)


def test_the_retention_set_on_the_page_is_stored(db_url, mnist):
    made, _ = a_class(db_url)
    at = page(teach=made)
    assert at.number_input(key="class_days").value == ClassStore(db_url).info(made["code"])["retention_days"] == 30
    at.number_input(key="class_days").set_value(7).run()
    assert not at.exception and ClassStore(db_url).info(made["code"])["retention_days"] == 7
    at.run()
    assert at.number_input(key="class_days").value == 7


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_csv_and_json_downloads_hold_the_class_runs(db_url, mnist, downloads, lang):
    made, students = a_class(db_url, runs=2)
    at = page(lang, teach=made)
    assert not at.exception
    buttons = {b.key: b for b in at.get("download_button")}
    assert buttons["class_csv"].label == in_lang(lang, "Results (.csv)")
    assert buttons["class_json"].label == in_lang(lang, "Results (.json)")
    exported = Teacher(ClassStore(db_url), made["code"], made["teacher_token"]).export()
    table = downloads(at, "class_csv").decode()
    assert table == to_csv(exported)
    rows = list(csv.DictReader(io.StringIO(table)))
    assert [(r["number"], r["value"], r["test_acc"]) for r in rows] == [
        ("1", str(students[0]["assigned"]["value"]), "0.8"), ("2", str(students[1]["assigned"]["value"]), "0.81")]
    data = downloads(at, "class_json").decode()
    assert data == to_json(exported)
    loaded = json.loads(data)
    assert loaded["class"]["code"] == made["code"] and [r["test_acc"] for r in loaded["runs"]] == [0.8, 0.81]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_reset_and_delete_ask_for_the_confirmation_then_remove_the_data(db_url, mnist, lang):
    made, _ = a_class(db_url, runs=2)
    at = page(lang, teach=made)
    assert at.checkbox(key="class_sure").label == in_lang(lang, "Yes, I am sure: this cannot be undone.")
    assert at.button(key="class_reset").disabled and at.button(key="class_delete").disabled
    assert len(ClassStore(db_url).view(made["code"])["runs"]) == 2
    at.checkbox(key="class_sure").check().run()
    assert not at.button(key="class_reset").disabled and not at.button(key="class_delete").disabled
    at.button(key="class_reset").click().run()
    assert not at.exception and ClassStore(db_url).view(made["code"])["runs"] == []
    assert ClassStore(db_url).info(made["code"])["students"] == 2  # the students stay joined
    at.button(key="class_delete").click().run()
    assert not at.exception and "classroom_teacher" not in at.session_state
    with pytest.raises(Problem):
        ClassStore(db_url).info(made["code"])
    assert at.text_input(key="class_key") is not None  # back to creating or opening a class
    student = page(lang, {"class": made["code"]})
    assert in_lang(lang, "class.unknown_code", code=made["code"]) in [e.value for e in student.error]


def charts(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_projector_mode_draws_larger_charts_and_type(db_url, mnist, lang):
    made, _ = a_class(db_url, runs=3)
    at = page(lang, teach=made)
    assert not at.exception
    normal = charts(at)
    assert len(normal) == 3 and not [h for h in at.get("html") if "font-size: 1.45rem" in h.proto.body]
    at.toggle(key="class_projector").set_value(True).run()
    assert not at.exception
    big = charts(at)
    assert [f["layout"]["height"] for f in normal] == [420, 420, 380]
    assert [f["layout"]["height"] for f in big] == [560, 560, 520]
    assert [f["layout"]["font"]["size"] for f in big] == [22, 22, 20]
    assert all(f["layout"]["font"].get("size", 0) < 20 for f in normal)
    assert big[0]["data"][0]["marker"]["size"] > normal[0]["data"][0]["marker"]["size"]
    assert [h for h in at.get("html") if "font-size: 1.45rem" in h.proto.body]  # the page's own type, larger
    assert big[0]["layout"]["title"]["text"] == normal[0]["layout"]["title"]["text"] == in_lang(
        lang, "Test accuracy by {setting}", setting=in_lang(lang, SETTINGS["lr"].label))


def test_community_cloud_is_told_by_the_apps_folder_alone(monkeypatch):
    """The one signal, a checkout under /mount/src, on its own says yes; without it the answer is no, whatever the
    user names (Streamlit's own Kubernetes tutorial runs self-hosted apps as appuser in /home/appuser)."""
    assert classroom.on_community_cloud(CLOUD_ROOT) and classroom.on_community_cloud(Path(CLOUD_ROOT) / "views")
    assert not classroom.on_community_cloud()  # this checkout, wherever the tests run
    for elsewhere in ("/mount/src", "/mount/srcery/row-by-row", "mount/src/row-by-row", "/mount/src/../srv/app",
                      "/srv/mount/src/row-by-row", str(ROOT)):
        assert not classroom.on_community_cloud(elsewhere), elsewhere
    monkeypatch.setenv("USER", "appuser")
    monkeypatch.setenv("HOME", "/home/appuser")
    assert not classroom.on_community_cloud() and classroom.on_community_cloud(CLOUD_ROOT)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_community_cloud_notice_shows_only_there_with_a_sqlite_file(db_url, mnist, monkeypatch, lang):
    notice = in_lang(lang, "class.cloud_file", platform="Streamlit Community Cloud", file="SQLite",
                     server="PostgreSQL")
    at = page(lang)  # this checkout is no Community Cloud app
    assert not at.exception and notice not in [w.value for w in at.warning]
    monkeypatch.setattr(classroom, "on_community_cloud", functools.partial(classroom.on_community_cloud, CLOUD_ROOT))
    at = page(lang)  # the same page deciding for an app at Community Cloud's /mount/src/<repository>
    assert not at.exception and notice in [w.value for w in at.warning]
    assert at.text_input(key="class_key") is not None  # the notice stands above the form that creates a class
    monkeypatch.setenv("ROW_BY_ROW_DB", "postgresql+psycopg://u:p@127.0.0.1:1/nothing")  # a server: no notice
    at = page(lang)
    assert not at.exception and notice not in [w.value for w in at.warning]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_server_key_comes_from_the_streamlit_secrets_without_the_environment(db_url, mnist, monkeypatch, lang):
    monkeypatch.delenv("ROW_BY_ROW_TEACHER_KEY")
    at = page(lang, secrets={"ROW_BY_ROW_TEACHER_KEY": "a key from the secrets"})
    assert not at.exception and "ROW_BY_ROW_TEACHER_KEY" not in texts(at)
    at.text_input(key="class_key").set_value(KEY)
    at.text_input(key="class_values").set_value("0.003, 0.01")
    at.selectbox(key="class_setting").set_value("lr")
    at = next(b for b in at.button if b.key.startswith("FormSubmitter:class_create")).click().run()
    assert in_lang(lang, "class.wrong_key") in [e.value for e in at.error]  # the environment's old key: refused
    at.text_input(key="class_key").set_value("a key from the secrets")
    at = next(b for b in at.button if b.key.startswith("FormSubmitter:class_create")).click().run()
    assert not at.exception and at.session_state["classroom_teacher"]["code"]
    assert at.button(key="class_close") is not None
