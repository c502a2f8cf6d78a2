"""Where training runs: picking a device, naming it for people, its precision, and keeping it healthy."""

from __future__ import annotations

import gc
import os
import threading
from functools import lru_cache
from pathlib import Path

import torch

from lib.messages import N_, Message, Problem, Term, msg
from lib.models.families import FAMILIES

CGROUP_ROOT = Path("/sys/fs/cgroup")
MPS_MIN_BATCH = 256  # below this, per-step MPS overhead outweighs its speed for these small models: auto stays on CPU
DEVICES = ("auto", "cpu", "cuda", "mps")  # what a run may ask for
PRECISIONS = {"fp32": N_("float32 (the lesson's)"), "bf16": N_("bfloat16 mixed precision"),
              "auto": N_("auto (bfloat16 where the CPU computes it natively, else float32)")}
EXCLUSIVE = ("mps",)  # backends not safe to drive from two threads at once (two jobs abort the process): one job each
CPU_OOM_SIGN = "DefaultCPUAllocator:"  # the CPU's is a RuntimeError ("can't allocate memory", "not enough memory")
OOM_SIGNS = ("out of memory", "CUDNN_STATUS_ALLOC_FAILED", "CUBLAS_STATUS_ALLOC_FAILED", CPU_OOM_SIGN)
OUT_OF_MEMORY = getattr(torch, "OutOfMemoryError", None) or torch.cuda.OutOfMemoryError  # older PyTorch: cuda's only
# A probe failure with one of these words recurs on every try (the wheel has no kernels for the card, the driver is
# too old or missing): it is kept for the life of the process. Any other (out of memory on a shared GPU, a device
# busy in exclusive mode) may pass: the next run probes again.
RECURRING_SIGNS = ("no kernel image is available", "CUDA_ERROR_NO_BINARY_FOR_GPU", "not compiled with",
                   "driver version is insufficient", "driver on your system is too old", "no NVIDIA driver",
                   "no CUDA-capable device", "invalid device function")
PCI_DEVICES = Path("/sys/bus/pci/devices")
NVIDIA_VENDOR, DISPLAY_CLASSES = "0x10de", ("0x0300", "0x0302")  # PCI ids: NVIDIA; a VGA or a 3D controller
_probed: dict[str, str | None] = {}  # device type -> None if a tiny op runs there, else its recurring error in short
_probe_lock = threading.Lock()


def resolve_device(name: str, family: str | None = None, batch_size: int | None = None,
                   stacked_dropout: bool = False) -> torch.device:
    """'auto' -> the best device that really works for this run; an unusable explicit choice raises a Problem.

    family, batch_size and stacked_dropout (layers > 1 with dropout) describe the run, when known; see choose_device.
    """
    return choose_device(name, family, batch_size, stacked_dropout)[0]


def choose_device(name: str, family: str | None = None, batch_size: int | None = None,
                  stacked_dropout: bool = False) -> tuple[torch.device, Message | None]:
    """(device, why 'auto' kept the run on the CPU though an accelerator is present, else None).

    'auto' takes an accelerator only when a tiny LSTM step really runs on it (a wheel without kernels for an old
    NVIDIA card still reports is_available(), then fails every run with "no kernel image is available"); an NVIDIA
    card that this PyTorch cannot use at all (a driver too old for the wheel, a build without CUDA) is named in the
    note too, never passed over in silence. On Apple MPS it keeps on the CPU what runs slower or wrongly there: GRU
    and plain RNN (no native kernels), batches under MPS_MIN_BATCH, and stacked LSTMs with dropout (wrong gradients
    upstream). An explicit 'cuda' or 'mps' is obeyed, but one that is missing, cannot run a tiny op, or would train
    a stacked LSTM with dropout on MPS raises a Problem before anything starts.
    """
    cuda, mps = torch.cuda.is_available(), torch.backends.mps.is_available()
    mps_dropout = stacked_dropout and family in (None, "lstm")  # the LSTM's own MPS kernel; other cells' is sound
    if name == "auto":
        kind = "cuda" if cuda else "mps" if mps else None
        if kind is None:
            error = unusable_gpu()
            return torch.device("cpu"), msg("device.gpu_unusable", error=error) if error else None
        error = probe(kind)
        if error:
            return torch.device("cpu"), msg("device.no_kernels" if recurs(error) else "device.busy",
                                            device=accelerator_name(kind), error=error)
        if kind == "mps":
            if family in FAMILIES and not FAMILIES[family].mps_native:
                return torch.device("cpu"), msg("device.mps_cell", cell=Term(FAMILIES[family].label))
            if batch_size is not None and batch_size < MPS_MIN_BATCH:
                return torch.device("cpu"), msg("device.mps_small_batch", batch=batch_size, low=MPS_MIN_BATCH)
            if mps_dropout:
                return torch.device("cpu"), msg("device.mps_dropout")
        return torch.device(kind), None
    if name == "cuda" and not cuda and (error := unusable_gpu()):
        raise Problem(msg("device.broken", device=accelerator_name(name), error=error))
    if (name == "cuda" and not cuda) or (name == "mps" and not mps):
        raise Problem(msg("device.unavailable", device=name))
    if name in ("cuda", "mps") and (error := probe(name)):
        raise Problem(msg("device.broken" if recurs(error) else "device.busy_explicit",
                          device=accelerator_name(name), error=error))
    if name == "mps" and mps_dropout:
        raise Problem(msg("device.mps_dropout_refused"))
    return torch.device(name), None


def accelerator_name(kind: str) -> str:
    """'NVIDIA GeForce GTX 780' for a CUDA card (without running anything on it), 'Apple MPS' for a Mac's GPU."""
    if kind == "cuda":
        try:
            return torch.cuda.get_device_name(0)
        except Exception:  # noqa: BLE001 - only a name for a message
            return "CUDA GPU"
    return "Apple MPS" if kind == "mps" else kind


def probe(kind: str) -> str | None:
    """None when a tiny LSTM step runs on the device type `kind`; otherwise its error in one short line.

    A success and a failure that recurs (see recurs) are kept for the life of the process; any other failure (one
    out of memory on a shared GPU) is not, so the next run tries the device again instead of staying on the CPU.
    """
    with _probe_lock:  # one probe at a time: MPS must not be driven from two threads
        if kind in _probed:
            return _probed[kind]
        try:
            _tiny_op(kind)
            error = None
        except Exception as exc:  # noqa: BLE001 - "no kernel image is available", a driver too old, ...
            error = short_error(exc)
        if error is None or recurs(error):
            _probed[kind] = error
        return error


def recurs(error: str) -> bool:
    """Whether a device error will happen again on every try (see RECURRING_SIGNS), rather than pass."""
    return any(sign.lower() in error.lower() for sign in RECURRING_SIGNS)


def short_error(exc: BaseException) -> str:
    """An exception as one short line: its type and the first line of its text."""
    first = (str(exc).strip().splitlines() or [""])[0]
    return f"{type(exc).__name__}: {first}"[:200]


@lru_cache(maxsize=8)
def nvidia_gpus(root: Path = PCI_DEVICES) -> int:
    """How many NVIDIA display or 3D controllers the PCI bus lists (Linux sysfs), whether or not any driver or
    PyTorch build can use them; 0 where there is no such listing. Read once: cards are not added while we run."""
    count = 0
    try:
        entries = list(root.iterdir())
    except OSError:
        return 0
    for entry in entries:
        try:
            vendor, kind = (entry / "vendor").read_text().strip(), (entry / "class").read_text().strip()
        except OSError:
            continue
        count += vendor == NVIDIA_VENDOR and kind.startswith(DISPLAY_CLASSES)
    return count


def unusable_gpu() -> str | None:
    """Why this PyTorch cannot use an NVIDIA GPU the machine has (a driver too old for the wheel, no driver, a build
    without CUDA), in one short line; None when CUDA works or there is no NVIDIA GPU."""
    if torch.cuda.is_available() or not nvidia_gpus():
        return None
    try:
        torch.cuda.init()  # raises with the reason: "The NVIDIA driver on your system is too old (found version …)"
    except Exception as exc:  # noqa: BLE001 - AssertionError "Torch not compiled with CUDA enabled", RuntimeError
        return short_error(exc)
    return "CUDA reports no usable GPU"


def _tiny_op(kind: str) -> None:
    """A 2-unit LSTM's forward and backward on `kind`, waited for, so an asynchronous kernel error surfaces here.

    Built on the meta device and filled with constants: it draws nothing from the process-wide random generators.
    """
    with torch.device("meta"):
        lstm = torch.nn.LSTM(2, 2, batch_first=True)
    lstm = lstm.to_empty(device=kind)
    with torch.no_grad():
        for p in lstm.parameters():
            p.fill_(0.1)
    out, _ = lstm(torch.ones(1, 3, 2, device=kind))
    (out @ out.transpose(1, 2)).sum().backward()
    float(lstm.weight_hh_l0.grad.sum())


def native_bf16_cpu() -> bool:
    """Whether this CPU computes bfloat16 natively (AMX or AVX512-BF16)."""
    return torch.cpu._is_amx_tile_supported() or torch.cpu._is_avx512_bf16_supported()


def use_bf16(precision: str, device: torch.device) -> bool:
    """Whether to train under bfloat16 autocast: asked for, or 'auto' on a CPU with native bf16 (AMX/AVX512-BF16).

    On a CPU without native bfloat16 even an explicit 'bf16' trains in float32: oneDNN has no bfloat16 LSTM there
    ("could not create a primitive descriptor", seen on an AVX2-only AMD EPYC). On an accelerator every run trains
    in float32: CUDA's autocast runs cuDNN RNNs in float16 whatever dtype is asked (and this loop has no GradScaler,
    so gradients through 28 steps could underflow), and MPS does not autocast LSTMs at all. The start event says
    which precision was used ("fp32" then), so a run is never labelled bf16 when it was not.
    """
    if device.type == "cpu":
        return precision in ("auto", "bf16") and native_bf16_cpu()
    return False


def exact_fp32(device: torch.device) -> None:
    """On CUDA, float32 without TF32: cuDNN RNNs use TF32 on Ampere and newer by default, so 'fp32' GPU runs would
    drift from the CPU-trained cards. Process-wide flags; every run here is float32 on a GPU, so all agree."""
    if device.type != "cuda":
        return
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    rnn = getattr(torch.backends.cudnn, "rnn", None)  # the per-operation setting of newer PyTorch versions
    if rnn is not None and hasattr(rnn, "fp32_precision"):
        rnn.fp32_precision = "ieee"


def synchronize(device: torch.device) -> None:
    """Wait for the device's queued work (the CPU's is never queued)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def is_out_of_memory(exc: BaseException) -> bool:
    """Whether an error means the device ran out of memory (CUDA's OutOfMemoryError; MPS's, cuDNN's or the CPU
    allocator's wording)."""
    return isinstance(exc, OUT_OF_MEMORY) or (
        isinstance(exc, RuntimeError) and any(sign in str(exc) for sign in OOM_SIGNS))


def free_memory(device_type: str) -> None:
    """Hand a device's cached, unused memory back (after a run failed): other runs and processes can use it."""
    gc.collect()  # the failed run's tensors, kept alive by reference cycles until now
    if device_type == "cuda":
        torch.cuda.empty_cache()
    elif device_type == "mps":
        torch.mps.empty_cache()


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
