"""A team on many computers buys nothing twice (issue 26): runs with state folders of their own
(two laptops) and one shared store (`--state-url`, a real PostgreSQL server: tests/pg.py),
against a sandbox that lists a sale 3 s late and would sell a block twice, counting each sale.

Measured before the shared store: two such runs both exited 0 saying OK, and every one of the
30 blocks got two purchase requests. The same scenarios run against the embedded store with
one state folder (one computer), which has always kept them.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from importer.sandbox import SandboxServer
from tests.pg import PASSWORD, PgServer
from tests.test_reliability import _env, purchases
from tests.util import sheet_rows

BLOCKS = range(106000, 106030)


@pytest.fixture
def lagging(sandbox: SandboxServer) -> SandboxServer:
    sandbox.knobs.rebuy, sandbox.knobs.listing_lag_s = True, 3.0
    return sandbox


@pytest.fixture(params=["local", "postgres"])
def team(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, dict[str, str]]:
    """The environment of each of two colleagues: a state folder of their own and one shared
    store, or (the embedded default) one computer's state folder for both."""
    shared = request.getfixturevalue("state_url") if request.param == "postgres" else ""
    folders = ("alice", "bob") if shared else ("laptop", "laptop")
    return {name: {"IMPORTER_STATE_DIR": str(tmp_path / "state" / folder),
                   "IMPORTER_STATE_URL": shared}
            for name, folder in zip(("alice", "bob"), folders, strict=True)}


def _start(server: SandboxServer, who: dict[str, str], source: Path, *args: str
           ) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "importer", "run", str(source), "--yes",
                             "--json", "--timeout", "5", *args], env={**_env(server), **who},
                            text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _copies(tmp_path: Path) -> tuple[Path, Path]:
    """The same 30 purchases in each colleague's own file (two rollouts, one account)."""
    for who in ("alice", "bob"):
        (tmp_path / who).mkdir(exist_ok=True)
    return (purchases(tmp_path / "alice" / "spring.xlsx", BLOCKS),
            purchases(tmp_path / "bob" / "spring-copy.xlsx", BLOCKS))


def _requests(server: SandboxServer) -> int:
    return sum(server.purchase_requests().values())


def test_two_colleagues_running_at_once_with_wait_buy_each_block_once(
        tmp_path: Path, lagging: SandboxServer, team: dict[str, dict[str, str]]) -> None:
    lagging.knobs.latency_ms = 60
    runs = [_start(lagging, team[who], source, "--wait")
            for who, source in zip(("alice", "bob"), _copies(tmp_path), strict=True)]
    done = [run.communicate(timeout=180) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], [err for _, err in done]
    assert lagging.purchase_counts() == {f"NB{b}": 1 for b in BLOCKS}
    assert lagging.purchase_requests() == {f"NB{b}": 1 for b in BLOCKS}
    reports = [json.loads(out) for out, _ in done]
    skipped = [r for r in reports if r["counts"]["SKIPPED"] == len(BLOCKS)]
    assert len(skipped) == 1  # the second to run found every block bought by the first
    messages = [r["Message"] for r in sheet_rows(Path(skipped[0]["results_path"]), "Purchase")]
    assert all(m.startswith("Already bought on ") for m in messages), messages[:3]


def test_a_second_run_without_wait_stops_at_once_naming_the_holder(
        tmp_path: Path, lagging: SandboxServer, team: dict[str, dict[str, str]]) -> None:
    lagging.knobs.latency_ms = 250  # alice's run lasts long enough for bob to meet it
    alice_file, bob_file = _copies(tmp_path)
    alice = _start(lagging, team["alice"], alice_file)
    deadline = time.monotonic() + 60
    while _requests(lagging) < 2:
        assert time.monotonic() < deadline and alice.poll() is None
        time.sleep(0.05)
    bob = subprocess.run([sys.executable, "-m", "importer", "run", str(bob_file), "--yes",
                          "--timeout", "5"], env={**_env(lagging), **team["bob"]}, text=True,
                         capture_output=True, timeout=60, check=False)
    assert bob.returncode == 2, bob.stderr
    line = bob.stderr.strip().splitlines()[-1]
    assert "another run is already using this API account for purchases" in line
    assert "spring.xlsx" in line and "started" in line and " on " in line
    alice.communicate(timeout=120)
    assert alice.returncode == 0
    assert lagging.purchase_requests() == {f"NB{b}": 1 for b in BLOCKS}


def test_a_killed_holder_lets_the_waiting_run_go_on_within_seconds_and_nothing_is_bought_twice(
        tmp_path: Path, lagging: SandboxServer, team: dict[str, dict[str, str]]) -> None:
    lagging.knobs.latency_ms = 250
    alice_file, bob_file = _copies(tmp_path)
    alice = _start(lagging, team["alice"], alice_file, "--wait")
    deadline = time.monotonic() + 60
    while _requests(lagging) < 4:
        assert time.monotonic() < deadline and alice.poll() is None
        time.sleep(0.05)
    bob = _start(lagging, team["bob"], bob_file, "--wait")
    time.sleep(1.5)  # bob is waiting for alice's lock
    alice.kill()  # kill -9, in the middle of a purchase perhaps
    alice.communicate(timeout=30)
    killed, before = time.monotonic(), _requests(lagging)
    while _requests(lagging) == before:  # bob goes on: his first purchase request
        assert time.monotonic() - killed < 15, "the waiting run did not go on"
        assert bob.poll() is None, bob.communicate()
        time.sleep(0.05)
    bob.communicate(timeout=180)
    assert bob.returncode == 0
    # Alice's purchase in flight at the kill was in her journal and the ledger: settled by
    # look-up before bob could buy it again.
    assert lagging.purchase_counts() == {f"NB{b}": 1 for b in BLOCKS}
    assert set(lagging.purchase_requests().values()) == {1}


def test_a_doubt_left_by_one_computer_is_settled_by_the_next_before_buying(
        tmp_path: Path, lagging: SandboxServer, team: dict[str, dict[str, str]]) -> None:
    lagging.knobs.drop_rate = 1.0  # every sale made, then its answer lost
    blocks = range(106000, 106004)
    _copies(tmp_path)
    alice_file = purchases(tmp_path / "alice" / "spring.xlsx", blocks)
    alice = _start(lagging, team["alice"], alice_file, "--settle-window", "30")
    deadline = time.monotonic() + 60
    while _requests(lagging) < len(blocks):  # every purchase sent, each in doubt
        assert time.monotonic() < deadline and alice.poll() is None
        time.sleep(0.05)
    alice.kill()  # before her look-ups could show them (the listing is 3 s late)
    alice.communicate(timeout=30)
    lagging.knobs.drop_rate = 0.0
    bob = _start(lagging, team["bob"], purchases(tmp_path / "bob" / "copy.xlsx", blocks))
    out, err = bob.communicate(timeout=120)
    assert bob.returncode == 0, err
    assert lagging.purchase_requests() == {f"NB{b}": 1 for b in blocks}
    rows = sheet_rows(Path(json.loads(out)["results_path"]), "Purchase")
    assert all(r["Status"] == "SKIPPED" and "confirmed by look-up" in r["Message"]
               for r in rows), [r["Message"] for r in rows]


# --- bad input and faults ---------------------------------------------------------------------

def _cli(server: SandboxServer, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "importer", *args],
                          env={**_env(server), "IMPORTER_STATE_DIR": str(tmp_path / "state")},
                          text=True, capture_output=True, timeout=60, check=False)


@pytest.mark.parametrize("how", ["closed port", "wrong password", "no such database"])
def test_a_database_that_cannot_be_used_stops_the_run_before_anything_is_sent(
        tmp_path: Path, sandbox: SandboxServer, pg_server: PgServer, how: str) -> None:
    database = pg_server.new_database()
    url = {"closed port": pg_server.url(database, port=1),
           "wrong password": pg_server.url(database, password="not-the-Pw-4242"),
           "no such database": pg_server.url("nope_" + database)}[how]
    done = _cli(sandbox, tmp_path, "run", str(purchases(tmp_path / "p.xlsx", BLOCKS)),
                "--yes", "--state-url", url)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "the state database on 127.0.0.1" in lines[0], done.stderr
    assert "nothing was sent" in lines[0]
    assert PASSWORD not in done.stderr + done.stdout and "not-the-Pw" not in done.stderr
    assert sandbox.purchase_requests() == {}
    assert not list(tmp_path.glob("*.results*.xlsx"))


def test_a_state_url_that_is_not_postgresql_is_refused(tmp_path: Path,
                                                       sandbox: SandboxServer) -> None:
    done = _cli(sandbox, tmp_path, "validate", str(purchases(tmp_path / "p.xlsx", BLOCKS)),
                "--state-url", "mysql://me:hunter22@db/x")
    assert done.returncode == 2 and "must be a PostgreSQL address" in done.stderr
    assert "hunter22" not in done.stderr


def test_a_database_of_a_newer_version_is_refused(tmp_path: Path, sandbox: SandboxServer,
                                                   pg_server: PgServer) -> None:
    database = pg_server.new_database()
    pg_server.psql("CREATE TABLE importer_schema (version INTEGER NOT NULL); "
                   "INSERT INTO importer_schema VALUES (99); "
                   "ALTER TABLE importer_schema OWNER TO importer", database)
    done = _cli(sandbox, tmp_path, "run", str(purchases(tmp_path / "p.xlsx", BLOCKS)),
                "--yes", "--state-url", pg_server.url(database))
    assert done.returncode == 2 and "newer version of the importer" in done.stderr
    assert sandbox.purchase_requests() == {}


def test_losing_the_database_mid_run_stops_it_and_the_row_in_flight_says_so(
        tmp_path: Path, sandbox: SandboxServer, pg_server: PgServer) -> None:
    database = pg_server.new_database()
    sandbox.knobs.latency_ms = 300
    source = purchases(tmp_path / "p.xlsx", BLOCKS)
    run = _start(sandbox, {"IMPORTER_STATE_DIR": str(tmp_path / "state"),
                           "IMPORTER_STATE_URL": pg_server.url(database)}, source)
    deadline = time.monotonic() + 60
    while _requests(sandbox) < 3:
        assert time.monotonic() < deadline and run.poll() is None
        time.sleep(0.02)
    pg_server.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                   f"datname = '{database}'")
    out, err = run.communicate(timeout=60)
    assert run.returncode == 3, err
    report = json.loads(out)
    assert "the state database on 127.0.0.1" in report["aborted"]
    assert "the connection was lost" in report["aborted"] and PASSWORD not in out + err
    rows = sheet_rows(Path(report["results_path"]), "Purchase")
    sold = sandbox.purchase_counts()
    for row in rows:
        block, status = row["NumberBlockSid"], row["Status"]
        if block in sold:  # sold: OK, or the one in flight that may have been bought
            assert status in ("OK", "UNKNOWN"), row
        else:
            assert status in ("SKIPPED", "UNKNOWN", "FAILED") and "ought" not in status
    assert any(r["Status"] == "SKIPPED" and "Not sent" in r["Message"] for r in rows)
    assert set(sold.values()) == {1}


def test_credentials_in_the_state_url_are_never_shown_or_written(
        tmp_path: Path, sandbox: SandboxServer, state_url: str) -> None:
    done = _cli(sandbox, tmp_path, "run", str(purchases(tmp_path / "p.xlsx", range(106000,
                                                                                  106003))),
                "--yes", "--json", "--state-url", state_url)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert "(shared)" in report["journal_path"] and "127.0.0.1" in report["journal_path"]
    results = Path(report["results_path"]).read_bytes()
    assert PASSWORD not in done.stdout + done.stderr and PASSWORD.encode() not in results
    import openpyxl

    said = {r[0]: r[2] for r in openpyxl.load_workbook(report["results_path"])[
        "Summary"].iter_rows(values_only=True) if r[0]}
    assert said["Journal"].startswith("the state database on 127.0.0.1") and PASSWORD not in (
        said["Journal"])


# --- a team starts from what each laptop knows ---------------------------------------------

def test_state_migrate_copies_a_laptops_ledger_and_journals_once(
        tmp_path: Path, lagging: SandboxServer, state_url: str) -> None:
    laptop = {"IMPORTER_STATE_DIR": str(tmp_path / "laptop")}
    blocks = range(106000, 106005)
    _copies(tmp_path)
    source = purchases(tmp_path / "alice" / "spring.xlsx", blocks)
    first = subprocess.run([sys.executable, "-m", "importer", "run", str(source), "--yes"],
                           env={**_env(lagging), **laptop}, capture_output=True, text=True,
                           timeout=60, check=False)
    assert first.returncode == 0, first.stderr

    def migrate() -> dict:
        done = subprocess.run([sys.executable, "-m", "importer", "state", "migrate", "--to",
                               state_url, str(tmp_path / "alice"), "--json"],
                              env={**_env(lagging), **laptop}, capture_output=True, text=True,
                              timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        assert PASSWORD not in done.stdout + done.stderr
        return json.loads(done.stdout)

    copied = migrate()
    assert copied["purchases"] == len(blocks) and copied["journal_rows"] == len(blocks)
    assert copied["rollouts"] == 1 and copied["journals_read"] == 1
    again = migrate()
    assert again["purchases"] == again["journal_rows"] == again["events"] == 0
    assert again["already_there"] == 2 * len(blocks)
    # Bob, on another computer with the shared store, runs his own copy while the listing
    # still lags: the ledger alice's laptop copied says the blocks are bought.
    bob = _start(lagging, {"IMPORTER_STATE_DIR": str(tmp_path / "bob-laptop"),
                           "IMPORTER_STATE_URL": state_url},
                 purchases(tmp_path / "bob" / "copy.xlsx", blocks))
    out, err = bob.communicate(timeout=60)
    assert bob.returncode == 0, err
    rows = sheet_rows(Path(json.loads(out)["results_path"]), "Purchase")
    assert all("Already bought on" in r["Message"] and "spring.xlsx" in r["Message"]
               for r in rows)
    assert lagging.purchase_requests() == {f"NB{b}": 1 for b in blocks}
    listing = requests.get(f"{lagging.base_url}/_sandbox/stats", timeout=5).json()
    assert listing["Requests"]["purchase"] == len(blocks)


@pytest.mark.usefixtures("fast_settling")
def test_the_web_app_keeps_its_runs_in_the_shared_store(tmp_path: Path, state_url: str) -> None:
    """`importer serve` on two computers (two workspaces) with one store: the second page
    shows the first one's rows as done, and its run sends none of them again."""
    from importer.pipeline import Options
    from importer.web import Settings, create_app
    from importer.web.app import sandbox_target
    from tests.test_web import MISTAKES, SAME_ORIGIN, TOKEN, _logged_in, _rows, _upload, _wait_done

    with SandboxServer(db_path=str(tmp_path / "sandbox.sqlite")) as server:
        server.knobs.rebuy = True
        target = sandbox_target(server.base_url, server.account_sid, server.auth_token,
                                tmp_path / "sandbox.sqlite", 5.0, 2)
        pages = [_logged_in(create_app(Settings(tmp_path / who, target, Options(
            settle_window=1.0, state_url=state_url)), TOKEN)) for who in ("alice", "bob")]
        doc = _upload(pages[0], MISTAKES)
        started = pages[0].post(f"/api/documents/{doc['id']}/runs", headers=SAME_ORIGIN,
                                json={"dry_run": False})
        assert _wait_done(pages[0], started.json["id"])["counts"]["OK"] > 0
        bought = server.purchase_counts()
        assert bought and set(bought.values()) == {1}
        other = _upload(pages[1], MISTAKES)
        shown = [r for r in _rows(pages[1], other) if r["_status"] == "SKIPPED"]
        assert shown and all("a run skips it" in r["_message"] for r in shown)
        again = pages[1].post(f"/api/documents/{other['id']}/runs", headers=SAME_ORIGIN,
                              json={"dry_run": False})
        final = _wait_done(pages[1], again.json["id"])
        assert final["counts"]["OK"] == 0 and final["exit_code"] in (0, 1)
        assert server.purchase_counts() == bought  # refused rows were sent again; no sale
        requests_ = server.purchase_requests()
        assert all(requests_[block] == 1 for block in bought)


def test_serve_says_at_once_when_the_store_cannot_be_used(
        tmp_path: Path, sandbox: SandboxServer, pg_server: PgServer) -> None:
    url = pg_server.url(pg_server.new_database(), password="not-the-Pw-4242")
    done = _cli(sandbox, tmp_path, "serve", "--no-browser", "--port", "0", "--state-url", url)
    assert done.returncode == 2 and "refused the user name or password" in done.stderr
    assert "not-the-Pw" not in done.stderr
