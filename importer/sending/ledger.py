"""The purchase ledger: who sent which purchase, when, from which file and computer, and what
became of it, per account and block, across rollouts (and, in a shared store, across machines).

A purchase seen bought is owned for every later run, whatever a lagging listing shows; one only
sent is doubtful until its settle window has passed, and is then settled by a complete listing.
Written under the account lock; a write that fails stops the run (it is what keeps another run,
perhaps on another computer, from buying the block again).
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass

from importer.sending.db import Db, DbError
from importer.sending.journal import JournalError
from importer.sending.locks import who
from importer.text import shown

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS purchases (scope TEXT NOT NULL, block TEXT NOT NULL, "
    "epoch DOUBLE PRECISION NOT NULL, settle_by DOUBLE PRECISION, rollout TEXT, file TEXT, "
    "host TEXT, user_name TEXT, status TEXT NOT NULL, PRIMARY KEY (scope, block))",
    "CREATE TABLE IF NOT EXISTS purchase_events (scope TEXT NOT NULL, block TEXT NOT NULL, "
    "at DOUBLE PRECISION NOT NULL, status TEXT NOT NULL, rollout TEXT, file TEXT, host TEXT, "
    "user_name TEXT)",
)
# What each block was last configured to (any rollout): rollback's word where a listing is
# silent about a setting (issue 27).
CONFIGURED_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS configured (scope TEXT NOT NULL, block TEXT NOT NULL, "
    "body TEXT NOT NULL, at DOUBLE PRECISION NOT NULL, rollout TEXT, file TEXT, "
    "PRIMARY KEY (scope, block))",
)
# Outcomes after which a purchase certainly did not happen: nobody need wait for it.
NOT_BOUGHT = ("REJECTED", "FAILED")


@dataclass(frozen=True)
class Known:
    """Another rollout's purchase of a block: when it was sent, by which file (and computer),
    whether it was seen answered OK (or later confirmed), and its sender's window's end."""

    epoch: float
    file: str
    bought: bool
    settle_by: float | None = None
    host: str = ""
    user: str = ""


class Ledger:
    """Purchases per account (scope) and block, in a store's `purchases` and its history in
    `purchase_events`."""

    def __init__(self, db: Db, owns_db: bool = True) -> None:
        self.db, self.owns_db = db, owns_db
        self.host, self.user = who()

    def known(self, scope: str, blocks: list[str], rollout: str, since: float, now: float
              ) -> dict[str, Known]:
        """Block -> another rollout's (not `rollout`'s) purchase of it: every one seen bought,
        and those only sent after `since` or whose sender's window ends after `now` (the others
        a listing now settles)."""
        found: dict[str, Known] = {}
        for start in range(0, len(blocks), 500):
            chunk = blocks[start:start + 500]
            rows = self._run(
                f"SELECT block, epoch, COALESCE(file, ''), status, settle_by, "
                f"COALESCE(host, ''), COALESCE(user_name, '') FROM purchases WHERE scope = ? "
                f"AND COALESCE(rollout, '') != ? AND (status = 'OK' OR (status NOT IN "
                f"({', '.join('?' * len(NOT_BOUGHT))}) AND (epoch > ? OR settle_by > ?))) AND "
                f"block IN ({','.join('?' * len(chunk))})",
                (scope, rollout, *NOT_BOUGHT, self.db.shared(since), self.db.shared(now),
                 *chunk))
            found.update({b: Known(self.db.local(e) or 0.0, f, s == "OK", self.db.local(by),
                                   h, u) for b, e, f, s, by, h, u in rows})
        return found

    def note(self, scope: str, block: str, epoch: float, settle_by: float, rollout: str,
             file: str) -> None:
        """A purchase is about to be sent."""
        self._record(scope, block, epoch, "sent", rollout, file, settle_by)

    def bought(self, scope: str, block: str, epoch: float, rollout: str, file: str) -> None:
        """This machine saw the purchase answered OK, or a look-up confirmed it."""
        self._record(scope, block, epoch, "OK", rollout, file)

    def outcome(self, scope: str, block: str, epoch: float, status: str, rollout: str,
                file: str) -> None:
        """What became of a purchase this run sent (UNKNOWN, or certainly not bought)."""
        self._record(scope, block, epoch, status, rollout, file)

    def _record(self, scope: str, block: str, epoch: float, status: str, rollout: str,
                file: str, settle_by: float | None = None) -> None:
        """One row per block (the latest word; OK is never taken back) and one event."""
        at, by = self.db.shared(epoch), self.db.shared(settle_by)
        who_ = (rollout, file, self.host, self.user)
        try:
            with self.db.transaction():
                self.db.execute(
                    "INSERT INTO purchases (scope, block, epoch, settle_by, rollout, file, host, "
                    "user_name, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (scope, "
                    "block) DO UPDATE SET status = excluded.status, epoch = CASE WHEN "
                    "excluded.status = 'sent' THEN excluded.epoch ELSE purchases.epoch END, "
                    "settle_by = CASE WHEN excluded.status = 'sent' THEN excluded.settle_by ELSE "
                    "purchases.settle_by END, rollout = excluded.rollout, file = excluded.file, "
                    "host = excluded.host, user_name = excluded.user_name WHERE "
                    "purchases.status != 'OK' OR excluded.status = 'OK'",
                    (scope, block, at, by, *who_, status))
                self.db.execute("INSERT INTO purchase_events (scope, block, at, status, rollout, "
                                "file, host, user_name) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                                (scope, block, at, status, *who_))
        except DbError as exc:
            raise self._failed(exc) from exc

    def applied(self, scope: str, done: list[tuple[str, dict, float]], rollout: str,
                file: str) -> None:
        """Configures answered OK (block, body, when): what each block was set to, for a later
        run's rollback; one transaction for them all."""
        try:
            with self.db.transaction():
                for block, body, epoch in done:
                    self.db.execute(
                        "INSERT INTO configured (scope, block, body, at, rollout, file) VALUES "
                        "(?, ?, ?, ?, ?, ?) ON CONFLICT (scope, block) DO UPDATE SET body = "
                        "excluded.body, at = excluded.at, rollout = excluded.rollout, file = "
                        "excluded.file", (scope, block, json.dumps(body, sort_keys=True),
                                          self.db.shared(epoch), rollout, file))
        except DbError as exc:
            raise self._failed(exc) from exc

    def last_configured(self, scope: str, blocks: list[str]) -> dict[str, dict]:
        """Block -> the body of its last configure answered OK (by any run that kept it)."""
        found: dict[str, dict] = {}
        for start in range(0, len(blocks), 500):
            chunk = blocks[start:start + 500]
            for block, body in self._run(
                    f"SELECT block, body FROM configured WHERE scope = ? AND block IN "
                    f"({','.join('?' * len(chunk))})", (scope, *chunk)):
                with contextlib.suppress(ValueError, TypeError):
                    if isinstance(parsed := json.loads(body), dict):
                        found[block] = parsed
        return found

    def _run(self, sql: str, params: tuple) -> list[tuple]:
        try:
            return self.db.execute(sql, params)
        except DbError as exc:
            raise self._failed(exc) from exc

    def _failed(self, exc: DbError) -> JournalError:
        return JournalError(f"{shown(self.db.label)}: the purchase ledger could not be used "
                            f"({exc.reason}); the run stopped so that no purchase is sent "
                            "without a record", exc.detail)

    def close(self) -> None:
        if self.owns_db:
            self.db.close()
