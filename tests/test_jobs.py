"""Background jobs: queue order and positions, stop, reaping closed sessions, results."""

import json
import os
import sys
import threading
import time
from dataclasses import replace

import pytest
import torch
from conftest import wait_for

from lib.runs import local as local_module
from lib.runs.local import LocalExecutor
from lib.training.config import TrainConfig

CFG = TrainConfig(hidden=16, layers=1, optimizer="adam", lr=0.01, batch_size=20, epochs=2, log_every=2, device="cpu",
                  validation=0.0)


@pytest.fixture()
def manager():
    return LocalExecutor(max_running=1, heartbeat_timeout=60, threads=torch.get_num_threads())


def test_job_runs_to_done_with_result(manager, tiny):
    job = manager.submit(CFG, tiny, owner="a", name="first")
    wait_for(lambda: job.finished)
    assert job.state == "done" and job.result["n"] == 100 and job.model is not None
    assert [e["event"] for e in job.events][0] == "start" and job.events[-1]["event"] == "done"
    assert job.last("epoch")["epoch"] == 2 and len(job.of_kind("step")) == 10


def test_cap_queues_in_order_and_stop_is_prompt(manager, tiny):
    long = replace(CFG, epochs=200)
    first = manager.submit(long, tiny, owner="a")
    second = manager.submit(CFG, tiny, owner="b")
    wait_for(lambda: first.state == "running")
    assert manager.position(second) == 1 and second.state == "queued" and manager.position(first) == 0
    assert manager.counts() == {"running": 1, "queued": 1, "cap": 1}
    wait_for(lambda: len(first.events) > 3)
    t0 = time.time()
    first.stop()
    wait_for(lambda: first.finished)
    assert time.time() - t0 < 1.0 and first.state == "stopped" and first.result is not None
    wait_for(lambda: second.finished)
    assert second.state == "done"


def test_stop_while_queued_never_trains(manager, tiny):
    first = manager.submit(replace(CFG, epochs=200), tiny, owner="a")
    second = manager.submit(CFG, tiny, owner="a")
    second.stop()
    wait_for(lambda: second.finished)
    assert second.state == "stopped" and second.events == [] and second.result is None
    first.stop()
    wait_for(lambda: first.finished)


def test_jobs_of_closed_sessions_are_stopped(tiny):
    manager = LocalExecutor(max_running=2, heartbeat_timeout=0.5, threads=torch.get_num_threads())
    alive = manager.submit(replace(CFG, epochs=200), tiny, owner="alive")
    gone = manager.submit(replace(CFG, epochs=200), tiny, owner="gone")
    for _ in range(30):  # only "alive" keeps sending heartbeats
        manager.touch("alive")
        time.sleep(0.05)
    manager.reap()
    wait_for(lambda: gone.finished)
    assert gone.state == "stopped" and "closed" in gone.message.render() and not alive.finished
    alive.stop()
    wait_for(lambda: alive.finished)


def test_diverging_and_invalid_jobs(manager, tiny):
    bad = manager.submit(replace(CFG, optimizer="sgd", lr=50.0, layers=2, hidden=32, log_every=1, epochs=5), tiny,
                         owner="a")
    wait_for(lambda: bad.finished)
    assert bad.state == "diverged" and "learning rate" in bad.message.render() and bad.result is None
    with pytest.raises(ValueError, match="hidden"):
        manager.submit(replace(CFG, hidden=0), tiny, owner="a")
    assert manager.counts()["queued"] == 0


def test_export_runs_csv_and_json(manager, tiny):
    import csv
    import io
    import json

    from lib.runs.export import export_runs

    job = manager.submit(CFG, tiny, owner="a", name="x")
    wait_for(lambda: job.finished)
    table, full = export_runs([job])
    rows = list(csv.DictReader(io.StringIO(table)))
    assert rows[0]["run"] == str(job.id) and float(rows[0]["test_acc"]) == job.result["acc"]
    data = json.loads(full)
    assert data[0]["config"]["hidden"] == 16 and data[0]["events"][-1]["event"] == "done"
    assert "predictions" not in data[0]["result"]
    assert export_runs([])[1] == "[]"


def test_heartbeats_of_sessions_without_jobs_are_forgotten(tiny):
    manager = LocalExecutor(max_running=1, heartbeat_timeout=0.2, threads=torch.get_num_threads())
    for i in range(50):
        manager.touch(f"tab-{i}")
    time.sleep(0.3)
    manager.reap()
    assert manager._seen == {}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice values are Linux's")
def test_training_threads_run_below_the_page_scripts_priority(manager, tiny, monkeypatch):
    seen, caller = {}, os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    def fake_execute(job, data):  # what the job thread's own priority is while it trains
        seen["nice"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        job.state = "done"

    monkeypatch.setattr(local_module, "execute", fake_execute)
    job = manager.submit(TrainConfig(hidden=8, epochs=1, device="cpu"), tiny, "o")
    wait_for(lambda: job.finished)
    assert seen["nice"] >= local_module.BACKGROUND_NICE
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == caller  # only the job's threads


def test_a_finished_job_keeps_its_last_epochs_scores_instead_of_scoring_again(manager, tiny, monkeypatch):
    def no_second_pass(*args, **kwargs):
        raise AssertionError("the test set was scored again after the last epoch")

    monkeypatch.setattr("lib.training.fit.evaluate", no_second_pass)
    job = manager.submit(CFG, tiny, owner="a")
    wait_for(lambda: job.finished)
    assert job.state == "done" and job.result["n"] == 100 and len(job.result["confusion"]) == 10
    assert job.result["acc"] == job.last("epoch")["test_acc"]


def test_seed_groups_keep_comparable_groups_of_two_or_more():
    """A group pools its runs that ended and learned: a stopped one, an unscored one and a lone one stay out."""
    from lib.runs.record import RunRecord, seed_groups

    def run(group, acc, state="done"):
        return RunRecord(TrainConfig(), "o", group=group, state=state, result=None if acc is None else {"acc": acc})

    runs = [run(1, 0.9), run(1, 0.8), run(1, 0.85, state="stopped"), run(2, 0.7), run(0, 0.6), run(3, None),
            run(3, 0.5)]
    assert [[r.result["acc"] for r in g] for g in seed_groups(runs)] == [[0.9, 0.8]]


def test_a_run_record_travels_as_plain_json_and_its_model_comes_back_from_bytes(tiny):
    """A record is plain data (config, events, status, result, weights as bytes): what another process sends back."""
    from lib.runs.job import Job
    from lib.runs.record import RunRecord
    from lib.storage.checkpoints import to_bytes
    from lib.training.config import build_model
    from lib.training.fit import fit

    cfg = TrainConfig(hidden=8, layers=1, epochs=1, batch_size=50, device="cpu")
    fitted = fit(cfg, tiny)
    weights, _ = to_bytes(fitted.model, {"config": cfg.to_dict()})
    record = RunRecord(cfg, "o", "r", state=fitted.end["event"], events=fitted.events, seconds=fitted.seconds,
                       result={k: v for k, v in fitted.scores.items() if k != "indices"}, weights=weights,
                       executor="ray", worker="node-1 pid 42")
    again = RunRecord.from_dict(json.loads(json.dumps(record.to_dict())))
    assert again == record and again.follow(2) == record.events[2:]
    job = Job(**{f: getattr(again, f) for f in again.__dataclass_fields__})
    job.model = build_model(cfg)
    job.model.load_state_dict(fitted.model.state_dict())
    assert job.card(tiny.describe())["worker"] == "node-1 pid 42"
