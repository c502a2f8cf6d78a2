"""MNIST as uint8 tensors in memory, from the best source available, with batching by index."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from lib import ROOT
from lib.data.idx import read_idx
from lib.data.sample import FOLDER as SAMPLE_FOLDER
from lib.data.sample import check_sample
from lib.messages import Problem, msg

MEAN, STD = 0.1307, 0.3081  # the classic MNIST pixel statistics (of x / 255)
SIDE = 28  # an MNIST digit is 28 x 28 pixels
CACHE_DIR = ROOT / "data"  # git-ignored local cache
FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
SOURCES = ("mnist", "sample")  # the full official MNIST, or the sample shipped in mnist-sample/


class DataUnavailable(Problem):
    """MNIST could not be loaded: an explicit MNIST_ROOT that is unusable, or no source at all."""


@dataclass(frozen=True)
class MnistData:
    """Train and test digits as uint8 (N, 28, 28) tensors with int64 labels, and where they came from."""

    train_x: torch.Tensor  # (N, 28, 28) uint8
    train_y: torch.Tensor  # (N,) int64
    test_x: torch.Tensor  # (M, 28, 28) uint8
    test_y: torch.Tensor  # (M,) int64
    source: str  # "mnist" (the official files) or "sample" (mnist-sample/: official test set + a training slice)
    origin: str  # the folder the digits were read from

    @property
    def total(self) -> int:
        return len(self.train_y) + len(self.test_y)

    @property
    def full(self) -> bool:
        """All 60,000 + 10,000 official digits (training the shipped models needs them)."""
        return self.source == "mnist"

    def to(self, device: torch.device | str) -> "MnistData":
        """The same digits on `device` (a no-op copy-free view when already there)."""
        return replace(self, train_x=self.train_x.to(device), train_y=self.train_y.to(device),
                       test_x=self.test_x.to(device), test_y=self.test_y.to(device))

    def describe(self) -> dict:
        """Plain facts for cards and the UI: which source, from where, how many digits in each split."""
        return {"source": self.source, "origin": self.origin, "n_train": len(self.train_y),
                "n_test": len(self.test_y)}


def normalize(x: torch.Tensor) -> torch.Tensor:
    """uint8 pixels (B, 28, 28) -> normalised float32 (B, 28, 28), done per batch on the batch's device."""
    return (x.float() / 255.0 - MEAN) / STD


def _find(raw_dir: Path, name: str) -> Path:
    for candidate in (raw_dir / name, raw_dir / f"{name}.gz"):
        if candidate.exists():
            return candidate
    raise FileNotFoundError(raw_dir / name)


def _split(raw_dir: Path, split: str) -> tuple[torch.Tensor, torch.Tensor]:
    """One split's (N, 28, 28) uint8 images and (N,) int64 labels, checked to fit together."""
    try:
        images, labels = (_find(raw_dir, name) for name in FILES[split])
    except FileNotFoundError:
        raise Problem(msg("data.missing_files", split=split, folder=str(raw_dir))) from None
    x, y = read_idx(images), read_idx(labels)
    if x.ndim != 3 or x.shape[1:] != (SIDE, SIDE):
        raise Problem(msg("data.bad_shape", path=str(images)))
    if y.ndim != 1 or len(x) != len(y):
        raise Problem(msg("data.counts_differ", split=split, images=len(x), labels=y.size))
    if len(y) == 0:  # nothing to train on or to score: every page would divide by zero
        raise Problem(msg("data.empty", path=str(labels)))
    if y.max() > 9:
        raise Problem(msg("data.bad_labels", path=str(labels)))
    return torch.from_numpy(x.copy()), torch.from_numpy(y.astype(np.int64))


def load_idx_folder(root: Path, source: str = "mnist") -> MnistData:
    """Load MNIST from a torchvision-layout folder (`root/MNIST/raw/*-ubyte[.gz]`)."""
    raw_dir = Path(root) / "MNIST" / "raw"
    (trx, try_), (tex, tey) = _split(raw_dir, "train"), _split(raw_dir, "test")
    return MnistData(trx, try_, tex, tey, source, str(root))


def download_mnist(cache_dir: Path) -> MnistData:
    """Download the official files with torchvision into `cache_dir` (needs the internet)."""
    from torchvision.datasets import MNIST

    for train in (True, False):
        MNIST(str(cache_dir), train=train, download=True)
    return load_idx_folder(cache_dir)


def load_sample(folder: Path = SAMPLE_FOLDER) -> MnistData:
    """The shipped sample: the 10,000 official test digits and 1,000 training digits per class, checksums checked."""
    damaged = check_sample(folder)
    if damaged:
        raise Problem(msg("data.sample_damaged", files=", ".join(damaged)))
    return load_idx_folder(folder, source="sample")


def load_mnist(root: str | Path | None = None, cache_dir: Path = CACHE_DIR) -> MnistData:
    """MNIST from `root` or $MNIST_ROOT; when neither is given, the cache, else a download, else the shipped sample.

    A folder that was asked for and cannot be used is an error that names the problem, never a silent fallback.
    """
    root = root or os.environ.get("MNIST_ROOT")
    if root:
        try:
            return load_idx_folder(Path(root))
        except (OSError, Problem) as exc:
            raise DataUnavailable(msg("data.root_unusable", root=str(root), problem=_reason(exc))) from None
    tried = []
    try:
        return load_idx_folder(cache_dir)
    except (OSError, Problem) as exc:
        tried.append(f"cache {cache_dir}: {exc}")
    if os.environ.get("ROW_BY_ROW_OFFLINE", "") not in ("1", "true"):
        try:
            return download_mnist(cache_dir)
        except Exception as exc:  # noqa: BLE001 - any network or disk failure means "try the next source"
            tried.append(f"download: {type(exc).__name__}: {exc}")
    try:
        return load_sample()
    except (OSError, ValueError) as exc:
        tried.append(f"sample {SAMPLE_FOLDER}: {exc}")
    raise DataUnavailable(msg("data.nothing", tried="; ".join(tried)))


def _reason(exc: Exception):
    """What went wrong with a file, as a Message when lib described it, else the OS's own words."""
    if isinstance(exc, Problem):
        return exc.messages[0]
    return f"{exc.strerror or type(exc).__name__}: {exc.filename}" if isinstance(exc, OSError) else str(exc)


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
