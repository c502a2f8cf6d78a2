"""Bad input of every kind gets a clear message and never loses earlier work (see docs/bad-inputs.md)."""

import errno
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lib import cli
from lib import data as data_mod
from lib.checkpoints import MAX_BYTES, CheckpointError, from_bytes
from lib.data import load_mnist, load_offline_sample
from lib.jobs import Job
from lib.share import config_from_query
from lib.train import TrainConfig, preset
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
    assert cfg == BASE and len(notices) == 1 and word in notices[0]
    assert "<" not in notices[0] and "](" not in notices[0]


def test_good_query_values_apply():
    cfg, notices = config_from_query({"hidden": "64", "order": "reversed", "lang": "zh", "lr": "0.01"}, BASE)
    assert notices == [] and (cfg.hidden, cfg.order, cfg.lr) == (64, "reversed", 0.01)


def test_oversized_weights_are_refused_before_parsing():
    card = {"format": "row-by-row/1", "config": TrainConfig().to_dict()}
    with pytest.raises(CheckpointError, match="limit"):
        from_bytes(b"\0" * (MAX_BYTES + 1), card)


def test_full_disk_during_download_falls_back_to_the_offline_sample(monkeypatch, tmp_path):
    monkeypatch.delenv("MNIST_ROOT", raising=False)

    def disk_full(cache_dir):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(data_mod, "download_mnist", disk_full)
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    assert load_mnist(cache_dir=blocked / "cache").source == "offline"


def test_cli_reports_an_unwritable_output(tmp_path, capsys, tiny, monkeypatch):
    monkeypatch.setattr(cli, "load_mnist", lambda: tiny)
    rc = cli.main(["train", "--hidden", "8", "--epochs", "1", "--device", "cpu", "--out", "/proc/row-by-row/x"])
    assert rc == 2 and "cannot write" in capsys.readouterr().err


@pytest.fixture()
def no_data(monkeypatch):
    monkeypatch.setattr(resources, "_mnist", lambda: (None, "No MNIST data could be loaded. Either set MNIST_ROOT…"))


@pytest.mark.parametrize("page", ["lesson.py", "train.py", "row_order.py", "inspect.py"])
def test_missing_data_is_explained_on_every_page(no_data, page):
    at = AppTest.from_file(str(VIEWS / page), default_timeout=60).run()
    assert not at.exception
    assert any("set MNIST_ROOT" in e.value for e in at.error)


def test_offline_sample_trains_and_says_so(monkeypatch):
    offline = load_offline_sample()
    monkeypatch.setattr(resources, "_mnist", lambda: (offline, ""))
    at = AppTest.from_file(str(VIEWS / "train.py"), default_timeout=60).run()
    assert any("offline sample (5,000" in w.value for w in at.warning)
    at.select_slider(key="form_subset").set_value(10000)
    at.button(key="FormSubmitter:train_form-Train").click().run()
    assert any("only 4,000 training digits" in e.value for e in at.error)


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
