"""The class store against SQLite and a real PostgreSQL (tests/classroom_db.py): joining, recording once, access
control, guessing slowed down, hostile input, retention, the migration from the first schema, many students at once,
and catching up after an outage or a restart."""

from __future__ import annotations

import concurrent.futures
import threading
import time

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from classroom_db import BACKENDS, fresh_database

from lib.classroom import db, experiment
from lib.classroom import store as store_module
from lib.classroom.export import class_export, to_csv
from lib.classroom.schema import metadata
from lib.classroom.store import ClassStore
from lib.classroom.teacher import Teacher, create_with_key
from lib.messages import Problem


@pytest.fixture(params=BACKENDS)
def url(request, tmp_path):
    yield from fresh_database(request.param, tmp_path)


@pytest.fixture()
def store(url):
    s = ClassStore(url)
    yield s
    s.close()


def lr_class(store, **options) -> dict:
    exp, _ = experiment.make("lr", "0.001,0.003,0.01", "quick")
    return store.create_class(exp, **options)


def a_row(key: str, acc: float = 0.9, kind: str = "class", value=0.001, outcome: str = "done", lr: float = 0.001,
          nickname_free: bool = True) -> dict:
    cfg = experiment.assignment(experiment.make("lr", "0.001,0.003,0.01", "quick")[0], 1)["config"].to_dict()
    return {"run_key": key, "kind": kind, "outcome": outcome, "config": cfg | {"lr": lr}, "test_acc": acc,
            "test_n": 2000, "seconds": 12.5, "device": "CPU (2 threads)", "value": value if kind == "class" else None,
            "curves": {"progress": [0.5, 1.0], "loss": [1.2, 0.4], "acc": [0.6, 0.9], "epoch_acc": [0.85, 0.9]}}


def problem(call) -> str:
    with pytest.raises(Problem) as caught:
        call()
    return caught.value.messages[0].id


def test_the_schema_is_the_newest_migration_and_the_tables_agree_with_it(store):
    assert db.current(store.engine) == db.head() == "0002"
    with store.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diffs == []


def test_a_student_joins_comes_back_with_the_token_and_gets_the_next_value(store):
    cls = lr_class(store)
    assert "teacher_token" in cls and len(cls["code"]) == 6
    ann = store.join(cls["code"], nickname="  Ann  ")
    bo = store.join(cls["code"].lower())  # typed in lower case
    assert (ann["number"], ann["nickname"], bo["number"], bo["nickname"]) == (1, "Ann", 2, None)
    again = store.join(cls["code"], token=ann["token"])  # a reload, a second tab: the same student
    assert (again["number"], again["nickname"], again["assigned"]["value"]) == (1, "Ann", 0.001)
    assert bo["assigned"]["value"] == 0.003 and store.info(cls["code"])["students"] == 2
    with store.engine.connect() as conn:  # only hashes are stored: no token, no teacher token
        dump = " ".join(str(r) for t in ("classes", "students") for r in conn.execute(sa.text(f"SELECT * FROM {t}")))
    assert ann["token"] not in dump and cls["teacher_token"] not in dump


def test_a_run_is_recorded_once_however_often_it_is_sent(store):
    cls = lr_class(store)
    ann = store.join(cls["code"])
    assert store.record(cls["code"], ann["token"], a_row("k1")) is True
    assert store.record(cls["code"], ann["token"], a_row("k1")) is False
    store.record(cls["code"], ann["token"], a_row("k2", kind="free", acc=0.95))
    view = store.view(cls["code"])
    assert [r["kind"] for r in view["runs"]] == ["class", "free"] and view["unreadable"] == 0
    assert [p["acc"] for p in view["figures"]["points"]] == [0.9] and len(view["figures"]["free"]) == 1
    low, high = view["runs"][0]["low"], view["runs"][0]["high"]
    assert low < 0.9 < high and high - low == pytest.approx(2 * 1.96 * (0.9 * 0.1 / 2000) ** 0.5, rel=0.05)


def test_a_student_token_cannot_act_as_a_teacher_and_one_class_cannot_touch_another(store):
    one, two = lr_class(store), lr_class(store)
    student = store.join(one["code"])
    store.record(one["code"], student["token"], a_row("mine"))
    assert problem(lambda: Teacher(store, one["code"], student["token"])) == "class.wrong_token"
    assert problem(lambda: Teacher(store, two["code"], one["teacher_token"])) == "class.wrong_token"
    assert problem(lambda: store.record(two["code"], student["token"], a_row("x"))) == "class.not_student"
    assert problem(lambda: store.delete_my_runs(two["code"], student["token"])) == "class.not_student"
    other = store.join(two["code"])
    assert store.delete_my_runs(two["code"], other["token"]) == 0
    assert len(store.view(one["code"])["runs"]) == 1  # another student's deletion touched nothing of this class
    teacher = Teacher(store, one["code"], one["teacher_token"])
    new_token = teacher.rotate()
    assert problem(lambda: Teacher(store, one["code"], one["teacher_token"])) == "class.wrong_token"
    assert Teacher(store, one["code"], new_token).export()["runs"][0]["config"]["lr"] == 0.001


def test_only_the_server_key_creates_classes_and_guessing_is_slowed_down(store):
    assert problem(lambda: create_with_key(store, "anything", "", "ip-1")) == "class.no_key"
    assert problem(lambda: create_with_key(store, "wrong", "s3cret", "ip-1")) == "class.wrong_key"
    assert create_with_key(store, "s3cret", "s3cret", "ip-1")["code"]
    long_key = "长" * 1000  # a key of any length and alphabet is compared whole
    assert create_with_key(store, long_key, long_key, "ip-1")["code"]
    assert problem(lambda: create_with_key(store, long_key[:-1], long_key, "ip-1")) == "class.wrong_key"
    cls = lr_class(store)
    for _ in range(store_module.TRIES):
        problem(lambda: Teacher(store, cls["code"], "guess-" * 5, who="ip-2"))
    # now even the right token is refused for a while, from any client: the class itself is being guessed
    assert problem(lambda: Teacher(store, cls["code"], cls["teacher_token"], who="ip-3")) == "class.too_many_tries"
    assert store.purge_expired(now=time.time() + store_module.TRY_WINDOW_S + 1) == []
    assert Teacher(store, cls["code"], cls["teacher_token"], who="ip-3").code == cls["code"]


HOSTILE = ["", " ", "x" * 10_000, "'; DROP TABLE classes; --", "Robert'); DELETE FROM runs;--", "\x00\x01",
           "名字" * 30, "🙂", "=HYPERLINK(\"http://x\")", "%s%s%s", "\\", "AB\u202eCD", "0" * 6]


def test_codes_nicknames_and_tokens_of_any_length_and_alphabet_are_refused_or_stored_exactly(store):
    cls = lr_class(store)
    for text in HOSTILE:
        assert problem(lambda: store.join(text)) in ("class.bad_code", "class.unknown_code"), text
        assert problem(lambda: Teacher(store, cls["code"], text)) == "class.wrong_token"
        assert problem(lambda: store.record(cls["code"], text, a_row("k"))) == "class.not_student"
        try:
            student = store.join(cls["code"], nickname=text)
        except Problem as exc:
            assert exc.messages[0].id == "class.bad_nickname"
            continue
        assert student["nickname"] in (None, " ".join(text.split()))
    for sql_like in ("'; DROP TABLE classes; --", "Robert'); DELETE FROM runs;--"):
        assert store.join(cls["code"], nickname=sql_like)["nickname"] == sql_like  # stored as typed, harmlessly
    assert store.info(cls["code"])["students"] > 2  # the tables are all still there


def test_closing_a_class_stops_joining_and_recording_and_its_data_goes_after_the_retention(store):
    now = time.time()
    cls, stays, old = lr_class(store, retention_days=7), lr_class(store), lr_class(store, now=now - 91 * 86400)
    student = store.join(cls["code"])
    Teacher(store, cls["code"], cls["teacher_token"]).close(now=now)
    assert problem(lambda: store.join(cls["code"])) == "class.closed"
    assert store.join(cls["code"], token=student["token"])["number"] == 1  # a joined student may still look
    assert problem(lambda: store.record(cls["code"], student["token"], a_row("late"))) == "class.closed"
    assert store.purge_expired(now=now + 6 * 86400) == [old["code"]]  # never closed, 90 days old
    assert store.purge_expired(now=now + 8 * 86400) == [cls["code"]]
    assert problem(lambda: store.info(cls["code"])) == "class.unknown_code"
    assert store.info(stays["code"])["open"]


def test_a_class_has_a_size_cap_and_students_may_leave_and_delete_their_runs(store):
    cls = lr_class(store, max_students=2)
    ann, bo = store.join(cls["code"], nickname="Ann"), store.join(cls["code"])
    assert problem(lambda: store.join(cls["code"])) == "class.full"
    store.record(cls["code"], ann["token"], a_row("a1"))
    store.record(cls["code"], bo["token"], a_row("b1"))
    store.leave(cls["code"], ann["token"])
    assert [r["nickname"] for r in store.view(cls["code"])["runs"]] == [None, None]
    assert store.delete_my_runs(cls["code"], ann["token"]) == 1
    assert [r["number"] for r in store.view(cls["code"])["runs"]] == [2]


def test_a_teacher_hides_nicknames_resets_and_deletes_and_exports_escape_formulas(store):
    cls = lr_class(store)
    student = store.join(cls["code"], nickname="=HYPERLINK(\"http://evil\")")
    store.record(cls["code"], student["token"], a_row("r1"))
    teacher = Teacher(store, cls["code"], cls["teacher_token"])
    exported = teacher.export()
    assert exported["runs"][0]["config"]["lr"] == 0.001 and exported["experiment"]["setting"] == "lr"
    csv_text = to_csv(exported)
    assert "'=HYPERLINK" in csv_text and ",=HYPERLINK" not in csv_text
    teacher.set_experiment(experiment.make("hidden", "32,64", "quick")[0])  # the student's next run changes with it
    assert store.join(cls["code"], token=student["token"])["assigned"]["config"].hidden == 32
    assert store.view(cls["code"])["runs"][0]["config"]["lr"] == 0.001  # recorded runs keep what they trained with
    teacher.hide_nicknames(True)
    assert store.view(cls["code"])["runs"][0]["nickname"] is None
    assert store.join(cls["code"], nickname="Cy")["nickname"] is None
    assert teacher.reset() == 1 and store.view(cls["code"])["runs"] == []
    teacher.delete()
    assert problem(lambda: store.info(cls["code"])) == "class.unknown_code"


def test_a_row_changed_in_the_database_behind_the_app_is_left_out_not_shown(store):
    cls = lr_class(store)
    student = store.join(cls["code"])
    store.record(cls["code"], student["token"], a_row("good"))
    store.record(cls["code"], student["token"], a_row("bad"))
    with store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE runs SET test_acc = 7.5 WHERE run_key = 'bad'"))
        conn.execute(sa.text("UPDATE students SET nickname = :bad"), {"bad": "x\u0007y"})  # a bell: a control character
    view = store.view(cls["code"])
    assert len(view["runs"]) == 1 and view["unreadable"] == 1 and view["runs"][0]["nickname"] is None
    with store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE classes SET experiment = :bad"), {"bad": '{"setting": "lr; DROP"}'})
    assert store.info(cls["code"])["experiment"] is None and store.view(cls["code"])["figures"]["points"] == []
    assert class_export(view)["unreadable"] == 1


def test_a_database_of_the_first_schema_version_is_migrated_and_keeps_its_runs(url):
    engine = db.make_engine(url)
    db.migrate(engine, "0001")
    exp, _ = experiment.make("lr", "0.001,0.003", "quick")
    cfg = experiment.assignment(exp, 2)["config"].to_dict()
    v1 = sa.MetaData()
    v1.reflect(engine)
    with engine.begin() as conn:  # written as the first version wrote them: no value, no hide_nicknames
        conn.execute(v1.tables["classes"].insert().values(
            id=1, code="ABCDEF", teacher_hash="0" * 64, created_at=time.time(), closed_at=None, retention_days=30,
            max_students=60, experiment=exp))
        conn.execute(v1.tables["students"].insert().values(id=1, class_id=1, number=2, token_hash="1" * 64,
                                                            nickname="Ann", joined_at=time.time()))
        conn.execute(v1.tables["runs"].insert().values(
            class_id=1, student_id=1, run_key="old", kind="class", outcome="done", config=cfg, test_acc=0.93,
            test_n=2000, seconds=10.0, device="cpu", curves={}, recorded_at=time.time()))
    engine.dispose()
    store = ClassStore(url)  # first use: migrated to the newest version
    assert db.current(store.engine) == db.head()
    view = store.view("ABCDEF")
    assert [(r["value"], r["test_acc"], r["nickname"]) for r in view["runs"]] == [(0.003, 0.93, "Ann")]
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT value FROM runs")).scalar_one() == 0.003  # filled by the migration
    store.close()


@pytest.mark.parametrize("students", [60, pytest.param(300, marks=pytest.mark.slow)])
def test_many_students_recording_at_once_lose_no_run(store, students):
    cls = lr_class(store, max_students=500)
    joined = [store.join(cls["code"]) for _ in range(students)]
    barrier = threading.Barrier(students)  # one thread per student, all released together

    def finish(k: int) -> bool:
        barrier.wait()
        return store.record(cls["code"], joined[k]["token"], a_row(f"run-{k}", acc=0.9 + k / 10000))

    with concurrent.futures.ThreadPoolExecutor(max_workers=students) as pool:
        assert all(pool.map(finish, range(students)))
    assert len(store.view(cls["code"])["runs"]) == students


def test_two_stores_on_one_database_see_the_same_class(url):
    first, second = ClassStore(url), ClassStore(url)  # two app processes behind a load balancer
    cls = lr_class(first)
    student = second.join(cls["code"])
    first.record(cls["code"], student["token"], a_row("shared"))
    assert len(second.view(cls["code"])["runs"]) == 1
    first.close()
    second.close()


def test_listing_the_classes_is_one_query_that_says_what_info_says_of_each(store):
    """Several classes (open and closed, with and without an experiment, with 0 to 3 students and hidden nicknames):
    list_classes() says of each exactly what info() says, oldest first, in one SQL statement whatever their number."""
    now = time.time()
    made = [lr_class(store, now=now - 300), store.create_class(None, max_students=5, now=now - 200),
            lr_class(store, retention_days=3, now=now - 100), lr_class(store, now=now)]
    for cls, joining in zip(made, (3, 0, 1, 2)):
        for _ in range(joining):
            store.join(cls["code"])
    Teacher(store, made[2]["code"], made[2]["teacher_token"]).close(now=now)
    Teacher(store, made[3]["code"], made[3]["teacher_token"]).hide_nicknames(True)
    statements = []

    def count(conn, cursor, statement, *_):
        statements.append(statement)

    sa.event.listen(store.engine, "before_cursor_execute", count)
    try:
        listed = store.list_classes()
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", count)
    assert len(statements) == 1, statements
    assert listed == [store.info(cls["code"]) for cls in made]
    assert [(c["students"], c["open"], c["experiment"] is None, c["hide_nicknames"]) for c in listed] == [
        (3, True, False, False), (0, True, True, False), (1, False, False, False), (2, True, False, True)]


def test_any_text_as_code_nickname_or_token_is_refused_with_a_message_or_stored_exactly(tmp_path):
    """Property test (hypothesis) on SQLite: whatever a person types, the store answers with a Problem (a message to
    show) or keeps exactly the cleaned text, and the class still reads back whole."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    store = ClassStore(f"sqlite:///{tmp_path / 'fuzz.sqlite3'}")
    cls = lr_class(store, max_students=500)

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(text=st.text(max_size=120))
    def typed(text):
        for call in (lambda: store.join(text), lambda: Teacher(store, cls["code"], text),
                     lambda: store.record(cls["code"], text, a_row("fuzz"))):
            with pytest.raises(Problem):
                call()
        try:
            student = store.join(cls["code"], nickname=text)
        except Problem as exc:
            assert exc.messages[0].id in ("class.bad_nickname", "class.full")
            return
        again = store.join(cls["code"], token=student["token"])
        assert again["nickname"] == student["nickname"] and (student["nickname"] or "") in " ".join(text.split())

    typed()
    assert store.view(cls["code"])["unreadable"] == 0
    store.close()
