"""Exactly once under the faults a real API has (issue 10), against a sandbox in rebuy mode.

In rebuy mode the sandbox sells an owned block again and counts every sale and every purchase
request, so these tests prove the importer never sends a second purchase instead of relying on
the API to refuse one. Each test also checks that no row's Status is untrue.
"""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from importer.sandbox import SandboxServer
from importer.sending.client import ApiClient, Credentials
from tests.test_reliability import purchases
from tests.util import CONFIGURE_HEADER, PURCHASE_HEADER, cli, sheet_rows, write_xlsx

pytestmark = pytest.mark.usefixtures("fast_settling")  # conftest: the floor scaled to these lags

BLOCKS = range(100000, 100004)


@pytest.fixture(autouse=True, params=["local", "postgres"])
def store(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every scenario against both state stores (issue 26): this computer's, and a team's
    shared PostgreSQL (tests/pg.py), chosen as a user chooses it, by IMPORTER_STATE_URL."""
    if request.param == "postgres":
        monkeypatch.setenv("IMPORTER_STATE_URL", request.getfixturevalue("state_url"))
    return request.param


@pytest.fixture
def rebuy(api_env: SandboxServer) -> SandboxServer:
    api_env.knobs.rebuy = True
    return api_env


def _run(capsys: pytest.CaptureFixture[str], source: Path, *args: object) -> tuple[int, dict]:
    code, report, _ = cli(capsys, "run", source, "--yes", "--json", *args)
    return code, report


def _statuses(report: dict, sheet: str = "Purchase") -> list[str]:
    return [r["Status"] for r in sheet_rows(Path(report["results_path"]), sheet)]


def _messages(report: dict, sheet: str = "Purchase") -> list[str]:
    return [r["Message"] for r in sheet_rows(Path(report["results_path"]), sheet)]


def _once_each(server: SandboxServer, blocks: range = BLOCKS) -> None:
    names = {f"NB{b}" for b in blocks}
    assert server.purchase_counts() == dict.fromkeys(names, 1)
    assert server.purchase_requests() == dict.fromkeys(names, 1)


def test_a_slow_commit_is_confirmed_by_look_up_not_resent(
        tmp_path: Path, rebuy: SandboxServer, capsys: pytest.CaptureFixture[str]) -> None:
    rebuy.knobs.answer_after_s = 1.5  # longer than --timeout: the answer is lost
    rebuy.knobs.commit_after_s = 2.5  # and the sale lands later still
    code, report = _run(capsys, purchases(tmp_path / "p.xlsx", range(100000, 100002)),
                        "--timeout", "0.5", "--settle-window", "6", "--retries", "0")
    assert code == 0, report
    assert _statuses(report) == ["OK", "OK"]
    assert all("confirmed by look-up" in m for m in _messages(report))
    _once_each(rebuy, range(100000, 100002))


def test_a_commit_slower_than_the_window_is_unknown_then_settled_next_run(
        tmp_path: Path, rebuy: SandboxServer, capsys: pytest.CaptureFixture[str]) -> None:
    rebuy.knobs.answer_after_s = 1.0
    rebuy.knobs.commit_after_s = 3.0
    source = purchases(tmp_path / "p.xlsx", range(100000, 100001))
    code, report = _run(capsys, source, "--timeout", "0.3", "--settle-window", "1",
                        "--retries", "0")
    assert code == 1 and _statuses(report) == ["UNKNOWN"]
    assert "may have been bought" in _messages(report)[0].lower()
    rebuy.knobs.answer_after_s = rebuy.knobs.commit_after_s = 0
    time.sleep(2.5)  # the slow sale lands
    code, report = _run(capsys, source, "--settle-window", "1")
    assert code == 0 and _statuses(report) == ["OK"]
    assert "earlier run" in _messages(report)[0]
    _once_each(rebuy, range(100000, 100001))


def test_a_503_after_the_commit_is_looked_up_never_retried(
        tmp_path: Path, rebuy: SandboxServer, capsys: pytest.CaptureFixture[str]) -> None:
    rebuy.knobs.fail_after_commit_rate = 1.0
    code, report = _run(capsys, purchases(tmp_path / "p.xlsx", BLOCKS), "--settle-window", "3")
    assert code == 0 and set(_statuses(report)) == {"OK"}
    assert all("confirmed by look-up" in m and "503" in m for m in _messages(report))
    _once_each(rebuy)


@pytest.mark.parametrize("fault", ["html", "no_list", "bad_item", "shift"])
def test_a_damaged_listing_never_lets_a_doubtful_purchase_be_resent(
        tmp_path: Path, rebuy: SandboxServer, capsys: pytest.CaptureFixture[str],
        fault: str) -> None:
    source = purchases(tmp_path / "p.xlsx", range(100000, 100002))
    rebuy.knobs.junk_success_rate = 1.0  # answered 200 junk: doubtful, nothing bought
    code, report = _run(capsys, source, "--settle-window", "0.5")
    assert _statuses(report) == ["UNKNOWN", "UNKNOWN"]
    rebuy.knobs.junk_success_rate = 0
    rebuy.knobs.listing_fault = fault
    rebuy.knobs.page_size_cap = 10  # several pages, so a shift can happen
    for force in ((), ("--force",)):
        code, report = _run(capsys, source, "--settle-window", "0.5", *force)
        assert _statuses(report) == ["UNKNOWN", "UNKNOWN"], _messages(report)
        assert all("could not be listed" in m for m in _messages(report))
    assert rebuy.purchase_requests() == {"NB100000": 1, "NB100001": 1}
    assert rebuy.purchase_counts() == {}
    rebuy.knobs.listing_fault = None  # a complete listing after the window: now it is sent
    code, report = _run(capsys, source, "--settle-window", "0.5")
    assert code == 0 and _statuses(report) == ["OK", "OK"]
    assert rebuy.purchase_counts() == {"NB100000": 1, "NB100001": 1}


@pytest.mark.parametrize("fault", ["html", "shift"])
def test_no_purchase_at_all_while_the_listing_is_damaged_even_with_force(
        tmp_path: Path, rebuy: SandboxServer, capsys: pytest.CaptureFixture[str],
        fault: str) -> None:
    source = purchases(tmp_path / "p.xlsx", BLOCKS)
    _run(capsys, source)
    _once_each(rebuy)
    rebuy.knobs.listing_fault = fault
    rebuy.knobs.page_size_cap = 10
    code, report = _run(capsys, source, "--force")  # the journal knows they were bought
    assert code == 0 and set(_statuses(report)) == {"SKIPPED"}
    assert all("Already bought by an earlier run" in m for m in _messages(report))
    code, report = _run(capsys, purchases(tmp_path / "new.xlsx", range(100010, 100012)),
                        "--force")
    assert code == 1 and set(_statuses(report)) == {"FAILED"}
    assert all("could not be listed" in m for m in _messages(report))
    _once_each(rebuy)  # owned blocks are never bought again, --force or not


def test_a_lost_answer_and_a_lagging_listing_are_ok_or_unknown_never_rejected(
        tmp_path: Path, rebuy: SandboxServer, capsys: pytest.CaptureFixture[str]) -> None:
    rebuy.knobs.drop_rate = 1.0  # sold, then the connection dropped
    rebuy.knobs.listing_lag_s = 1.5  # and the listing shows it only later
    code, report = _run(capsys, purchases(tmp_path / "p.xlsx", range(100000, 100002)),
                        "--settle-window", "5")
    assert code == 0 and _statuses(report) == ["OK", "OK"]
    _once_each(rebuy, range(100000, 100002))
    code, report = _run(capsys, purchases(tmp_path / "q.xlsx", range(100002, 100004)),
                        "--settle-window", "0.5")
    assert _statuses(report) == ["UNKNOWN", "UNKNOWN"]  # at worst: never REJECTED, never resent
    _once_each(rebuy)


def test_a_junk_2xx_is_never_ok_and_its_configure_waits(
        tmp_path: Path, rebuy: SandboxServer, capsys: pytest.CaptureFixture[str]) -> None:
    rebuy.knobs.junk_success_rate = 1.0
    source = write_xlsx(tmp_path / "r.xlsx", {
        "Purchase": [PURCHASE_HEADER, ["PRDEMO0001", "NB100000", "0412345678", "C"]],
        "Configure": [CONFIGURE_HEADER, ["ACDEMO0001", "NB100000", "application", None, None,
                                         "APP1", None, None],
                      ["ACDEMO0001", "NB090001", "application", None, None, "APP1", None,
                       None]]})
    code, report = _run(capsys, source, "--settle-window", "0.5")
    assert _statuses(report) == ["UNKNOWN"] and rebuy.purchase_counts() == {}
    configure = sheet_rows(Path(report["results_path"]), "Configure")
    assert configure[0]["Status"] == "SKIPPED" and "may or may not" in configure[0]["Message"]
    assert configure[1]["Status"] == "FAILED"  # a junk 2xx on configure: safe to send again
    assert "may have been applied" in configure[1]["Message"]
    rebuy.knobs.junk_success_rate = 0
    code, report = _run(capsys, source, "--settle-window", "0.5")
    assert code == 0 and _statuses(report) == ["OK"]
    assert rebuy.purchase_counts() == {"NB100000": 1}


def test_block_sids_are_one_block_whatever_their_case(
        tmp_path: Path, rebuy: SandboxServer, capsys: pytest.CaptureFixture[str]) -> None:
    source = write_xlsx(tmp_path / "p.xlsx", {"Purchase": [
        PURCHASE_HEADER, ["PRDEMO0001", "nb090001", "0412345678", "owned, lower case"],
        ["PRDEMO0001", "NB100000", "0412345678", "new"],
        ["PRDEMO0001", "nb100000", "0412345678", "the same block again"]]})
    code, report = _run(capsys, source)
    statuses, messages = _statuses(report), _messages(report)
    assert statuses == ["SKIPPED", "OK", "INVALID"], messages
    assert "Already owned" in messages[0] and "row 3" in messages[2]
    assert rebuy.purchase_requests() == {"NB100000": 1}


def test_listing_variants_complete_a_rollout(tmp_path: Path, rebuy: SandboxServer,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """A page-size cap of 10 and no TotalCount (over 100 owned blocks), no ResponseStatus on
    listing pages, NumberBlockSid read from the query string: the rollout still completes,
    nothing bought twice."""
    rebuy.knobs.page_size_cap = 10
    rebuy.knobs.total_count = False
    rebuy.knobs.purchase_sid_from = "query"
    rebuy.knobs.listing_envelope = False
    source = write_xlsx(tmp_path / "r.xlsx", {"Purchase": [
        PURCHASE_HEADER, ["PRDEMO0001", "NB090005", "0412345678", "owned"],
        *[["PRDEMO0001", f"NB{b}", "0412345678", "C"] for b in BLOCKS]]})
    code, report = _run(capsys, source)
    assert code == 0 and _statuses(report) == ["SKIPPED", "OK", "OK", "OK", "OK"]
    _once_each(rebuy)


def test_no_account_purchase_path_is_a_clear_refusal(
        tmp_path: Path, rebuy: SandboxServer, capsys: pytest.CaptureFixture[str]) -> None:
    rebuy.knobs.account_purchase_path = False
    source = write_xlsx(tmp_path / "p.xlsx", {"Purchase": [
        ["AccountSid", "NumberBlockSid", "AnswerPoint"], ["ACDEMO0001", "NB100000",
                                                          "0412345678"]]})
    code, report = _run(capsys, source)
    assert code == 1 and _statuses(report) == ["REJECTED"]
    (row,) = sheet_rows(Path(report["results_path"]), "Purchase")
    assert row["HTTP Status"] == 404
    assert rebuy.purchase_requests() == {"NB100000": 1} and rebuy.purchase_counts() == {}


# --- Retry-After: the sandbox always sends a good one, so a small server sends junk ---------

class _Throttling(http.server.BaseHTTPRequestHandler):
    """429 with the given Retry-After, then the documented OK; counts what it got."""

    retry_after = "junk"
    hits: ClassVar[list[str]] = []

    def _answer(self) -> None:
        self.hits.append(self.command)
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        if len(self.hits) == 1:
            body, status = b"{}", 429
        else:
            body, status = json.dumps({"ResponseStatus": {"Message": "OK"},
                                       "NumberBlocks": [], "TotalCount": 0}).encode(), 200
        self.send_response(status)
        if status == 429:
            self.send_header("Retry-After", self.retry_after)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def throttling() -> Iterator[tuple[str, type[_Throttling]]]:
    handler = type("Handler", (_Throttling,), {"hits": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()


@pytest.mark.parametrize("retry_after", ["junk", "-5", "Wed, 21 Oct 2015 07:28:00 GMT"])
@pytest.mark.parametrize("call", ["purchase", "listing"])
def test_any_retry_after_is_a_throttle_not_a_lost_connection(
        throttling: tuple[str, type[_Throttling]], retry_after: str, call: str) -> None:
    url, handler = throttling
    handler.retry_after = retry_after
    client = ApiClient(Credentials(url, "AC1", "t"), attempts=2, backoff=0.01)
    if call == "purchase":
        reply = client.post("/v2/Properties/P1/NumberBlocks", {"NumberBlockSid": "NB1"})
        assert reply.accepted
    else:
        listing = client.owned("PropertySid", "P1")
        assert listing.complete and listing.sids == set()
    assert handler.hits[0] == handler.hits[1] and len(handler.hits) == 2
