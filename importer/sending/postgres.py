"""The team's shared store in PostgreSQL: the same promises as one computer's, across many.

PostgreSQL's own means, no home-made protocol: a *session* advisory lock per rollout and per
account scope (`pg_try_advisory_lock`), which the server drops when the client's connection
ends, so a killed run leaves no stale lock; the ledger and the journals in tables, every row
written in its own transaction, `INSERT ... ON CONFLICT` for the ledger. One connection carries
the locks and every write, so a lost connection cannot leave a run buying without its lock:
the next write fails and the run stops (the row in flight says it may have been sent).

Who holds a lock is written beside it (`lock_holders`) and believed only while the server
shows that backend holding the lock (`pg_locks`).
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Callable, Iterator

from importer.report import readable_time
from importer.sending.db import DbError, PostgresDb, StateUnavailable
from importer.sending.journal import BEFORE_COLUMNS, COLUMNS, Journal
from importer.sending.ledger import CONFIGURED_SCHEMA, Ledger
from importer.sending.ledger import SCHEMA as LEDGER_SCHEMA
from importer.sending.locks import POLL_SECONDS, Busy, who
from importer.sending.store import Rollout, StateStore
from importer.sending.tasks import now
from importer.text import shown

# Each version's statements, applied in order to a database at an older one.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (f"CREATE TABLE IF NOT EXISTS journal_rows (rollout TEXT NOT NULL, {COLUMNS}, "
        "PRIMARY KEY (rollout, fingerprint))",
        *LEDGER_SCHEMA,
        "CREATE TABLE IF NOT EXISTS lock_holders (key BIGINT PRIMARY KEY, backend INTEGER NOT "
        "NULL, user_name TEXT, host TEXT, file TEXT, what TEXT, started TEXT)"),
    2: (f"CREATE TABLE IF NOT EXISTS journal_before (rollout TEXT NOT NULL, {BEFORE_COLUMNS}, "
        "PRIMARY KEY (rollout, fingerprint))",  # rollback (issue 27)
        *CONFIGURED_SCHEMA),
}
LATEST = max(MIGRATIONS)
_MIGRATING = 0x4E42_4950_0001  # the advisory lock two first users take in turn


def _key(kind: str, ident: str) -> int:
    """A signed 64-bit advisory-lock key for `kind:ident`."""
    digest = hashlib.sha256(f"number-block-importer:{kind}:{ident}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class SharedStore(StateStore):
    shared = True

    def __init__(self, url: str) -> None:
        self.db = PostgresDb(url)
        self.label = self.db.label
        try:
            self._migrate()
        except DbError as exc:
            self.db.close()
            raise StateUnavailable(f"{self.label} cannot be used ({exc.reason}); nothing was "
                                   "sent", exc.detail) from exc
        except BaseException:
            self.db.close()
            raise

    def _migrate(self) -> None:
        with self.db.transaction():
            self.db.execute("SELECT pg_advisory_xact_lock(?)", (_MIGRATING,))
            self.db.execute("CREATE TABLE IF NOT EXISTS importer_schema (version INTEGER NOT "
                            "NULL)")
            found = self.db.execute("SELECT max(version) FROM importer_schema")
            version = found[0][0] or 0
            if version > LATEST:
                raise StateUnavailable(
                    f"{self.label} holds state written by a newer version of the importer "
                    f"(schema {version}; this one knows {LATEST}); upgrade the importer on "
                    "this computer (pip install -U number-block-importer); nothing was sent")
            for step in range(version + 1, LATEST + 1):
                for statement in MIGRATIONS[step]:
                    self.db.execute(statement)
            if version < LATEST:
                self.db.execute("DELETE FROM importer_schema")
                self.db.execute("INSERT INTO importer_schema (version) VALUES (?)", (LATEST,))

    # --- locks ---------------------------------------------------------------------------

    def hold_rollout(self, rollout: Rollout, what: str, **waiting: object
                     ) -> contextlib.AbstractContextManager[None]:
        return self._hold(_key("rollout", f"{rollout.scope}\n{rollout.name}"), what,
                          "this rollout", **waiting)  # type: ignore[arg-type]

    def hold_account(self, scope: str, what: str, **waiting: object
                     ) -> contextlib.AbstractContextManager[None]:
        return self._hold(_key("account", scope), what, "this API account for purchases",
                          **waiting)  # type: ignore[arg-type]

    @contextlib.contextmanager
    def _hold(self, key: int, what: str, busy: str, *, wait: bool = False,
              should_stop: Callable[[], bool] = lambda: False,
              notify: Callable[[str], None] | None = None) -> Iterator[None]:
        """Hold the advisory lock `key` on this connection; Busy naming the holder at once, or
        wait for it with `wait`."""
        if not self._try(key):
            holder = self._holder(key)
            if not wait:
                raise Busy(f"another run is already using {busy} ({holder})")
            if notify:
                notify(f"waiting for another run using {busy} to finish ({holder})")
            while not self._try(key):
                if should_stop():
                    raise KeyboardInterrupt
                time.sleep(POLL_SECONDS)
        host, user = who()
        try:
            self._locking("INSERT INTO lock_holders (key, backend, user_name, host, file, what, "
                          "started) VALUES (?, pg_backend_pid(), ?, ?, ?, ?, ?) ON CONFLICT "
                          "(key) DO UPDATE SET backend = excluded.backend, user_name = "
                          "excluded.user_name, host = excluded.host, file = excluded.file, "
                          "what = excluded.what, started = excluded.started",
                          (key, user, host, what, busy, now()))
            yield
        finally:
            with contextlib.suppress(DbError):  # a lost connection has dropped the lock itself
                self.db.execute("DELETE FROM lock_holders WHERE key = ? AND backend = "
                                "pg_backend_pid()", (key,))
                self.db.execute("SELECT pg_advisory_unlock(?)", (key,))

    def _try(self, key: int) -> bool:
        return bool(self._locking("SELECT pg_try_advisory_lock(?)", (key,))[0][0])

    def _locking(self, sql: str, params: tuple) -> list[tuple]:
        try:
            return self.db.execute(sql, params)
        except DbError as exc:
            raise StateUnavailable(f"{self.label}: the lock could not be taken ({exc.reason}); "
                                   "nothing was sent", exc.detail) from exc

    def _holder(self, key: int) -> str:
        """Who holds `key`, in words: believed only while the server shows that backend
        holding it (a row left by a killed client names nobody)."""
        rows = self._locking(
            "SELECT h.user_name, h.host, h.file, h.started FROM lock_holders h WHERE h.key = ? "
            "AND EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted "
            "AND l.pid = h.backend AND l.objsubid = 1 AND l.classid::bigint = ? AND "
            "l.objid::bigint = ?)", (key, (key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF))
        if not rows:
            return "a run on another computer that has just started or is ending"
        user, host, file, started = rows[0]
        return (f"{shown(user or '?', 40)} on {shown(host or '?', 60)}, started "
                f"{readable_time(started or '')}, for {shown(file or '?', 120)}")

    # --- the journal and the ledger --------------------------------------------------------

    def journal(self, rollout: Rollout) -> Journal:
        return Journal(self.db, "journal_rows", rollout.name, identity=rollout.name,
                       owns_db=False, before="journal_before")

    def has_journal(self, rollout: Rollout) -> bool:
        try:
            return bool(self.db.execute("SELECT 1 FROM journal_rows WHERE rollout = ? LIMIT 1",
                                        (rollout.name,)))
        except DbError:
            return False

    def journal_label(self, rollout: Rollout) -> str:
        return f"{self.label}, rollout {rollout.name!r} (shared)"

    def ledger(self) -> Ledger:
        return Ledger(self.db, owns_db=False)

    def close(self) -> None:
        self.db.close()
