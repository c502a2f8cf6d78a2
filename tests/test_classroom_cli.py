"""`python -m lib.cli class create|export|list` against SQLite and PostgreSQL (ROW_BY_ROW_DB), and the exit code 2
with a message for an unknown code, a bad experiment or a database that cannot be reached."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from classroom_db import BACKENDS, fresh_database

from lib.classroom.store import ClassStore
from lib.cli.main import main

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(params=BACKENDS)
def url(request, tmp_path, monkeypatch):
    for found in fresh_database(request.param, tmp_path):
        monkeypatch.setenv("ROW_BY_ROW_DB", found)
        yield found


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_create_export_and_list_read_the_same_database(url, capsys):
    code, out, _ = run(capsys, "class", "create", "--experiment", "lr=0.001,0.003,0.01", "--preset", "quick",
                       "--json")
    made = json.loads(out)
    assert code == 0 and len(made["code"]) == 6 and made["teacher_token"]
    assert made["experiment"]["values"] == [0.001, 0.003, 0.01] and made["experiment"]["base"]["epochs"] == 2
    store = ClassStore(url)  # a student joins and finishes a run through the store the app uses
    student = store.join(made["code"], nickname="Ann")
    cfg = student["assigned"]["config"].to_dict()
    store.record(made["code"], student["token"], {
        "run_key": "r1", "kind": "class", "outcome": "done", "config": cfg, "test_acc": 0.95, "test_n": 2000,
        "seconds": 30.0, "device": "CPU (2 threads)", "value": 0.001,
        "curves": {"progress": [1.0], "loss": [0.2], "acc": [0.95], "epoch_acc": [0.94]}})
    store.close()
    code, out, _ = run(capsys, "class", "export", made["code"], "--json")
    exported = json.loads(out)
    assert code == 0 and exported["class"]["code"] == made["code"] and exported["experiment"]["setting"] == "lr"
    assert [(r["config"]["lr"], r["test_acc"], r["nickname"]) for r in exported["runs"]] == [(0.001, 0.95, "Ann")]
    assert "teacher_token" not in out and made["teacher_token"] not in out  # the token is printed once, at create
    code, out, _ = run(capsys, "class", "list", "--json")
    assert code == 0 and [c["code"] for c in json.loads(out)] == [made["code"]] and made["teacher_token"] not in out
    code, out, _ = run(capsys, "class", "export", made["code"], "--csv")
    assert code == 0 and out.splitlines()[0].startswith("number,nickname,kind,outcome,value,test_acc")


def test_an_unknown_code_or_a_bad_experiment_exits_2_with_a_message(url, capsys):
    assert run(capsys, "class", "export", "ZZZZZZ")[::2] == (2, "error: There is no class with the code ZZZZZZ.\n")
    code, _, err = run(capsys, "class", "export", "'; DROP TABLE classes;--")
    assert code == 2 and "is not a class code" in err
    code, _, err = run(capsys, "class", "create", "--experiment", "device=cpu,cuda")
    assert code == 2 and "cannot vary" in err
    code, _, err = run(capsys, "class", "create", "--experiment", "lr")
    assert code == 2 and "SETTING=V1,V2" in err
    assert run(capsys, "class", "list", "--json")[:2] == (0, "[]\n")  # nothing was stored by the failures


def test_a_database_that_cannot_be_reached_is_an_error_line_not_a_traceback(tmp_path):
    env = {"ROW_BY_ROW_DB": f"sqlite:///{tmp_path}/missing-folder/class.sqlite3", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-m", "lib.cli", "class", "list"], cwd=ROOT, capture_output=True, text=True,
                         env=env, timeout=120)
    assert out.returncode == 2 and out.stderr.startswith("error: the class database cannot be reached")
    assert "Traceback" not in out.stderr
