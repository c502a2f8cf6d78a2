"""Where training runs: picking a device, naming it for people, and whether to use bfloat16 there."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from .messages import N_, Problem, msg

CGROUP_ROOT = Path("/sys/fs/cgroup")


def resolve_device(name: str) -> torch.device:
    """'auto' -> the best available device; an unavailable explicit choice raises ValueError."""
    cuda, mps = torch.cuda.is_available(), torch.backends.mps.is_available()
    if name == "auto":
        return torch.device("cuda" if cuda else "mps" if mps else "cpu")
    if (name == "cuda" and not cuda) or (name == "mps" and not mps):
        raise Problem(msg("device.unavailable", device=name))
    return torch.device(name)


def native_bf16_cpu() -> bool:
    """Whether this CPU computes bfloat16 natively (AMX or AVX512-BF16)."""
    return torch.cpu._is_amx_tile_supported() or torch.cpu._is_avx512_bf16_supported()


def use_bf16(precision: str, device: torch.device) -> bool:
    """Whether to train under bfloat16 autocast: asked for, or 'auto' on a CPU with native bf16 (AMX/AVX512-BF16).

    On a CPU without native bfloat16 even an explicit 'bf16' trains in float32: oneDNN has no bfloat16 LSTM there
    ("could not create a primitive descriptor", seen on an AVX2-only AMD EPYC). The start event says which was used.
    """
    if device.type == "cpu":
        return precision in ("auto", "bf16") and native_bf16_cpu()
    return precision == "bf16"


def available_devices() -> dict[str, str]:
    """The devices this machine can train on, for a picker: name -> human label (a GPU with its name)."""
    devices = {"auto": N_("auto"), "cpu": N_("CPU")}
    if torch.cuda.is_available():
        devices["cuda"] = f"GPU ({torch.cuda.get_device_name(0)})"
    if torch.backends.mps.is_available():
        devices["mps"] = N_("GPU (Apple MPS)")
    return devices


def device_label(device: torch.device) -> str:
    """A human name for a device, e.g. 'GPU: NVIDIA H100 80GB HBM3' or 'CPU (2 threads)'."""
    if device.type == "cuda":
        return f"GPU: {torch.cuda.get_device_name(device)}"
    if device.type == "mps":
        return "GPU: Apple MPS"
    n = torch.get_num_threads()
    return f"CPU ({n} thread{'s' if n > 1 else ''})"


def usable_cpus(cgroup_root: Path = CGROUP_ROOT) -> int:
    """CPUs this process can really use: its affinity mask, capped by a container's CPU quota.

    os.cpu_count() counts the host's cores; a container may get a quota of far fewer (Community Cloud: at most 2),
    and sizing torch's threads or the job cap by the host's count would oversubscribe it.
    """
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    quota = cpu_quota(cgroup_root)
    return max(1, min(cpus, int(quota))) if quota else cpus


def cpu_quota(root: Path = CGROUP_ROOT) -> float | None:
    """The cgroup CPU quota in cores (cgroup v2 `cpu.max`, or v1 `cpu.cfs_quota_us` / period); None if unlimited."""
    try:
        v2 = root / "cpu.max"  # inside a container, its own cgroup is the root of this view
        if v2.is_file():
            quota, period = v2.read_text().split()[:2]
            return None if quota == "max" else int(quota) / int(period)
        v1 = root / "cpu"
        quota = int((v1 / "cpu.cfs_quota_us").read_text())
        return None if quota < 0 else quota / int((v1 / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
