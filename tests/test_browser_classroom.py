"""A class in real Chromium (issue 24): a teacher tab and three student tabs, one of them in Chinese. The teacher
creates a class with the server's key; the students join by its link and train the runs it gives them; the
teacher's chart shows the three points without a reload; a student reloads and is still the same student; the
server restarts and the three runs are still there. axe-core checks the teacher's and a student's view in both
languages. Same setup as tests/test_browser.py (Debian's chromium, real MNIST); the class database is a SQLite file of
the test's own.
"""

from __future__ import annotations

import re

import pytest
from test_accessibility import check
from test_browser import CHROMIUM, IN_CI, LAUNCH_ARGS, VIEWPORT, _mnist_root, no_exception, settle

from bench import server as browser_server

if not IN_CI:
    pytest.importorskip("axe_playwright_python", reason="pip install -r requirements-dev.txt")
from playwright.sync_api import Page, sync_playwright  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(900)]

KEY = "a teacher's key for this test"
# Classroom limits that keep the class runs short: the "quick" preset, capped at 1 epoch on 2,000 digits (30-90 s a
# run on two busy cores). So short a run may end "not learning": the teacher shows those too, so that every run counts.
ENV = {"ROW_BY_ROW_TEACHER_KEY": KEY, "ROW_BY_ROW_MAX_EPOCHS": "1", "ROW_BY_ROW_MAX_SUBSET": "2000"}
TITLE = {"en": "Class", "zh": "班级"}
TRAIN = {"en": "Train the class run", "zh": "开始班级训练"}
POINTS = """() => { const p = [...document.querySelectorAll('.js-plotly-plot')][0];
                    return p && p.data && p.data[0].x ? p.data[0].x.length : 0; }"""


def open_class(page: Page, url: str, lang: str = "en") -> None:
    page.goto(url)
    page.locator("h1", has_text=TITLE[lang]).first.wait_for(timeout=90_000)
    settle(page)
    no_exception(page, url)


def tab(browser, lang: str = "en") -> Page:
    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN" if lang == "zh" else "en-US")
    page = context.new_page()
    page.set_default_timeout(30_000)
    return page


def create_class(page: Page) -> tuple[str, str]:
    """The teacher's form: the key, the learning rate varied over three values; (code, teacher token)."""
    page.locator("summary", has_text="Create a class").click()
    page.locator(".st-key-class_key input").fill(KEY)
    page.locator(".st-key-class_setting input").click()
    page.locator(".st-key-class_setting input").fill("learning rate")  # typed to filter the list
    page.get_by_role("option", name=re.compile("^the learning rate$")).first.click()
    page.locator(".st-key-class_values input").fill("0.003, 0.005, 0.01")
    page.locator('[data-testid="stFormSubmitButton"] button', has_text="Create the class").click()
    page.locator("h2", has_text="Class code").wait_for(timeout=60_000)
    settle(page)
    code = re.search(r"Class code: ([A-Z0-9]{6})", page.locator("h2", has_text="Class code").inner_text()).group(1)
    token = page.locator('[data-testid="stCode"] code').first.inner_text().strip()
    return code, token


def student_number(page: Page, code: str) -> int:
    """The number the sidebar's class line gives this student ("In class CODE as student 2 …")."""
    line = page.locator('[data-testid="stSidebar"] [data-testid="stAlertContentInfo"]', has_text=code).first
    return int(re.search(r"(?:student|学生) (\d+)", line.inner_text()).group(1))


def test_a_class_of_three_trains_together_and_survives_a_reload_and_a_restart(tmp_path_factory):
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: the browser tests must run in CI")
    _mnist_root()
    folder = tmp_path_factory.mktemp("class-browser")
    env = ENV | {"ROW_BY_ROW_DB": f"sqlite:///{folder / 'class.sqlite3'}"}
    (folder / "first").mkdir()
    (folder / "second").mkdir()
    server = browser_server.start(folder / "first", wait_s=60, extra_env=env)
    bad = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
            teacher = tab(browser)
            open_class(teacher, f"{server.url}/class")
            code, token = create_class(teacher)
            assert token and token not in teacher.url and KEY not in teacher.url
            students = [tab(browser), tab(browser), tab(browser, "zh")]
            open_class(students[0], f"{server.url}/class?class={code}")
            open_class(students[1], f"{server.url}/class?class={code.lower()}")
            students[2].goto(f"{server.url}/?class={code}&lang=zh")  # the link works on any page: the Lesson here
            students[2].locator('[data-testid="stSidebar"] [data-testid="stAlertContentInfo"]', has_text=code).wait_for()
            students[2].locator('a[data-testid="stSidebarNavLink"]', has_text="班级").click()
            students[2].locator("h1", has_text=TITLE["zh"]).first.wait_for()
            settle(students[2])
            numbers = [student_number(s, code) for s in students]
            assert sorted(numbers) == [1, 2, 3]
            for page, lang in zip(students, ("en", "en", "zh")):
                assert "student=" in page.url and f"class={code}" in page.url  # the token stays in the link
                page.get_by_role("button", name=TRAIN[lang]).click()
            teacher.locator(".st-key-class_show_all label").click()  # "not learning" runs too
            settle(teacher)
            # the teacher's view redraws itself: three points appear without a reload
            teacher.wait_for_function(f"() => ({POINTS})() === 3", timeout=480_000)
            teacher.get_by_text("Class runs in the figures: 3").wait_for()
            bad += check(teacher, "class, teacher's view · en")
            bad += check(students[2], "class, a student's view · zh")
            students[0].reload()
            students[0].locator("h1", has_text=TITLE["en"]).first.wait_for()
            settle(students[0])
            assert student_number(students[0], code) == numbers[0]  # the same student after a reload
            bad += check(students[0], "class, a student's view · en")
            browser.close()
        server.stop()
        server = browser_server.start(folder / "second", wait_s=60, extra_env=env)  # the server restarts
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
            teacher = tab(browser, "zh")
            open_class(teacher, f"{server.url}/class?lang=zh", "zh")
            teacher.locator("summary", has_text="打开你任教的班级").click()
            teacher.locator(".st-key-class_open_code input").fill(code)
            teacher.locator(".st-key-class_open_token input").fill(token)
            teacher.locator('[data-testid="stFormSubmitButton"] button', has_text="以老师身份打开").click()
            teacher.locator(".st-key-class_show_all label").click()
            teacher.wait_for_function(f"() => ({POINTS})() === 3", timeout=60_000)  # the three runs are still there
            no_exception(teacher, "the teacher's view after a restart")
            bad += check(teacher, "class, teacher's view · zh")
            browser.close()
        out, err = server.logs()
        assert "Traceback" not in out + err, (out + err)[-3000:]
    finally:
        server.stop()
    assert bad == [], "serious or critical accessibility violations:\n" + "\n".join(bad)
