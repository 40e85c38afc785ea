"""The embedded store, on this computer only (the default: nothing to set up): OS file locks
and the purchase ledger in the state folder, each rollout's journal in a file beside its
results."""

from __future__ import annotations

import contextlib
from pathlib import Path

from importer.errors import InputError
from importer.sending import locks
from importer.sending.db import DbError, SqliteDb, StateUnavailable
from importer.sending.journal import Journal
from importer.sending.ledger import CONFIGURED_SCHEMA, Ledger
from importer.sending.ledger import SCHEMA as LEDGER_SCHEMA
from importer.sending.store import Rollout, StateStore
from importer.text import shown

LEDGER_FILE = "purchases.sqlite"
LEDGER_VERSION = 2  # PRAGMA user_version of the ledger file (0: the `sent` table of 0.1)


class LocalStore(StateStore):
    """This computer's state folder and journal files (the default: nothing to set up)."""

    label = "the state folder"

    def hold_rollout(self, rollout: Rollout, what: str, **waiting: object
                     ) -> contextlib.AbstractContextManager[None]:
        path = rollout.journal_path
        return locks.hold(path.with_name(path.name + ".lock"), what, "this rollout",
                          **waiting)  # type: ignore[arg-type]

    def hold_account(self, scope: str, what: str, **waiting: object
                     ) -> contextlib.AbstractContextManager[None]:
        return locks.hold(locks.account_lock_path(scope), what,
                          "this API account for purchases", **waiting)  # type: ignore[arg-type]

    def journal(self, rollout: Rollout) -> Journal:
        return Journal.file(rollout.journal_path)

    def has_journal(self, rollout: Rollout) -> bool:
        return rollout.journal_path.is_file()

    def journal_label(self, rollout: Rollout) -> str:
        return str(rollout.journal_path)

    def ledger(self) -> Ledger:
        return Ledger(open_ledger_file(locks.state_dir() / LEDGER_FILE))


def open_ledger_file(path: Path) -> SqliteDb:
    """The state folder's ledger, brought up to this version (0.1's `sent` table moved over)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = SqliteDb(path)
        version = db.execute("PRAGMA user_version")[0][0]
    except (OSError, DbError) as exc:
        raise StateUnavailable(f"{shown(path)}: the purchase ledger cannot be opened "
                               f"({getattr(exc, 'reason', None) or exc}); nothing was sent",
                               str(exc)) from exc
    if version > LEDGER_VERSION:
        db.close()
        raise InputError(f"{shown(path)}: this ledger was written by a newer version of the "
                         "importer; upgrade it (pip install -U number-block-importer)")
    try:
        with db.transaction():
            for statement in (*LEDGER_SCHEMA, *CONFIGURED_SCHEMA):
                db.execute(statement)
            if db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name = "
                          "'sent'"):
                have = {r[1] for r in db.execute("PRAGMA table_info(sent)")}
                status = "COALESCE(status, 'sent')" if "status" in have else "'sent'"
                file = "file" if "file" in have else "NULL"
                db.execute("INSERT INTO purchases (scope, block, epoch, rollout, file, status) "
                           f"SELECT scope, block, epoch, journal, {file}, {status} FROM sent "
                           "WHERE true ON CONFLICT (scope, block) DO NOTHING")
                db.execute("DROP TABLE sent")
            db.execute(f"PRAGMA user_version = {LEDGER_VERSION}")
    except DbError as exc:
        db.close()
        raise StateUnavailable(f"{shown(path)}: the purchase ledger cannot be used "
                               f"({exc.reason}); nothing was sent", exc.detail) from exc
    return db
