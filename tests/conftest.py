"""Shared fixtures: tiny synthetic digits for unit tests, the real MNIST (via MNIST_ROOT) for integration tests."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lib.data import MnistData, load_idx_folder  # noqa: E402


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


@pytest.fixture(scope="session")
def mnist() -> MnistData:
    """The real MNIST from $MNIST_ROOT. Skipped locally without it; in CI (CI set) its absence fails."""
    root = os.environ.get("MNIST_ROOT")
    if not root or not (Path(root) / "MNIST" / "raw").is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"MNIST_ROOT={root!r} holds no MNIST/raw: integration tests must run in CI")
        pytest.skip("set MNIST_ROOT to run integration tests on the real MNIST")
    return load_idx_folder(Path(root))
