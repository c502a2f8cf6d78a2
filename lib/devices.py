"""Where training runs: picking a device, naming it for people, and whether to use bfloat16 there."""

from __future__ import annotations

import torch


def resolve_device(name: str) -> torch.device:
    """'auto' -> the best available device; an unavailable explicit choice raises ValueError."""
    cuda, mps = torch.cuda.is_available(), torch.backends.mps.is_available()
    if name == "auto":
        return torch.device("cuda" if cuda else "mps" if mps else "cpu")
    if (name == "cuda" and not cuda) or (name == "mps" and not mps):
        raise ValueError(f"device {name!r} is not available on this machine; choose auto or cpu")
    return torch.device(name)


def use_bf16(precision: str, device: torch.device) -> bool:
    """Whether to train under bfloat16 autocast: asked for, or 'auto' on a CPU with native bf16 (AMX/AVX512-BF16)."""
    if precision == "auto":
        return device.type == "cpu" and (torch.cpu._is_amx_tile_supported() or torch.cpu._is_avx512_bf16_supported())
    return precision == "bf16"


def available_devices() -> dict[str, str]:
    """The devices this machine can train on, for a picker: name -> human label (a GPU with its name)."""
    devices = {"auto": "auto", "cpu": "CPU"}
    if torch.cuda.is_available():
        devices["cuda"] = f"GPU ({torch.cuda.get_device_name(0)})"
    if torch.backends.mps.is_available():
        devices["mps"] = "GPU (Apple MPS)"
    return devices


def device_label(device: torch.device) -> str:
    """A human name for a device, e.g. 'GPU: NVIDIA H100 80GB HBM3' or 'CPU (2 threads)'."""
    if device.type == "cuda":
        return f"GPU: {torch.cuda.get_device_name(device)}"
    if device.type == "mps":
        return "GPU: Apple MPS"
    n = torch.get_num_threads()
    return f"CPU ({n} thread{'s' if n > 1 else ''})"
