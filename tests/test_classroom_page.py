"""AppTest of the Class page in both languages: joining by link (on any page) with the token kept in the link, the
sidebar's class line and Leave, the teacher's key and token, a student's class run recorded and drawn live, bad
codes, and a database that cannot be reached."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from conftest import CLASS_KEY as KEY
from streamlit.testing.v1 import AppTest
from test_i18n import english_words, sample_values

from lib.classroom.store import ClassStore
from lib.classroom.texts import CLASS_TEXT
from lib.messages import Message
from lib.training.config import TrainConfig
from ui import i18n, resources

VIEWS = Path(__file__).resolve().parent.parent / "views"
NAMES: set = set()  # every name (an example code, a product) is a value, not text to translate
TINY = TrainConfig(hidden=32, layers=1, epochs=1, subset=2000, test_subset=500, validation=0.0, batch_size=32,
                   optimizer="adam", lr=0.01, log_every=4)  # learns (about 55%) in some 20 s on two busy cores


def tiny_class(url: str) -> dict:
    exp = {"setting": "lr", "values": [0.01, 0.02], "preset": "quick", "base": TINY.to_dict()}
    store = ClassStore(url)
    made = store.create_class(exp)
    store.close()
    return made


def open_page(view: str = "classroom.py", query: dict | None = None, lang: str = "en") -> AppTest:
    at = AppTest.from_file(str(VIEWS / view), default_timeout=120)
    for k, v in ({"lang": lang} | (query or {})).items():
        at.query_params[k] = v
    return at.run()


def shown(at: AppTest) -> str:
    return "\n".join(str(e.value) for kind in ("markdown", "caption", "info", "warning", "error", "success",
                                                "subheader", "header") for e in getattr(at, kind))


def test_class_messages_read_in_both_languages(monkeypatch):
    for message_id, text in CLASS_TEXT.items():
        message = Message(message_id, sample_values(text))
        assert "{" not in message.render()
        monkeypatch.setattr(i18n, "language", lambda: "zh")
        chinese = i18n.tr(message)
        monkeypatch.undo()
        left = [w for w in english_words(chinese) if w.lower().strip(".") not in NAMES]
        assert re.search(r"[\u4e00-\u9fff]", chinese) and left == [], chinese


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_without_a_server_key_there_are_no_teacher_controls(db_url, monkeypatch, mnist, lang):
    monkeypatch.delenv("ROW_BY_ROW_TEACHER_KEY")
    at = open_page(lang=lang)
    assert not at.exception
    assert "ROW_BY_ROW_TEACHER_KEY" in shown(at) and not [f for f in at.get("form") if "class_create" in str(f.proto)]
    assert at.text_input(key="join_code") is not None
    with pytest.raises(KeyError):
        at.text_input(key="class_key")


def test_a_teacher_creates_a_class_with_the_key_and_sees_its_code_link_qr_and_token_once(db_url, mnist):
    at = open_page()
    at.text_input(key="class_key").set_value("wrong key")
    at.selectbox(key="class_setting").set_value("lr")
    at.text_input(key="class_values").set_value("0.003, 0.01")
    at = next(b for b in at.button if b.key.startswith("FormSubmitter:class_create")).click().run()
    assert "That is not this server's teacher key." in [e.value for e in at.error]
    at.text_input(key="class_key").set_value(KEY)
    at = next(b for b in at.button if b.key.startswith("FormSubmitter:class_create")).click().run()
    assert not at.exception
    code = at.session_state["classroom_teacher"]["code"]
    token = at.session_state["classroom_teacher"]["token"]
    assert f"## Class code: `{code}`" in shown(at) and f"![QR code of the join link ?class={code}]" in shown(at)
    assert [c.value for c in at.code] == [token]  # the token shown once …
    assert token not in str(dict(at.query_params))  # … never in the URL
    at.run()
    assert [c.value for c in at.code] == []  # … and not again
    assert ClassStore(db_url).info(code)["experiment"]["values"] == [0.003, 0.01]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_link_joins_on_any_page_and_the_token_keeps_the_student(db_url, mnist, lang):
    made = tiny_class(db_url)
    at = open_page("lesson.py", {"class": made["code"].lower()}, lang)
    assert not at.exception
    token = at.query_params["student"]
    assert at.query_params["class"] == made["code"] and len(token) == 32
    assert made["code"] in "\n".join(i.value for i in at.sidebar.info)
    again = open_page("train.py", {"class": made["code"], "student": token}, lang)  # a reload, another tab
    assert again.session_state["classroom_student"]["number"] == 1
    other = open_page("classroom.py", {"class": made["code"]}, lang)  # another browser: another student
    assert other.session_state["classroom_student"]["number"] == 2 and not other.exception
    other.sidebar.button(key="class_leave").click().run()
    assert "classroom_student" not in other.session_state and "class" not in other.query_params


@pytest.mark.parametrize("code", ["NOPE", "'; DROP TABLE classes; --", "ABCDEF", "x" * 500])
def test_a_bad_or_unknown_code_in_a_link_says_so_and_joins_nothing(db_url, mnist, code):
    at = open_page("classroom.py", {"class": code})
    assert not at.exception and "classroom_student" not in at.session_state
    assert any("class code" in e.value or "no class with the code" in e.value for e in at.error)
    assert "class" not in at.query_params


@pytest.mark.slow  # trains a real run (about a minute on two busy cores)
def test_a_student_trains_the_class_run_and_it_is_recorded_and_drawn(db_url, mnist):
    made = tiny_class(db_url)
    student = open_page("classroom.py", {"class": made["code"], "student": ""})
    assert "learning rate = **0.01**" in shown(student)
    student.button(key="class_train").click().run()
    end = time.time() + 120
    while time.time() < end and not ClassStore(db_url).view(made["code"])["runs"]:
        runs = student.session_state["runs"]
        resources.jobs().touch(runs[0].owner)
        time.sleep(0.5)
    view = ClassStore(db_url).view(made["code"])
    assert [(r["kind"], r["outcome"], r["value"], r["config"]["lr"]) for r in view["runs"]] == [
        ("class", "done", 0.01, 0.01)]
    assert view["runs"][0]["test_acc"] == student.session_state["runs"][0].result["acc"]
    teacher = open_page()
    teacher.session_state["classroom_teacher"] = {"code": made["code"], "token": made["teacher_token"]}
    teacher.run()
    assert not teacher.exception and len(teacher.get("plotly_chart")) == 3
    assert "Class runs in the figures: 1" in shown(teacher)


def test_an_unreachable_database_says_so_and_leaves_the_pages_working(tmp_path, monkeypatch, mnist):
    monkeypatch.setenv("ROW_BY_ROW_DB", f"sqlite:///{tmp_path / 'gone' / 'class.sqlite3'}")
    at = open_page("classroom.py", {"class": "ABCDEF"})
    assert not at.exception and any("cannot be reached" in w.value for w in at.warning)
    train = open_page("train.py")
    assert not train.exception
