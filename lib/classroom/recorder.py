"""Finished runs of students in a class, written to the class database from a background thread of the server, so
that training never waits for the database and an unreachable one loses nothing.

Each finished run is first written to a spool file (one small JSON file per run, under data/classroom-spool/ in a
folder per database, with the student's token hash, never the token), then to the database, then its file is
removed. While the database cannot be reached the files wait and are retried every few seconds; a server restarted
mid-class finds them and writes them too. Recording is idempotent (a run's key is unique in its class), so a run written twice is stored once.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from pathlib import Path
from typing import Callable

import sqlalchemy as sa

from lib import ROOT
from lib.classroom import db, rows, tokens
from lib.classroom.store import ClassStore
from lib.messages import Problem

SPOOL = ROOT / "data" / "classroom-spool"
PURGE_EVERY_S = 3600.0  # classes past their retention are deleted at least this often while the server runs
UNREACHABLE = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.DBAPIError, sa.exc.TimeoutError, OSError)


class StoreHandle:
    """The class store of one database URL, made on first success: a database that is down when the server starts
    is tried again at the next use instead of taking the app down. `error` says why it could not be reached."""

    def __init__(self, url: str | None = None):
        self.url, self._store, self.error = url, None, ""
        self._lock = threading.Lock()

    def get(self) -> ClassStore:
        """The store; raises the database's error (one of UNREACHABLE) while it cannot be reached."""
        with self._lock:
            if self._store is None:
                self._store = ClassStore(self.url)
            return self._store

    def reachable(self) -> bool:
        """Whether the database answers now (a cheap query); `error` holds the reason when it does not."""
        try:
            with self.get().engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
            self.error = ""
            return True
        except UNREACHABLE as exc:
            self.error = str(exc).splitlines()[0][:200]
            return False


class Recorder:
    """Watches the jobs of joined students and records each one when it finishes (see the module's docstring)."""

    def __init__(self, handle: StoreHandle, spool: Path | None = None, retry_s: float = 5.0, poll_s: float = 0.5,
                 background: bool = True):
        self.handle, self.retry_s, self.poll_s = handle, retry_s, poll_s
        self.spool = Path(spool) if spool else spool_for(handle.url or db.database_url())
        self._watched: list[tuple] = []
        self._lock = threading.Lock()
        self.dropped: list[str] = []  # spool files that can never be recorded (their class is closed or gone)
        self._wake = threading.Event()
        if background:  # one thread per server; a test may drive flush() itself
            threading.Thread(target=self._loop, daemon=True, name="class-recorder").start()

    def watch(self, job, code: str, token: str, kind: Callable[[object], tuple[str, object]]) -> None:
        """Record `job` (a lib.runs.job.Job) in class `code` for the student with `token` when it finishes;
        `kind(job)` then says ("class", value) or ("free", None)."""
        with self._lock:
            self._watched.append((job, code, tokens.digest(token), kind))

    def spool_row(self, code: str, token_hash: str, row: dict) -> Path:
        """Keep a row on disk until the database has it (written atomically: a crash leaves no half file)."""
        self.spool.mkdir(parents=True, exist_ok=True)
        path = self.spool / f"{row['run_key']}.json"
        tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(json.dumps({"code": code, "token_hash": token_hash, "row": row}))
        tmp.replace(path)
        self._wake.set()
        return path

    def pending(self) -> int:
        return len(list(self.spool.glob("*.json"))) if self.spool.is_dir() else 0

    def flush(self) -> int:
        """Write every spooled row to the database; how many were new there. Stops at the first sign that the
        database cannot be reached (the rest wait for the next try)."""
        written = 0
        for path in sorted(self.spool.glob("*.json"), key=_age) if self.spool.is_dir() else []:
            try:
                entry = json.loads(path.read_text())
            except (OSError, ValueError):  # another process wrote it down meanwhile, or a torn file of a crash
                continue
            try:
                written += self.handle.get().record(entry["code"], None, entry["row"], token_hash=entry["token_hash"])
            except UNREACHABLE as exc:
                self.handle.error = str(exc).splitlines()[0][:200]
                return written
            except (Problem, KeyError, TypeError, ValueError):  # closed or deleted class, or not a row of ours
                self.dropped.append(path.name)
            path.unlink(missing_ok=True)
        self.handle.error = ""
        return written

    def _finished(self) -> list[tuple]:
        with self._lock:
            done = [w for w in self._watched if w[0].finished]
            self._watched = [w for w in self._watched if not w[0].finished]
        return done

    def _loop(self) -> None:
        last_try, last_purge = 0.0, time.time()
        while True:
            if time.time() - last_purge > PURGE_EVERY_S and not self.handle.error:
                last_purge = time.time()
                try:
                    self.handle.get().purge_expired()
                except UNREACHABLE:
                    pass
            self._wake.wait(self.poll_s)
            self._wake.clear()
            for job, code, token_hash, kind in self._finished():
                try:
                    what, value = kind(job)
                    self.spool_row(code, token_hash, rows.from_record(job.to_dict(), what, value))
                except Exception as exc:  # noqa: BLE001 - one odd run must not stop the recorder of the class
                    print(f"class recorder: run {getattr(job, 'id', '?')} not recorded: {exc}", flush=True)
            if self.pending() and (time.time() - last_try >= self.retry_s or not self.handle.error):
                last_try = time.time()
                self.flush()


def spool_for(url: str) -> Path:
    """The spool folder of one database: rows wait beside the app, never handed to another database."""
    return SPOOL / hashlib.sha256(url.encode()).hexdigest()[:16]


def _age(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
