"""The SQLite journal: each row is written down before it is sent and again with its outcome.

Every write is its own committed transaction (WAL), so a kill at any moment loses nothing that
was answered, and a row caught in flight is found as `sending` on the next run. Configure rows
are keyed by a fingerprint of scope, target path and body (an edited row is a new row); a
purchase is keyed by its block alone, because a block is bought once whatever else the row says.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from importer.errors import ExitCode, ImporterError, InputError
from importer.report import Outcome
from importer.text import shown

SCHEMA = """
CREATE TABLE IF NOT EXISTS rows (
    fingerprint TEXT PRIMARY KEY,
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
    sent_epoch REAL                   -- time.time() when sent: the settle window counts from it
);
"""
_ADDED_COLUMNS = {"sent_epoch": "REAL"}


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

    @property
    def doubtful(self) -> bool:
        """An earlier run was cut off mid-request or while settling a doubt, or could not tell
        what happened."""
        return self.state in ("sending", "pending") or self.status == "UNKNOWN"


class Journal:
    """One file per rollout, beside its results workbook."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL survives a process kill
            self.db.executescript(SCHEMA)
            have = {r[1] for r in self.db.execute("PRAGMA table_info(rows)")}
            for name, kind in _ADDED_COLUMNS.items():  # journals written by earlier versions
                if name not in have:
                    self.db.execute(f"ALTER TABLE rows ADD COLUMN {name} {kind}")
        except sqlite3.Error as exc:
            raise InputError(f"{shown(path)}: cannot use this journal file: it may be damaged, "
                             "or not be a journal; move it away or choose another --journal",
                             str(exc)) from exc

    def close(self) -> None:
        self.db.close()

    def entries(self, fingerprints: list[str]) -> dict[str, Entry]:
        """The journal's record of the given rows, looked up in one pass."""
        found: dict[str, Entry] = {}
        for start in range(0, len(fingerprints), 500):
            chunk = fingerprints[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for fp, *rest in self.db.execute(
                    f"SELECT fingerprint, state, status, sent_at, finished_at, sent_epoch "
                    f"FROM rows WHERE fingerprint IN ({marks})", chunk):
                found[fp] = Entry(*rest)
        return found

    def sending(self, fp: str, operation: str, block_sid: str, path: str, at: str,
                epoch: float) -> None:
        self._write(
            "INSERT INTO rows (fingerprint, operation, block_sid, path, state, sent_at, "
            "sent_epoch) VALUES (?, ?, ?, ?, 'sending', ?, ?) ON CONFLICT(fingerprint) DO UPDATE "
            "SET state='sending', status=NULL, http_status=NULL, error_code=NULL, message=NULL, "
            "sent_at=excluded.sent_at, sent_epoch=excluded.sent_epoch, finished_at=NULL",
            (fp, operation, block_sid, path, at, epoch))

    def pending(self, fp: str, outcome: Outcome) -> None:
        """A purchase answered in doubt: sent, being settled by look-ups while the run goes on."""
        self._write("UPDATE rows SET state='pending', http_status=?, error_code=?, message=? "
                    "WHERE fingerprint=?",
                    (outcome.http_status, outcome.error_code, outcome.message, fp))

    def finished(self, fp: str, outcome: Outcome, at: str) -> None:
        self._write(
            "UPDATE rows SET state='done', status=?, http_status=?, error_code=?, message=?, "
            "finished_at=? WHERE fingerprint=?",
            (outcome.status.value, outcome.http_status, outcome.error_code, outcome.message,
             at, fp))

    def _write(self, sql: str, params: tuple) -> None:
        try:
            self.db.execute(sql, params)
        except sqlite3.Error as exc:
            raise JournalError(f"{shown(self.path)}: the journal could not be written "
                               f"({_plain(exc)}); the run stopped so that nothing is sent "
                               "without a record", str(exc)) from exc


def _plain(exc: sqlite3.Error) -> str:
    text = str(exc).lower()
    if "full" in text or "too large" in text:
        return "the disk is full"
    if "readonly" in text or "read-only" in text:
        return "the file or its folder is read-only"
    if "locked" in text or "busy" in text:
        return "another program is holding it"
    return "a database error"
