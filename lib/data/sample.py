"""The MNIST sample shipped in the repository: all 10,000 official test digits and a class-balanced training slice.

Offline (no MNIST_ROOT, no cache, no download) the app trains on the slice and tests on the real test set, so a
shipped model's offline test accuracy is the one on its card. `python -m lib.cli make-sample` rebuilds the files
from the official ones; `manifest.json` records their checksums and which official training digits were taken.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from lib import ROOT
from lib.data.idx import idx_bytes, read_idx, write_gz

FOLDER = ROOT / "mnist-sample"  # torchvision's layout: FOLDER/MNIST/raw/*.gz
TRAIN_PER_CLASS = 1000  # training slice: the first 1,000 digits of each class in the official file's order
OFFICIAL_MD5 = {  # the standard checksums of the official uncompressed IDX files
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def train_slice(labels: np.ndarray, per_class: int = TRAIN_PER_CLASS) -> np.ndarray:
    """Indices of the first `per_class` digits of each class, in file order: (10 * per_class,) int64."""
    chosen = np.concatenate([np.flatnonzero(labels == c)[:per_class] for c in range(10)])
    return np.sort(chosen)


def make_sample(official: Path, out: Path = FOLDER) -> dict:
    """Write the sample from the official files in `official` (torchvision's layout) and return its manifest."""

    raw_in, raw_out = Path(official) / "MNIST" / "raw", Path(out) / "MNIST" / "raw"
    for name, md5 in OFFICIAL_MD5.items():
        if hashlib.md5((raw_in / name).read_bytes()).hexdigest() != md5:
            raise ValueError(f"{raw_in / name} is not the official file (md5 differs)")
    raw_out.mkdir(parents=True, exist_ok=True)
    labels = read_idx(raw_in / "train-labels-idx1-ubyte")
    keep = train_slice(labels)
    files = {"train-images-idx3-ubyte": read_idx(raw_in / "train-images-idx3-ubyte")[keep],
             "train-labels-idx1-ubyte": labels[keep],
             "t10k-images-idx3-ubyte": read_idx(raw_in / "t10k-images-idx3-ubyte"),
             "t10k-labels-idx1-ubyte": read_idx(raw_in / "t10k-labels-idx1-ubyte")}
    for name, array in files.items():
        write_gz(raw_out / f"{name}.gz", idx_bytes(array))
    manifest = {
        "description": "MNIST sample for Row by Row: all 10,000 official test digits, unchanged, and the first "
                       f"{TRAIN_PER_CLASS:,} digits of each class of the official training set.",
        "official_md5": OFFICIAL_MD5,
        "test_is_official": True,  # the two t10k files decompress to the official files byte for byte
        "train_indices": keep.tolist(),  # positions in the official train-*-ubyte files, ascending
        "sha256": {f"{name}.gz": sha256(raw_out / f"{name}.gz") for name in files},
    }
    text = json.dumps(manifest | {"train_indices": "@"}, indent=1)  # the 10,000 indices on one line, not 10,000
    (Path(out) / "manifest.json").write_text(text.replace('"@"', json.dumps(manifest["train_indices"])) + "\n")
    return manifest


def manifest(folder: Path = FOLDER) -> dict:
    return json.loads((Path(folder) / "manifest.json").read_text())


def check_sample(folder: Path = FOLDER) -> list[str]:
    """The sample's files whose sha256 differs from the manifest (missing ones included); empty when intact."""
    sums = manifest(folder)["sha256"]
    raw = Path(folder) / "MNIST" / "raw"
    return [name for name, digest in sums.items() if not (raw / name).is_file() or sha256(raw / name) != digest]
