"""Row by Row core: data, row orders, models, training, jobs and checkpoints (no UI code)."""

from pathlib import Path

from lib import alloc as _alloc

__version__ = "0.1.0"
ROOT = Path(__file__).resolve().parent.parent  # the app's folder: pretrained/, mnist-sample/, docs/, data/ live there

_alloc.tune()  # glibc malloc thresholds, once per process, before torch allocates anything (see lib/alloc.py)
