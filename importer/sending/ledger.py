"""The purchase ledger: what this machine sent, per account and block, across rollouts.

An SQLite store in the state folder (not a lock: the account lock in `locks` guards its writes).
"""

from __future__ import annotations

import contextlib
import sqlite3

from importer.sending.locks import state_dir


class Ledger:
    """Purchases sent from this machine, per account and block: a listing may lag a purchase,
    so a block another rollout bought moments ago counts as doubtful until its window passes.
    Written under the account lock; a failure here never stops a purchase."""

    def __init__(self) -> None:
        self.db: sqlite3.Connection | None = None
        with contextlib.suppress(OSError, sqlite3.Error):
            folder = state_dir()
            folder.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(folder / "purchases.sqlite", isolation_level=None, timeout=5)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("CREATE TABLE IF NOT EXISTS sent (scope TEXT, block TEXT, epoch REAL, "
                       "journal TEXT, PRIMARY KEY (scope, block))")
            self.db = db

    def recent(self, scope: str, blocks: list[str], journal: str, since: float
               ) -> dict[str, float]:
        """Block -> when another rollout (not `journal`) sent a purchase for it after `since`."""
        found: dict[str, float] = {}
        if self.db is None:
            return found
        with contextlib.suppress(sqlite3.Error):
            for start in range(0, len(blocks), 500):
                chunk = blocks[start:start + 500]
                rows = self.db.execute(
                    f"SELECT block, epoch FROM sent WHERE scope = ? AND journal != ? AND "
                    f"epoch > ? AND block IN ({','.join('?' * len(chunk))})",
                    (scope, journal, since, *chunk))
                found.update(dict(rows))
        return found

    def note(self, scope: str, block: str, epoch: float, journal: str) -> None:
        if self.db is not None:
            with contextlib.suppress(sqlite3.Error):
                self.db.execute("INSERT OR REPLACE INTO sent VALUES (?, ?, ?, ?)",
                                (scope, block, epoch, journal))

    def close(self) -> None:
        if self.db is not None:
            self.db.close()
