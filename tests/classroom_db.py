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


class Proxy:
    """A TCP relay on 127.0.0.1 in front of the test PostgreSQL: `down()` closes it and every connection through it,
    as a network outage would; `up()` listens again on the same port. The server itself never stops."""

    def __init__(self, host: str, port: int):
        import socket
        import threading
        self.target, self._socket, self._threading = (host, port), socket, threading
        self._listener, self._open = None, []
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self.up()

    def up(self) -> None:
        listener = self._socket.socket()
        listener.setsockopt(self._socket.SOL_SOCKET, self._socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        self._threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def down(self) -> None:
        try:
            self._listener.shutdown(self._socket.SHUT_RDWR)  # wakes the accept() blocked in its thread (Linux)
        except OSError:
            pass
        self._listener.close()
        for s in self._open:
            try:
                s.shutdown(self._socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
        self._open.clear()

    def _accept(self, listener) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            server = self._socket.create_connection(self.target)
            self._open += [client, server]
            for a, b in ((client, server), (server, client)):
                self._threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a, b) -> None:
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                try:
                    s.close()
                except OSError:
                    pass


def through_proxy(url: str) -> tuple[str, Proxy]:
    """The same PostgreSQL database reached through a Proxy: (its URL, the proxy)."""
    parsed = make_url(url)
    proxy = Proxy(parsed.host, parsed.port)
    return parsed.set(port=proxy.port).render_as_string(hide_password=False), proxy
