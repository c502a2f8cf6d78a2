"""Bad input of every kind gets a clear message and never loses earlier work (see docs/bad-inputs.md)."""

import errno
import time
from dataclasses import replace
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lib.cli import main as cli
from lib.data import mnist as data_mod
from lib.data.mnist import load_mnist, load_sample
from lib.messages import msg
from lib.runs.job import Job
from lib.storage.checkpoints import MAX_BYTES, CheckpointError, from_bytes
from lib.storage.share import config_from_query
from lib.training.config import TrainConfig
from lib.training.presets import PRESETS, preset
from ui import resources

VIEWS = Path(__file__).resolve().parent.parent / "views"
BASE = preset("quick")


@pytest.mark.parametrize("query, word", [
    ({"hidden": "<script>alert(1)</script>"}, "hidden"), ({"lr": "1e400"}, "finite"), ({"epochs": "9" * 500}, "short"),
    ({"layers": "-1"}, "layers"), ({"order": "[x](http://evil)"}, "row order"), ({"device": "cuda"}, "device"),
    ({"seed": "1.5"}, "whole number"), ({"__proto__": "1"}, "unknown"), ({"hidden": ["64", "oops"]}, "hidden"),
])
def test_hostile_query_values_fall_back_with_a_safe_notice(query, word):
    cfg, notices = config_from_query(query, BASE)
    if query == {"device": "cuda"} and not notices:
        pytest.skip("this machine has a GPU")
    text = notices[0].render() if notices else ""
    assert cfg == BASE and len(notices) == 1 and word in text
    assert "<" not in text and "](" not in text


def test_good_query_values_apply():
    cfg, notices = config_from_query({"hidden": "64", "order": "reversed", "lang": "zh", "lr": "0.01"}, BASE)
    assert notices == [] and (cfg.hidden, cfg.order, cfg.lr) == (64, "reversed", 0.01)


def test_oversized_weights_are_refused_before_parsing():
    card = {"format": "row-by-row/1", "config": TrainConfig().to_dict()}
    with pytest.raises(CheckpointError, match="the limit is 32 MB"):  # the same number the uploader states
        from_bytes(b"\0" * (MAX_BYTES + 1), card)


def test_full_disk_during_download_falls_back_to_the_shipped_sample(monkeypatch, tmp_path):
    monkeypatch.delenv("MNIST_ROOT", raising=False)

    def disk_full(cache_dir):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(data_mod, "download_mnist", disk_full)
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    assert load_mnist(cache_dir=blocked / "cache").source == "sample"


def test_cli_reports_an_unwritable_output(tmp_path, capsys, tiny, monkeypatch):
    monkeypatch.setattr(cli, "load_mnist", lambda: tiny)
    rc = cli.main(["train", "--hidden", "8", "--epochs", "1", "--device", "cpu", "--out", "/proc/row-by-row/x"])
    assert rc == 2 and "cannot write" in capsys.readouterr().err


@pytest.fixture()
def no_data(monkeypatch):
    problem = msg("data.nothing", tried="download: OSError")
    monkeypatch.setattr(resources, "_mnist", lambda: (None, [problem]))


@pytest.mark.parametrize("page", ["lesson.py", "train.py", "row_order.py", "inspector.py"])
def test_missing_data_is_explained_on_every_page(no_data, page):
    at = AppTest.from_file(str(VIEWS / page), default_timeout=60).run()
    assert not at.exception
    assert any("Set MNIST_ROOT" in e.value for e in at.error)


@pytest.fixture()
def offline(monkeypatch):
    """The app as on a server that cannot download MNIST: the shipped sample (10,000 train + 10,000 test digits)."""
    sample = load_sample()
    monkeypatch.setattr(resources, "_mnist", lambda: (sample, []))
    return sample


def stop_all(jobs, timeout=30.0) -> None:
    """Stop jobs and wait until their threads are done (a thread left running aborts the interpreter's exit)."""
    for job in jobs:
        job.stop()
    end = time.time() + timeout
    while not all(j.finished for j in jobs) and time.time() < end:
        time.sleep(0.1)
    assert all(j.finished for j in jobs)


@pytest.mark.slow
def test_offline_sample_trains_with_the_default_preset_and_says_so(offline):
    at = AppTest.from_file(str(VIEWS / "train.py"), default_timeout=60).run()
    assert any("MNIST sample shipped with the app" in i.value and "all 10,000 MNIST test digits" in i.value
               for i in at.info)
    subset = at.select_slider(key="form_subset")
    assert subset.value == 5000 and subset.options[-1] == "all 10,000"  # the quick preset asks for 5,000
    assert at.select_slider(key="form_test_subset").options[-1] == "all 10,000"
    assert any(c.value == PRESETS["quick"][1] for c in at.caption)  # still "the preset", not "changed"
    at.button(key="FormSubmitter:train_form-Train").click().run()
    assert not at.error and not at.exception
    job = at.session_state["runs"][-1]
    assert (job.config.subset, job.config.test_subset) == (5000, 2000)
    end = time.time() + 300
    while not job.finished and time.time() < end:
        resources.jobs().touch(job.owner)  # the heartbeat an open tab sends: the run must not be reaped as gone
        time.sleep(0.2)
    assert job.state == "done" and job.last("start")["n_train"] == 4500  # 5,000 less the 10 % held out
    assert job.result["n"] == 10000  # the final score is on every test digit, the real test set


def test_offline_link_asking_for_more_digits_trains_on_all_of_them(offline):
    at = AppTest.from_file(str(VIEWS / "train.py"), default_timeout=60)
    at.query_params.update({"subset": "30000", "epochs": "1", "hidden": "16"})
    at.run()
    assert at.select_slider(key="form_subset").value == 10000 and not at.warning
    at.button(key="FormSubmitter:train_form-Train").click().run()
    job = at.session_state["runs"][-1]
    assert job.config.subset == 0 and not at.error
    stop_all([job])


def test_offline_row_order_experiment_starts_every_order(offline, monkeypatch):
    from lib.training import presets as presets_mod
    big = replace(PRESETS["quick"][2], subset=20000, test_subset=20000)  # more than the sample holds
    monkeypatch.setitem(presets_mod.PRESETS, "quick", PRESETS["quick"][:2] + (big,))
    at = AppTest.from_file(str(VIEWS / "row_order.py"), default_timeout=60).run()
    at.button[-1].click().run()
    assert not at.error and not at.exception
    jobs = at.session_state["runs"]
    assert len(jobs) == 3 and all(j.config.subset == 0 for j in jobs)
    assert [t.value for t in at.toast] == ["the loaded data has 10,000 training digits, so this run uses all of "
                                           "them", "the loaded data has 10,000 test digits, so this run scores all "
                                           "of them"]
    stop_all(jobs)


def test_run_cap_drops_the_oldest_finished_run(monkeypatch, mnist):
    monkeypatch.setenv("ROW_BY_ROW_MAX_RUNS", "2")
    resources.reload_settings()
    try:
        at = AppTest.from_file(str(VIEWS / "train.py"), default_timeout=60)
        old = [Job(TrainConfig(), owner="t", state="done"), Job(TrainConfig(), owner="t", state="done")]
        at.session_state["runs"] = list(old)
        at.run()
        at.select_slider(key="form_subset").set_value(500)
        at.button(key="FormSubmitter:train_form-Train").click().run()
        runs = at.session_state["runs"]
        assert len(runs) == 2 and runs[0] is old[1] and runs[1] not in old
        runs[1].stop()
    finally:
        monkeypatch.undo()
        resources.reload_settings()
