"""The databases the class tests run against: a SQLite file in the test's folder, and a real PostgreSQL server
(ROW_BY_ROW_TEST_PG, which .ci/run starts on 127.0.0.1 with .ci/postgres): each test gets a database of its own,
dropped after it. In CI (CI set) a missing server fails the PostgreSQL tests; locally they are skipped."""

from __future__ import annotations

import os
import secrets

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

BACKENDS = ["sqlite", "postgresql"]


def pg_admin_url() -> str:
    url = os.environ.get("ROW_BY_ROW_TEST_PG")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("ROW_BY_ROW_TEST_PG is not set: .ci/run must start PostgreSQL for the class tests")
        pytest.skip("set ROW_BY_ROW_TEST_PG (source .ci/postgres) to run the tests against PostgreSQL")
    return url


def fresh_database(backend: str, tmp_path):
    """A generator for a fixture: the URL of an empty database of `backend`, removed afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'class.sqlite3'}"
        return
    admin_url = pg_admin_url()
    name = f"test_{secrets.token_hex(6)}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        pytest.fail(f"PostgreSQL at ROW_BY_ROW_TEST_PG cannot be reached: {exc}")
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
