"""Exactly once without waiting and without gaps (issue 18), against a sandbox in rebuy mode:
doubts settle in the background, ownership is account-wide, one account is one scope, and
every status is true. The sandbox counts every purchase request, so a second one shows.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

import pytest
import requests

from importer.config import scope_for
from importer.pipeline import Options, prepare, run
from importer.sandbox import SandboxServer
from importer.sending.client import ApiClient, Credentials
from tests.test_exactly_once import _messages, _once_each, _run, _statuses
from tests.test_reliability import _env, _start, _wait_for_journal, purchases
from tests.util import CONFIGURE_HEADER, PURCHASE_HEADER, cli, sheet_rows, write_xlsx

pytestmark = pytest.mark.usefixtures("fast_settling")  # conftest: the floor scaled to these lags


@pytest.fixture
def rebuy(api_env: SandboxServer) -> SandboxServer:
    api_env.knobs.rebuy = True
    return api_env


def _listings(server: SandboxServer) -> int:
    return requests.get(f"{server.base_url}/_sandbox/stats", timeout=5).json()["Requests"][
        "list"]


# --- 1. deferred settlement ------------------------------------------------------------------

def test_n_doubts_cost_about_one_window_not_n(
        tmp_path: Path, rebuy: SandboxServer, capsys: pytest.CaptureFixture[str]) -> None:
    rebuy.knobs.junk_success_rate = 1.0  # every purchase answered 200 junk, nothing bought
    started = time.monotonic()
    code, report = _run(capsys, purchases(tmp_path / "p.xlsx", range(100000, 100005)),
                        "--settle-window", "4")
    took = time.monotonic() - started
    assert code == 1 and _statuses(report) == ["UNKNOWN"] * 5
    assert all("look-ups for 4 s did not show it" in m for m in _messages(report))
    assert 4 <= report["settling_seconds"] < 5.5, report["settling_seconds"]
    assert took < 10, took  # one window (4 s) and change; waiting in turn took 5 x 4 s
    assert rebuy.purchase_requests() == {f"NB{b}": 1 for b in range(100000, 100005)}
    assert report["looked_up"] == 5 and any("confirmations took" in n for n in report["notes"])


def test_rows_after_a_doubt_are_sent_at_once_and_its_configure_waits_for_it(
        tmp_path: Path, rebuy: SandboxServer, capsys: pytest.CaptureFixture[str]) -> None:
    rebuy.knobs.fail_after_commit_rate = 1.0  # sold, answered 503: in doubt
    rebuy.knobs.commit_after_s = 1.5  # and owned only 1.5 s later: a configure sent at once fails
    source = write_xlsx(tmp_path / "r.xlsx", {
        "Purchase": [PURCHASE_HEADER, *[["PRDEMO0002", f"NB{b}", "0412345678", "C"]
                                        for b in range(100000, 100003)]],
        "Configure": [CONFIGURE_HEADER, ["ACDEMO0001", "NB100000", "application", None, None,
                                         "APP1", None, "K"]]})
    code, report = _run(capsys, source, "--settle-window", "10")
    assert code == 0, _messages(report)
    assert _statuses(report) == ["OK"] * 3
    assert all("confirmed by look-up" in m for m in _messages(report))
    (configure,) = sheet_rows(Path(report["results_path"]), "Configure")
    assert configure["Status"] == "OK", configure["Message"]
    with sqlite3.connect(report["journal_path"]) as db:
        sent = [e for (e,) in db.execute("SELECT sent_epoch FROM rows WHERE operation = "
                                         "'purchase' ORDER BY sent_epoch")]
    assert sent[-1] - sent[0] < 1.0  # nobody waited for the first doubt to settle
    _once_each(rebuy, range(100000, 100003))


def test_a_resumed_run_sends_other_rows_at_once_and_settles_the_one_in_flight(
        tmp_path: Path, sandbox: SandboxServer) -> None:
    sandbox.knobs.rebuy = True
    sandbox.knobs.latency_ms = 2500  # the server is still working when the importer dies
    source = purchases(tmp_path / "p.xlsx", range(100000, 100004))
    journal = tmp_path / "p.journal.sqlite"
    proc = _start(["run", str(source), "--yes"], _env(sandbox))
    _wait_for_journal(journal, 1, timeout=60)
    deadline = time.monotonic() + 30
    while not sandbox.purchase_requests() and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.kill()
    proc.wait(timeout=10)
    sandbox.knobs.latency_ms = 0
    sandbox.knobs.listing_lag_s = 3  # and the listing shows the sale late: a doubt to settle
    started = time.time()
    again = _start(["run", str(source), "--yes", "--json"], _env(sandbox))  # default window
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    with sqlite3.connect(journal) as db:
        first_other = db.execute("SELECT min(sent_epoch) FROM rows WHERE block_sid != 'NB100000'"
                                 ).fetchone()[0]
    assert first_other - started < 6, first_other - started  # process start + ~1 s; was 60 s
    rows = sheet_rows(tmp_path / "p.results.xlsx", "Purchase")
    assert rows[0]["Status"] == "OK" and "earlier run" in rows[0]["Message"]
    assert sandbox.purchase_requests() == {f"NB{b}": 1 for b in range(100000, 100004)}


def test_a_doubt_confirmed_later_is_journalled_so_no_run_needs_a_listing_for_it(
        tmp_path: Path, rebuy: SandboxServer, capsys: pytest.CaptureFixture[str]) -> None:
    rebuy.knobs.answer_after_s = 1.0
    rebuy.knobs.commit_after_s = 2.0
    source = purchases(tmp_path / "p.xlsx", range(100000, 100001))
    code, report = _run(capsys, source, "--timeout", "0.3", "--settle-window", "0.5",
                        "--retries", "0")
    assert _statuses(report) == ["UNKNOWN"]
    rebuy.knobs.answer_after_s = rebuy.knobs.commit_after_s = 0
    time.sleep(2)  # the slow sale lands
    code, report = _run(capsys, source)
    assert _statuses(report) == ["OK"] and "confirmed by look-up" in _messages(report)[0]
    rebuy.knobs.listing_fault = "html"  # no listing can be made now
    code, report = _run(capsys, source, "--force")
    assert code == 0 and _statuses(report) == ["SKIPPED"]
    assert "Already bought by an earlier run" in _messages(report)[0]
    _once_each(rebuy, range(100000, 100001))


# --- 2. ownership is account-wide ------------------------------------------------------------

def test_a_block_owned_under_another_property_is_never_bought(
        tmp_path: Path, rebuy: SandboxServer, capsys: pytest.CaptureFixture[str]) -> None:
    source = write_xlsx(tmp_path / "p.xlsx", {"Purchase": [  # NB0900xx: PRDEMO0001's
        PURCHASE_HEADER, *[[f"PRDEMO000{2 + i % 3}", f"NB0900{i:02d}", "0412345678", "C"]
                           for i in range(6)],
        ["PRDEMO0002", "NB100000", "0412345678", "new"]]})
    before = _listings(rebuy)
    code, report = _run(capsys, source)
    statuses, messages = _statuses(report), _messages(report)
    assert statuses == ["SKIPPED"] * 6 + ["OK"], messages
    assert all("under property PRDEMO0001" in m for m in messages[:6])
    assert rebuy.purchase_requests() == {"NB100000": 1}
    # one listing per property in the file and one of the account, each taken once
    assert _listings(rebuy) - before == 4


# --- 3. one account, one scope ---------------------------------------------------------------

@pytest.mark.parametrize(("a", "b"), [
    ("https://api.fonedynamics.com", "https://API.fonedynamics.com:443/"),
    ("http://localhost:8080", "http://127.0.0.1:8080"),
    ("http://[::1]:8080/v2/../", "http://localhost:8080"),
    ("https://x.example/api//v2/", "https://x.example/API/v2")])
def test_one_api_spelt_two_ways_is_one_scope(a: str, b: str) -> None:
    assert scope_for(a, "AC1") == scope_for(b, "AC1")
    assert scope_for(a, "AC1") != scope_for(a, "AC2")


def test_localhost_and_127_0_0_1_are_one_account(
        tmp_path: Path, rebuy: SandboxServer, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    rebuy.knobs.listing_lag_s = 30  # the listings would not show the first run's purchases
    port = rebuy.base_url.rsplit(":", 1)[1]
    blocks = range(100000, 100003)
    code, report = _run(capsys, purchases(tmp_path / "a.xlsx", blocks), "--base-url",
                        f"http://localhost:{port}")
    assert code == 0 and _statuses(report) == ["OK"] * 3
    monkeypatch.setenv("IMPORTER_BASE_URL", f"http://127.0.0.1:{port}/")
    code, report = _run(capsys, purchases(tmp_path / "b.xlsx", blocks))
    assert code == 0 and _statuses(report) == ["SKIPPED"] * 3
    assert all("by a.xlsx" in m for m in _messages(report))
    _once_each(rebuy, blocks)


def test_a_purchase_seen_bought_is_owned_for_every_later_rollout(
        tmp_path: Path, rebuy: SandboxServer, capsys: pytest.CaptureFixture[str]) -> None:
    """--timeout 2 (window 4 s) against a listing 6 s late: A, B and C.results, one after
    another, bought every block three times."""
    rebuy.knobs.listing_lag_s = 6
    blocks = range(100000, 100003)
    for name in ("A.xlsx", "B.xlsx", "C.results.xlsx"):
        code, report = _run(capsys, purchases(tmp_path / name, blocks), "--timeout", "2")
        assert code == 0, _messages(report)
        if name != "A.xlsx":
            assert _statuses(report) == ["SKIPPED"] * 3
            assert all("Already bought on" in m and "by A.xlsx" in m for m in _messages(report))
        time.sleep(4.5)  # past the settle window: only the ledger's outcome can tell
    _once_each(rebuy, blocks)


# --- 4. truthful everywhere ------------------------------------------------------------------

def test_validate_on_a_file_with_a_journal_says_what_a_run_would_do(
        tmp_path: Path, api_env: SandboxServer, capsys: pytest.CaptureFixture[str]) -> None:
    source = purchases(tmp_path / "p.xlsx", range(100000, 100002))
    code, report = _run(capsys, source)
    assert code == 0
    results = Path(report["results_path"])
    more = write_xlsx(tmp_path / "p.more.xlsx", {"Purchase": [
        [c for c in PURCHASE_HEADER], *[["PRDEMO0001", f"NB{b}", "0412345678", "C"]
                                        for b in range(100000, 100003)]]})
    os.replace(more, tmp_path / "p.xlsx")  # the same rollout, one row added
    code, checked, _ = cli(capsys, "validate", tmp_path / "p.xlsx", "--json")
    rows = sheet_rows(Path(checked["results_path"]), "Purchase")
    assert [r["Status"] for r in rows] == ["SKIPPED", "SKIPPED", "VALID"]
    assert all("a run skips it" in r["Message"] for r in rows[:2])
    code, dry = _run(capsys, tmp_path / "p.xlsx", "--dry-run")
    assert _statuses(dry) == ["SKIPPED", "SKIPPED", "VALID"]
    code, again, _ = cli(capsys, "validate", results, "--json")  # the results workbook too
    assert [r["Status"] for r in sheet_rows(Path(again["results_path"]), "Purchase")] == [
        "SKIPPED", "SKIPPED"]


# --- 5. progress shows it --------------------------------------------------------------------

def test_progress_hears_how_many_are_being_confirmed(tmp_path: Path,
                                                     sandbox: SandboxServer) -> None:
    sandbox.knobs.rebuy = True
    sandbox.knobs.drop_rate = 1.0  # sold, connection dropped: each one in doubt
    sandbox.knobs.listing_lag_s = 1.0
    prepared = prepare(purchases(tmp_path / "p.xlsx", range(100000, 100003)),
                       Options(settle_window=10))
    heard: list[int] = []
    client = ApiClient(Credentials(sandbox.base_url, sandbox.account_sid, sandbox.auth_token))
    try:
        report = run(prepared, client, scope=scope_for(sandbox.base_url, sandbox.account_sid),
                     confirming=heard.append)
    finally:
        client.close()
    assert [o.status.value for o in report.outcomes] == ["OK"] * 3
    assert max(heard) == 3 and heard[-1] == 0  # all three pending at once, then none
    assert report.looked_up == 3 and 1.0 <= report.settling_seconds < 10
    assert sandbox.purchase_requests() == {f"NB{b}": 1 for b in range(100000, 100003)}
