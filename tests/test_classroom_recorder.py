"""Recording a class's runs from the run lifecycle: a real run of the in-process executor is recorded when it ends,
once; a database that cannot be reached leaves training alone and gets the runs when it is back (SQLite: its folder
gone; PostgreSQL: the network to it cut by a relay); a server restarted meanwhile writes what the last one kept."""

from __future__ import annotations

import shutil

import pytest
from classroom_db import BACKENDS, fresh_database, through_proxy
from conftest import wait_for

from lib.classroom import experiment
from lib.classroom.recorder import Recorder, StoreHandle
from lib.classroom.rows import from_record
from lib.classroom.store import ClassStore
from lib.runs.local import LocalExecutor
from lib.training.config import TrainConfig

TINY = TrainConfig(hidden=8, layers=1, epochs=1, subset=100, validation=0.0, batch_size=20, log_every=1,
                   optimizer="adam", lr=0.01)  # too short to learn: "not learning" runs are recorded too
LEARNS = TrainConfig(hidden=16, layers=1, epochs=3, subset=200, validation=0.0, batch_size=20, log_every=2,
                     optimizer="adam", lr=0.02)


@pytest.fixture(params=BACKENDS)
def url(request, tmp_path):
    yield from fresh_database(request.param, tmp_path)


def a_class(store: ClassStore) -> tuple[dict, dict]:
    exp, _ = experiment.make("lr", "0.01,0.02", "quick")
    cls = store.create_class(exp)
    return cls, store.join(cls["code"], nickname="Ann")


def kind_of(assigned):
    return lambda job: ("class", job.config.lr) if job.config == assigned else ("free", None)


def test_a_finished_run_is_recorded_once_with_its_outcome_and_curves(url, tmp_path, tiny):
    store = ClassStore(url)
    cls, student = a_class(store)
    recorder = Recorder(StoreHandle(url), tmp_path / "spool", retry_s=0.2, poll_s=0.05)
    executor = LocalExecutor(max_running=1)
    job = executor.submit(LEARNS, tiny, "session-1")
    recorder.watch(job, cls["code"], student["token"], kind_of(LEARNS))
    stopped = executor.submit(TINY, tiny, "session-1")
    stopped.stop()  # stopped while queued: recorded as stopped, with no accuracy
    recorder.watch(stopped, cls["code"], student["token"], kind_of(TrainConfig()))
    wait_for(lambda: len(store.view(cls["code"])["runs"]) == 2, timeout=120)
    first, second = sorted(store.view(cls["code"])["runs"], key=lambda r: r["outcome"])
    assert (first["kind"], first["outcome"], first["value"], first["test_acc"]) == ("class", "done", 0.02,
                                                                                      job.result["acc"])
    assert first["test_n"] == 100 and 0 < len(first["curves"]["loss"]) <= 61 and first["device"]
    assert (second["outcome"], second["kind"], second["test_acc"]) == ("stopped", "free", None)
    # the same run sent again (a second tab watching it) is stored once
    recorder.spool_row(cls["code"], __import__("lib.classroom.tokens", fromlist=["digest"]).digest(
        student["token"]), from_record(job.to_dict(), "class", 0.02))
    wait_for(lambda: recorder.pending() == 0)
    assert len(store.view(cls["code"])["runs"]) == 2
    store.close()


def outage(url: str, tmp_path):
    """(the URL the app uses, cut(), restore()) for a real outage of this database."""
    if url.startswith("sqlite"):
        folder, moved = tmp_path / "db", tmp_path / "db-away"
        folder.mkdir()
        return f"sqlite:///{folder / 'class.sqlite3'}", lambda: shutil.move(folder, moved), \
            lambda: shutil.move(moved, folder)
    proxied, proxy = through_proxy(url)
    return proxied, proxy.down, proxy.up


def test_an_unreachable_database_leaves_training_working_and_gets_the_runs_when_it_is_back(url, tmp_path, tiny):
    app_url, cut, restore = outage(url, tmp_path)
    store = ClassStore(app_url)
    cls, student = a_class(store)
    handle = StoreHandle(app_url)
    handle.get()  # the server had reached its database before the outage
    recorder = Recorder(handle, tmp_path / "spool", retry_s=0.2, poll_s=0.05)
    cut()
    store.engine.dispose()
    handle.get().engine.dispose()  # the pooled connections go with the outage
    assert not handle.reachable() and handle.error
    executor = LocalExecutor(max_running=1)
    jobs = [executor.submit(TINY, tiny, "session-1") for _ in range(3)]
    for job in jobs:
        recorder.watch(job, cls["code"], student["token"], kind_of(TINY))
    wait_for(lambda: all(j.state == "done" for j in jobs), timeout=120)  # training never needed the database
    wait_for(lambda: recorder.pending() == 3)
    restore()
    wait_for(lambda: recorder.pending() == 0, timeout=60)
    assert handle.reachable() and len(store.view(cls["code"])["runs"]) == 3
    store.close()


def test_a_server_restarted_during_an_outage_writes_what_the_last_one_kept(url, tmp_path, tiny):
    app_url, cut, restore = outage(url, tmp_path)
    store = ClassStore(app_url)
    cls, student = a_class(store)
    spool = tmp_path / "spool"
    before = Recorder(StoreHandle(app_url), spool, background=False)  # the server that goes down
    cut()
    store.engine.dispose()
    executor = LocalExecutor(max_running=1)
    job = executor.submit(TINY, tiny, "session-1")
    wait_for(lambda: job.finished, timeout=120)
    from lib.classroom.tokens import digest
    before.spool_row(cls["code"], digest(student["token"]), from_record(job.to_dict(), "class", 0.01))
    assert before.flush() == 0 and before.pending() == 1  # nothing written, nothing lost
    del before
    restore()
    after = Recorder(StoreHandle(app_url), spool, retry_s=0.2, poll_s=0.05)  # the restarted server
    wait_for(lambda: after.pending() == 0, timeout=60)
    assert [r["test_acc"] for r in store.view(cls["code"])["runs"]] == [job.result["acc"]]
    store.close()
