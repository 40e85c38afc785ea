"""The journal: each row is written down before it is sent and again with its outcome.

Every write is its own committed transaction, so a kill at any moment loses nothing that was
answered, and a row caught in flight is found as `sending` on the next run. Configure rows are
keyed by a fingerprint of scope, target path and body (an edited row is a new row); a purchase
is keyed by its block alone, because a block is bought once whatever else the row says.

The same journal lives in a file beside the results (one file a rollout: SQLite), or in the
team's shared store (`journal_rows`, keyed by the rollout's name as well): `state`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from pathlib import Path

from importer.errors import ExitCode, ImporterError, InputError
from importer.report import Outcome
from importer.sending.db import Db, DbError, SqliteDb
from importer.text import shown

# The columns of a journal row (both stores); a journal file's table is `rows`.
COLUMNS = """
    fingerprint TEXT NOT NULL,
    operation TEXT NOT NULL,
    block_sid TEXT NOT NULL,
    path TEXT NOT NULL,
    state TEXT NOT NULL,              -- sending | pending (a doubt being settled) | done
    status TEXT,                      -- OK, REJECTED, FAILED, UNKNOWN (when done)
    http_status INTEGER,
    error_code TEXT,
    message TEXT,
    sent_at TEXT NOT NULL,            -- local time, ISO 8601
    finished_at TEXT,
    sent_epoch DOUBLE PRECISION,      -- when sent (the store's clock): the window counts from it
    settle_by DOUBLE PRECISION        -- the sender's window's end: no look-up believed before
"""
# A configure row's block as it was before the row was first sent (rollback, issue 27): the
# settings known (a JSON object, null for empty) and those whose value was not known.
BEFORE_COLUMNS = """
    fingerprint TEXT NOT NULL,
    block_sid TEXT NOT NULL,
    settings TEXT NOT NULL,
    unknown TEXT NOT NULL,
    taken_at TEXT NOT NULL
"""
FILE_SCHEMA = (f"CREATE TABLE IF NOT EXISTS rows ({COLUMNS}, PRIMARY KEY (fingerprint))",)
# Made by the first configure run that records settings (a purchase-only journal stays small).
FILE_BEFORE = f"CREATE TABLE IF NOT EXISTS before ({BEFORE_COLUMNS}, PRIMARY KEY (fingerprint))"
FILE_VERSION = 3  # PRAGMA user_version of a journal file (0: before versions were kept)
_ADDED_COLUMNS = {"sent_epoch": "REAL", "settle_by": "REAL"}  # files of earlier versions


SUPERSEDED = "SUPERSEDED"  # applied, then another configure of its block went through


class JournalError(ImporterError):
    """The journal cannot be written: nothing more may be sent (it could not be recorded)."""

    exit_code = ExitCode.ABORTED


def fingerprint(scope: str, operation: str, path: str, body: dict) -> str:
    """`scope` names the API and account, so a sandbox rehearsal never vouches for production."""
    text = json.dumps([scope, operation, path.lower(), body], sort_keys=True,
                      separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def purchase_fingerprint(scope: str, block_key: str) -> str:
    return fingerprint(scope, "purchase", "", {"block": block_key})


@dataclass(frozen=True)
class Entry:
    state: str
    status: str | None
    sent_at: str
    finished_at: str | None
    sent_epoch: float | None
    settle_by: float | None = None

    @property
    def doubtful(self) -> bool:
        """An earlier run was cut off mid-request or while settling a doubt, or could not tell
        what happened."""
        return self.state in ("sending", "pending") or self.status == "UNKNOWN"


@dataclass(frozen=True)
class Before:
    """A configure row's block before the row: each setting's earlier value (None: it was
    empty), and the settings whose earlier value is not known."""

    fp: str
    block: str
    settings: dict[str, str | None]
    unknown: frozenset[str]


class Journal:
    """One rollout's rows: a file of its own, or its part of the shared store's table."""

    def __init__(self, db: Db, table: str = "rows", rollout: str | None = None,
                 identity: str = "", owns_db: bool = True, before: str = "before") -> None:
        self.db, self.table, self.rollout, self.before_table = db, table, rollout, before
        self.identity = identity or db.label  # what the ledger calls this rollout
        self.owns_db = owns_db
        self._key = "rollout = ? AND fingerprint" if rollout is not None else "fingerprint"
        self._conflict = "(rollout, fingerprint)" if rollout is not None else "(fingerprint)"
        self._rollout = (rollout,) if rollout is not None else ()

    @classmethod
    def file(cls, path: Path) -> Journal:
        """The journal file of a rollout (created, or brought up to this version)."""
        try:
            db = SqliteDb(path)
            version = db.execute("PRAGMA user_version")[0][0]
        except DbError as exc:
            raise _unusable(path, exc) from exc
        if version > FILE_VERSION:
            db.close()
            raise InputError(f"{shown(path)}: this journal was written by a newer version of "
                             "the importer; upgrade it (pip install -U number-block-importer)")
        try:
            with db.transaction():  # one commit: a nearly full disk takes the rows first
                for statement in FILE_SCHEMA:
                    db.execute(statement)
                have = {r[1] for r in db.execute("PRAGMA table_info(rows)")}
                for name, kind in _ADDED_COLUMNS.items():
                    if name not in have:
                        db.execute(f"ALTER TABLE rows ADD COLUMN {name} {kind}")
                if version != FILE_VERSION:
                    db.execute(f"PRAGMA user_version = {FILE_VERSION}")
        except DbError as exc:
            db.close()
            raise _unusable(path, exc) from exc
        return cls(db, identity=str(path.resolve()))

    @property
    def path(self) -> str:
        return self.db.label

    def close(self) -> None:
        if self.owns_db:
            self.db.close()

    def entries(self, fingerprints: list[str]) -> dict[str, Entry]:
        """The journal's record of the given rows, looked up in one pass. A configure row
        applied before is SUPERSEDED when a later configure of its block went through (an A,
        B, A edit sends A again: the block was left at B)."""
        found: dict[str, Entry] = {}
        applied: dict[str, str] = {}  # fingerprint -> block, of configure rows answered OK
        for start in range(0, len(fingerprints), 500):
            chunk = fingerprints[start:start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._read(
                f"SELECT fingerprint, state, status, sent_at, finished_at, sent_epoch, settle_by, "
                f"operation, block_sid FROM {self.table} WHERE {self._key} IN ({marks})",
                (*self._rollout, *chunk))
            for fp, state, status, sent_at, finished_at, epoch, settle_by, op, block in rows:
                found[fp] = Entry(state, status, sent_at, finished_at, self.db.local(epoch),
                                  self.db.local(settle_by))
                if op == "configure" and status == "OK":
                    applied[fp] = block.lower()
        if applied:
            latest = self._latest_applied()
            for fp, block in applied.items():
                if latest.get(block, fp) != fp:
                    found[fp] = replace(found[fp], status=SUPERSEDED)
        return found

    def _latest_applied(self) -> dict[str, str]:
        """Block (lower case) -> the fingerprint of its configure applied last (one scan)."""
        mine = "rollout = ? AND " if self._rollout else ""
        latest: dict[str, tuple[float, str]] = {}
        for block, fp, epoch in self._read(
                f"SELECT block_sid, fingerprint, sent_epoch FROM {self.table} WHERE {mine}"
                "operation = 'configure' AND status = 'OK'", self._rollout):
            key, when = block.lower(), epoch or 0.0
            if key not in latest or when > latest[key][0]:
                latest[key] = (when, fp)
        return {k: fp for k, (_, fp) in latest.items()}

    def sending(self, fp: str, operation: str, block_sid: str, path: str, at: str,
                epoch: float, settle_by: float | None = None) -> None:
        names = "rollout, " if self.rollout is not None else ""
        self._write(
            f"INSERT INTO {self.table} ({names}fingerprint, operation, block_sid, path, state, "
            f"sent_at, sent_epoch, settle_by) VALUES ({'?, ' * len(self._rollout)}?, ?, ?, ?, "
            f"'sending', ?, ?, ?) ON CONFLICT{self._conflict} DO UPDATE SET state='sending', "
            "status=NULL, http_status=NULL, error_code=NULL, message=NULL, "
            "sent_at=excluded.sent_at, sent_epoch=excluded.sent_epoch, "
            "settle_by=excluded.settle_by, finished_at=NULL",
            (*self._rollout, fp, operation, block_sid, path, at, self.db.shared(epoch),
             self.db.shared(settle_by)))

    def pending(self, fp: str, outcome: Outcome) -> None:
        """A purchase answered in doubt: sent, being settled by look-ups while the run goes on."""
        self._write(f"UPDATE {self.table} SET state='pending', http_status=?, error_code=?, "
                    f"message=? WHERE {self._key} = ?",
                    (outcome.http_status, outcome.error_code, outcome.message, *self._rollout,
                     fp))

    def finished(self, fp: str, outcome: Outcome, at: str) -> None:
        self._write(
            f"UPDATE {self.table} SET state='done', status=?, http_status=?, error_code=?, "
            f"message=?, finished_at=? WHERE {self._key} = ?",
            (outcome.status.value, outcome.http_status, outcome.error_code, outcome.message,
             at, *self._rollout, fp))

    def record_before(self, found: list[Before], at: str) -> None:
        """Each configure row's block as it is before the row is first sent; an earlier record
        of the same row is kept (it saw the block before any attempt of it)."""
        names = "rollout, " if self.rollout is not None else ""
        marks = "?, " * len(self._rollout)
        try:
            with self.db.transaction():
                if self.rollout is None:
                    self.db.execute(FILE_BEFORE)
                for item in found:
                    self.db.execute(
                        f"INSERT INTO {self.before_table} ({names}fingerprint, block_sid, "
                        f"settings, unknown, taken_at) VALUES ({marks}?, ?, ?, ?, ?) ON "
                        f"CONFLICT{self._conflict} DO NOTHING",
                        (*self._rollout, item.fp, item.block,
                         json.dumps(item.settings, sort_keys=True, ensure_ascii=False),
                         json.dumps(sorted(item.unknown)), at))
        except DbError as exc:
            raise self._failed("written", exc) from exc

    def before(self, fingerprints: list[str]) -> dict[str, Before]:
        """The recorded earlier settings of the given configure rows."""
        found: dict[str, Before] = {}
        for start in range(0, len(fingerprints), 500):
            chunk = fingerprints[start:start + 500]
            for fp, block, settings, unknown in self._read(
                    f"SELECT fingerprint, block_sid, settings, unknown FROM {self.before_table} "
                    f"WHERE {self._key} IN ({','.join('?' * len(chunk))})",
                    (*self._rollout, *chunk)):
                found[fp] = Before(fp, block, json.loads(settings), frozenset(
                    json.loads(unknown)))
        return found

    def _read(self, sql: str, params: tuple) -> list[tuple]:
        try:
            return self.db.execute(sql, params)
        except DbError as exc:
            raise self._failed("read", exc) from exc

    def _write(self, sql: str, params: tuple) -> None:
        try:
            self.db.execute(sql, params)
        except DbError as exc:
            raise self._failed("written", exc) from exc

    def _failed(self, how: str, exc: DbError) -> JournalError:
        where = self.db.label if self.rollout is None else (
            f"the journal of {shown(self.rollout, 80)} in {self.db.label}")
        return JournalError(f"{shown(where)}: the journal could not be {how} ({exc.reason}); "
                            "the run stopped so that nothing is sent without a record",
                            exc.detail)


def _unusable(path: Path, exc: DbError) -> InputError:
    return InputError(f"{shown(path)}: cannot use this journal file: it may be damaged, or not "
                      "be a journal; move it away or choose another --journal", exc.detail)
