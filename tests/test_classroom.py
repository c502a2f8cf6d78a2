"""Classroom mode: limits from a TOML file or environment variables, enforced and stated by the app."""

import os
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lib.runs.settings import Settings, load_settings
from lib.training.config import TrainConfig, classroom_problems
from lib.training.devices import cpu_quota, usable_cpus
from ui import resources

ROOT = Path(__file__).resolve().parent.parent


def test_defaults_without_file_or_env(tmp_path):
    s = load_settings(tmp_path / "none.toml", env={})
    assert s == Settings() and not s.classroom


def test_classroom_flag_can_be_set_on_its_own(tmp_path):
    assert load_settings(tmp_path / "none.toml", env={"ROW_BY_ROW_CLASSROOM": "true"}).classroom is True
    off = load_settings(tmp_path / "none.toml", env={"ROW_BY_ROW_CLASSROOM": "false", "ROW_BY_ROW_MAX_HIDDEN": "64"})
    assert off.classroom is False and off.max_hidden == 64


def test_file_then_env_override(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text((ROOT / "classroom.example.toml").read_text())
    s = load_settings(f, env={"ROW_BY_ROW_MAX_HIDDEN": "64"})
    assert s.classroom and s.max_hidden == 64 and s.max_layers == 2 and s.max_jobs == 1 and s.max_runs == 8


@pytest.mark.parametrize("env", [{"ROW_BY_ROW_MAX_HIDDEN": "big"}, {"ROW_BY_ROW_MAX_EPOCHS": "-3"},
                                 {"ROW_BY_ROW_CLASSROOM": "maybe"}])
def test_bad_settings_are_explained(env, tmp_path):
    with pytest.raises(ValueError, match="classroom setting"):
        load_settings(tmp_path / "none.toml", env=env)


def test_bad_file_is_explained(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text("[classroom]\nmax_hidden = \n")
    with pytest.raises(ValueError, match="not valid TOML"):
        load_settings(f, env={})
    f.write_text("[classroom]\nmax_colour = 3\n")
    with pytest.raises(ValueError, match="unknown"):
        load_settings(f, env={})


def test_check_limits_names_each_broken_limit():
    s = Settings(max_hidden=64, max_layers=2, max_epochs=3, max_subset=5000, classroom=True)
    assert classroom_problems(TrainConfig(hidden=64, layers=2, epochs=3, subset=5000), s) == []
    problems = classroom_problems(TrainConfig(hidden=128, layers=3, epochs=4, subset=0), s)
    assert len(problems) == 4 and "hidden size is limited to 64" in problems[0].render()
    assert [p.id for p in problems] == ["classroom.limit"] * 4


def test_all_digits_of_a_small_dataset_keep_a_subset_limit():
    s = Settings(max_subset=5000, classroom=True)
    assert classroom_problems(TrainConfig(subset=0), s, n_train=4000) == []  # "all" of a smaller dataset's 4,000
    assert "training digits is limited to 5,000" in classroom_problems(TrainConfig(subset=0), s, n_train=60000)[0].render()


@pytest.fixture()
def classroom(monkeypatch):
    monkeypatch.setenv("ROW_BY_ROW_MAX_HIDDEN", "64")
    monkeypatch.setenv("ROW_BY_ROW_MAX_EPOCHS", "3")
    resources.reload_settings()
    yield
    monkeypatch.undo()
    resources.reload_settings()


def test_app_states_and_enforces_limits(classroom, mnist):
    at = AppTest.from_file(str(ROOT / "views" / "train.py"), default_timeout=60)
    at.query_params["hidden"] = "512"
    at.run()
    assert any("Classroom mode" in i.value for i in at.info)
    assert at.slider(key="form_epochs").max == 3
    assert "512" in at.select_slider(key="form_hidden").options  # kept from the link, so the error can say why
    at.button(key="FormSubmitter:train_form-Train").click().run()
    assert any("limited to 64" in e.value for e in at.error)
    assert "runs" not in at.session_state or at.session_state["runs"] == []


def test_bad_settings_show_an_error_and_defaults(monkeypatch, mnist):
    monkeypatch.setenv("ROW_BY_ROW_MAX_HIDDEN", "lots")
    resources.reload_settings()
    try:
        at = AppTest.from_file(str(ROOT / "views" / "train.py"), default_timeout=60).run()
        assert not at.exception
        assert any("could not be read" in e.value and "max_hidden" in e.value for e in at.error)
        assert at.slider(key="form_epochs").max == Settings().max_epochs
    finally:
        monkeypatch.undo()
        resources.reload_settings()


@pytest.mark.parametrize("files, quota", [
    ({"cpu.max": "200000 100000\n"}, 2.0),  # cgroup v2: a 2-core container (Community Cloud's most)
    ({"cpu.max": "max 100000\n"}, None),  # v2, unlimited
    ({"cpu/cpu.cfs_quota_us": "150000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 1.5),  # cgroup v1
    ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, None),  # v1, unlimited
    ({}, None),  # no cgroup files: not in a container
])
def test_cpu_quota_of_a_container(tmp_path, files, quota):
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert cpu_quota(tmp_path) == quota
    usable = usable_cpus(tmp_path)
    assert 1 <= usable <= len(os.sched_getaffinity(0)) and (quota is None or usable <= max(1, int(quota)))


def test_a_one_core_quota_means_one_job_on_a_many_core_host(tmp_path, monkeypatch):
    (tmp_path / "cpu.max").write_text("100000 100000\n")
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(16)))
    assert usable_cpus(tmp_path) == 1 and usable_cpus(tmp_path / "none") == 16
