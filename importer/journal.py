"""The SQLite journal: each row is written down before it is sent and again with its outcome.

Every write is its own committed transaction (WAL), so a kill at any moment loses nothing that
was answered, and a row caught in flight is found as `sending` on the next run. Rows are keyed by
a fingerprint of operation, target path and normalised body: an edited row is a new row.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from importer.errors import InputError
from importer.report import Outcome

SCHEMA = """
CREATE TABLE IF NOT EXISTS rows (
    fingerprint TEXT PRIMARY KEY,
    operation TEXT NOT NULL,
    block_sid TEXT NOT NULL,
    path TEXT NOT NULL,
    state TEXT NOT NULL,              -- sending | done
    status TEXT,                      -- OK, REJECTED, FAILED, UNKNOWN (when done)
    http_status INTEGER,
    error_code TEXT,
    message TEXT,
    sent_at TEXT NOT NULL,
    finished_at TEXT
);
"""


def fingerprint(scope: str, operation: str, path: str, body: dict) -> str:
    """`scope` names the API and account, so a sandbox rehearsal never vouches for production."""
    text = json.dumps([scope, operation, path.lower(), body], sort_keys=True,
                      separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Entry:
    state: str
    status: str | None
    sent_at: str
    finished_at: str | None


class Journal:
    """One file per rollout, beside its results workbook."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL survives a process kill
            self.db.executescript(SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise InputError(f"{path}: cannot use this journal file ({exc})") from exc

    def close(self) -> None:
        self.db.close()

    def entries(self, fingerprints: list[str]) -> dict[str, Entry]:
        """The journal's record of the given rows, looked up in one pass."""
        found: dict[str, Entry] = {}
        for start in range(0, len(fingerprints), 500):
            chunk = fingerprints[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for fp, *rest in self.db.execute(
                    f"SELECT fingerprint, state, status, sent_at, finished_at FROM rows "
                    f"WHERE fingerprint IN ({marks})", chunk):
                found[fp] = Entry(*rest)
        return found

    def sending(self, fp: str, operation: str, block_sid: str, path: str, at: str) -> None:
        self.db.execute(
            "INSERT INTO rows (fingerprint, operation, block_sid, path, state, sent_at) "
            "VALUES (?, ?, ?, ?, 'sending', ?) ON CONFLICT(fingerprint) DO UPDATE SET "
            "state='sending', status=NULL, http_status=NULL, error_code=NULL, message=NULL, "
            "sent_at=excluded.sent_at, finished_at=NULL",
            (fp, operation, block_sid, path, at))

    def finished(self, fp: str, outcome: Outcome, at: str) -> None:
        self.db.execute(
            "UPDATE rows SET state='done', status=?, http_status=?, error_code=?, message=?, "
            "finished_at=? WHERE fingerprint=?",
            (outcome.status.value, outcome.http_status, outcome.error_code, outcome.message,
             at, fp))
