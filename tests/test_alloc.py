"""lib.alloc: glibc's malloc thresholds are set when `lib` is imported on Linux/glibc, and left alone elsewhere.

Nothing here times anything: the subprocess checks read the settings back and watch where malloc puts a 40 MiB block.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lib import alloc

ROOT = Path(__file__).resolve().parent.parent
ON_GLIBC = alloc.glibc_version() is not None
glibc_only = pytest.mark.skipif(not ON_GLIBC, reason="the tuning applies to Linux with glibc only")

# Where does a 40 MiB malloc land: in an mmap of its own (glibc's default, > 128 KiB) or in the heap (tuned)? And
# once freed, is it faulted in again (given back to the system) when the next 40 MiB block is written? Counted in
# page faults of the thread itself, in the main thread and in a second one (the app trains in a thread), while
# another 40 MiB block is held (a thread's arena then has to add a heap, which glibc unmaps when it is empty).
PROBE = """
import ctypes, json, resource, threading, lib, lib.alloc
class Info(ctypes.Structure):
    _fields_ = [(n, ctypes.c_int) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
                                             "uordblks", "fordblks", "keepcost")]
libc = ctypes.CDLL(None)
libc.mallinfo.restype, libc.malloc.restype, libc.malloc.argtypes = Info, ctypes.c_void_p, [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
SIZE = 40 << 20
def faults():
    return resource.getrusage(resource.RUSAGE_THREAD).ru_minflt
def where(out):
    held = libc.malloc(SIZE)  # in a thread's arena (64 MiB heaps) the next block then needs a heap of its own
    before = libc.mallinfo().hblkhd
    block = libc.malloc(SIZE)
    out["mmapped"] = libc.mallinfo().hblkhd - before >= SIZE
    ctypes.memset(block, 1, SIZE)
    libc.free(block)
    block, start = libc.malloc(SIZE), faults()
    ctypes.memset(block, 1, SIZE)
    out["kept"] = faults() - start < (SIZE >> 12) // 10  # under a tenth of its 10,240 pages faulted in again
    libc.free(block)
    libc.free(held)
main, job = {}, {}
where(main)
thread = threading.Thread(target=where, args=(job,))
thread.start()
thread.join()
print(json.dumps({"status": lib.alloc.status(), "tuned": lib.alloc.tuned(), "main": main, "thread": job}))
"""


def probe(**env) -> dict:
    clean = {k: v for k, v in os.environ.items()
             if k not in (*alloc.USER_VARIABLES, alloc.OPT_OUT, "GLIBC_TUNABLES")}
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env={**clean, **env}, capture_output=True,
                         text=True, timeout=60, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


@glibc_only
def test_importing_lib_sets_the_thresholds_and_big_blocks_stay_in_the_heap():
    r = probe()
    assert r["tuned"] is True and r["status"]["applied"] is True
    assert r["status"]["mmap_threshold"] in (alloc.MMAP_THRESHOLD, alloc.MMAP_THRESHOLD_FALLBACK)
    assert r["status"]["trim_threshold"] == alloc.TRIM_THRESHOLD and r["status"]["top_pad"] == alloc.TOP_PAD
    for where in ("main", "thread"):  # served by the heap and still there after free(), in both kinds of arena
        assert r[where] == {"mmapped": False, "kept": True}, where


@glibc_only
def test_without_the_tuning_glibc_maps_big_blocks_itself():
    """The control: the probe above can tell tuned from untuned (opting out leaves glibc's defaults)."""
    r = probe(ROW_BY_ROW_NO_MALLOC_TUNING="1")
    assert r["tuned"] is False and "ROW_BY_ROW_NO_MALLOC_TUNING" in r["status"]["reason"]
    assert r["main"] == r["thread"] == {"mmapped": True, "kept": False}


@glibc_only
@pytest.mark.parametrize("env", [{"MALLOC_MMAP_THRESHOLD_": "131072"}, {"MALLOC_TRIM_THRESHOLD_": "131072"},
                                 {"GLIBC_TUNABLES": "glibc.malloc.trim_threshold=131072"}])
def test_a_users_own_malloc_settings_are_left_alone(env):
    r = probe(**env)
    assert r["tuned"] is False and r["status"]["reason"] == f"left to the user: {next(iter(env))} is set"
    assert r["main"]["mmapped"] is True  # glibc's behaviour with the user's 128 KiB threshold, not ours


def test_skipped_without_error_where_it_does_not_apply(monkeypatch):
    """macOS, Windows and musl: no glibc version, so mallopt is never looked up; nothing raises."""
    monkeypatch.setattr(alloc, "glibc_version", lambda: None)
    monkeypatch.setattr(alloc, "_mallopt", lambda: pytest.fail("mallopt must not be called"))
    r = alloc.apply(environ={})
    assert r["applied"] is False and r["reason"].startswith("not Linux with glibc")


@pytest.mark.parametrize("platform", ["darwin", "win32"])
def test_glibc_detection_is_false_off_linux(monkeypatch, platform):
    monkeypatch.setattr(alloc.sys, "platform", platform)
    assert alloc.glibc_version() is None


def test_glibc_detection_on_a_libc_without_the_gnu_name(monkeypatch):
    def musl_confstr(name):  # musl's confstr fails with EINVAL for _CS_GNU_LIBC_VERSION
        raise OSError(22, "Invalid argument")

    monkeypatch.setattr(alloc.sys, "platform", "linux")
    monkeypatch.setattr(alloc.os, "confstr", musl_confstr)
    assert alloc.glibc_version() is None


def test_never_raises_when_mallopt_fails_or_refuses(monkeypatch):
    monkeypatch.setattr(alloc, "glibc_version", lambda: "2.36")

    def broken():
        raise OSError("no libc")

    monkeypatch.setattr(alloc, "_mallopt", broken)
    r = alloc.apply(environ={})
    assert r["applied"] is False and "OSError" in r["reason"]
    monkeypatch.setattr(alloc, "_mallopt", lambda: lambda param, value: 0)  # a stub mallopt that refuses everything
    r = alloc.apply(environ={})
    assert r["applied"] is False and r["mmap_threshold"] is None and "refused" in r["reason"]


def test_tune_runs_once_per_process(monkeypatch):
    calls = []
    monkeypatch.setattr(alloc, "apply", lambda: calls.append(1) or {"applied": True, "reason": "fake",
                                                                    "mmap_threshold": 1, "trim_threshold": 1})
    monkeypatch.setattr(alloc, "STATUS", {**alloc.STATUS, "reason": "not tried yet"})
    monkeypatch.setattr(alloc, "APPLIED", False)
    assert alloc.tune() is True and alloc.tune() is True and calls == [1]
    assert alloc.tuned() is True and alloc.status()["reason"] == "fake"
