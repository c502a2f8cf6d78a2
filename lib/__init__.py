"""Row by Row core: data, row orders, models, training, jobs and checkpoints (no UI code)."""

__version__ = "0.1.0"
