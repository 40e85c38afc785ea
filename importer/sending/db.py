"""One connection to where safety state is kept: an SQLite file, or the team's PostgreSQL.

The journal and the ledger speak SQL that both understand (`?` placeholders, `INSERT ... ON
CONFLICT`); this module is the only place that knows which it is talking to. Every statement
commits on its own (autocommit), so a kill loses nothing answered; `transaction()` groups the
few writes that must land together. Any database error becomes `DbError` with plain words, and
a PostgreSQL address is only ever shown as host and database (never its user or password).

Times: epochs written to a shared store are in the database server's clock, so the laptops of a
team compare settle windows on one clock (`shared()` / `local()` convert, measured at connect).
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from importer.errors import ImporterError
from importer.text import shown

POSTGRES_SCHEMES = ("postgresql://", "postgres://")
CONNECT_TIMEOUT_S = 5


class DbError(Exception):
    """A statement failed; `reason` in plain words ("the disk is full", "the connection to the
    state database was lost"), the library's own wording in `detail`."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason, self.detail = reason, detail


class StateUnavailable(ImporterError):
    """The state store cannot be opened: nothing was sent (exit 2)."""


class Db:
    """A connection that commits every statement, with the few differences of its kind."""

    kind = ""
    label = ""  # what messages call it: a file, or "the state database on HOST (db NAME)"
    offset = 0.0  # the store's clock minus this machine's, in seconds

    def execute(self, sql: str, params: tuple | list = ()) -> list[tuple]:
        raise NotImplementedError

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        self.execute("BEGIN")
        try:
            yield
        except BaseException:
            with contextlib.suppress(DbError):
                self.execute("ROLLBACK")
            raise
        self.execute("COMMIT")

    def shared(self, epoch: float | None) -> float | None:
        """This machine's time.time() as the store keeps it."""
        return None if epoch is None else epoch + self.offset

    def local(self, epoch: float | None) -> float | None:
        return None if epoch is None else epoch - self.offset

    def close(self) -> None:
        raise NotImplementedError


class SqliteDb(Db):
    kind = "sqlite"

    def __init__(self, path: Path, timeout: float = 5.0) -> None:
        self.label = str(path)
        try:
            self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False,
                                        timeout=timeout)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")  # with WAL: survives a process kill
        except sqlite3.Error as exc:
            raise DbError(_sqlite_reason(exc), str(exc)) from exc

    def execute(self, sql: str, params: tuple | list = ()) -> list[tuple]:
        try:
            return self.conn.execute(sql, tuple(params)).fetchall()
        except sqlite3.Error as exc:
            raise DbError(_sqlite_reason(exc), str(exc)) from exc

    def close(self) -> None:
        self.conn.close()


def _sqlite_reason(exc: sqlite3.Error) -> str:
    text = str(exc).lower()
    if "full" in text or "too large" in text:
        return "the disk is full"
    if "readonly" in text or "read-only" in text:
        return "the file or its folder is read-only"
    if "locked" in text or "busy" in text:
        return "another program is holding it"
    return "a database error"


class PostgresDb(Db):
    kind = "postgresql"

    def __init__(self, url: str) -> None:
        import psycopg  # only a team's shared store needs it

        self.label = describe(url)
        self._errors: type[Exception] = psycopg.Error
        try:
            self.conn = psycopg.connect(
                url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S,
                application_name="number-block-importer",
                # A dead network is noticed in seconds, not hours: the run then stops.
                keepalives=1, keepalives_idle=10, keepalives_interval=5, keepalives_count=3)
        except psycopg.Error as exc:
            raise StateUnavailable(f"{self.label} {_connect_reason(exc)}; nothing was sent",
                                   _scrubbed(exc, url)) from exc
        except Exception as exc:  # a malformed address: psycopg's own ProgrammingError etc.
            raise StateUnavailable(f"{self.label}: the state URL is not a PostgreSQL address "
                                   "psycopg can use (postgresql://user@host/database)",
                                   _scrubbed(exc, url)) from exc
        before = time.time()
        (server,), = self.execute("SELECT extract(epoch from clock_timestamp())::float8")
        self.offset = float(server) - (before + time.time()) / 2

    def execute(self, sql: str, params: tuple | list = ()) -> list[tuple]:
        try:
            cursor = self.conn.execute(sql.replace("?", "%s"), tuple(params))  # type: ignore[arg-type]
            return cursor.fetchall() if cursor.description else []
        except self._errors as exc:
            closed = getattr(self.conn, "closed", False) or "connection" in str(exc).lower()
            reason = ("the connection was lost" if closed
                      else f"the database refused it: {shown(type(exc).__name__)}")
            raise DbError(reason, str(exc)) from exc

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.close()


def is_postgres(url: str) -> bool:
    return url.strip().lower().startswith(POSTGRES_SCHEMES)


def describe(url: str) -> str:
    """`the state database on db.example:5432 (database importer)`: never a user or password."""
    host, port, name = "", "", ""
    with contextlib.suppress(Exception):
        from psycopg.conninfo import conninfo_to_dict

        info: dict[str, Any] = conninfo_to_dict(url)
        host, port, name = (str(info.get(k) or "") for k in ("host", "port", "dbname"))
    where = shown(host or "localhost", 80) + (f":{shown(port, 8)}" if port else "")
    return f"the state database on {where}" + (f" (database {shown(name, 60)})" if name else "")


def _connect_reason(exc: Exception) -> str:
    text = str(exc).lower()
    if "password" in text or "authentication" in text:
        return "refused the user name or password"
    if "does not exist" in text:
        return "has no such database or user"
    if "timeout" in text or "timed out" in text:
        return "did not answer within 5 s"
    if "refused" in text or "could not connect" in text or "no route" in text or (
            "translate host name" in text or "name or service" in text):
        return "cannot be reached"
    return "cannot be used"


def _scrubbed(exc: Exception, url: str) -> str:
    """The library's words for --debug, without the address (it may hold a password)."""
    text = str(exc).replace(url, "<state_url>")
    with contextlib.suppress(Exception):
        from psycopg.conninfo import conninfo_to_dict

        secret = conninfo_to_dict(url).get("password")
        if secret:
            text = text.replace(str(secret), "***")
    return text
