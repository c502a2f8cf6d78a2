"""Server memory for one visitor: start the app, open every page once in Chromium, report the server's RSS.

Run: MNIST_ROOT=... python -m bench.memory
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import psutil
from playwright.sync_api import sync_playwright

from bench.server import CHROMIUM, CHROMIUM_ARGS, SETTLED, start

PAGES = ["lesson", "train", "row-order", "inspect"]


def rss_mb(pid: int) -> float:
    proc = psutil.Process(pid)
    return (proc.memory_info().rss + sum(c.memory_info().rss for c in proc.children(True))) / 2**20


def main() -> None:
    server = start(Path(tempfile.mkdtemp(prefix="rowbyrow-memory-")))
    result = {"started_mb": rss_mb(server.proc.pid)}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            for name in PAGES:
                page.goto(f"{server.url}/{name}")
                page.wait_for_selector("h1", timeout=120_000)
                page.wait_for_selector(SETTLED, timeout=120_000)
                result[f"after_{name}_mb"] = rss_mb(server.proc.pid)
            browser.close()
    finally:
        server.stop()
    print(json.dumps({k: round(v) for k, v in result.items()}, indent=1))


if __name__ == "__main__":
    main()
