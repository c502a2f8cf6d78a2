"""Accessibility in a real browser (issue 13): axe-core on every page in both languages, and the main flow by keyboard.

axe-core (bundled by axe-playwright-python, nothing fetched at run time) checks the WCAG 2.0, 2.1 and 2.2 A and AA rules
on each page in English and in Chinese, after a short training run on Train, on Inspect with a model selected, a
run sent from Train and a drawn digit, and on Conclusion with its predictions answered. Any serious or critical
violation fails, unless it is on the upstream list (UPSTREAM): problems of Streamlit's own markup, each checked to
come from Streamlit and documented with its upstream issue in docs/accessibility.md. `A11Y_REPORT=path.json` writes
every violation found (all impacts) for that doc.

The keyboard tests walk the main flow, and a class from its creation by a teacher to a student's run, with Tab,
Shift+Tab, Enter, Space, arrow keys and typing only; they check that the focused control shows a visible focus
indicator, and on the Class page that Tab and Shift+Tab go round every control and out of the page again (no
keyboard trap). Same setup as tests/test_browser.py: Debian's chromium, real MNIST.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from test_browser import (  # noqa: E402
    CHART,
    IN_CI,
    STOP_BUTTON,
    VIEWPORT,
    answer,
    draw_a_one,
    launched_chromium,
    no_exception,
    running_server,
    settle,
)

if not IN_CI:  # in CI a missing package is an error, not a skip
    pytest.importorskip("axe_playwright_python", reason="pip install -r requirements-dev.txt")
from axe_playwright_python.sync_playwright import Axe  # noqa: E402
from playwright.sync_api import Page, expect  # noqa: E402

pytestmark = pytest.mark.browser  # real Chromium: left out of the quick loop (README)

WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BLOCKING = ("serious", "critical")
# Violations of Streamlit's (or a component's) own markup, not ours: (rule, a CSS fragment of the element axe names, why). Each one is
# documented in docs/accessibility.md with the upstream issue; the test checks the node is Streamlit's element.
UPSTREAM = [
    ("aria-allowed-attr", '<section class="stSidebar',
     "Streamlit puts aria-expanded on the sidebar <section>, a role that does not allow it"),
    ("target-size", '<button type="button" class="dc-icon-button"',
     "streamlit-drawable-canvas draws its toolbar (send, undo, redo, edit, clear) as small icon buttons (WCAG 2.2)"),
]
TALLEST = 9000  # px: the viewport grows to the page's height (cut here), so axe sees every element unscrolled
TINY = "subset=500&epochs=1&hidden=8&validation=0&test_subset=500"
TITLES = {"en": {"train": "Train an RNN on MNIST rows", "inspect": "Inspect a model", "row-order": "Does row order matter?",
                 "lesson": "Row by Row: an RNN that reads digits", "class": "Class"},
          "zh": {"train": "用 MNIST 图像的行训练一个 RNN", "lesson": "逐行读手写数字", "class": "班级"}}
LINKS = {"en": {"row-order": "Row order", "inspect": "Inspect", "conclusion": "Conclusion"},
         "zh": {"row-order": "行顺序", "inspect": "观察", "conclusion": "结论"}}
TEACHER_KEY = "the keyboard teacher's key"
FOUND: dict[str, list[dict]] = {}  # "page · language" -> violations (every impact), for A11Y_REPORT


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The app with a teacher key (the Class page shows its teacher forms) and a class database of its own."""
    database = tmp_path_factory.mktemp("a11y-class") / "class.sqlite3"
    try:
        yield from running_server(tmp_path_factory, "a11y-server", {"ROW_BY_ROW_TEACHER_KEY": TEACHER_KEY,
                                                                    "ROW_BY_ROW_DB": f"sqlite:///{database}"})
    finally:
        if os.environ.get("A11Y_REPORT"):
            Path(os.environ["A11Y_REPORT"]).write_text(json.dumps(FOUND, indent=1, ensure_ascii=False))


@pytest.fixture(scope="module")
def browser(server):
    yield from launched_chromium()


def new_page(browser, lang: str) -> Page:
    """A fresh browser context whose preferred language is `lang` (zh-CN for Chinese), as a student's would be."""
    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN" if lang == "zh" else "en-US")
    page = context.new_page()
    page.set_default_timeout(30_000)
    return page


def upstream(rule: str, node: dict) -> bool:
    return any(rule == r and node["html"].startswith(where) for r, where, _ in UPSTREAM)


def check(page: Page, where: str) -> list[str]:
    """Run axe on the page as it is now; the serious or critical violations that are not upstream's, as text."""
    # Streamlit scrolls inside its main section: axe cannot judge the contrast of text scrolled out of sight, so
    # the viewport is made as tall as the page first.
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": VIEWPORT["width"], "height": min(max(height, VIEWPORT["height"]), TALLEST)})
    try:
        settle(page)
        # no element still faded as stale from the last rerun (Streamlit draws those at a third of their contrast)
        page.wait_for_function("() => !document.querySelector('[data-stale=\"true\"]')", timeout=30_000)
        page.wait_for_timeout(400)  # plotly redraws at the new size; the fade-in ends
        result = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG},
                                          "resultTypes": ["violations"]})
    finally:
        page.set_viewport_size(VIEWPORT)
    violations = result.response["violations"]
    FOUND[where] = [{"id": v["id"], "impact": v["impact"], "nodes": [
        {"target": n["target"], "html": n["html"][:300], "summary": n.get("failureSummary", "")[:300]}
        for n in v["nodes"]]} for v in violations]
    bad = []
    for v in violations:
        if v["impact"] not in BLOCKING:
            continue
        for node in v["nodes"]:
            if not upstream(v["id"], node):
                bad.append(f"{where}: {v['id']} ({v['impact']}) {node['target']} {node['html'][:160]} "
                           f"{node.get('failureSummary', '')[:200]}")
    return bad


def go(page: Page, url: str, title: str) -> None:
    page.goto(url)
    page.locator("h1", has_text=title).first.wait_for(timeout=90_000)
    settle(page)


def follow(page: Page, lang: str, path: str) -> None:
    """Open a page from the sidebar, which keeps the session (and its runs)."""
    page.locator('a[data-testid="stSidebarNavLink"]', has_text=LINKS[lang][path]).click()
    page.wait_for_url(re.compile(rf"/{path}(\?.*)?$"))
    settle(page)
    settle(page)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_axe_finds_nothing_serious_on_any_page(browser, server, lang):
    """Every page, a finished run, Inspect on a shipped model, on that run and on a drawing, Conclusion before and
    after its predictions (its charts, captions and the "Train them yourself" controls), Class: no serious
    violation."""
    page, bad = new_page(browser, lang), []
    try:
        go(page, f"{server.url}/", TITLES[lang]["lesson"])
        bad += check(page, f"lesson · {lang}")
        go(page, f"{server.url}/train?{TINY}", TITLES[lang]["train"])
        bad += check(page, f"train · {lang}")
        page.locator('[data-testid="stFormSubmitButton"] button').click()
        page.wait_for_selector(STOP_BUTTON, state="detached", timeout=120_000)
        page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=60_000)
        no_exception(page, "train after a run")
        bad += check(page, f"train after a run · {lang}")
        follow(page, lang, "row-order")
        bad += check(page, f"row order · {lang}")
        follow(page, lang, "inspect")
        bad += check(page, f"inspect, shipped model · {lang}")
        page.locator(".st-key-inspect_model input").click()
        # typed to filter: the list draws only its first options, and the shipped models fill them
        page.locator(".st-key-inspect_model input").fill("your run" if lang == "en" else "你的训练")
        page.get_by_role("option", name=re.compile(r"(your run|你的训练)")).first.click()
        settle(page)
        bad += check(page, f"inspect, your run · {lang}")
        page.locator(".st-key-inspect_mode label", has_text=re.compile("^(Draw your own|自己绘制)$")).click()
        settle(page)
        draw_a_one(page)
        page.locator('img[src^="data:image/png"]').first.wait_for(timeout=30_000)  # what the network sees
        settle(page)
        no_exception(page, "inspect after a drawing")
        bad += check(page, f"inspect, a drawing · {lang}")
        follow(page, lang, "conclusion")
        bad += check(page, f"conclusion, before predicting · {lang}")
        for key in ("predict_order", "predict_scaling", "predict_parallel", "predict_time"):  # every chart and caption of the page
            answer(page, key)
        page.locator('[data-testid="stMain"] [data-testid="stExpander"] summary').click()  # "Train them yourself"
        page.locator(".st-key-conclusion_variants").wait_for(state="visible")
        assert page.locator(CHART).count() >= 4, "the Conclusion page's charts are not all shown"
        no_exception(page, "conclusion with every prediction answered")
        bad += check(page, f"conclusion, predictions answered · {lang}")
        go(page, f"{server.url}/class", TITLES[lang]["class"])  # the Class page (its teacher's view and a student's:
        bad += check(page, f"class · {lang}")  # tests/test_browser_classroom.py)
    finally:
        page.context.close()
    assert bad == [], "serious or critical accessibility violations:\n" + "\n".join(bad)


FOCUSED = "(() => { const el = document.activeElement; return !!el && el !== document.body && (%s); })()"
# A visible focus indicator: the focused element or one of its five nearest ancestors (Streamlit marks a focused
# text input or select on the box around it) looks different with the focus than without it: outline, shadow,
# border or background. Focus is taken away to compare, then given back (the next Tab goes on from there).
FOCUS_RING = """async () => {
    const el = document.activeElement, chain = [], settle = () => new Promise(r => setTimeout(r, 400));
    for (let e = el, k = 0; e && k < 6; k++, e = e.parentElement) chain.push(e);
    const look = () => chain.map(e => { const s = getComputedStyle(e);
        return [s.outlineStyle === 'none' ? '' : s.outlineStyle + s.outlineWidth + s.outlineColor, s.boxShadow,
                s.borderColor, s.backgroundColor].join(' '); });
    await settle();  // past any CSS transition
    const focused = look();
    el.blur();
    await settle();
    const blurred = look();
    el.focus();
    return focused.some((f, k) => f !== blurred[k]);
}"""


def tab_to(page: Page, condition: str, what: str, back: bool = False, limit: int = 150) -> None:
    """Press Tab (or Shift+Tab) until the focused element meets the JS `condition` (on `el`); it must show focus."""
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        if page.evaluate(FOCUSED % condition):
            assert page.evaluate(FOCUS_RING), f"{what} has keyboard focus but no visible focus indicator"
            return
    raise AssertionError(f"{what} was not reached with {limit} presses of {'Shift+Tab' if back else 'Tab'}")


def shows(page: Page, pattern: str, timeout: float = 30_000) -> None:
    page.wait_for_function("(p) => new RegExp(p).test(document.querySelector('[data-testid=\"stMain\"]').innerText)",
                           arg=pattern, timeout=timeout)


def test_the_main_flow_by_keyboard_alone(browser, server):
    """Lesson: step and play the digit; Train: the default preset, then Stop; Inspect: pick digits with the pickers;
    Row order: start the experiment. Only Tab, Shift+Tab, Enter, Space and arrow keys, each focus visible."""
    page = new_page(browser, "en")
    try:
        go(page, f"{server.url}/", TITLES["en"]["lesson"])
        tab_to(page, "el.type === 'range' && !!el.closest('.st-key-lesson_step')", "the step slider")
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowRight")
        shows(page, "At step 16 the LSTM")
        tab_to(page, "el.tagName === 'BUTTON' && /Play/.test(el.innerText)", "Play", back=True)
        page.keyboard.press("Enter")
        shows(page, "At step 28 the LSTM", timeout=60_000)  # played to the end
        settle(page)

        # the default preset with more epochs: on a quiet machine its 2 epochs can end before the keys reach Stop
        go(page, f"{server.url}/train?epochs=20", TITLES["en"]["train"])
        submit = "!!el.closest('[data-testid=\"stFormSubmitButton\"]')"
        tab_to(page, submit, "the Train button")
        page.keyboard.press("Enter")
        page.wait_for_selector(STOP_BUTTON, timeout=60_000)
        tab_to(page, "!!el.closest('[class*=\"st-key-stop_\"]')", "the Stop button")
        page.keyboard.press("Enter")  # on keydown: the live panel redraws every second, between a Space's down and up
        try:
            shows(page, "Stopped early|Stopped before any training step")
        except Exception:  # noqa: BLE001 - say what the page shows instead
            focused = page.evaluate("() => document.activeElement.outerHTML.slice(0, 300)")
            raise AssertionError(f"Stop did not stop the run; focus on {focused}; the page shows:\n"
                                 + page.locator('[data-testid="stMain"]').inner_text()[:1500]) from None
        settle(page)
        no_exception(page, "train after a keyboard run")

        go(page, f"{server.url}/inspect", TITLES["en"]["inspect"])  # "By number", test digit 0
        tab_to(page, "!!el.closest('.st-key-inspect_index') && el.tagName === 'INPUT'", "the digit number")
        page.keyboard.press("ArrowUp")
        page.keyboard.press("ArrowUp")
        page.keyboard.press("Enter")
        shows(page, r"Test digit #2, a handwritten \d: after 28 steps")
        tab_to(page, "!!el.closest('.st-key-inspect_mode')", "the digit picker's modes", back=True)
        page.keyboard.press("ArrowRight")  # Random
        page.keyboard.press("ArrowRight")  # By class
        settle(page)
        tab_to(page, "!!el.closest('.st-key-inspect_class') && el.tagName === 'INPUT'", "the class picker")
        page.keyboard.press("ArrowDown")  # opens the list (class 0 is chosen)
        page.keyboard.press("ArrowDown")
        page.keyboard.press("Enter")
        shows(page, r"a handwritten [1-9]: after 28 steps")  # another class than 0, chosen by keyboard
        no_exception(page, "inspect after keyboard picks")

        go(page, f"{server.url}/row-order", TITLES["en"]["row-order"])
        tab_to(page, "el.tagName === 'BUTTON' && /Train every order/.test(el.innerText)", "Train every order")
        page.keyboard.press("Space")  # queues the runs; the server stops with this module
        shows(page, r"Waiting for a free slot|Epoch \d+/\d+|Starting", timeout=60_000)
    finally:
        page.context.close()


# Who has the focus, in a few words: tag, label or text, and the Streamlit key of the widget it belongs to.
FOCUS_NAME = """() => { const el = document.activeElement;
    if (!el || el === document.body) return null;
    const key = [...(el.closest('[class*="st-key-"]')?.classList || [])].find(c => c.startsWith('st-key-')) || '';
    const name = el.getAttribute('aria-label') || (el.innerText || el.value || '').trim().slice(0, 50);
    return `${el.tagName.toLowerCase()} ${JSON.stringify(name.replace(/\\s+/g, ' '))} ${key}`.trim(); }"""


def round_the_page(page: Page, where: str, limit: int = 150) -> list[str]:
    """Tab out of the page, then from its top through every control and out of it again, then Shift+Tab all the way
    back and out at the top: a control that held the focus (a keyboard trap) would never let it leave. Each stop must
    show its focus. The stops, in order."""
    stops, unseen = [], []
    for first_round in (True, False):  # from wherever the focus is to the end of the page, then once round it
        for _ in range(limit):
            page.keyboard.press("Tab")
            name = page.evaluate(FOCUS_NAME)
            if name is None:  # past the last control: the focus left the page
                break
            if not first_round:
                stops.append(name)
                if not page.evaluate(FOCUS_RING):
                    unseen.append(name)
        else:
            raise AssertionError(f"{where}: Tab did not leave the page in {limit} presses (a keyboard trap?) at "
                                 f"{name}")
    assert unseen == [], f"{where}: keyboard focus but no visible focus indicator on {unseen}"
    back = []
    for _ in range(limit):  # from outside the page back through it and out at its top
        page.keyboard.press("Shift+Tab")
        name = page.evaluate(FOCUS_NAME)
        if name is None:
            break
        back.append(name)
    else:
        raise AssertionError(f"{where}: Shift+Tab did not leave the page in {limit} presses (a keyboard trap?)")
    # the same way back, less what shows only while its neighbour has the focus (a code block's copy button)
    assert back == [name for name in stops[::-1] if name in back] and back[-1] == stops[0], \
        f"{where}: Shift+Tab does not retrace Tab's way:\n{stops}\n{back}"
    return stops


def test_a_class_by_keyboard_alone(browser, server):
    """A teacher creates a class (the server's key, the learning rate over two values) and reaches every control of
    its view; a student opens the join link, goes to the Class page, saves a nickname, trains the class run and
    reaches the Train page: Tab, Shift+Tab, Enter, Space and typing only, every stop with a visible focus, no
    keyboard trap on any state of the Class page, and axe-core finds nothing serious on any of them."""
    teacher, student, bad = new_page(browser, "en"), None, []
    try:
        go(teacher, f"{server.url}/class", TITLES["en"]["class"])
        round_the_page(teacher, "the Class page")
        tab_to(teacher, "el.tagName === 'SUMMARY' && /Create a class/.test(el.innerText)", "Create a class")
        teacher.keyboard.press("Enter")
        tab_to(teacher, "el.type === 'password' && !!el.closest('.st-key-class_key')", "the teacher key")
        teacher.keyboard.type(TEACHER_KEY)
        tab_to(teacher, "!!el.closest('.st-key-class_setting') && el.tagName === 'INPUT'", "the setting that varies")
        teacher.keyboard.type("learning")  # filters the list to one choice; Enter takes it
        teacher.get_by_role("option", name=re.compile("^the learning rate$")).wait_for()
        teacher.keyboard.press("Enter")
        expect(teacher.locator(".st-key-class_setting input")).to_have_value("the learning rate")
        tab_to(teacher, "!!el.closest('.st-key-class_values') && el.tagName === 'INPUT'", "the values")
        teacher.keyboard.type("0.003, 0.01")
        bad += check(teacher, "class, the create form · en")
        tab_to(teacher, "el.tagName === 'BUTTON' && /Create the class/.test(el.innerText)", "Create the class")
        teacher.keyboard.press("Enter")
        heading = teacher.locator("h2", has_text="Class code")
        heading.wait_for(timeout=60_000)
        settle(teacher)
        no_exception(teacher, "the class just created")
        code = re.search(r"Class code: ([A-Z0-9]{6})", heading.inner_text()).group(1)
        tab_to(teacher, "!!el.closest('[data-testid=\"stCode\"]')", "the teacher token (shown once)")
        teacher.wait_for_timeout(400)  # the block's copy button appears (150 ms) once the block has the focus
        tab_to(teacher, "el.getAttribute('aria-label') === 'Copy to clipboard'", "the token's copy button", limit=1)
        tab_to(teacher, "el.tagName === 'SUMMARY' && /Teacher controls/.test(el.innerText)", "Teacher controls")
        teacher.keyboard.press("Enter")
        teacher.locator(".st-key-class_close").wait_for()
        stops = round_the_page(teacher, "the teacher's view")
        for control in ("Close the class", "New teacher token", "Results (.csv)", "Change the experiment",
                        "Reset or delete", "Projector mode"):
            assert any(control in stop for stop in stops), f"{control} is not reached by Tab: {stops}"
        bad += check(teacher, "class, the teacher's view with its controls · en")

        student = new_page(browser, "en")
        student.goto(f"{server.url}/?class={code}")  # the join link, opened on the first page
        student.locator('[data-testid="stSidebar"] [data-testid="stAlertContentInfo"]', has_text=code).wait_for(
            timeout=90_000)
        settle(student)
        tab_to(student, "el.tagName === 'A' && /Class$/.test(el.innerText.trim())", "the Class page's link")
        student.keyboard.press("Enter")
        student.wait_for_url(re.compile(r"/class\?"))
        student.locator("h1", has_text=TITLES["en"]["class"]).first.wait_for()
        settle(student)
        tab_to(student, "!!el.closest('.st-key-class_nickname_text') && el.tagName === 'INPUT'", "the nickname")
        student.keyboard.type("Ada")
        tab_to(student, "el.tagName === 'BUTTON' && /Save the nickname/.test(el.innerText)", "Save the nickname")
        student.keyboard.press("Enter")
        shows(student, "You are student 1 \\(Ada\\) in class " + code)
        settle(student)
        round_the_page(student, "a student's Class page")
        bad += check(student, "class, a student's view · en")
        tab_to(student, "el.tagName === 'BUTTON' && /Train the class run/.test(el.innerText)", "Train the class run")
        student.keyboard.press("Enter")
        try:
            shows(student, r"Waiting for a free slot|Epoch \d+/\d+|Starting|Test accuracy|Not learning",
                  timeout=60_000)
        except Exception:  # noqa: BLE001 - say what the page shows instead
            raise AssertionError(f"the class run did not start; focus on {student.evaluate(FOCUS_NAME)}; the page "
                                 "shows:\n" + student.locator('[data-testid="stMain"]').inner_text()[:2000]) from None
        tab_to(student, "el.tagName === 'A' && /Train$/.test(el.innerText.trim())", "the Train page's link",
               back=True)
        student.keyboard.press("Enter")
        student.wait_for_url(re.compile(r"/train\?"))
        student.locator("h1", has_text=TITLES["en"]["train"]).first.wait_for()
        settle(student)
        student.locator('[data-testid="stSidebar"] [data-testid="stAlertContentInfo"]', has_text=code).wait_for()
        tab_to(student, "!!el.closest('[data-testid=\"stFormSubmitButton\"]')", "the Train button")
        no_exception(student, "the Train page of a student in a class")
    finally:
        teacher.context.close()
        if student is not None:
            student.context.close()
    assert bad == [], "serious or critical accessibility violations:\n" + "\n".join(bad)
