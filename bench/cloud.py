"""Community Cloud rehearsal: the app started the way Community Cloud starts it, inside Cloud's memory limit.

Run: python -m bench.cloud [--python VENV/bin/python] [--data offline|mnist] [--sessions 30] [--out FILE]

Community Cloud clones the GitHub repository, installs requirements.txt into a fresh environment and runs
`streamlit run streamlit_app.py` in a container with at most 2.7 GB of memory and 2 cores (its documented limits,
February 2024). This script does the same on this machine:
- clones HEAD into a temporary folder: only committed files, so no data/ cache, no local config;
- runs it with `--python` (e.g. a venv made from requirements.txt alone), with HOME set to an empty folder and
  neither MNIST_ROOT nor any ROW_BY_ROW_* / STREAMLIT_* setting: the app must download MNIST or fall back to the
  offline sample (`--data mnist` gives it MNIST_ROOT instead: the state after a successful download);
- puts the server in its own memory cgroup capped at --limit-gb (cgroup v1, needs root; without it the run is
  uncapped and says so), so going over the limit kills it as Cloud's container would;
- one visitor opens every page and trains the default preset, then a class of --sessions tabs trains at once
  (bench/load.py); reports the data the app used, start and page times, every job, errors and peak memory.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import sync_playwright

from bench import load
from bench.server import CHROMIUM, CHROMIUM_ARGS, ROOT, start

GB = 10**9
CGROUP_V1 = Path("/sys/fs/cgroup/memory")
PAGES = ["row-order", "inspect", "train"]  # after the Lesson, which is the root


class MemoryCap:
    """A cgroup-v1 memory cgroup with a hard limit; the server joins it before it execs."""

    def __init__(self, limit_bytes: int):
        self.path = CGROUP_V1 / f"rowbyrow-cloud-{os.getpid()}"
        self.path.mkdir()
        (self.path / "memory.limit_in_bytes").write_text(str(limit_bytes))
        self.limit = int((self.path / "memory.limit_in_bytes").read_text())

    @classmethod
    def make(cls, limit_bytes: int) -> "MemoryCap | None":
        """The cap, or None where this machine does not let us make one (no v1 memory controller, not root)."""
        try:
            return cls(limit_bytes)
        except OSError as exc:
            print(f"no memory cgroup ({exc}); the server runs uncapped", file=sys.stderr)
            return None

    def join(self) -> None:
        """Move the calling process into the cgroup (used as the server's preexec_fn)."""
        (self.path / "cgroup.procs").write_text(str(os.getpid()))

    def read(self, name: str) -> int:
        return int((self.path / name).read_text())

    def working_set(self) -> int:
        """Usage less inactive page cache: what Kubernetes (and so most container hosts) counts against a limit."""
        stat = dict(line.split() for line in (self.path / "memory.stat").read_text().splitlines())
        return max(self.read("memory.usage_in_bytes") - int(stat["total_inactive_file"]), 0)

    def stats(self) -> dict:
        """Usage now and at the peak (page cache included), the working set, anonymous memory, and limit hits."""
        stat = dict(line.split() for line in (self.path / "memory.stat").read_text().splitlines())
        oom = dict(line.split() for line in (self.path / "memory.oom_control").read_text().splitlines())
        return {"cgroup_limit_mb": self.limit / 2**20, "cgroup_peak_mb": self.read("memory.max_usage_in_bytes") / 2**20,
                "cgroup_now_mb": self.read("memory.usage_in_bytes") / 2**20,
                "working_set_now_mb": self.working_set() / 2**20, "anon_rss_now_mb": int(stat["total_rss"]) / 2**20,
                "limit_hits": self.read("memory.failcnt"), "oom_kills": int(oom.get("oom_kill", 0))}

    def remove(self) -> None:
        try:
            self.path.rmdir()
        except OSError as exc:
            print(f"could not remove {self.path}: {exc}", file=sys.stderr)


def clone_head(into: Path) -> Path:
    """A clean checkout of HEAD (what Cloud gets from GitHub); warns when the work tree has uncommitted changes."""
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                           capture_output=True, text=True).stdout.strip()
    if dirty:
        print("note: uncommitted changes are not part of the rehearsal:\n" + dirty, file=sys.stderr)
    app = into / "app"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(app)], check=True)
    return app


def environment(data: str, home: Path) -> tuple[dict, tuple]:
    """(variables to set, variables to drop) for a server that knows nothing of this machine's setup."""
    drop = tuple(k for k in os.environ if k.startswith(("ROW_BY_ROW_", "STREAMLIT_")))
    extra = {"HOME": str(home), "ROW_BY_ROW_TIMING": "1"}
    if data == "mnist":
        extra["MNIST_ROOT"] = str(Path(os.environ["MNIST_ROOT"]).resolve())
    else:
        drop += ("MNIST_ROOT",)
    return extra, drop


def versions(python: str) -> dict:
    """What the app will run on, the size of its environment, and the folders its code is read from."""
    out = subprocess.run([python, "-c", "import sys, torch, streamlit; print(sys.version.split()[0], torch.__version__,"
                          " streamlit.__version__, sys.prefix, sys.base_prefix)"],
                         capture_output=True, text=True, check=True).stdout.split()
    size = sum(f.stat().st_size for f in Path(out[3]).rglob("*") if f.is_file() and not f.is_symlink())
    return {"python": out[0], "torch": out[1], "streamlit": out[2], "environment_gb": size / GB, "prefixes": out[3:]}


def evict_from_page_cache(folders: list) -> int:
    """Drop the cached pages of every file under `folders`, so the server's own reads are charged to its cgroup.

    A container starts with a cold cache; here pip, git and earlier runs have left these files cached and charged
    to another cgroup, which would hide the libraries' memory from the cap. Returns the number of files.
    """
    count = 0
    for folder in folders:
        for path in Path(folder).rglob("*"):
            try:
                if path.is_file() and not path.is_symlink():
                    fd = os.open(path, os.O_RDONLY)
                    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                    os.close(fd)
                    count += 1
            except OSError:
                continue
    return count


def visit(page, url: str) -> float:
    """Seconds until `url` has rendered and the app's script has finished."""
    t0 = time.perf_counter()
    page.goto(url, wait_until="commit", timeout=300_000)
    page.wait_for_selector("h1", timeout=300_000)
    load.settle(page, timeout=300_000)
    return time.perf_counter() - t0


def shown(page, text: str, timeout_ms: int = 30_000) -> bool:
    """Whether `text` appears on the page within the timeout (a fragment may draw after the run settles)."""
    try:
        page.get_by_text(text).first.wait_for(timeout=timeout_ms)
        return True
    except PlaywrightTimeout:
        return False


def tour(server, launched: float, errors: list, shots: Path) -> dict:
    """One visitor: Lesson (first page after start), the other pages, then the Train page's default run."""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        load.watch(page, "visitor", errors)
        out = {"lesson_render_s": visit(page, server.url)}
        out["first_page_after_launch_s"] = time.perf_counter() - launched
        sidebar_caption = page.locator('[data-testid="stSidebar"] [data-testid="stCaptionContainer"]')
        out["data_line"] = sidebar_caption.first.inner_text()
        out["lesson_model_guess_shown"] = shown(page, "Best guess so far")
        page.screenshot(path=str(shots / "lesson.png"), full_page=True)
        for name in PAGES:
            out[f"{name}_render_s"] = visit(page, f"{server.url}/{name}")
            page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
        out["shipped_models_missing"] = page.get_by_text("shipped lstm-* models are missing").count() > 0
        out.update(default_run(page))
        out["exceptions_on_page"] = page.locator('[data-testid="stException"]').count()
        browser.close()
    return out


def default_run(page) -> dict:
    """Press Train with the default preset on the Train page; seconds until its result shows, and the result."""
    t0 = time.perf_counter()
    page.locator(load.TRAIN).click()
    while load.state_of(page) != "done" and time.perf_counter() - t0 < 600:
        time.sleep(0.5)
    result = page.get_by_text("Test accuracy", exact=False).first
    return {"default_run_s": time.perf_counter() - t0, "default_run_result": result.inner_text()}


def rehearse(args) -> dict:
    """Clone, cap, start, tour, class; always stops the server and removes the cgroup."""
    work = Path(tempfile.mkdtemp(prefix="rowbyrow-cloud-"))
    app, home = clone_head(work), work / "home"
    home.mkdir()
    extra, drop = environment(args.data, home)
    cap = MemoryCap.make(int(args.limit_gb * GB))
    result = {"data": args.data, "sessions": args.sessions, **versions(args.python)}
    result["files_evicted_from_cache"] = evict_from_page_cache([*set(result.pop("prefixes")), app])
    launched = time.perf_counter()
    server = start(work, wait_s=300, extra_env=extra, app_dir=app, python=args.python, drop_env=drop,
                   preexec_fn=cap.join if cap else None)
    result["healthy_after_s"] = time.perf_counter() - launched
    samplers = {"rss_peak_mb": load.PeakMemory(server.proc.pid)}
    if cap:
        samplers["working_set_peak_mb"] = load.Sampler(cap.working_set)
    for sampler in samplers.values():
        sampler.start()
    try:
        errors = []
        result.update(tour(server, launched, errors, work))
        result["screenshots"] = str(work)
        result["after_tour"] = cap.stats() if cap else None
        result["class"] = load.measure(server, args.sessions) if args.sessions else None
        result["tour_errors"] = errors
    finally:
        for sampler in samplers.values():
            sampler.running = False
        result["server_alive_at_end"] = server.proc.poll() is None
        result["memory"] = (cap.stats() if cap else {}) | {k: v.peak / 2**20 for k, v in samplers.items()}
        server.stop()
        if cap:
            cap.remove()
    return result


def table(results: list[dict]) -> str:
    """The docs' table: one column per recorded rehearsal (docs/cloud-rehearsal-*.json)."""
    def row(label, fmt):
        return f"| {label} | " + " | ".join(fmt(r) for r in results) + " |"
    mem, cls = (lambda r: r["memory"]), (lambda r: r["class"])
    rows = [
        row("installed environment (the venv)", lambda r: f"{r['environment_gb']:.1f} GB"),
        row("data the app found", lambda r: r["data_line"].split("(")[0].removeprefix("Data: ").strip()),
        row("first page after launch (cold start)", lambda r: f"{r['first_page_after_launch_s']:.1f} s"),
        row("Lesson shows the shipped model's guess", lambda r: "yes" if r["lesson_model_guess_shown"] else "**no**"),
        row("in the browser: Row order · Inspect · Train page",
            lambda r: " · ".join(f"{r[f'{p}_render_s']:.1f} s" for p in PAGES)),
        row("default Train run", lambda r: r["default_run_result"].removesuffix(".")),
        row("class: jobs finished · errors", lambda r: f"**{cls(r)['jobs_finished']} / {cls(r)['sessions']}** · "
            f"**{cls(r)['errors'] + len(r['tour_errors']) + r['exceptions_on_page']}**"),
        row("server page runs: median / p95 · the cold first · worst of the rest",
            lambda r: f"{cls(r)['server_render_s_median']:.2f} s / {cls(r)['server_render_s_p95']:.2f} s · "
            f"{cls(r)['server_render_s_first']:.1f} s · {cls(r)['server_render_s_worst_after_first']:.2f} s"),
        row("memory after the tour: working set · with page cache",
            lambda r: f"{r['after_tour']['working_set_now_mb']:.0f} MiB · {r['after_tour']['cgroup_now_mb']:.0f} MiB"),
        row("memory peak with the class: working set · with page cache",
            lambda r: f"**{mem(r)['working_set_peak_mb']:.0f} MiB** · {mem(r)['cgroup_peak_mb']:.0f} MiB"),
        row("cap · times it was hit · OOM kills · server alive at the end",
            lambda r: f"{mem(r)['cgroup_limit_mb']:.0f} MiB · {mem(r)['limit_hits']} · {mem(r)['oom_kills']} · "
            + ("yes" if r["server_alive_at_end"] else "**no**")),
    ]
    return "\n".join(["| | " + " | ".join(f"torch `{r['torch']}`" for r in results) + " |",
                      "|---|" + "---|" * len(results), *rows])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--python", default=sys.executable, help="the Python that runs the app (a fresh venv's)")
    ap.add_argument("--data", choices=["offline", "mnist"], default="offline",
                    help="offline: no MNIST_ROOT (download, else the offline sample); mnist: MNIST_ROOT is set")
    ap.add_argument("--limit-gb", type=float, default=2.7, help="memory cap (Community Cloud: 2.7 GB)")
    ap.add_argument("--sessions", type=int, default=30, help="a class of this many tabs after the tour (0: none)")
    ap.add_argument("--out", help="also write the result as JSON here")
    ap.add_argument("--table", nargs="+", metavar="JSON", help="print the docs' table of recorded results and exit")
    args = ap.parse_args()
    if args.data == "mnist" and not os.environ.get("MNIST_ROOT"):
        ap.error("--data mnist needs MNIST_ROOT set to the MNIST folder")
    if args.table:
        print(table([json.loads(Path(f).read_text()) for f in args.table]))
        return
    result = rehearse(args)
    print(json.dumps(result, indent=1))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
