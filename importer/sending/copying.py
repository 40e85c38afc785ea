"""`importer state migrate`: what this computer knows, copied into a team's shared store.

The purchase ledger of the state folder and the journals found (the web app's workspace and the
folders named), so that a team starts from what each laptop already knows: a purchase one of
them saw bought stays owned for every run of anyone. Idempotent: a row already there is kept,
unless what is copied knows more (OK beats any other word; a later attempt beats an earlier
one), so a second copy adds nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from importer.errors import UsageError
from importer.sending import locks
from importer.sending.db import DbError, SqliteDb, is_postgres
from importer.sending.journal import JournalError
from importer.sending.local import LEDGER_FILE, open_ledger_file
from importer.sending.postgres import SharedStore
from importer.text import shown

JOURNAL_SUFFIX = ".journal.sqlite"
# Seconds within which two times are one: each copy measures the clocks' offset anew.
SAME_TIME = 1.0
_JOURNAL_COLUMNS = ("fingerprint", "operation", "block_sid", "path", "state", "status",
                    "http_status", "error_code", "message", "sent_at", "finished_at",
                    "sent_epoch", "settle_by")
_PURCHASE_COLUMNS = ("scope", "block", "epoch", "settle_by", "rollout", "file", "host",
                     "user_name", "status")
_EVENT_COLUMNS = ("scope", "block", "at", "status", "rollout", "file", "host", "user_name")


@dataclass
class Copied:
    purchases: int = 0  # ledger rows added or learnt (a purchase now known OK)
    events: int = 0
    rows: int = 0  # journal rows added or learnt
    rollouts: set[str] = field(default_factory=set)  # rollouts that had rows copied
    journals: int = 0  # journal files read
    already: int = 0  # rows that were there already (and knew as much)


def rollout_name(journal: Path) -> str:
    """`x` for `x.journal.sqlite`: the rollout's name, as runs key it in a shared store."""
    name = journal.name
    return name[:-len(JOURNAL_SUFFIX)] if name.endswith(JOURNAL_SUFFIX) else journal.stem


def journals_in(places: Iterable[Path]) -> list[Path]:
    """Journal files named, or found in (and below) the folders named, each once."""
    found: dict[Path, None] = {}
    for place in places:
        paths = [place] if place.is_file() else sorted(place.rglob(f"*{JOURNAL_SUFFIX}"))
        found.update((p.resolve(), None) for p in paths if p.is_file())
    return list(found)


def migrate(to: str, places: list[Path]) -> tuple[Copied, str]:
    """`importer state migrate --to URL [PLACES]`: this computer's ledger and the journals in
    its state folder and `places`, copied into the shared store `to`; and what to call it."""
    if not is_postgres(to):
        raise UsageError("--to must be a PostgreSQL address, postgresql://user@host/database")
    missing = [p for p in places if not p.exists()]
    if missing:
        raise UsageError(f"{shown(missing[0])}: no such file or folder")
    folder = locks.state_dir()
    store = SharedStore(to)
    try:
        return (copy_state(store, folder / LEDGER_FILE,
                           journals_in([*([folder] if folder.is_dir() else []), *places])),
                store.label)
    finally:
        store.close()


def copy_state(store: SharedStore, ledger_file: Path, journals: list[Path]) -> Copied:
    """Copy the ledger and the journals into `store`; one transaction per file, so a copy cut
    off half way is simply run again."""
    copied = Copied()
    if ledger_file.is_file():
        _copy_ledger(store, ledger_file, copied)
    for journal in journals:
        _copy_journal(store, journal, copied)
        copied.journals += 1
    return copied


def _copy_ledger(store: SharedStore, path: Path, copied: Copied) -> None:
    local = open_ledger_file(path)  # brought up to this version first
    try:
        purchases = local.execute(f"SELECT {', '.join(_PURCHASE_COLUMNS)} FROM purchases")
        events = local.execute(f"SELECT {', '.join(_EVENT_COLUMNS)} FROM purchase_events")
    except DbError as exc:
        raise JournalError(f"{shown(path)}: the ledger could not be read ({exc.reason})",
                           exc.detail) from exc
    finally:
        local.close()
    db = store.db
    marks = ", ".join("?" * len(_PURCHASE_COLUMNS))
    with _writing(store):
        for scope, block, epoch, settle_by, rollout, *rest in purchases:
            # The laptop's ledger names a rollout by its journal's path: the store, by name.
            name = rollout_name(Path(rollout)) if rollout else rollout
            learnt = db.execute(
                f"INSERT INTO purchases ({', '.join(_PURCHASE_COLUMNS)}) VALUES ({marks}) "
                "ON CONFLICT (scope, block) DO UPDATE SET status = excluded.status, "
                "epoch = excluded.epoch, settle_by = excluded.settle_by, rollout = "
                "excluded.rollout, file = excluded.file, host = excluded.host, user_name = "
                "excluded.user_name WHERE purchases.status != 'OK' AND (excluded.status = "
                f"'OK' OR excluded.epoch > purchases.epoch + {SAME_TIME}) RETURNING block",
                (scope, block, db.shared(epoch), db.shared(settle_by), name, *rest))
            copied.purchases += bool(learnt)
            copied.already += not learnt
        for scope, block, at, status, rollout, *rest in events:
            name = rollout_name(Path(rollout)) if rollout else rollout
            row = (scope, block, db.shared(at), status, name, *rest)
            added = db.execute(
                f"INSERT INTO purchase_events ({', '.join(_EVENT_COLUMNS)}) SELECT ?, ?, ?, ?, "
                "?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM purchase_events WHERE scope = ? AND "
                "block = ? AND abs(at - ?) < ? AND status = ?) RETURNING block",
                (*row, *row[:3], SAME_TIME, row[3]))
            copied.events += bool(added)


def _copy_journal(store: SharedStore, path: Path, copied: Copied) -> None:
    try:
        local = SqliteDb(path)
        have = {r[1] for r in local.execute("PRAGMA table_info(rows)")}
        columns = [c if c in have else "NULL" for c in _JOURNAL_COLUMNS]
        rows = local.execute(f"SELECT {', '.join(columns)} FROM rows")
        local.close()
    except DbError as exc:
        raise JournalError(f"{shown(path)}: this journal could not be read ({exc.reason}); "
                           "move it away, or name only the folders to copy", exc.detail) from exc
    db, name = store.db, rollout_name(path)
    marks = ", ".join("?" * (len(_JOURNAL_COLUMNS) + 1))
    with _writing(store):
        for row in rows:
            *head, sent_epoch, settle_by = row
            learnt = db.execute(
                f"INSERT INTO journal_rows (rollout, {', '.join(_JOURNAL_COLUMNS)}) VALUES "
                f"({marks}) ON CONFLICT (rollout, fingerprint) DO UPDATE SET "
                + ", ".join(f"{c} = excluded.{c}" for c in _JOURNAL_COLUMNS[1:])
                + " WHERE journal_rows.status IS DISTINCT FROM 'OK' AND (excluded.status = "
                f"'OK' OR excluded.sent_epoch > journal_rows.sent_epoch + {SAME_TIME}) "
                "RETURNING fingerprint",
                (name, *head, db.shared(sent_epoch), db.shared(settle_by)))
            copied.rows += bool(learnt)
            copied.already += not learnt
            if learnt:
                copied.rollouts.add(name)


@contextlib.contextmanager
def _writing(store: SharedStore) -> Iterator[None]:
    """One transaction, its failure one plain line."""
    try:
        with store.db.transaction():
            yield
    except DbError as exc:
        raise JournalError(f"{store.label}: the copy could not be written ({exc.reason}); "
                           "nothing of this file was copied; run it again", exc.detail) from exc
