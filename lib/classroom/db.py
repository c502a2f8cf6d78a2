"""Which database, and its schema brought up to date: the engine for a URL, and Alembic's migrations on first use.

The default is a SQLite file at an absolute path under the app's folder (data/classroom.sqlite3), the same for the
app and the CLI whatever their working folder, in WAL mode with a busy timeout so that many writers wait for each
other instead of failing. ROW_BY_ROW_DB takes any SQLAlchemy URL (postgresql+psycopg://user:pw@host/db).
"""

from __future__ import annotations

import fcntl
import os
import threading
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from lib import ROOT

DEFAULT_FILE = ROOT / "data" / "classroom.sqlite3"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BUSY_TIMEOUT_MS = 30_000  # a writer waits this long for another one's lock before SQLite gives up
CONNECT_TIMEOUT_S = 5  # an unreachable PostgreSQL fails within this, so a class view says so quickly
_migrated: set[str] = set()
_lock = threading.Lock()


def database_url(env: dict | None = None) -> str:
    """ROW_BY_ROW_DB if set, else the default SQLite file (an absolute path, so the app and the CLI share it)."""
    env = os.environ if env is None else env
    return env.get("ROW_BY_ROW_DB") or f"sqlite:///{DEFAULT_FILE}"


def is_local_file(url: str) -> bool:
    """True for a SQLite database: a file on this machine's disk (lost with the disk, where that does not last)."""
    return make_url(url).get_backend_name() == "sqlite"


def make_engine(url: str) -> Engine:
    """An engine for `url`: SQLite in WAL mode with a busy timeout and foreign keys on; others with a short connect
    timeout and a connection check before use (a restarted server's dead connections are replaced, not failed)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database == str(DEFAULT_FILE):  # another file's folder must exist: a missing one is an outage
            DEFAULT_FILE.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
                               pool_size=8, max_overflow=32, pool_timeout=60)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    args = {"connect_timeout": CONNECT_TIMEOUT_S} if parsed.get_backend_name() == "postgresql" else {}
    return create_engine(url, connect_args=args, pool_pre_ping=True, pool_size=8, max_overflow=32, pool_timeout=60)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer: the teacher's view stays live
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")  # safe in WAL mode: a power cut may lose the last commits, not the file
    cursor.close()


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def head() -> str:
    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


def current(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision` (Alembic). Two processes starting at once take turns: PostgreSQL through an
    advisory lock inside the migration (env.py), SQLite through a lock file beside the database."""
    with _file_lock(engine):
        command.upgrade(alembic_config(engine), revision)


def ensure_schema(engine: Engine) -> None:
    """Migrate to the newest schema once per process and database (the first use of a store)."""
    key = engine.url.render_as_string(hide_password=False)
    with _lock:
        if key in _migrated:
            return
        if current(engine) != head():
            migrate(engine)
        _migrated.add(key)


@contextmanager
def _file_lock(engine: Engine):
    database = engine.url.database if engine.url.get_backend_name() == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    with open(f"{database}.migrate-lock", "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
