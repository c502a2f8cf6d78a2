"""What machine something was measured on, named one way everywhere (a benchmark's record, a recorded experiment):
the CPU's model name as `lscpu` shows it. Standard library only: the device check imports it on machines that have
only what training needs."""

from __future__ import annotations

import platform
from pathlib import Path


def cpu_name() -> str:
    """The CPU's model name from /proc/cpuinfo (as `lscpu` shows it), else what platform knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
