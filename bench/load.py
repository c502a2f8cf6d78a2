"""A class at once: N browser sessions against a local server, each starting a small training job.

Run: MNIST_ROOT=... python -m bench.load [--sessions 30] [--out docs/load.json]
Reports page render times, queue waits, job completion, errors and the server's peak memory.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
from playwright.sync_api import sync_playwright

from bench.server import CHROMIUM, CHROMIUM_ARGS, SETTLED, start, unboosted_chromium

TABS_PER_BROWSER = 10
TRAIN = '[data-testid="stFormSubmitButton"] button'  # the Train page's form button
JOB = "subset=1000&epochs=1&hidden=32&layers=1&test_subset=500&log_every=5&optimizer=adam&lr=0.005"


class Sampler(threading.Thread):
    """The peak of `measure()` (bytes), sampled every 0.2 s until `running` is cleared."""

    def __init__(self, measure):
        super().__init__(daemon=True)
        self.measure, self.peak, self.running = measure, 0, True

    def run(self):
        while self.running:
            try:
                self.peak = max(self.peak, self.measure())
            except (psutil.Error, OSError, ValueError, KeyError):
                pass
            time.sleep(0.2)


def PeakMemory(pid: int) -> Sampler:  # noqa: N802 - reads like the class it builds
    """A sampler of the resident memory of a process and its children."""
    proc = psutil.Process(pid)
    return Sampler(lambda: proc.memory_info().rss + sum(c.memory_info().rss for c in proc.children(True)))


def settle(page, timeout=120_000) -> float:
    """Seconds until the app's script has finished running on `page`."""
    t0 = time.perf_counter()
    page.wait_for_selector(SETTLED, timeout=timeout)
    return time.perf_counter() - t0


KNOWN_NOISE = ("/_stcore/health", "/_stcore/host-config")  # Streamlit probes these under a deep link's path


def watch(page, name: str, errors: list) -> None:
    """Record console errors and failed requests (except Streamlit's own deep-link probes) as errors."""
    page.on("console", lambda m: errors.append(f"{name}: {m.text}") if m.type == "error"
            and not m.text.startswith("Failed to load resource") else None)
    page.on("response", lambda r: errors.append(f"{name}: HTTP {r.status} {r.url}") if r.status >= 400
            and not r.url.endswith(KNOWN_NOISE) else None)
    page.on("pageerror", lambda exc: errors.append(f"{name}: {exc}"))


def open_sessions(browsers: list, url: str, n: int, errors: list) -> tuple[list, list[float]]:
    """Open n tabs (n sessions) on the Train page with the small job's settings; return pages, render times."""
    pages, renders = [], []
    for i in range(n):
        page = browsers[i % len(browsers)].new_page(viewport={"width": 1200, "height": 900})
        watch(page, f"tab {i}", errors)
        t0 = time.perf_counter()
        page.goto(f"{url}/train?{JOB}&seed={i}", wait_until="commit", timeout=180_000)
        page.locator(TRAIN).wait_for(timeout=180_000)
        settle(page)
        renders.append(time.perf_counter() - t0)
        pages.append(page)
    return pages, renders


def state_of(page) -> str:
    """Where this tab's run is, read from what the Train page shows."""
    if page.get_by_text("Test accuracy", exact=False).locator("xpath=ancestor::*[@data-testid='stAlert']").count():
        return "done"
    if page.get_by_text("Waiting for a free slot").count():
        return "queued"
    return "running" if page.locator('[data-testid="stProgress"]').count() else "submitted"


def run(sessions: int, same_priority: bool = False) -> dict:
    """Start the app on loopback, put a class of `sessions` tabs on it, and report."""
    server = start(Path(tempfile.mkdtemp(prefix="rowbyrow-load-")), extra_env={"ROW_BY_ROW_TIMING": "1"})
    try:
        return measure(server, sessions, same_priority)
    finally:
        server.stop()


def measure(server, sessions: int, same_priority: bool = False) -> dict:
    """The class on a running server (started with ROW_BY_ROW_TIMING=1): renders, waits, jobs, errors, memory."""
    errors = []
    chromium = unboosted_chromium(server.stdout_path.parent) if same_priority else CHROMIUM
    result = _drive(server, sessions, errors, chromium)
    result["browsers"] = "nice 0, like the server" if same_priority else "priority as Chromium sets it"
    result["errors"] += sum(text.count("Traceback") for text in server.logs())
    return result | page_runs(server)


def page_runs(server) -> dict:
    """Server-side seconds per full page run, from the `page-run <page> <s>` lines the app logs."""
    runs = [float(x) for x in re.findall(r"page-run \S+ (\d+\.\d{3})", server.logs()[1])]  # lines may interleave
    return {"server_page_runs": len(runs), "server_render_s_median": statistics.median(runs),
            "server_render_s_p95": sorted(runs)[int(0.95 * (len(runs) - 1))], "server_render_s_worst": max(runs),
            "server_render_s_first": runs[0],  # cold: the server imports torch, loads the data and the models
            "server_render_s_worst_after_first": max(runs[1:], default=None),
            "server_runs_over_2s": sum(r > 2.0 for r in runs)}


def _drive(server, sessions: int, errors: list, chromium: str = CHROMIUM) -> dict:
    with sync_playwright() as p:
        memory = PeakMemory(server.proc.pid)
        memory.start()
        # Chromium opens at most ~30 WebSockets per host, so the class is spread over several browsers,
        # like students on their own machines; one more browser makes the fresh visits during the run.
        browsers = [p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
                    for _ in range(-(-sessions // TABS_PER_BROWSER) + 1)]
        browser = browsers[-1]
        pages, renders = open_sessions(browsers[:-1], server.url, sessions, errors)
        clicked = {}
        for i, page in enumerate(pages):
            page.locator(TRAIN).click()
            clicked[i] = time.perf_counter()
        started, finished, busy_renders, polls = {}, {}, [], 0
        deadline = time.perf_counter() + 60 * 20
        while len(finished) < sessions and time.perf_counter() < deadline:
            for i, page in enumerate(pages):
                if i in finished:
                    continue
                s = state_of(page)
                if s in ("running", "done") and i not in started:
                    started[i] = time.perf_counter()
                if s == "done":
                    finished[i] = time.perf_counter()
            states = [state_of(pg) for pg in pages]
            print(f"{time.perf_counter() - min(clicked.values()):6.1f} s: " +
                  ", ".join(f"{k} {states.count(k)}" for k in sorted(set(states))), file=sys.stderr, flush=True)
            if polls % 8 == 2 and len(finished) < sessions:  # now and then, while jobs queue: a fresh visit
                busy_renders.append(lesson_render(browser, server.url, errors))
            polls += 1
            time.sleep(0.5)
        memory.running = False
        exceptions = sum(len(pg.query_selector_all('[data-testid="stException"]')) for pg in pages)
        for b in browsers:
            b.close()
    waits = [started[i] - clicked[i] for i in started]
    return {"sessions": sessions, "job": JOB, "render_s_median": statistics.median(renders),
            "render_s_worst": max(renders),
            "busy_render_s_median": statistics.median(busy_renders) if busy_renders else None,
            "busy_render_s_worst": max(busy_renders, default=None), "queue_wait_s_median": statistics.median(waits),
            "queue_wait_s_worst": max(waits), "jobs_finished": len(finished),
            "all_done_s": max(finished.values()) - min(clicked.values()) if finished else None,
            "errors": len(errors) + exceptions, "error_samples": errors[:5],
            "server_peak_mb": memory.peak / 2**20}


def lesson_render(browser, url: str, errors: list) -> float:
    """Seconds to render the Lesson page in a new tab while the class's jobs run."""
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    watch(page, "lesson visit", errors)
    t0 = time.perf_counter()
    page.goto(url, wait_until="commit", timeout=180_000)
    page.wait_for_selector("h1", timeout=180_000)
    settle(page)
    seconds = time.perf_counter() - t0
    page.close()
    return seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sessions", type=int, default=30)
    ap.add_argument("--out", help="also write the result as JSON here")
    ap.add_argument("--same-priority", action="store_true",
                    help="keep Chromium from raising its CPU priority above the server's (it does so as root)")
    args = ap.parse_args()
    result = run(args.sessions, args.same_priority)
    print(json.dumps(result, indent=1))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
