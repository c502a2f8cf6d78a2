"""Row by Row core: data, row orders, models, training, jobs and checkpoints (no UI code)."""

from . import alloc as _alloc

__version__ = "0.1.0"

_alloc.tune()  # glibc malloc thresholds, once per process, before torch allocates anything (see lib/alloc.py)
