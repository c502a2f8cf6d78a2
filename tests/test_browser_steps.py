"""Browser test of the panels that look through the steps, in both languages: the Lesson's gradients and probes
(each after its prediction), Inspect's "Through the steps" switch on the lesson model, the Conclusion's parallel part
(after its prediction). Each draws its charts with no exception, and axe finds nothing serious on any of them.

Reads what is recorded in docs/ (gradients.json, probes.json, parallel-cpu.json) for the shipped models; the lesson
model's gradients on Inspect are computed on the test's server (seconds).
"""

from __future__ import annotations

import pytest
from test_accessibility import TITLES, check, go, new_page
from test_browser import CHART, answer, launched_chromium, no_exception, running_server, settle

from lib.experiments import parallel, recorded
from lib.storage.pretrained import LESSON_MODEL

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(900)]

INSPECT = {"en": "Inspect a model", "zh": "观察模型"}
CONCLUSION = {"en": "The lesson's conclusion, put to the test", "zh": "检验原教程的结论"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from running_server(tmp_path_factory, "steps-server")


@pytest.fixture(scope="module")
def browser(server):
    yield from launched_chromium()


def drawn(page, key: str, timeout: float = 120_000) -> None:
    page.locator(f".st-key-{key} .js-plotly-plot").wait_for(timeout=timeout)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_through_the_steps_panels_draw_and_pass_axe(browser, server, lang):
    assert recorded.lookup("probes", LESSON_MODEL) is not None, "record the lesson model's probes first"
    assert parallel.recorded() is not None, "record docs/parallel-cpu.json first"
    page, bad = new_page(browser, lang), []
    try:
        go(page, f"{server.url}/", TITLES[lang]["lesson"])
        for key in ("gradients_28_init", "gradients_28_trained", "lesson_probes"):
            assert page.locator(f".st-key-{key}").count() == 0, f"{key} is drawn before its prediction"
        answer(page, "predict_gradients")
        drawn(page, "gradients_28_init")
        drawn(page, "gradients_28_trained")
        log = page.locator(".st-key-gradients_28_init .js-plotly-plot").evaluate("el => el._fullLayout.yaxis.type")
        assert log == "log"
        answer(page, "predict_probes")
        drawn(page, "lesson_probes")
        curves = page.locator(".st-key-lesson_probes .js-plotly-plot").evaluate(
            "el => el.data.filter(s => s.showlegend !== false).length")
        assert curves == 4  # two probes, the classifier, the every-step model
        no_exception(page, "lesson after both predictions")
        bad += check(page, f"lesson, gradients and probes · {lang}")

        go(page, f"{server.url}/inspect", INSPECT[lang])
        page.locator(".st-key-inspect_through_steps label").first.click()
        drawn(page, "inspect_gradients", timeout=300_000)
        drawn(page, "inspect_probes")
        no_exception(page, "inspect through the steps")
        bad += check(page, f"inspect, through the steps · {lang}")

        go(page, f"{server.url}/conclusion", CONCLUSION[lang])
        assert page.locator(".st-key-conclusion_parallel").count() == 0
        answer(page, "predict_parallel")
        drawn(page, "conclusion_parallel")
        settle(page)
        assert page.locator(f".st-key-conclusion_parallel {CHART}").count() == 1
        no_exception(page, "conclusion, the parallel part")
        bad += check(page, f"conclusion, the parallel part · {lang}")
    finally:
        page.context.close()
    assert bad == [], "serious or critical accessibility violations:\n" + "\n".join(bad)
