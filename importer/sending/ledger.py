"""The purchase ledger: what this machine sent and saw bought, per account and block, across
rollouts.

An SQLite store in the state folder (not a lock: the account lock in `locks` guards its writes).
"""

from __future__ import annotations

import contextlib
import sqlite3
from dataclasses import dataclass

from importer.sending.locks import state_dir

_ADDED = {"status": "TEXT", "file": "TEXT"}  # ledgers written by earlier versions lack them


@dataclass(frozen=True)
class Known:
    """Another rollout's purchase of a block: when it was sent, by which file, and whether this
    machine saw it answered OK (or later confirmed)."""

    epoch: float
    file: str
    bought: bool


class Ledger:
    """Purchases sent from this machine, per account (scope) and block. A purchase seen bought
    is owned for every later run, whatever a lagging listing shows; one only sent is doubtful
    until its settle window has passed. Written under the account lock; a failure here never
    stops a purchase (the listing still guards it)."""

    def __init__(self) -> None:
        self.db: sqlite3.Connection | None = None
        with contextlib.suppress(OSError, sqlite3.Error):
            folder = state_dir()
            folder.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(folder / "purchases.sqlite", isolation_level=None, timeout=5)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("CREATE TABLE IF NOT EXISTS sent (scope TEXT, block TEXT, epoch REAL, "
                       "journal TEXT, PRIMARY KEY (scope, block))")
            have = {r[1] for r in db.execute("PRAGMA table_info(sent)")}
            for name, kind in _ADDED.items():
                if name not in have:
                    db.execute(f"ALTER TABLE sent ADD COLUMN {name} {kind}")
            self.db = db

    def known(self, scope: str, blocks: list[str], journal: str, since: float
              ) -> dict[str, Known]:
        """Block -> another rollout's (not `journal`'s) purchase of it: every one seen bought,
        and those only sent after `since` (the others a listing now settles)."""
        found: dict[str, Known] = {}
        if self.db is None:
            return found
        with contextlib.suppress(sqlite3.Error):
            for start in range(0, len(blocks), 500):
                chunk = blocks[start:start + 500]
                rows = self.db.execute(
                    f"SELECT block, epoch, COALESCE(file, ''), status = 'OK' FROM sent WHERE "
                    f"scope = ? AND journal != ? AND (status = 'OK' OR epoch > ?) AND block IN "
                    f"({','.join('?' * len(chunk))})", (scope, journal, since, *chunk))
                found.update({b: Known(e, f, bool(ok)) for b, e, f, ok in rows})
        return found

    def note(self, scope: str, block: str, epoch: float, journal: str, file: str) -> None:
        """A purchase is about to be sent."""
        self._write("INSERT OR REPLACE INTO sent (scope, block, epoch, journal, status, file) "
                    "VALUES (?, ?, ?, ?, 'sent', ?)", (scope, block, epoch, journal, file))

    def bought(self, scope: str, block: str, epoch: float, journal: str, file: str) -> None:
        """This machine saw the purchase answered OK, or a look-up confirmed it."""
        self._write("INSERT INTO sent (scope, block, epoch, journal, status, file) VALUES "
                    "(?, ?, ?, ?, 'OK', ?) ON CONFLICT (scope, block) DO UPDATE SET "
                    "status = 'OK'", (scope, block, epoch, journal, file))

    def _write(self, sql: str, params: tuple) -> None:
        if self.db is not None:
            with contextlib.suppress(sqlite3.Error):
                self.db.execute(sql, params)

    def close(self) -> None:
        if self.db is not None:
            self.db.close()
