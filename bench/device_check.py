"""The device check of issue 23: what a lent GPU gives a class, in one call, as ONE JSON object.

Run (from the repository root, on whatever Python and PyTorch the machine has; only torch, numpy and safetensors are
needed besides the standard library):

    python bench/device_check.py [--device auto|cuda|mps|cpu] [--quick] [--out FILE] [--mnist DIR]
    MNIST_ROOT=/path/to/mnist python bench/device_check.py --prepare     # fills .mnist-device/ (about 12 MB)

The digits come from `.mnist-device/MNIST/raw/*.gz` (git-ignored, small enough to carry to a lent machine beside a
checkout), never from MNIST_ROOT itself. The JSON goes to --out and is printed last on stdout; progress goes to
stderr. Every section is present: its result, or "skipped" with the reason, or "error" with the error. Sections:
environment (versions, the card, what `auto` picks), data, correctness (Fast & accurate after one epoch ≥ 97 %, the
lesson's first epoch within a point of its card, three shipped models re-scored within 0.1 point), speed (a lesson
epoch at batch 64 and 256, time to 98 %), scaling (the Conclusion's measurement), sharing (four jobs on one device
against one alone), out_of_memory (refused before start; one run out of memory while another trains on),
memory_estimate (the estimate against the card's peak) and ray (fractional GPUs, where Ray and issue 25's executor
are present). Exit status: 0 all checks held, 1 a check failed or a section broke, 2 no data or no usable device.
`--quick` runs every section small (a CPU does it in under 3 minutes; the thresholds are then not checked);
a full run stops starting sections after --budget seconds (default 450: one 8-minute call with room to spare).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a file (python bench/device_check.py): lib lives beside bench/
    sys.path.insert(0, str(ROOT))

from bench import device_sections as sections  # noqa: E402
from bench.device_sections import FULL, QUICK, Skip, log  # noqa: E402 - after the path is set
from lib.machine import cpu_name  # noqa: E402

MNIST_FOLDER = ROOT / ".mnist-device"  # git-ignored; gzipped IDX in torchvision's layout (MNIST/raw/*.gz)
SECTIONS = ("correctness", "speed", "scaling", "sharing", "out_of_memory", "memory_estimate", "ray")


def prepare(source: str | None, folder: Path) -> int:
    """Copy MNIST from `source` (torchvision's layout, gzipped or not; MNIST_ROOT by default) into `folder` as
    gzipped IDX files, each read and checked first."""
    import gzip

    from lib.data.idx import idx_bytes, read_idx
    from lib.data.mnist import FILES, load_idx_folder

    if not source:
        log("--prepare needs MNIST_ROOT (or --from DIR): a folder holding MNIST/raw/train-images-idx3-ubyte")
        return 2
    load_idx_folder(Path(source))  # every file there readable and consistent, or a Problem that names it
    raw_in, raw_out = Path(source) / "MNIST" / "raw", folder / "MNIST" / "raw"
    raw_out.mkdir(parents=True, exist_ok=True)
    for name in (n for pair in FILES.values() for n in pair):
        path = raw_in / name if (raw_in / name).exists() else raw_in / f"{name}.gz"
        with gzip.open(raw_out / f"{name}.gz", "wb", compresslevel=6) as out:  # gzip's default: 3× faster than 9
            out.write(idx_bytes(read_idx(path)))
    size = sum(f.stat().st_size for f in raw_out.glob("*.gz"))
    log(f"wrote {raw_out} ({size / 1e6:.1f} MB); carry {folder.name}/ with the checkout")
    return 0


def environment(device: str) -> dict:
    """Versions, the machine, the card, and what 'auto' picks for the lesson here."""
    import numpy
    import safetensors
    import torch

    from lib.training.devices import choose_device, nvidia_gpus, unusable_gpu

    out = {"python": platform.python_version(), "torch": torch.__version__, "cuda": torch.version.cuda,
           "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
           "numpy": numpy.__version__, "safetensors": getattr(safetensors, "__version__", None),
           "machine": platform.machine(), "cpu": cpu_name(), "cpus": os.cpu_count(),
           "torch_threads": torch.get_num_threads(), "nvidia_cards_on_pci": nvidia_gpus(),
           "gpu_unusable": unusable_gpu(), "mps_available": torch.backends.mps.is_available()}
    auto, note = choose_device("auto", "lstm", 64)
    out["auto_for_the_lesson"] = {"device": auto.type, "note": note.render() if note else None}
    if device == "cuda":
        props = torch.cuda.get_device_properties(0)
        out["gpu"] = {"name": props.name, "memory_bytes": props.total_memory, "capability": f"{props.major}.{props.minor}",
                      "multiprocessors": props.multi_processor_count, "arch_list": torch.cuda.get_arch_list(),
                      "driver": _driver()}
    if device == "mps":
        from lib.training.memory import limit_mps_memory

        out["gpu"] = {"name": "Apple MPS", "recommended_max_memory": torch.mps.recommended_max_memory(),
                      "memory_fraction": limit_mps_memory(), "macos": platform.mac_ver()[0]}
    return out


def load_data(folder: Path):
    """The digits from `folder` (gzipped IDX), or a Problem naming what is missing and how to fill it."""
    from lib.data.mnist import load_idx_folder
    from lib.messages import Problem, msg

    if not (folder / "MNIST" / "raw").is_dir():
        raise Problem(msg("file.missing", path=str(folder / "MNIST" / "raw")))
    return load_idx_folder(folder)


def pick_device(name: str) -> tuple[str | None, str | None]:
    """(device type to check, None) or (None, why there is none): 'auto' means a GPU, never a quiet CPU."""
    from lib.messages import Problem
    from lib.training.devices import resolve_device, unusable_gpu

    try:
        if name != "auto":
            return resolve_device(name).type, None
        kind = resolve_device("auto").type
    except Problem as problem:
        return None, str(problem)
    if kind == "cpu":
        return None, ("no usable GPU: " + (unusable_gpu() or "neither CUDA nor MPS is available")
                      + "; --device cpu runs the check on the CPU")
    return kind, None


def run_sections(kind: str, data, plan, budget: float, t0: float, only=SECTIONS) -> dict:
    """Each section in turn, one failure never stopping the others; none starts once `budget` seconds are spent."""
    from lib.training.devices import free_memory

    results = {}
    for name in SECTIONS:
        if name not in only:
            results[name] = {"status": "skipped", "reason": "not asked for (--only)"}
            continue
        if time.perf_counter() - t0 > budget:
            results[name] = {"status": "skipped", "reason": f"the time budget ({budget:.0f} s) was spent"}
            continue
        log(f"{name} …")
        start = time.perf_counter()
        try:
            out = getattr(sections, name)(kind, data, plan)
            failed = [k for k, v in out.get("checks", {}).items() if v is False]
            out["status"] = "failed" if failed else "ok"
        except Skip as skip:
            out = {"status": "skipped", "reason": str(skip)}
        except Exception as exc:  # noqa: BLE001 - reported in the JSON, the next section still runs
            traceback.print_exc()
            out = {"status": "error", "error": f"{type(exc).__name__}: {str(exc)[:500]}"}
        out["seconds"] = time.perf_counter() - start
        results[name] = out
        free_memory(kind)
        log(f"{name}: {out['status']} in {out['seconds']:.1f} s")
    return results


def problems(result: dict) -> list[str]:
    """Every failed check and broken section, by name."""
    found = []
    for name in ("data", *SECTIONS):
        section = result.get(name, {})
        if section.get("status") == "error":
            found.append(f"{name}: {section.get('error')}")
        found += [f"{name}: {check} failed" for check, v in section.get("checks", {}).items() if v is False]
    return found


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python bench/device_check.py", description=__doc__.splitlines()[0])
    ap.add_argument("--device", choices=["auto", "cuda", "mps", "cpu"], default="auto")
    ap.add_argument("--quick", action="store_true", help="every section small: a smoke run of the same code")
    ap.add_argument("--out", type=Path, help="also write the JSON object to this file")
    ap.add_argument("--mnist", type=Path, default=MNIST_FOLDER, help="folder of gzipped MNIST (default .mnist-device)")
    ap.add_argument("--budget", type=float, help="seconds after which no section starts (default 450, quick 150)")
    ap.add_argument("--only", nargs="+", choices=SECTIONS, default=SECTIONS, help="run these sections only")
    ap.add_argument("--prepare", action="store_true", help="fill --mnist from MNIST_ROOT (or --from) and stop")
    ap.add_argument("--from", dest="source", default=os.environ.get("MNIST_ROOT"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.prepare:
        return prepare(args.source, args.mnist)
    t0, plan = time.perf_counter(), QUICK if args.quick else FULL
    budget = args.budget if args.budget is not None else 150.0 if args.quick else 450.0
    result = {"check": "bench/device_check.py", "asked": args.device, "quick": args.quick,
              "date": time.strftime("%Y-%m-%d %H:%M:%S %z")}
    kind, why = pick_device(args.device)
    result["device"] = kind
    result["environment"] = environment(kind or "cpu")
    log(", ".join(f"{k} {result['environment'][k]}" for k in ("python", "torch", "cuda", "cudnn", "numpy",
                                                                "safetensors")) + f"; device {kind or why}")
    try:
        data = load_data(args.mnist)
        result["data"] = {"status": "ok", **data.describe(), "folder": str(args.mnist)}
    except Exception as exc:  # noqa: BLE001 - a Problem naming the file, or an OSError
        data = None
        result["data"] = {"status": "error", "error": f"{exc}; fill it with: MNIST_ROOT=/path/to/mnist "
                                                      "python bench/device_check.py --prepare"}
    if kind is None:
        result["problem"] = why
    if kind is None or data is None:
        for name in SECTIONS:
            result[name] = {"status": "skipped", "reason": "no data" if data is None else "no usable device"}
    else:
        result.update(run_sections(kind, data, plan, budget, t0, args.only))
    if kind == "cuda":
        import torch
        result["environment"]["tf32_after"] = {"matmul": torch.backends.cuda.matmul.allow_tf32,
                                               "cudnn": torch.backends.cudnn.allow_tf32}
    result["problems"] = ([result["problem"]] if kind is None else []) + problems(result)
    result["total_s"] = time.perf_counter() - t0
    text = json.dumps(result, default=str)
    if args.out:
        args.out.write_text(text + "\n")
    print(text, flush=True)
    return 2 if kind is None or data is None else 1 if result["problems"] else 0


def _driver() -> str | None:
    try:
        return Path("/proc/driver/nvidia/version").read_text().splitlines()[0].strip()
    except (OSError, IndexError):
        return None


if __name__ == "__main__":
    sys.exit(main())
