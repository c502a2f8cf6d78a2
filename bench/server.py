"""Start and stop the real Streamlit app on a free loopback port (browser test, load benchmark)."""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PORTS = range(8700, 8800)  # the range this project's tests may use
CHROMIUM = "/usr/bin/chromium"  # Debian's chromium; never `playwright install`
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
SETTLED = '[data-testid="stApp"][data-test-script-state="notRunning"]'  # Streamlit finished its script run


def unboosted_chromium(folder: Path) -> str:
    """A Chromium launcher that cannot raise its own CPU priority (no CAP_SYS_NICE), or plain Chromium.

    Run as root, Chromium puts some of its processes at nice -8, ahead of the server; in a classroom each student's
    browser runs on their own machine, so the load benchmarks can keep the 30 tabs at the server's own priority.
    """
    if not shutil.which("setpriv"):
        return CHROMIUM
    launcher = Path(folder) / "chromium-unboosted"
    launcher.write_text(f'#!/bin/sh\nexec setpriv --bounding-set -sys_nice --inh-caps -sys_nice {CHROMIUM} "$@"\n')
    launcher.chmod(0o755)
    return str(launcher)


def free_port(ports=PORTS) -> int:
    """A port in `ports` that nothing listens on (tried from a random start, so parallel runs rarely collide)."""
    candidates = list(ports)
    start = random.randrange(len(candidates))
    for port in candidates[start:] + candidates[:start]:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {ports.start}-{ports.stop - 1}")


@dataclass
class Server:
    """A running `streamlit run streamlit_app.py`; its output goes to two log files."""

    proc: subprocess.Popen
    port: int
    stdout_path: Path
    stderr_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def logs(self) -> tuple[str, str]:
        return (self.stdout_path.read_text(errors="replace"), self.stderr_path.read_text(errors="replace"))

    def stop(self, timeout: float = 10.0) -> None:
        """Terminate the server (and kill it if it does not exit in `timeout` seconds)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout)


def start(log_dir: Path | None = None, wait_s: float = 60.0, extra_env: dict | None = None, app_dir: Path = ROOT,
          python: str = sys.executable, drop_env: tuple = (), preexec_fn=None) -> Server:
    """Launch the app in `app_dir` (inheriting the environment, e.g. MNIST_ROOT) and wait until it is healthy."""
    log_dir = Path(log_dir or tempfile.mkdtemp(prefix="rowbyrow-browser-"))
    port = free_port()
    out, err = log_dir / "server.stdout.log", log_dir / "server.stderr.log"
    cmd = [python, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(port),
           "--server.headless", "true", "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"]
    env = {k: v for k, v in os.environ.items() if k not in drop_env} | (extra_env or {})
    with open(out, "wb") as o, open(err, "wb") as e:
        proc = subprocess.Popen(cmd, cwd=app_dir, env=env, stdout=o, stderr=e, preexec_fn=preexec_fn)
    server = Server(proc, port, out, err)
    deadline = time.time() + wait_s
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {proc.returncode}:\n" + "\n".join(server.logs()))
        try:
            with urllib.request.urlopen(f"{server.url}/_stcore/health", timeout=2) as r:
                if r.read().decode().strip() == "ok":
                    return server
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        time.sleep(0.3)
    server.stop()
    raise RuntimeError(f"streamlit did not answer /_stcore/health within {wait_s:.0f} s:\n" + "\n".join(server.logs()))
