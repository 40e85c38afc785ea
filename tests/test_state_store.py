"""The state store's promises, the same tests against both stores (issue 26): this computer's
(SQLite files and OS locks) and a team's (a real PostgreSQL server, tests/pg.py).

"Another computer" is another store object: for the embedded store, on the same state folder
(it protects one computer only); for the shared one, another connection to the same database.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from importer.report import Outcome, Status
from importer.sending.locks import Busy
from importer.sending.state import Rollout, StateStore, open_store

SCOPE = "https://api.example.test:ACDEMO0001"


@pytest.fixture(params=["local", "postgres"])
def store_url(request: pytest.FixtureRequest) -> str:
    return request.getfixturevalue("state_url") if request.param == "postgres" else ""


@pytest.fixture
def stores(store_url: str) -> Iterator[Callable[[], StateStore]]:
    """Opens stores on the same state (each a computer of the team), closed at the end."""
    opened: list[StateStore] = []

    def make() -> StateStore:
        opened.append(open_store(store_url))
        return opened[-1]

    yield make
    for store in opened:
        store.close()


@pytest.fixture
def rollout(tmp_path: Path) -> Rollout:
    return Rollout("spring", SCOPE, tmp_path / "spring.journal.sqlite")


def test_a_journal_row_is_seen_by_every_later_run(stores: Callable[[], StateStore],
                                                  rollout: Rollout) -> None:
    journal = stores().journal(rollout)
    journal.sending("fp1", "purchase", "NB1", "/p", "2026-12-07T10:00:00+11:00", 1000.0, 1060.0)
    journal.sending("fp2", "configure", "NB2", "/c", "2026-12-07T10:00:01+11:00", 1001.0)
    journal.pending("fp1", Outcome(Status.UNKNOWN, "lost", 503))
    journal.finished("fp2", Outcome(Status.OK, "Applied.", 200), "2026-12-07T10:00:02+11:00")
    other = stores()
    assert other.has_journal(rollout)
    entries = other.journal(rollout).entries(["fp1", "fp2", "nope"])
    assert set(entries) == {"fp1", "fp2"}
    assert entries["fp1"].state == "pending" and entries["fp1"].doubtful
    assert entries["fp1"].sent_epoch == pytest.approx(1000.0, abs=0.5)
    assert entries["fp1"].settle_by == pytest.approx(1060.0, abs=0.5)
    assert entries["fp2"].status == "OK" and not entries["fp2"].doubtful
    elsewhere = Rollout("autumn", SCOPE, rollout.journal_path.with_name("autumn.journal.sqlite"))
    assert other.journal(elsewhere).entries(["fp1"]) == {}


def test_the_ledger_keeps_what_another_rollout_sent_and_saw_bought(
        stores: Callable[[], StateStore]) -> None:
    mine, theirs = stores().ledger(), stores().ledger()
    now = time.time()
    theirs.note(SCOPE, "NB1", now, now + 60, "autumn", "autumn.xlsx")  # in flight: a doubt
    theirs.note(SCOPE, "NB2", now - 100, now - 40, "autumn", "autumn.xlsx")  # window over
    theirs.note(SCOPE, "NB3", now - 100, now - 40, "autumn", "autumn.xlsx")
    theirs.bought(SCOPE, "NB3", now - 99, "autumn", "autumn.xlsx")  # seen bought: owned
    theirs.note(SCOPE, "NB4", now, now + 60, "autumn", "autumn.xlsx")
    theirs.outcome(SCOPE, "NB4", now, "REJECTED", "autumn", "autumn.xlsx")  # certainly not
    theirs.note(SCOPE, "NB5", now - 100, now + 30, "autumn", "autumn.xlsx")  # its long window
    known = mine.known(SCOPE, ["NB1", "NB2", "NB3", "NB4", "NB5", "NB6"], "spring", now - 60,
                       now)
    assert set(known) == {"NB1", "NB3", "NB5"}
    assert known["NB3"].bought and not known["NB1"].bought
    assert known["NB1"].file == "autumn.xlsx" and known["NB1"].host
    assert known["NB5"].settle_by == pytest.approx(now + 30, abs=0.5)
    assert mine.known(SCOPE, ["NB1"], "autumn", now - 60, now) == {}  # its own: the journal's
    assert mine.known("another:scope", ["NB3"], "spring", now - 60, now) == {}
    theirs.outcome(SCOPE, "NB3", now, "UNKNOWN", "autumn", "autumn.xlsx")  # OK is never undone
    assert mine.known(SCOPE, ["NB3"], "spring", now, now)["NB3"].bought


def test_a_rollout_is_held_by_one_run_and_the_next_is_told_who(
        stores: Callable[[], StateStore], rollout: Rollout) -> None:
    first, second = stores(), stores()
    with first.hold_rollout(rollout, "/home/alice/spring.xlsx"):
        with pytest.raises(Busy) as busy, second.hold_rollout(rollout, "/home/bob/spring.xlsx"):
            pass
        said = str(busy.value)
        assert "this rollout" in said and "/home/alice/spring.xlsx" in said
        assert " on " in said and "started" in said
        account = second.hold_account(SCOPE, "/home/bob/other.xlsx")  # another lock: free
        with account, pytest.raises(Busy, match="this API account"), first.hold_account(
                SCOPE, "/home/alice/spring.xlsx"):
            pass
    with second.hold_rollout(rollout, "/home/bob/spring.xlsx"):  # released: now it is Bob's
        pass


def test_a_waiting_run_takes_the_lock_when_it_is_released(
        stores: Callable[[], StateStore], rollout: Rollout) -> None:
    first, second = stores(), stores()
    heard: list[str] = []
    held = first.hold_rollout(rollout, "alice.xlsx")
    held.__enter__()
    threading.Timer(0.6, held.__exit__, (None, None, None)).start()
    started = time.monotonic()
    with second.hold_rollout(rollout, "bob.xlsx", wait=True, notify=heard.append):
        assert time.monotonic() - started >= 0.5
    assert heard and "alice.xlsx" in heard[0]


def test_a_killed_holder_leaves_no_lock(store_url: str, rollout: Rollout,
                                        stores: Callable[[], StateStore],
                                        tmp_path: Path, state_dir: Path) -> None:
    """The OS (a file lock) or the server (a session advisory lock) drops it with the
    process: nobody has to clean up after a kill -9."""
    ready = tmp_path / "ready"
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import time
        from pathlib import Path
        from importer.sending.state import Rollout, open_store
        store = open_store({store_url!r})
        with store.hold_account({SCOPE!r}, "killed.xlsx"):
            Path({str(ready)!r}).write_text("held")
            time.sleep(120)
        """)], env={**os.environ, "IMPORTER_STATE_DIR": str(state_dir)})
    try:
        deadline = time.monotonic() + 30
        while not ready.exists():
            assert time.monotonic() < deadline and holder.poll() is None
            time.sleep(0.05)
        with pytest.raises(Busy, match=r"killed\.xlsx"), stores().hold_account(SCOPE, "me.xlsx"):
            pass
    finally:
        holder.kill()
        holder.wait(30)
    killed = time.monotonic()
    store = stores()
    while True:
        try:
            with store.hold_account(SCOPE, "me.xlsx"):
                break
        except Busy:
            assert time.monotonic() - killed < 10, "the lock outlived its holder"
            time.sleep(0.1)


def test_the_ledger_and_a_journal_of_an_earlier_version_are_brought_up_to_date(
        tmp_path: Path, state_dir: Path) -> None:
    """0.1's ledger (`sent`, without status or file) and a journal without sent_epoch or
    settle_by are migrated on first use; what they knew still holds."""
    import sqlite3

    with sqlite3.connect(state_dir / "purchases.sqlite") as db:
        db.execute("CREATE TABLE sent (scope TEXT, block TEXT, epoch REAL, journal TEXT, "
                   "PRIMARY KEY (scope, block))")
        db.execute("INSERT INTO sent VALUES (?, 'NB1', ?, '/old/x.journal.sqlite')",
                   (SCOPE, time.time()))
    journal_path = tmp_path / "x.journal.sqlite"
    with sqlite3.connect(journal_path) as db:
        db.execute("CREATE TABLE rows (fingerprint TEXT PRIMARY KEY, operation TEXT NOT NULL, "
                   "block_sid TEXT NOT NULL, path TEXT NOT NULL, state TEXT NOT NULL, status "
                   "TEXT, http_status INTEGER, error_code TEXT, message TEXT, sent_at TEXT NOT "
                   "NULL, finished_at TEXT)")
        db.execute("INSERT INTO rows VALUES ('fp', 'purchase', 'NB1', '/p', 'done', 'OK', 200, "
                   "'', 'Bought.', '2026-11-01T10:00:00+11:00', '2026-11-01T10:00:01+11:00')")
    store = open_store("")
    try:
        known = store.ledger().known(SCOPE, ["NB1"], "elsewhere", time.time() - 60, time.time())
        assert set(known) == {"NB1"} and not known["NB1"].bought  # sent, in its window
        entry = store.journal(Rollout("x", SCOPE, journal_path)).entries(["fp"])["fp"]
        assert entry.status == "OK" and entry.sent_epoch is None
    finally:
        store.close()
    with sqlite3.connect(state_dir / "purchases.sqlite") as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 2
        assert not db.execute("SELECT name FROM sqlite_master WHERE name = 'sent'").fetchall()


def test_a_journal_file_of_a_newer_version_is_refused(tmp_path: Path) -> None:
    import sqlite3

    from importer.errors import InputError

    path = tmp_path / "x.journal.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 99")
    with pytest.raises(InputError, match="newer version"):
        open_store("").journal(Rollout("x", SCOPE, path))
