"""Shared fixtures: tiny synthetic digits for unit tests, the real MNIST (via MNIST_ROOT) for integration tests."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lib.data.mnist import MnistData, load_idx_folder, load_sample  # noqa: E402


def _scan_installed_components_once() -> None:
    """Every AppTest scans the metadata of all installed packages for Streamlit components (~0.9 s each here, some
    hundred AppTests); the packages do not change during a test session, so the first scan is kept."""
    from functools import cache

    from streamlit.components.v2 import manifest_scanner  # the component manager imports the scanner when it runs

    scan = manifest_scanner.scan_component_manifests
    if not hasattr(scan, "cache_info"):
        manifest_scanner.scan_component_manifests = cache(scan)


_scan_installed_components_once()


def wait_for(predicate, timeout: float = 30.0) -> bool:
    """Poll `predicate` every 20 ms until it holds (True), or fail the test after `timeout` seconds."""
    end = time.time() + timeout
    while time.time() < end:
        if predicate():
            return True
        time.sleep(0.02)
    raise AssertionError("timed out")


def synthetic(n_train: int = 200, n_test: int = 100, seed: int = 0) -> MnistData:
    """Random uint8 'digits' whose label is written into the brightness of one row: learnable, not MNIST."""
    gen = torch.Generator().manual_seed(seed)

    def make(n):
        y = torch.arange(n) % 10
        x = torch.randint(0, 60, (n, 28, 28), generator=gen, dtype=torch.uint8)
        x[torch.arange(n), 3 + 2 * y] = 255  # the class is the row that is lit
        return x, y

    (trx, try_), (tex, tey) = make(n_train), make(n_test)
    return MnistData(trx, try_, tex, tey, "synthetic", "tests")


@pytest.fixture(scope="session")
def tiny() -> MnistData:
    return synthetic()


def _full_or_none() -> MnistData | None:
    root = os.environ.get("MNIST_ROOT")
    if root and (Path(root) / "MNIST" / "raw").is_dir():
        return load_idx_folder(Path(root))
    if os.environ.get("CI"):
        pytest.fail(f"MNIST_ROOT={root!r} holds no MNIST/raw: integration tests on the full set must run in CI")
    return None


if not os.environ.get("MNIST_ROOT"):  # a fresh clone: the app falls back to the shipped sample, without a download
    os.environ.setdefault("ROW_BY_ROW_OFFLINE", "1")


@pytest.fixture(scope="session")
def full_mnist() -> MnistData:
    """All 70,000 official digits from $MNIST_ROOT, for the tests that need them. Skipped locally without it; in CI
    (CI set) its absence fails."""
    data = _full_or_none()
    if data is None:
        pytest.skip("set MNIST_ROOT to run the tests that need all 60,000 training digits")
    return data


@pytest.fixture(scope="session")
def mnist() -> MnistData:
    """Real MNIST digits: the full set from $MNIST_ROOT when it is set (CI), else the sample shipped in the repo (the
    official 10,000 test digits and 10,000 training digits), so a fresh clone runs every page test with no download."""
    return _full_or_none() or load_sample()


@pytest.fixture()
def one_thread():
    """Torch on one thread for the test, restored after: the linear probes' and gradients' thousands of tiny
    operations each wait for a second thread on a busy 2-core machine (measured 30× slower there with two)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


CLASS_KEY = "correct horse battery staple"  # the server's teacher key in the Class page's AppTests


@pytest.fixture()
def db_url(tmp_path, monkeypatch):
    """A class database of the test's own (a SQLite file) and the server key CLASS_KEY, as the app reads them."""
    url = f"sqlite:///{tmp_path / 'class.sqlite3'}"
    monkeypatch.setenv("ROW_BY_ROW_DB", url)
    monkeypatch.setenv("ROW_BY_ROW_TEACHER_KEY", CLASS_KEY)
    return url
