"""End-to-end test in a real browser: the app starts, every page renders, a run trains live, Stop stops a run.

It starts `streamlit run streamlit_app.py` on a free port in 8700-8799, drives Debian's chromium with Playwright
and saves the README screenshots to docs/screenshots/. Needs the real MNIST (MNIST_ROOT). Skipped locally when
/usr/bin/chromium is missing; in CI (CI set) a missing browser fails.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
IN_CI = bool(os.environ.get("CI"))
if not IN_CI and not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is missing (set CI to make this a failure)", allow_module_level=True)
if not IN_CI:
    pytest.importorskip("playwright.sync_api")

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402

from bench import server as browser_server  # noqa: E402

pytestmark = pytest.mark.browser  # real Chromium: left out of the quick loop (README)

ROOT = Path(__file__).resolve().parent.parent
# UPDATE_SCREENSHOTS=1 refreshes the README's screenshots; other runs keep theirs in the ignored tests/artifacts.
SHOTS = ROOT / ("docs/screenshots" if os.environ.get("UPDATE_SCREENSHOTS") else "tests/artifacts")
VIEWPORT = {"width": 1400, "height": 900}
MAX_SHOT_BYTES = 600_000
MAX_SHOT_HEIGHT = 6000  # px; taller pages are cut there
LAUNCH_ARGS = browser_server.CHROMIUM_ARGS
SETTLED = browser_server.SETTLED
EXCEPTION = '[data-testid="stException"]'
STOP_BUTTON = '[class*="st-key-stop_"] button'  # the live panel's Stop (key stop_<run id>)
PROGRESS = '[data-testid="stProgress"]'
CHART = '[data-testid="stPlotlyChart"]'
# url path -> the page's title (English, the default language)
PAGES = {"lesson": "Row by Row: an RNN that reads digits", "train": "Train an RNN on MNIST rows",
         "row-order": "Does row order matter?", "inspect": "Inspect a model",
         "conclusion": "The lesson's conclusion, put to the test"}
# A run that lasts ~10-20 s on two busy cores and logs often enough to redraw the curves several times.
TINY_RUN = "subset=10000&epochs=3&hidden=64&test_subset=1000"
TINY_LOG_EVERY = 5  # not a shareable URL setting (lib/share.py), so set in the form's "More settings"
LONG_RUN = "subset=60000&epochs=30&test_subset=1000"
# Chromium reports these when a page is opened by a deep link (/train): Streamlit probes /train/_stcore/...
KNOWN_NOISE = ("/_stcore/health", "/_stcore/host-config")


def _mnist_root() -> None:
    root = os.environ.get("MNIST_ROOT")
    if not root or not (Path(root) / "MNIST" / "raw").is_dir():
        if IN_CI:
            pytest.fail(f"MNIST_ROOT={root!r} holds no MNIST/raw: the browser test must run in CI")
        pytest.skip("set MNIST_ROOT to run the browser test on the real MNIST")


def running_server(tmp_path_factory, name: str, extra_env: dict | None = None):
    """The app on a free port for one test module's browser tests, stopped at the end (a generator for a fixture),
    with `extra_env` added to its environment. A missing browser is only reached in CI, where it fails; no MNIST
    skips locally and fails in CI."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: the browser tests must run in CI")
    _mnist_root()
    srv = browser_server.start(tmp_path_factory.mktemp(name), wait_s=60, extra_env=extra_env)
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from running_server(tmp_path_factory, "server")


def launched_chromium():
    """Debian's Chromium through Playwright for one module's browser tests, closed at the end (a generator for a
    fixture: test_browser_steps and test_accessibility use it too)."""
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def browser(server):
    yield from launched_chromium()


@pytest.fixture()
def page(browser, server):
    """A fresh tab, a browser session of its own, for each test: no test depends on another having run before it.
    After the test, the browser's console and the server's output must be free of errors from its time."""
    console, (out_before, err_before) = [], (len(text) for text in server.logs())
    context = browser.new_context(viewport=VIEWPORT)
    pg = context.new_page()
    pg.set_default_timeout(30_000)

    def on_console(msg):
        where = (msg.location or {}).get("url", "")
        if msg.type == "error" and not any(n in where or n in msg.text for n in KNOWN_NOISE):
            console.append((where, msg.text))

    pg.on("console", on_console)
    pg.on("pageerror", lambda exc: console.append(("pageerror", str(exc))))
    try:
        yield pg
    finally:
        context.close()
    assert not console, "browser console errors:\n" + "\n".join(f"{w}: {t}" for w, t in console)
    out, err = server.logs()
    assert "Traceback" not in err[err_before:], f"server stderr has a traceback:\n{err[err_before:][-4000:]}"
    assert "Traceback" not in out[out_before:], f"server stdout has a traceback:\n{out[out_before:][-4000:]}"


def settle(page: Page, timeout: float = 60_000) -> None:
    """Wait until the script has finished running and every plotly chart on the page has drawn."""
    page.wait_for_selector(SETTLED, timeout=timeout)
    page.wait_for_function(
        """() => [...document.querySelectorAll('.js-plotly-plot')].every(el => el._fullLayout
                 && el.querySelector('.main-svg'))""", timeout=timeout)
    page.wait_for_selector(SETTLED, timeout=timeout)


def one(locator, what: str, timeout: float = 30_000) -> None:
    """Exactly one such element, waited for: a rerun may still be replacing the page's elements after settle()."""
    expect(locator, what).to_have_count(1, timeout=timeout)


def no_exception(page: Page, where: str) -> None:
    shown = page.locator(EXCEPTION)
    assert shown.count() == 0, f"{where} shows an exception: {shown.first.inner_text()[:2000]}"


def title_is(page: Page, path: str, timeout: float = 60_000) -> None:
    h1 = page.locator("h1", has_text=PAGES[path])
    try:
        h1.first.wait_for(state="visible", timeout=timeout)
    except Exception:  # noqa: BLE001 - say what the page shows instead
        no_exception(page, f"page '{path}'")
        found = page.locator("h1").all_inner_texts()
        raise AssertionError(f"page '{path}' has no title {PAGES[path]!r}; h1 elements: {found}") from None


def screenshot(page: Page, name: str) -> Path:
    """The whole page: Streamlit scrolls inside section.stMain, so grow the viewport to its content first."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.evaluate("() => document.activeElement && document.activeElement.blur()")  # no focus ring
    page.mouse.move(VIEWPORT["width"] - 1, 0)  # no hover tooltip in the picture
    main = '[data-testid="stMain"]'
    height = page.evaluate(f"() => document.querySelector('{main}').scrollHeight")
    tall = min(max(height, VIEWPORT["height"]), MAX_SHOT_HEIGHT)
    page.set_viewport_size({"width": VIEWPORT["width"], "height": tall})
    try:
        page.wait_for_function(f"() => document.querySelector('{main}').clientHeight >= {tall - 2}", timeout=5_000)
        settle(page)
        page.wait_for_timeout(300)  # let plotly finish any resize
        page.screenshot(path=str(path))
    finally:
        page.set_viewport_size(VIEWPORT)
    if path.stat().st_size >= MAX_SHOT_BYTES:  # a long page: 256 colours are plenty for flat UI and charts
        from PIL import Image  # Pillow comes with Streamlit

        with Image.open(path) as im:
            im.convert("RGB").quantize(256).save(path, optimize=True)
    assert path.stat().st_size < MAX_SHOT_BYTES, f"{path.name} is {path.stat().st_size:,} bytes"
    return path


def live_state(page: Page) -> dict:
    return page.evaluate(
        """([stop, progress]) => {
            const plots = [...document.querySelectorAll('.js-plotly-plot')];
            const first = plots.length && plots[0].data && plots[0].data[0];
            return {points: first && first.x ? first.x.length : null,
                    progress: [...document.querySelectorAll(progress)].map(e => e.innerText).join(' '),
                    stop: document.querySelectorAll(stop).length > 0};
        }""", [STOP_BUTTON, PROGRESS])


def open_train(page: Page, server, query: str) -> None:
    """Open the Train page in a fresh session with the form seeded from the link."""
    page.goto(f"{server.url}/train?{query}")
    title_is(page, "train")
    settle(page)
    no_exception(page, "train page")
    notices = page.locator('[data-testid="stAlertContentWarning"]', has_text="could not use")
    assert notices.count() == 0, f"the link {query!r} was not fully accepted: {notices.all_inner_texts()}"


def press_train(page: Page) -> None:
    page.locator('[data-testid="stFormSubmitButton"] button').click()
    try:
        page.wait_for_selector(STOP_BUTTON, timeout=30_000)
    except Exception:  # noqa: BLE001 - say what the page shows instead
        raise AssertionError("no run started 30 s after pressing Train; the page shows:\n"
                             + page.locator('[data-testid="stMain"]').inner_text()[:1500]) from None


def test_every_page_renders_from_the_sidebar(page, server):
    page.goto(server.url)
    title_is(page, "lesson", timeout=90_000)
    for path in PAGES:
        url = f"{server.url}/{'' if path == 'lesson' else path}"  # the default page lives at the root
        link = page.locator(f'a[data-testid="stSidebarNavLink"][href="{url}"]')
        assert link.count() == 1, f"no sidebar link to '{path}'"
        link.click()
        page.wait_for_url(re.compile(rf"{re.escape(url)}/?(\?.*)?$"))
        title_is(page, path)
        settle(page)
        no_exception(page, f"page '{path}'")
        if path == "lesson":
            one(page.get_by_role("button", name=re.compile(r"\bPlay\b")), "no Play button on the Lesson page")
            one(page.locator(".st-key-lesson_step"), "no step slider on the Lesson page")
        if path == "row-order":
            one(page.get_by_role("button", name=re.compile("Train every order")), "no 'Train every order' button")
            one(page.locator(".st-key-readouts .js-plotly-plot"), "no read-out chart on the Row order page")
        if path == "conclusion":  # its picture, with predictions answered, is taken by the Conclusion test
            assert page.locator(CHART).count() == 0, "the Conclusion page shows a chart before any prediction"
            continue
        screenshot(page, path)


# Each text's box in a chart, as drawn: the title and subtitle, the y axis title (its rotated box), the values the
# dots print and the y tick labels.
CHART_BOXES = """(chart) => { const root = document.querySelector(chart);
  const boxes = sel => [...root.querySelectorAll(sel)].map(e => { const r = e.getBoundingClientRect();
                                                                   return [r.left, r.top, r.right, r.bottom]; });
  return {heading: boxes('.gtitle, .gtitle-subtitle'), ytitle: boxes('.ytitle'),
          others: boxes('.ytitle, .textpoint text, .ytick text')}; }"""


def overlap(a: list[float], b: list[float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_row_order_charts_heading_never_meets_its_axis_title_or_values(page, server, lang):
    """The Row order chart's title and subtitle ("± 95% interval") stand clear of its cut axis's title, of the tick
    labels and of the values printed above the dots, in both languages (as drawn by Chromium)."""
    page.goto(f"{server.url}/row-order?lang={lang}")
    settle(page)
    no_exception(page, f"row order ({lang})")
    chart = ".st-key-shipped_bars"
    page.locator(f"{chart} .gtitle-subtitle").wait_for()
    found = page.evaluate(CHART_BOXES, chart)
    assert len(found["heading"]) == 2 and len(found["ytitle"]) == 1, found
    clashes = [(h, o) for h in found["heading"] for o in found["others"] if overlap(h, o)]
    assert not clashes, f"the heading meets the axis title or a value ({lang}): {clashes}"


def lesson_step(page: Page) -> int:
    """The row the Lesson page is showing, read from its explanation ("At step k the LSTM receives row k …")."""
    text = page.get_by_text(re.compile(r"At step \d+ the LSTM")).first.inner_text()
    return int(re.search(r"At step (\d+)", text).group(1))


def test_play_reads_the_digit_row_after_row_to_the_end(page, server):
    page.goto(server.url)
    title_is(page, "lesson")
    settle(page)
    start = lesson_step(page)
    page.get_by_role("button", name=re.compile(r"\bPlay\b")).click()
    page.wait_for_function("() => /At step 28 the LSTM/.test(document.body.innerText)", timeout=60_000)
    assert start < 28
    page.get_by_role("button", name=re.compile(r"\bPlay\b")).wait_for(timeout=10_000)  # back to Play at the end


def test_a_tiny_run_draws_live_curves_then_finishes(page, server):
    open_train(page, server, TINY_RUN)
    page.get_by_text("More settings").click()
    log_every = page.locator(".st-key-form_log_every input")
    log_every.fill(str(TINY_LOG_EVERY))
    log_every.press("Tab")
    assert log_every.input_value() == str(TINY_LOG_EVERY)
    page.get_by_text("More settings").click()  # fold it again: the README picture shows the curves, not this
    log_every.wait_for(state="hidden")  # folded: the Train button below has stopped moving up
    press_train(page)

    seen_points, seen_progress, running = set(), set(), True
    deadline = time.time() + 120
    while time.time() < deadline:
        s = live_state(page)
        running = s["stop"]
        if not running:
            break
        if s["points"]:
            seen_points.add(s["points"])
        if s["progress"]:
            seen_progress.add(s["progress"])
        page.wait_for_timeout(500)
    assert not running, "the tiny run did not finish within 120 s"
    assert len(seen_points) >= 3, (f"the live loss curve was not redrawn as the run trained: point counts seen "
                                   f"{sorted(seen_points)}, progress texts {sorted(seen_progress)}")
    assert any(re.match(r"Epoch \d+/3 · step \d+", p) for p in seen_progress), sorted(seen_progress)

    success = page.locator('[data-testid="stAlertContentSuccess"]', has_text="Test accuracy")
    success.first.wait_for(state="visible", timeout=30_000)
    settle(page)
    no_exception(page, "train page after the run")
    one(page.get_by_role("heading", name="Your runs"), "no 'Your runs' heading")
    table = page.locator('[data-testid="stDataFrame"]')
    table.first.wait_for(state="visible")
    rows = table.first.get_attribute("aria-rowcount") or table.first.locator("[aria-rowcount]").first.get_attribute(
        "aria-rowcount")
    assert rows is not None and int(rows) >= 2, f"the runs table has no data row (aria-rowcount={rows})"
    screenshot(page, "train")
    lines = download_lines(page, re.compile(r"All runs \(\.csv\)"))
    assert lines[0].startswith("run,") and len(lines) >= 2, lines[:2]


def download_lines(page: Page, name: re.Pattern) -> list[str]:
    """The lines of the file a download button gives. Its data is built on the server when it is clicked; a click
    that lands while the page is being redrawn is lost, so a second click follows one that started no download."""
    for attempt in range(2):
        settle(page)
        try:
            with page.expect_download(timeout=30_000) as download:
                page.get_by_role("button", name=name).click()
            return Path(download.value.path()).read_text().splitlines()
        except Exception:  # noqa: BLE001 - Playwright's TimeoutError: try once more, then fail with it
            if attempt:
                raise
    return []


def test_stop_ends_a_long_run(page, server):
    open_train(page, server, LONG_RUN)
    press_train(page)
    page.locator(PROGRESS, has_text=re.compile(r"Epoch 1/30 · step")).first.wait_for(state="visible",
                                                                                     timeout=60_000)
    page.locator(STOP_BUTTON).click()
    warning = page.locator('[data-testid="stAlertContentWarning"]', has_text="Stopped early")
    warning.first.wait_for(state="visible", timeout=10_000)
    settle(page)
    no_exception(page, "train page after Stop")


def test_upload_a_model_and_a_corrupt_one(page, server, tmp_path, tiny):
    """Inspect takes an exported weights + card pair; a truncated weights file gets a message, not a crash."""
    from lib.experiments.evaluate import evaluate
    from lib.storage.checkpoints import make_card, save_checkpoint
    from lib.training.config import TrainConfig, build_model

    cfg = TrainConfig(hidden=12, layers=1)
    model = build_model(cfg)
    card = make_card("tiny-upload", cfg, evaluate(model, tiny), tiny.describe(), {"seconds": 0, "device": "cpu"})
    weights, card_path = save_checkpoint(tmp_path / "tiny-upload", model, card)
    page.goto(f"{server.url}/inspect")
    title_is(page, "inspect")
    settle(page)
    page.get_by_text("Upload a model exported by Row by Row").click()
    inputs = page.locator('[data-testid="stFileUploaderDropzoneInput"]')
    inputs.nth(0).set_input_files(str(weights))
    page.get_by_text(re.compile(r"^tin.*\.safetensors$")).wait_for(timeout=30_000)  # the name is shortened
    settle(page)
    inputs.nth(1).set_input_files(str(card_path))
    page.get_by_text("Loaded. It is selected in the model list above.").wait_for(timeout=30_000)
    settle(page)
    page.get_by_text("LSTM with 1 layer of 12 units").wait_for(timeout=30_000)  # the uploaded model is chosen
    no_exception(page, "inspect after an upload")
    bad = tmp_path / "broken.safetensors"
    bad.write_bytes(weights.read_bytes()[:50])
    inputs.nth(0).set_input_files(str(bad))
    page.get_by_text("This model could not be loaded: the weights file is truncated").wait_for(timeout=30_000)
    no_exception(page, "inspect after a corrupt upload")


def test_language_choice_survives_navigation(page, server):
    """?lang=zh is kept when the student follows the sidebar's page links (which drop the query string)."""
    page.goto(f"{server.url}/?lang=zh")
    page.locator("h1", has_text="逐行读手写数字").first.wait_for(timeout=60_000)
    settle(page)
    page.get_by_role("link", name="训练").click()
    page.locator("h1", has_text="用 MNIST 图像的行训练一个 RNN").first.wait_for(timeout=60_000)
    assert "lang=zh" in page.url
    no_exception(page, "train in Chinese")


def answer(page: Page, key: str, option: int = 0) -> None:
    """Answer one of the Conclusion page's predictions by clicking an option of its radio (the `option`-th), and wait
    for the verdict that replaces "Pick an answer…" right below it (any language) and for the page to settle."""
    page.locator(f'.st-key-{key} [data-testid="stRadioOption"]').nth(option).click()
    page.locator(f'.st-key-{key} + [data-testid="stElementContainer"] [data-testid^="stAlertContent"]').wait_for(
        timeout=60_000)
    settle(page)
    page.wait_for_function("() => !document.querySelector('[data-stale=\"true\"]')", timeout=30_000)


WATCH_SCRIPT = """() => {  // from now on, note when the script last started or stopped running
    const app = document.querySelector('[data-testid="stApp"]');
    window.__scriptChanged = performance.now();
    if (!window.__scriptWatched) {
        window.__scriptWatched = new MutationObserver(() => { window.__scriptChanged = performance.now(); });
        window.__scriptWatched.observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
    }
}"""
QUIET = """(ms) => document.querySelector('[data-testid="stApp"]').dataset.testScriptState === 'notRunning'
    && performance.now() - window.__scriptChanged >= ms"""


def stays_settled(page: Page, where: str, quiet_ms: int = 3_000, timeout: float = 60_000) -> None:
    """Wait until the script has not run for `quiet_ms` on end: a page that keeps rerunning itself never gets there
    (a live fragment polls at most once a second, the sidebar's heartbeat every 10 s)."""
    page.evaluate(WATCH_SCRIPT)
    try:
        page.wait_for_function(QUIET, arg=quiet_ms, timeout=timeout)
    except Exception:  # noqa: BLE001 - say what happened instead of a bare timeout
        raise AssertionError(f"{where}: the page kept running its script for {timeout / 1000:.0f} s, never quiet for "
                             f"{quiet_ms / 1000:.0f} s on end (it reruns itself in a loop)") from None
    settle(page)


def keep_only(page: Page, key: str, label: str) -> None:
    """Narrow multiselect `key` to the one option shown as `label`, with its chips' remove buttons."""
    tags = page.locator(f".st-key-{key} [data-tag]")
    for name in tags.evaluate_all("els => els.map(e => e.getAttribute('aria-label'))"):
        if name != label:
            page.locator(f'.st-key-{key} button[aria-label="Remove {name}"]').click()
            page.locator(f'.st-key-{key} [data-tag][aria-label="{name}"]').wait_for(state="detached")
            page.wait_for_selector(SETTLED)
    assert tags.evaluate_all("els => els.map(e => e.getAttribute('aria-label'))") == [label]


def test_conclusion_shows_each_chart_after_its_prediction_and_trains_a_pair(page, server):
    """Conclusion: no chart before a prediction; a click on an answer shows the verdict and the order chart (whichever
    families are shipped), a second the scaling charts (the README picture); "Train them yourself" narrowed to one
    model and one order trains that run through the queue and draws the student's own chart."""
    page.goto(f"{server.url}/conclusion")
    title_is(page, "conclusion")
    settle(page)
    no_exception(page, "conclusion")
    assert page.locator(CHART).count() == 0, "a chart is shown before any prediction"
    assert page.get_by_text("Pick an answer to see the measurement.").count() == 4

    answer(page, "predict_order")
    verdict = page.locator('.st-key-predict_order + [data-testid="stElementContainer"]').inner_text()
    assert verdict.startswith("You predicted: LSTM."), verdict
    page.locator(f".st-key-conclusion_orders {CHART} .js-plotly-plot").wait_for(timeout=30_000)
    assert page.locator(CHART).count() == 1, "a prediction showed more than its own chart"
    one(page.get_by_text("Test accuracy of each model in each row order."), "no caption under the order chart")

    answer(page, "predict_scaling", option=1)
    for key in ("scaling_train_ms", "scaling_steps_train_ms"):
        page.locator(f".st-key-{key} .js-plotly-plot").wait_for(timeout=30_000)
    assert page.locator(".st-key-conclusion_time").count() == 0  # the third part still waits for its prediction
    no_exception(page, "conclusion with two predictions")
    screenshot(page, "conclusion")

    page.locator('[data-testid="stExpander"] summary', has_text="Train them yourself").click()
    page.locator(".st-key-conclusion_variants").wait_for(state="visible")
    keep_only(page, "conclusion_variants", "LSTM")  # the quickest family to train: one run of ~10-40 s
    keep_only(page, "conclusion_orders_picked", "top → bottom")
    page.get_by_role("button", name=re.compile("Train every pair")).click()
    page.get_by_text(re.compile(r"^(0 of 1 runs finished|Your 1 run has finished)")).wait_for(timeout=60_000)
    mine = page.locator(f".st-key-conclusion_my_orders {CHART} .js-plotly-plot")
    mine.wait_for(state="visible", timeout=240_000)  # the expander stays open through the reruns
    stays_settled(page, "conclusion after its run finished")
    no_exception(page, "conclusion after training a pair")
    one(page.get_by_text("Your 1 run has finished."), "no notice that the run has finished")
    bars = mine.evaluate("el => el.data.map(s => [s.name, s.y])")
    assert bars[0][0] == "top → bottom" and 0.1 < bars[0][1][0] <= 1, bars  # its test accuracy, a share


STREAMLIT_OWN = ("Drag and drop file here", "Browse files", "Running", "Stop", "Language", "English",
                 "Skip to main content")  # docs: README


def english_on_screen(page: Page) -> list[str]:
    """Latin words in what the page shows that are not names which stay (tests/test_i18n.py's rule)."""
    from test_i18n import english_words  # the same rule as the AppTest check

    text = page.evaluate("() => document.querySelector('[data-testid=\"stApp\"]').innerText")
    icons = set(page.evaluate("""() => [...document.querySelectorAll('[data-testid*="Icon"], [data-testid*="icon"]')]
        .map(e => (e.textContent || "").trim())"""))  # icon ligatures, drawn as pictures
    for own in STREAMLIT_OWN:
        text = text.replace(own, " ")
    icon_words = {w for icon in icons for w in re.findall(r"[A-Za-z]+", icon)}
    return sorted(set(english_words(text)) - icon_words - {"csv", "json", "safetensors"})


def draw_a_one(page: Page) -> None:
    """A vertical stroke with the mouse on Inspect's canvas (the component renders in a shadow root, which
    Playwright's CSS locators pierce; the top canvas of its stack takes the pointer)."""
    canvas = page.locator(".st-key-canvas canvas").last
    canvas.wait_for(timeout=60_000)
    box = canvas.bounding_box()
    x, top = box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.2
    page.mouse.move(x, top)
    page.mouse.down()
    for k in range(1, 21):
        page.mouse.move(x, top + k * box["height"] * 0.03)
    page.mouse.up()


def test_chinese_browser_gets_chinese_everywhere_after_a_run(page, server):
    """A browser that prefers Chinese opens the app in Chinese; after a run, Train and Inspect (with a drawn digit)
    show no English."""
    context = page.context.browser.new_context(viewport=VIEWPORT, locale="zh-CN")  # the same browser, zh-CN
    try:
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.goto(f"{server.url}/train?subset=2000&epochs=1&hidden=16&test_subset=500")  # no ?lang=
        page.locator("h1", has_text="用 MNIST 图像的行训练一个 RNN").first.wait_for(timeout=60_000)
        settle(page)
        press_train(page)
        page.wait_for_selector(STOP_BUTTON, state="detached", timeout=120_000)
        page.locator('[data-testid="stAlertContentSuccess"], [data-testid="stAlertContentWarning"]').first.wait_for(
            timeout=60_000)  # a success, or "not learning" with its advice: both must be Chinese
        settle(page)
        no_exception(page, "train page in Chinese after a run")
        assert english_on_screen(page) == []
        page.goto(f"{server.url}/inspect?lang=zh")
        settle(page)
        settle(page)
        no_exception(page, "inspect in Chinese")
        assert english_on_screen(page) == []
        page.goto(f"{server.url}/row-order?lang=zh")  # the read-out section's chart and verdicts, in Chinese too
        settle(page)
        no_exception(page, "row order in Chinese")
        one(page.locator(".st-key-readouts .js-plotly-plot"), "no read-out chart on the Row order page in Chinese")
        assert english_on_screen(page) == []
        page.goto(f"{server.url}/inspect?lang=zh")
        settle(page)
        page.get_by_text("自己绘制").click()  # "Draw your own"
        settle(page)
        draw_a_one(page)
        page.get_by_text("网络看到的：28 × 28 像素").wait_for(timeout=60_000)  # the drawing reached the model
        settle(page)
        no_exception(page, "inspect in Chinese with a drawing")
        assert english_on_screen(page) == []
        screenshot(page, "inspect-zh")
    finally:
        context.close()


def test_a_three_seed_repeat_shows_mean_and_spread(page, server):
    """Row order experiment, each order with 3 seeds: the bars are means with ± spread error bars."""
    # 125 Adam steps: every order, every seed learns enough to be compared (a run that did not learn is left out)
    open_train(page, server, "subset=2000&epochs=2&hidden=16&optimizer=adam&lr=0.01&validation=0")
    press_train(page)
    page.wait_for_selector(STOP_BUTTON, state="detached", timeout=120_000)
    settle(page)
    page.get_by_role("link", name="Row order").click()  # a sidebar link keeps the session (and its last run)
    page.locator("h1", has_text=PAGES["row-order"]).first.wait_for(timeout=60_000)
    settle(page)
    page.get_by_text("My last Train-page run").click()
    settle(page)
    page.locator(".st-key-exp_seeds").get_by_text("3", exact=True).click()
    settle(page)
    page.get_by_role("button", name=re.compile("Train every order")).click()
    page.get_by_role("heading", name="Your results").wait_for(timeout=400_000)
    settle(page)
    no_exception(page, "row order after a 3-seed experiment")
    page.locator(".js-plotly-plot .gtitle-subtitle", has_text="mean ± spread over 3 seeds").first.wait_for(timeout=30_000)
    assert page.get_by_text("Each bar is the mean of 3 runs with different seeds").count() >= 1
