"""SQLite state of the sandbox: accounts, properties, owned blocks and purchase counts.

One connection shared by the server threads and serialised by a re-entrant lock; callers that
need check-then-write atomicity (a purchase) hold ``store.lock`` around the whole sequence.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass, field
from typing import Any

from .seed import SEED_ACCOUNTS, is_inventory_sid, seed_blocks

_SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    sid TEXT PRIMARY KEY, token TEXT NOT NULL, prefixes TEXT, can_write INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS properties (
    sid TEXT PRIMARY KEY, account_sid TEXT NOT NULL REFERENCES accounts(sid)
);
CREATE TABLE IF NOT EXISTS blocks (
    sid TEXT PRIMARY KEY, account_sid TEXT NOT NULL, property_sid TEXT, data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS blocks_account ON blocks(account_sid, sid);
CREATE INDEX IF NOT EXISTS blocks_property ON blocks(property_sid, sid);
CREATE TABLE IF NOT EXISTS purchases (sid TEXT PRIMARY KEY, count INTEGER NOT NULL);
"""


@dataclass(frozen=True)
class Account:
    sid: str
    token: str
    prefixes: tuple[str, ...] | None
    can_write: bool


@dataclass(frozen=True)
class Property:
    sid: str
    account_sid: str


@dataclass
class Block:
    """A block that exists; ``account_sid`` is None while it is still in the inventory."""

    sid: str
    account_sid: str | None
    property_sid: str | None
    data: dict[str, Any] = field(default_factory=dict)


class Store:
    """The sandbox's persistent state; ``db_path=None`` keeps it in memory."""

    def __init__(self, db_path: str | None = None) -> None:
        self.db_path = db_path
        self.lock = threading.RLock()
        self._conn: sqlite3.Connection | None = sqlite3.connect(
            db_path or ":memory:", check_same_thread=False
        )
        with self.lock:
            conn = self._db()
            if db_path:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
            conn.executescript(_SCHEMA)
            if conn.execute("SELECT COUNT(*) FROM accounts").fetchone()[0] == 0:
                self._seed(conn)

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError("the sandbox store is closed")
        return self._conn

    @staticmethod
    def _seed(conn: sqlite3.Connection) -> None:
        with conn:
            for acc in SEED_ACCOUNTS:
                prefixes = json.dumps(list(acc.prefixes)) if acc.prefixes is not None else None
                conn.execute(
                    "INSERT INTO accounts VALUES (?, ?, ?, ?)",
                    (acc.sid, acc.token, prefixes, int(acc.can_write)),
                )
                conn.executemany(
                    "INSERT INTO properties VALUES (?, ?)",
                    [(p, acc.sid) for p in acc.property_sids],
                )
            conn.executemany(
                "INSERT INTO blocks VALUES (?, ?, ?, ?)",
                [(s, a, p, json.dumps(d)) for s, a, p, d in seed_blocks()],
            )

    def close(self) -> None:
        with self.lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    # --- reads -------------------------------------------------------------------------------

    def _one(self, sql: str, *params: object) -> tuple | None:
        """One row of a read, under the store's lock."""
        with self.lock:
            return self._db().execute(sql, params).fetchone()

    def account(self, sid: str) -> Account | None:
        row = self._one("SELECT sid, token, prefixes, can_write FROM accounts WHERE sid = ?", sid)
        if row is None:
            return None
        prefixes = tuple(json.loads(row[2])) if row[2] is not None else None
        return Account(row[0], row[1], prefixes, bool(row[3]))

    def property(self, sid: str) -> Property | None:
        row = self._one("SELECT sid, account_sid FROM properties WHERE sid = ?", sid)
        return Property(row[0], row[1]) if row else None

    def block(self, sid: str) -> Block | None:
        """Owned blocks come from the table; unsold inventory is implied by its Sid."""
        row = self._one("SELECT sid, account_sid, property_sid, data FROM blocks WHERE sid = ?",
                        sid)
        if row is not None:
            return Block(row[0], row[1], row[2], json.loads(row[3]))
        if is_inventory_sid(sid):
            return Block(sid, None, None, {})
        return None

    def owned_blocks(
        self,
        *,
        account_sid: str | None = None,
        property_sid: str | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> tuple[list[Block], int]:
        """One page of owned blocks sorted by Sid, plus the total count."""
        if (account_sid is None) == (property_sid is None):
            raise ValueError("give exactly one of account_sid or property_sid")
        column, value = (
            ("account_sid", account_sid)
            if account_sid is not None
            else ("property_sid", property_sid)
        )
        with self.lock:
            db = self._db()
            total = db.execute(
                f"SELECT COUNT(*) FROM blocks WHERE {column} = ?", (value,)
            ).fetchone()[0]
            rows = db.execute(
                f"SELECT sid, account_sid, property_sid, data FROM blocks WHERE {column} = ?"
                " ORDER BY sid LIMIT ? OFFSET ?",
                (value, limit, offset),
            ).fetchall()
        return [Block(r[0], r[1], r[2], json.loads(r[3])) for r in rows], total

    def purchase_counts(self) -> dict[str, int]:
        with self.lock:
            rows = self._db().execute("SELECT sid, count FROM purchases ORDER BY sid").fetchall()
        return {sid: count for sid, count in rows}

    # --- writes ------------------------------------------------------------------------------

    def record_purchase(
        self, sid: str, account_sid: str, property_sid: str | None, data: dict[str, Any]
    ) -> None:
        """Take the block out of the inventory and count the accepted purchase, atomically."""
        with self.lock:
            db = self._db()
            with db:
                db.execute(
                    "INSERT INTO blocks VALUES (?, ?, ?, ?)",
                    (sid, account_sid, property_sid, json.dumps(data)),
                )
                db.execute(
                    "INSERT INTO purchases VALUES (?, 1)"
                    " ON CONFLICT(sid) DO UPDATE SET count = count + 1",
                    (sid,),
                )

    def update_block(self, sid: str, data: dict[str, Any]) -> None:
        with self.lock:
            db = self._db()
            with db:
                db.execute("UPDATE blocks SET data = ? WHERE sid = ?", (json.dumps(data), sid))
