"""glibc malloc tuning at process start, so the first training run in a process is as fast as the later ones.

Each training step allocates and frees tens of MB of tensors (lesson model, batch 64: about 22 MB a step). By
default glibc serves blocks over its mmap threshold (128 KiB at start) with fresh mmap()s, gives the top of the heap
back to the system once more than its trim threshold (128 KiB) is free, and unmaps a thread's 64 MiB heap as soon as
it is empty; the memory is faulted in again, page by page, on the next step. Its dynamic threshold adapts only in
part: in a fresh process on the project's machine a step still took about 5,500 page faults after 100 steps, in
the main thread or in a job's thread (the app trains in one). Three fixed values keep those buffers in the process:

- M_MMAP_THRESHOLD 64 MiB: blocks up to 64 MiB come from the heap, including the 45-57 MB buffers of an evaluation
  batch of 1,000 digits (32 MiB, glibc's own ceiling for its dynamic threshold, if a glibc refuses 64 MiB);
- M_TRIM_THRESHOLD 256 MiB: up to 256 MiB of freed heap is kept for the next step instead of being returned;
- M_TOP_PAD 64 MiB: with it a thread's arena keeps its heaps (without it a job's thread still faulted ~3,700 pages
  a step with the two thresholds set).

Measured with `python -m bench.throughput` (docs/benchmarks.md): 0 page faults a step after the first steps, and
about 50-90 MB more peak memory in a training process. Applied once, when the `lib` package is imported
(lib/__init__.py), on Linux with glibc only; elsewhere (macOS, Windows, musl) it does nothing. It never raises. Left
alone when the user set glibc's own variables (MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_ or their
GLIBC_TUNABLES) or ROW_BY_ROW_NO_MALLOC_TUNING=1.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading

M_TRIM_THRESHOLD = -1  # glibc's <malloc.h>
M_TOP_PAD = -2
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 64 << 20  # blocks up to 64 MiB come from the heap, even the 45-57 MB ones of a 1,000-digit eval batch
MMAP_THRESHOLD_FALLBACK = 32 << 20  # glibc's own ceiling for its dynamic threshold on 64-bit, if 64 MiB is refused
TRIM_THRESHOLD = 256 << 20  # keep up to 256 MiB of freed heap instead of returning it after every step
TOP_PAD = 64 << 20  # threads' arenas (the app trains in a thread) keep their 64 MiB heaps instead of unmapping them
OPT_OUT = "ROW_BY_ROW_NO_MALLOC_TUNING"
USER_VARIABLES = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")
USER_TUNABLES = ("glibc.malloc.mmap_threshold", "glibc.malloc.trim_threshold")

_lock = threading.Lock()
APPLIED = False  # whether this process runs with the tuning (set by tune())
STATUS: dict = {"applied": False, "reason": "not tried yet", "mmap_threshold": None, "trim_threshold": None,
                "top_pad": None}


def glibc_version() -> str | None:
    """'2.36' when this process runs on glibc, else None (macOS, Windows, musl, or no way to tell)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        name, _, version = (os.confstr("CS_GNU_LIBC_VERSION") or "").partition(" ")  # "glibc 2.36"
    except (AttributeError, ValueError, OSError):  # no confstr, or a libc that does not know the name (musl)
        return None
    return version if name == "glibc" and version else None


def _mallopt():
    """glibc's mallopt(int, int) -> int, from the libraries already loaded into this process."""
    fn = ctypes.CDLL(None).mallopt
    fn.argtypes, fn.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return fn


def user_setting(environ=None) -> str | None:
    """The name of the variable through which the user already tuned malloc or opted out, or None."""
    environ = os.environ if environ is None else environ
    if environ.get(OPT_OUT, "") not in ("", "0"):
        return OPT_OUT
    for name in USER_VARIABLES:
        if name in environ:
            return name
    tunables = environ.get("GLIBC_TUNABLES", "")
    return "GLIBC_TUNABLES" if any(t in tunables for t in USER_TUNABLES) else None


def apply(environ=None) -> dict:
    """Try the tuning now and return what happened (a STATUS dict); never raises."""
    result = {"applied": False, "reason": "", "mmap_threshold": None, "trim_threshold": None, "top_pad": None}
    try:
        version = glibc_version()
        user = user_setting(environ)
        if version is None:
            result["reason"] = "not Linux with glibc: nothing to tune"
        elif user is not None:
            result["reason"] = f"left to the user: {user} is set"
        else:
            mallopt = _mallopt()
            mmap = next((v for v in (MMAP_THRESHOLD, MMAP_THRESHOLD_FALLBACK) if mallopt(M_MMAP_THRESHOLD, v) == 1),
                        None)
            trim = TRIM_THRESHOLD if mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1 else None
            pad = TOP_PAD if mallopt(M_TOP_PAD, TOP_PAD) == 1 else None
            done = None not in (mmap, trim, pad)
            result.update(applied=done, mmap_threshold=mmap, trim_threshold=trim, top_pad=pad,
                          reason=f"glibc {version}: mallopt " + ("done" if done else "refused a value"))
    except Exception as exc:  # noqa: BLE001 - tuning is an optimisation; it must never stop the app
        result["reason"] = f"not applied: {type(exc).__name__}: {exc}"
    return result


def tune() -> bool:
    """Apply the tuning once per process (later calls return the first result); True if it is in effect."""
    global APPLIED
    with _lock:
        if STATUS["reason"] == "not tried yet":
            STATUS.update(apply())
            APPLIED = STATUS["applied"]
    return APPLIED


def tuned() -> bool:
    """Whether this process runs with the tuning."""
    return APPLIED


def status() -> dict:
    """A copy of what tune() did: applied, reason, and the values set (bytes) or None."""
    return dict(STATUS)
