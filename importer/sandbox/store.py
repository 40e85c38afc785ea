"""SQLite state of the sandbox: accounts, properties, owned blocks, sales and purchase requests.

One connection shared by the server threads and serialised by a re-entrant lock; callers that
need check-then-write atomicity (a purchase) hold ``store.lock`` around the whole sequence.
Unsold inventory is implied by its Sid (seed.block_facts), so only owned blocks are rows; each
row carries the block's fixed facts as columns so listings sort, filter and search in SQL.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from importer.spec import contract as c

from .seed import SEED_ACCOUNTS, BlockFacts, block_facts, seed_blocks

SCHEMA_VERSION = 2
_SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    sid TEXT PRIMARY KEY, token TEXT NOT NULL, prefixes TEXT, can_write INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS properties (
    sid TEXT PRIMARY KEY, account_sid TEXT NOT NULL REFERENCES accounts(sid)
);
CREATE TABLE IF NOT EXISTS blocks (
    sid TEXT PRIMARY KEY, id INTEGER NOT NULL UNIQUE, pattern TEXT NOT NULL,
    national TEXT NOT NULL, name TEXT NOT NULL, friendly TEXT NOT NULL, sms INTEGER NOT NULL,
    voice INTEGER NOT NULL, account_sid TEXT NOT NULL, property_sid TEXT, data TEXT NOT NULL,
    sold_at REAL NOT NULL
);
DROP INDEX IF EXISTS blocks_account;
DROP INDEX IF EXISTS blocks_property;
-- A listing page and its count read these alone (sold_at: the listing-lag cut-off), so a page
-- deep into 20,000 blocks costs milliseconds, not a scan of the rows before it.
CREATE INDEX IF NOT EXISTS blocks_account_listed ON blocks(account_sid, id, sold_at);
CREATE INDEX IF NOT EXISTS blocks_property_listed ON blocks(property_sid, id, sold_at);
CREATE TABLE IF NOT EXISTS purchases (sid TEXT PRIMARY KEY, count INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS purchase_requests (sid TEXT PRIMARY KEY, count INTEGER NOT NULL);
-- This sandbox's identity: a new one after a reset, so no journal vouches for the old state.
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
_BLOCK_COLUMNS = "sid, account_sid, property_sid, data"
_SQL_MAX = 2**62  # PageIndex x PageSize may exceed SQLite's integers; nothing is that far
# SortBy (an item field) -> SQL; no block has a SIP trunk, so those sort as equal
SORT_COLUMNS: dict[str, str] = dict(zip(
    c.ITEM_FIELDS, ("id", "sid", "pattern", "name", "friendly", "NULL", "NULL"), strict=True))
# What the search's Text is compared with: the documented fields; the tags live in `data`
_FACT_COLUMNS = {"Number": ("pattern", "national"), "Name": ("name",),
                 "FriendlyName": ("friendly",)}
_SEARCHED = tuple(column for name in c.SEARCH_FIELDS
                  for column in _FACT_COLUMNS.get(name, (f"json_extract(data, '$.{name}')",)))


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
    facts: BlockFacts
    account_sid: str | None
    property_sid: str | None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Listing:
    """Which owned blocks a listing shows and in what order (a search adds ``texts``)."""

    account_sid: str | None = None
    property_sid: str | None = None
    visible_before: float = float("inf")  # sold_at cut-off: Knobs.listing_lag_s
    texts: tuple[str, ...] = ()
    active: bool | None = None
    sms: bool | None = None
    voice: bool | None = None
    sort_by: str = "Id"
    descending: bool = False


def _block_row(sid: str, account: str, prop: str | None, data: dict[str, Any],
               sold_at: float) -> tuple:
    facts = block_facts(sid)
    if facts is None:
        raise ValueError(f"unknown block {sid!r}")
    return (sid, facts.id, facts.pattern, facts.national, facts.name, facts.friendly,
            int(facts.sms), int(facts.voice), account, prop, json.dumps(data), sold_at)


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
            self._upgrade(conn)
            conn.executescript(_SCHEMA)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            if conn.execute("SELECT COUNT(*) FROM accounts").fetchone()[0] == 0:
                self._seed(conn)
            with conn:
                conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('instance', ?)",
                             (secrets.token_hex(8),))
            self.instance: str = conn.execute(
                "SELECT value FROM meta WHERE key = 'instance'").fetchone()[0]

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError("the sandbox store is closed")
        return self._conn

    @staticmethod
    def _upgrade(conn: sqlite3.Connection) -> None:
        """A file from the first sandbox (blocks without facts): add them, keep every row."""
        columns = [r[1] for r in conn.execute("PRAGMA table_info(blocks)")]
        if not columns or "id" in columns:
            return
        rows = conn.execute(f"SELECT {_BLOCK_COLUMNS} FROM blocks").fetchall()
        with conn:
            conn.execute("DROP TABLE blocks")
            conn.executescript(_SCHEMA)
            conn.executemany("INSERT INTO blocks VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                             [_block_row(s, a, p, json.loads(d), 0.0) for s, a, p, d in rows])

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
                "INSERT INTO blocks VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                [_block_row(s, a, p, d, 0.0) for s, a, p, d in seed_blocks()],
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

    @staticmethod
    def _block(row: tuple) -> Block:
        facts = block_facts(row[0])
        assert facts is not None  # only known blocks are ever inserted
        return Block(row[0], facts, row[1], row[2], json.loads(row[3]))

    def block(self, sid: str) -> Block | None:
        """Owned blocks come from the table; unsold inventory is implied by its Sid."""
        row = self._one(f"SELECT {_BLOCK_COLUMNS} FROM blocks WHERE sid = ?", sid)
        if row is not None:
            return self._block(row)
        facts = block_facts(sid)
        return Block(sid, facts, None, None, {}) if facts is not None else None

    def owned_blocks(self, listing: Listing, *, offset: int, limit: int,
                     with_total: bool = True) -> tuple[list[Block], int | None]:
        """One page of the blocks a listing shows, plus their total count when asked."""
        if (listing.account_sid is None) == (listing.property_sid is None):
            raise ValueError("give exactly one of account_sid or property_sid")
        where, params = ["sold_at <= ?"], [listing.visible_before]
        if listing.account_sid is not None:
            where.append("account_sid = ?")
            params.append(listing.account_sid)
        else:
            where.append("property_sid = ?")
            params.append(listing.property_sid)
        if listing.active is not None:  # a block is active unless set inactive
            where.append("COALESCE(json_extract(data, '$.Active'), 1) = ?")
            params.append(int(listing.active))
        for column, wanted in (("sms", listing.sms), ("voice", listing.voice)):
            if wanted is not None:
                where.append(f"{column} = ?")
                params.append(int(wanted))
        for text in listing.texts:
            where.append("(" + " OR ".join(f"instr(lower(COALESCE({col}, '')), ?) > 0"
                                           for col in _SEARCHED) + ")")
            params.extend([text.lower()] * len(_SEARCHED))
        clause = " AND ".join(where)
        direction = "DESC" if listing.descending else "ASC"
        column = SORT_COLUMNS[listing.sort_by]
        # "id, id" would make SQLite sort every matching row again for each page
        order = f"id {direction}" if column == "id" else f"{column} {direction}, id {direction}"
        with self.lock:
            db = self._db()
            total = (db.execute(f"SELECT COUNT(*) FROM blocks WHERE {clause}", params)
                     .fetchone()[0] if with_total else None)
            rows = db.execute(
                f"SELECT {_BLOCK_COLUMNS} FROM blocks WHERE {clause} ORDER BY {order}"
                " LIMIT ? OFFSET ?", [*params, min(limit, _SQL_MAX), min(max(offset, 0), _SQL_MAX)]
            ).fetchall()
        return [self._block(r) for r in rows], total

    def _counts(self, table: str) -> dict[str, int]:
        with self.lock:
            rows = self._db().execute(f"SELECT sid, count FROM {table} ORDER BY sid").fetchall()
        return {sid: count for sid, count in rows}

    def purchase_counts(self) -> dict[str, int]:
        """Sales committed per block."""
        return self._counts("purchases")

    def purchase_requests(self) -> dict[str, int]:
        """Purchase requests received per block they named, accepted or not."""
        return self._counts("purchase_requests")

    # --- writes ------------------------------------------------------------------------------

    def count_purchase_request(self, sids: Iterable[str]) -> None:
        with self.lock:
            db = self._db()
            with db:
                db.executemany("INSERT INTO purchase_requests VALUES (?, 1)"
                               " ON CONFLICT(sid) DO UPDATE SET count = count + 1",
                               [(sid,) for sid in sids])

    def record_purchase(
        self, sid: str, account_sid: str, property_sid: str | None, data: dict[str, Any]
    ) -> None:
        """Sell the block (again, if it was owned) and count the sale, atomically."""
        with self.lock:
            db = self._db()
            with db:
                db.execute("INSERT OR REPLACE INTO blocks VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                           _block_row(sid, account_sid, property_sid, data, time.time()))
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
