"""Never lose a row, never buy twice: retries, look-ups, journal, resume, stopping, secrets."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
import requests

from importer.sandbox import SandboxServer
from importer.sending.client import ApiClient, Credentials
from tests.util import CONFIGURE_HEADER, PURCHASE_HEADER, cli, sheet_rows, write_xlsx


def purchases(path: Path, blocks: range, prop: str = "PRDEMO0001") -> Path:
    return write_xlsx(path, {"Purchase": [
        PURCHASE_HEADER, *[[prop, f"NB{b}", "0412345678", "C"] for b in blocks]]})


def configures(path: Path, blocks: range, campaign: str = "C") -> Path:
    return write_xlsx(path, {"Configure": [
        CONFIGURE_HEADER, *[["ACDEMO0001", f"NB0{b}", "endpoint", "0298765432", None, None,
                             "enabled", campaign] for b in blocks]]})


def stats(server: SandboxServer) -> dict[str, int]:
    return requests.get(f"{server.base_url}/_sandbox/stats", timeout=5).json()["Requests"]


def test_throttling_is_retried_honouring_retry_after(
        tmp_path: Path, api_env: SandboxServer, capsys: pytest.CaptureFixture[str]) -> None:
    api_env.knobs.throttle_rps = 4
    source = configures(tmp_path / "c.xlsx", range(90000, 90008))
    started = time.monotonic()
    code, summary, _ = cli(capsys, "run", source, "--json")
    assert code == 0 and summary["counts"]["OK"] == 8
    assert stats(api_env)["configure"] > 8  # some were answered 429 and sent again
    # The first retry has no backoff of its own: only the 429's `Retry-After: 1` makes it wait.
    assert time.monotonic() - started >= 1.0


def test_configure_retries_server_errors_then_fails_truthfully(
        tmp_path: Path, api_env: SandboxServer, capsys: pytest.CaptureFixture[str]) -> None:
    api_env.knobs.fail_rate = 1.0
    code, summary, _ = cli(capsys, "run", configures(tmp_path / "c.xlsx", range(90000, 90002)),
                           "--json", "--retries", "2")
    assert code == 1 and summary["counts"]["FAILED"] == 2
    assert stats(api_env)["configure"] == 6  # 1 try + 2 retries each
    rows = sheet_rows(Path(summary["results_path"]), "Configure")
    assert rows[0]["HTTP Status"] == 500 and "still after retrying" in rows[0]["Message"]
    assert "may have been applied" in rows[0]["Message"]


def test_configure_rows_sent_again_when_failed_never_when_done(
        tmp_path: Path, api_env: SandboxServer, capsys: pytest.CaptureFixture[str]) -> None:
    source = configures(tmp_path / "c.xlsx", range(90000, 90004))
    api_env.knobs.fail_rate = 1.0
    cli(capsys, "run", source, "--json", "--retries", "0")
    api_env.knobs.fail_rate = 0.0
    code, summary, _ = cli(capsys, "run", source, "--json")
    assert code == 0 and summary["counts"]["OK"] == 4
    code, summary, _ = cli(capsys, "run", source, "--json")
    assert summary["counts"]["SKIPPED"] == 4
    # An edited row is a new row: sent; --force sends everything again.
    edited = configures(tmp_path / "c.xlsx", range(90000, 90004), campaign="C")
    from openpyxl import load_workbook
    book = load_workbook(edited)
    book["Configure"]["H3"] = "Summer"
    book.save(edited)
    code, summary, _ = cli(capsys, "run", edited, "--json")
    assert summary["counts"] == {**summary["counts"], "OK": 1, "SKIPPED": 3}
    code, summary, _ = cli(capsys, "run", edited, "--json", "--force")
    assert summary["counts"]["OK"] == 4


def test_dropped_purchase_is_confirmed_by_look_up_not_resent(
        tmp_path: Path, api_env: SandboxServer, capsys: pytest.CaptureFixture[str]) -> None:
    api_env.knobs.drop_rate = 1.0
    code, summary, _ = cli(capsys, "run", purchases(tmp_path / "p.xlsx", range(100000, 100004)),
                           "--yes", "--json")
    assert code == 0 and summary["counts"]["OK"] == 4
    rows = sheet_rows(Path(summary["results_path"]), "Purchase")
    assert all("confirmed by look-up" in r["Message"] for r in rows)
    assert api_env.purchase_counts() == {f"NB{b}": 1 for b in range(100000, 100004)}
    assert stats(api_env)["purchase"] == 4


def test_no_purchase_without_a_complete_listing(
        tmp_path: Path, api_env: SandboxServer, capsys: pytest.CaptureFixture[str]) -> None:
    api_env.knobs.fail_rate = 1.0  # every listing fails: nothing may be bought
    code, summary, _ = cli(capsys, "run", purchases(tmp_path / "p.xlsx", range(100000, 100006)),
                           "--yes", "--json", "--retries", "0", "--max-consecutive-failures", "3")
    assert code == 3 and "3 rows in a row failed" in summary["aborted"]
    rows = sheet_rows(Path(summary["results_path"]), "Purchase")
    assert [r["Status"] for r in rows] == ["FAILED"] * 3 + ["SKIPPED"] * 3
    assert "could not be listed" in rows[0]["Message"] and "safe to run again" in rows[0]["Message"]
    assert stats(api_env)["purchase"] == 0


def test_listing_reads_every_page(sandbox: SandboxServer,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from importer.spec import contract
    client = ApiClient(Credentials(sandbox.base_url, sandbox.account_sid, sandbox.auth_token))
    listing = client.owned("PropertySid", "PRDEMO0001")
    assert listing.complete and len(listing.sids) == 100 and "NB090042" in listing.sids
    monkeypatch.setattr(contract, "LIST_PAGE_SIZE", 7)
    before = stats(sandbox)["list"]
    listing = client.owned("PropertySid", "PRDEMO0001")
    assert listing.complete and len(listing.sids) == 100
    assert stats(sandbox)["list"] - before == 15


def test_rate_cap(tmp_path: Path, api_env: SandboxServer,
                  capsys: pytest.CaptureFixture[str]) -> None:
    """Judged by the sandbox's own clock: at most 10 requests arrive in any second (one more
    for a window's edge), and the 12 requests take at least the 1.1 s the cap asks. A loaded
    machine only spreads requests out, so it cannot break either (the client's journal times
    could: it broke a sum of gaps under load)."""
    source = configures(tmp_path / "c.xlsx", range(90000, 90011))  # a listing and 11 rows
    code, summary, _ = cli(capsys, "run", source, "--json", "--rate", "10")
    assert code == 0 and summary["counts"]["OK"] == 11
    arrived = requests.get(f"{api_env.base_url}/_sandbox/stats", timeout=5).json()["Arrivals"]
    assert len(arrived) == 12
    assert max(sum(1 for t in arrived if start <= t < start + 1.0) for start in arrived) <= 11
    assert arrived[-1] - arrived[0] >= 1.0, arrived


def _start(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "importer", *args], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _env(server: SandboxServer) -> dict[str, str]:
    return {**os.environ, "IMPORTER_BASE_URL": server.base_url,
            "IMPORTER_ACCOUNT_SID": server.account_sid,
            "IMPORTER_AUTH_TOKEN": server.auth_token,
            "IMPORTER_CONFIG": "/nonexistent/importer-test-config.toml"}


def _wait_for_journal(journal: Path, rows: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with sqlite3.connect(journal) as db:
                if db.execute("SELECT count(*) FROM rows").fetchone()[0] >= rows:
                    return
        except sqlite3.Error:
            pass
        time.sleep(0.05)
    raise AssertionError("the importer never got that far")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_finishes_the_row_writes_results_exits_130(
        tmp_path: Path, sandbox: SandboxServer, signum: int) -> None:
    sandbox.knobs.latency_ms = 150
    source = configures(tmp_path / "c.xlsx", range(90000, 90040))
    proc = _start(["run", str(source), "--json"], _env(sandbox))
    _wait_for_journal(tmp_path / "c.journal.sqlite", 3)
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    rows = sheet_rows(tmp_path / "c.results.xlsx", "Configure")
    statuses = [r["Status"] for r in rows]
    assert statuses.count("OK") >= 3 and statuses[-1] == "SKIPPED"
    assert set(statuses) == {"OK", "SKIPPED"}
    assert "interrupted" in rows[-1]["Message"]
    sandbox.knobs.latency_ms = 0
    again = _start(["run", str(source), "--json"], _env(sandbox))
    again.communicate(timeout=60)
    assert again.returncode == 0


def test_purchase_in_flight_when_killed_is_confirmed_on_resume(
        tmp_path: Path, sandbox: SandboxServer) -> None:
    sandbox.knobs.latency_ms = 1500  # the server is still working when the importer dies
    source = purchases(tmp_path / "p.xlsx", range(100000, 100003))
    proc = _start(["run", str(source), "--yes"], _env(sandbox))
    _wait_for_journal(tmp_path / "p.journal.sqlite", 1)
    deadline = time.monotonic() + 30
    while stats(sandbox)["purchase"] < 1 and time.monotonic() < deadline:
        time.sleep(0.02)  # the request has reached the server: it is in flight
    proc.kill()
    proc.wait(timeout=10)
    time.sleep(1.8)  # the purchase in flight completes on the server
    sandbox.knobs.latency_ms = 0
    again = _start(["run", str(source), "--yes", "--json"], _env(sandbox))
    out, err = again.communicate(timeout=60)
    assert again.returncode == 0, err
    rows = sheet_rows(tmp_path / "p.results.xlsx", "Purchase")
    assert rows[0]["Status"] == "OK" and "earlier run" in rows[0]["Message"]
    assert sandbox.purchase_counts() == {f"NB{b}": 1 for b in range(100000, 100003)}


def test_the_token_appears_in_no_output(tmp_path: Path, api_env: SandboxServer,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    api_env.knobs.drop_rate = 0.3
    source = write_xlsx(tmp_path / "r.xlsx", {
        "Purchase": [PURCHASE_HEADER, *[["PRDEMO0001", f"NB{b}", "0412345678", "C"]
                                        for b in range(100000, 100005)]],
        "Configure": [CONFIGURE_HEADER, ["ACDEMO0001", "NB100000", "flow", "0298765432", "F1",
                                         None, None, None]]})
    _, summary, err = cli(capsys, "run", source, "--yes", "--json")
    token = api_env.auth_token
    texts = [str(summary), err]
    with zipfile.ZipFile(summary["results_path"]) as z:
        texts += [z.read(n).decode("utf-8", "replace") for n in z.namelist()]
    texts += [p.read_bytes().decode("latin-1") for p in tmp_path.glob("r.journal.sqlite*")]
    assert all(token not in t for t in texts)
    assert token not in repr(Credentials(api_env.base_url, api_env.account_sid, token))


def test_connection_refused_is_failed_not_unknown_and_stops_the_run(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    import socket
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("IMPORTER_BASE_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("IMPORTER_ACCOUNT_SID", "ACDEMO0001")
    monkeypatch.setenv("IMPORTER_AUTH_TOKEN", "t")
    source = purchases(tmp_path / "p.xlsx", range(100000, 100004))
    code, summary, _ = cli(capsys, "run", source, "--yes", "--json", "--retries", "0",
                           "--max-consecutive-failures", "2")
    assert code == 3
    rows = sheet_rows(Path(summary["results_path"]), "Purchase")
    assert [r["Status"] for r in rows] == ["FAILED", "FAILED", "SKIPPED", "SKIPPED"]
    assert "could not reach 127.0.0.1: the connection was refused" in rows[0]["Message"]


@pytest.mark.parametrize(("answer", "code"), [("n", 1), ("y", 0)])
def test_purchases_ask_at_a_terminal(tmp_path: Path, sandbox: SandboxServer, answer: str,
                                     code: int) -> None:
    """A real terminal on stdin: the question shows the count and the target; only yes buys."""
    source = purchases(tmp_path / "p.xlsx", range(100000, 100003))
    master, slave = os.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "importer", "run", str(source)],
                            env=_env(sandbox), stdin=slave, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    os.close(slave)
    try:
        os.write(master, f"{answer}\n".encode())
        out, err = proc.communicate(timeout=60)
    finally:
        os.close(master)
    assert proc.returncode == code, err
    assert f"BUY up to 3 number blocks on {sandbox.base_url} as ACDEMO0001" in err
    assert len(sandbox.purchase_counts()) == (3 if answer == "y" else 0)
