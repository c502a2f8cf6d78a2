"""AppTest of the Train page: renders, a tiny run completes with its curve and result, Stop works, bad input."""

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ui import resources

PAGE = str(Path(__file__).resolve().parent.parent / "views" / "train.py")


def open_page(query=None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    return at.run()


def set_tiny(at: AppTest, epochs=2, subset=2000) -> None:
    at.select_slider(key="form_subset").set_value(subset)
    at.slider(key="form_epochs").set_value(epochs)
    at.select_slider(key="form_hidden").set_value(64)


def press_train(at: AppTest) -> AppTest:
    """The form's Train button (its key ends with its label, which is translated)."""
    return next(b for b in at.button if b.key.startswith("FormSubmitter:train_form-")).click().run()


def wait_finished(at: AppTest, timeout=90) -> AppTest:
    end = time.time() + timeout
    while time.time() < end:
        runs = at.session_state["runs"] if "runs" in at.session_state else []
        if runs and all(j.finished for j in runs):
            return at.run()
        if runs:
            resources.jobs().touch(runs[0].owner)  # the heartbeat an open tab sends
        time.sleep(0.3)
    raise AssertionError("training did not finish")


def test_renders_with_presets(mnist):
    at = open_page()
    assert not at.exception
    assert at.selectbox(key="preset").value == "quick"
    at.selectbox(key="preset").set_value("lesson").run()
    assert at.select_slider(key="form_hidden").value == 100 and at.slider(key="form_epochs").value == 10
    assert any("Choose settings" in i.value for i in at.info)


def test_tiny_run_completes_with_curve_and_result(mnist):
    at = open_page()
    set_tiny(at)
    at = wait_finished(press_train(at))
    assert not at.exception
    job = at.session_state["runs"][0]
    assert job.state == "done" and job.result["acc"] > 0.3
    assert any("Test accuracy" in s.value for s in at.success)
    keys = {c.key for c in at.get("plotly_chart")}
    assert keys == {"compare_loss", "compare_acc", "compare_lr"}  # the finished run's curves, in "Your runs"
    assert at.query_params["hidden"] == "64" and at.query_params["subset"] == "2000"
    assert len(at.dataframe) == 1


def test_stop_keeps_partial_model(mnist):
    at = open_page()
    set_tiny(at, epochs=30, subset=60000)
    at = press_train(at)
    job = at.session_state["runs"][0]
    end = time.time() + 60
    while job.last("step") is None and time.time() < end:
        time.sleep(0.1)
    at.button(key=f"stop_{job.id}").click().run()
    at = wait_finished(at)
    assert job.state == "stopped" and job.model is not None and job.result is not None
    assert any("Stopped early" in w.value for w in at.warning)


@pytest.mark.slow
def test_divergence_is_explained_and_earlier_runs_kept(mnist):
    at = open_page()
    set_tiny(at)
    at = wait_finished(press_train(at))
    at.selectbox(key="preset").set_value("too-high-lr").run()
    at = wait_finished(press_train(at))
    runs = at.session_state["runs"]
    assert [j.state for j in runs] == ["done", "diverged"]
    assert any("learning rate" in e.value for e in at.error)
    assert len(at.dataframe) == 1 and len(at.dataframe[0].value) == 2


def test_bad_query_string_falls_back_with_notice(mnist):
    at = open_page({"hidden": "lots", "layers": "999", "colour": "red", "lr": "0.003"})
    assert not at.exception
    assert at.select_slider(key="form_lr").value == 0.003
    assert at.slider(key="form_layers").value == 1  # the quick preset's value, kept
    notices = " ".join(w.value for w in at.warning)
    assert "hidden" in notices and "colour" in notices and "layers" in notices


def test_share_link_carries_the_form(mnist):
    at = open_page({"hidden": "256", "order": "reversed", "lang": "en"})
    link = at.code[0].value
    assert "hidden=256" in link and "order=reversed" in link and "lang=en" in link
    assert at.select_slider(key="form_hidden").value == 256 and at.selectbox(key="form_order").value == "reversed"


def test_export_buttons_after_a_run(mnist):
    at = open_page()
    set_tiny(at, epochs=1, subset=500)
    at = wait_finished(press_train(at))
    labels = [b.proto.label for b in at.get("download_button")]
    assert any("csv" in label for label in labels) and any("safetensors" in label for label in labels)


def test_repeat_with_three_seeds_shows_mean_and_spread(mnist):
    at = open_page({"subset": "2000", "epochs": "2", "hidden": "32", "validation": "0"})  # learns (else left out)
    at.radio(key="form_repeats").set_value(3)
    at = wait_finished(press_train(at), timeout=180)
    runs = at.session_state["runs"]
    assert [j.config.seed for j in runs] == [0, 1, 2] and len({j.group for j in runs}) == 1 and runs[0].group
    assert all(j.state == "done" for j in runs), [(j.state, j.message) for j in runs]
    assert any("the same settings with 3 seeds" in i.value and "mean ± standard deviation" in i.value
               for i in at.info), [i.value for i in at.info]


def test_each_family_gets_only_the_settings_it_has(mnist):
    at = open_page()
    assert at.radio(key="form_family").options == ["LSTM", "GRU", "plain RNN (tanh)", "CNN", "Transformer"]
    shown = lambda: {w.key for w in at.slider} | {w.key for w in at.radio} | {w.key for w in at.checkbox}  # noqa: E731
    assert {"form_dropout", "form_loss"} <= shown() and "form_positions" not in shown()
    at.radio(key="form_family").set_value("cnn").run()
    assert not at.exception and not {"form_dropout", "form_loss", "form_positions"} & shown()
    assert any("small 3×3 filters" in c.value for c in at.caption)
    at.radio(key="form_family").set_value("transformer").run()
    assert "form_positions" in shown() and "form_dropout" in shown() and "form_loss" not in shown()
    at.checkbox(key="form_positions").uncheck()
    set_tiny(at, epochs=1, subset=1000)
    at = wait_finished(press_train(at), timeout=180)
    job = at.session_state["runs"][0]
    assert not at.exception and (job.config.family, job.config.positions, job.state) == ("transformer", False, "done")
    assert job.result["acc_by_rows"] is None and job.result["acc"] > 0.2
    at.radio(key="form_family").set_value("lstm").run()  # positions=False stays behind, hidden: not sent
    assert "family=lstm" in at.code[0].value and "positions=True" in at.code[0].value
    at = press_train(at)
    assert at.session_state["runs"][-1].config.positions is True and not at.error


def test_a_transformer_link_without_positions_opens_as_shared(mnist):
    # written by hand, in any order, with the family under its first name (cell): old links keep working
    at = open_page({"positions": "false", "cell": "transformer", "hidden": "64"})
    assert not at.exception and not at.warning
    assert at.radio(key="form_family").value == "transformer" and at.checkbox(key="form_positions").value is False
    at = open_page({"family": "transformer", "hidden": "30", "dropout": "0.2"})
    notices = " ".join(w.value for w in at.warning)
    assert "multiple of 4" in notices and at.select_slider(key="form_hidden").value != 30
    at = open_page({"family": "cnn", "positions": "false"})
    assert "does not apply to the CNN" in " ".join(w.value for w in at.warning)


def test_the_form_works_in_chinese(mnist):
    """Every choice widget's labels are translated once per run (ui.i18n.labels), so they can be set in Chinese too:
    a format function that called t() itself would answer in English outside the run, and AppTest (like a widget
    replying to the server) could not match the choice."""
    at = open_page({"lang": "zh"})
    assert not at.exception
    at.selectbox(key="preset").set_value("lesson").run()
    assert at.selectbox(key="preset").value == "lesson" and at.slider(key="form_epochs").value == 10
    assert "原教程" in at.selectbox(key="preset").format_func("lesson")  # the label the visitor sees, in Chinese
    at.selectbox(key="preset").set_value("quick").run()
    at.radio(key="form_family").set_value("gru").run()
    at.selectbox(key="form_order").set_value("reversed")
    at.selectbox(key="form_optimizer").set_value("sgd-momentum")
    at.selectbox(key="form_scheduler").set_value("cosine")
    at.selectbox(key="form_precision").set_value("fp32")
    at.radio(key="form_loss").set_value("every-step")
    at.select_slider(key="form_validation").set_value(0.0)
    set_tiny(at, epochs=1, subset=1000)
    at = wait_finished(press_train(at))
    job = at.session_state["runs"][0]
    assert not at.exception and job.state == "done"
    c = job.config
    assert (c.family, c.order, c.optimizer, c.scheduler, c.precision, c.loss, c.validation, c.subset) == \
        ("gru", "reversed", "sgd-momentum", "cosine", "fp32", "every-step", 0.0, 1000)
