"""Put it back (issue 27): a configure run undone from its results, exactly once, against the
sandbox (whose listing carries the blocks' settings), block by block and field by field."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
import requests

from importer.sandbox import SandboxServer
from tests.pg import PgServer
from tests.test_reliability import _env, _wait_for_journal, stats
from tests.util import CONFIGURE_HEADER, PURCHASE_HEADER, cli, sheet_rows, write_xlsx

SETTINGS = ("RoutingMethod", "EndpointNumber", "Flow", "Application", "Recording", "Source",
            "Medium", "Campaign", "Content")
BLOCKS = [f"NB0900{i:02}" for i in range(50)]


def _rollout(path: Path, campaign: str, blocks: list[str] = BLOCKS) -> Path:
    """Configure rows: the three routing methods in turn, tags that name the `campaign`."""
    header = ["AccountSid", "NumberBlockSid", "RoutingMethod", "EndpointNumber", "Flow",
              "Application", "Recording", "Source", "Campaign"]
    rows = []
    for i, block in enumerate(blocks):
        method = ("endpoint", "flow", "application")[i % 3]
        rows.append(["ACDEMO0001", block, method,
                     f"0298765{400 + i}" if method != "application" else None,
                     f"FL-{campaign}" if method == "flow" else None,
                     f"APP-{campaign}" if method == "application" else None,
                     "enabled" if (i + len(campaign)) % 2 else "disabled", f"src-{campaign}",
                     f"{campaign}-{i}"])
    return write_xlsx(path, {"Configure": [header, *rows]})


def _state(server: SandboxServer, blocks: list[str] = BLOCKS) -> dict[str, dict]:
    found = {}
    for block in blocks:
        item = requests.get(f"{server.base_url}/_sandbox/blocks/{block}", timeout=5).json()
        found[block] = {k: item.get(k) for k in SETTINGS}
    return found


def _summary(results: Path) -> dict[str, str]:
    return {r[0]: r[2] for r in openpyxl.load_workbook(results)["Summary"].iter_rows(
        values_only=True) if r[0]}


def test_a_run_is_put_back_field_by_field_and_a_second_undo_sends_nothing(
        tmp_path: Path, api_env: SandboxServer, capsys: pytest.CaptureFixture[str]) -> None:
    code, first, _ = cli(capsys, "run", _rollout(tmp_path / "spring.xlsx", "spring"), "--json")
    assert code == 0
    before = _state(api_env)
    code, second, _ = cli(capsys, "run", _rollout(tmp_path / "spring.xlsx", "autumn"), "--json")
    assert code == 0 and _state(api_env) != before
    undo = Path(second["undo_path"])
    assert undo.name == "spring.undo-2.xlsx" and undo.exists()
    assert _summary(Path(second["results_path"]))["Undo"].startswith("spring.undo-2.xlsx: ")
    sent = stats(api_env)["configure"]
    code, putback, err = cli(capsys, "undo", second["results_path"], "--yes", "--json")
    assert code == 0, err
    assert "puts back" in err and "'autumn-0' -> 'spring-0'" in err
    assert _state(api_env) == before  # every block, every field, as it was
    assert stats(api_env)["configure"] - sent == len(BLOCKS)
    code, again, _ = cli(capsys, "undo", second["results_path"], "--yes", "--json")
    assert code == 0 and again["counts"]["SKIPPED"] == len(BLOCKS)
    assert stats(api_env)["configure"] - sent == len(BLOCKS)  # nothing new sent
    # The undo of the undo is the run's values again.
    code, redo, _ = cli(capsys, "undo", putback["results_path"], "--yes", "--json")
    assert code == 0 and redo["counts"]["OK"] == len(BLOCKS)
    assert [s["Campaign"] for s in _state(api_env).values()][:2] == ["autumn-0", "autumn-1"]


def test_a_block_changed_by_someone_since_is_named_and_still_put_back(
        tmp_path: Path, api_env: SandboxServer, capsys: pytest.CaptureFixture[str]) -> None:
    blocks = BLOCKS[:3]
    cli(capsys, "run", _rollout(tmp_path / "s.xlsx", "spring", blocks), "--json")
    before = _state(api_env, blocks)
    _, run, _ = cli(capsys, "run", _rollout(tmp_path / "s.xlsx", "autumn", blocks), "--json")
    changed = requests.post(f"{api_env.base_url}/v2/numberblocks/{blocks[1]}",
                            json={"AccountSid": "ACDEMO0001", "Campaign": "someone-else"},
                            auth=(api_env.account_sid, api_env.auth_token), timeout=5)
    assert changed.status_code == 200
    code, _, err = cli(capsys, "undo", run["results_path"], "--yes")
    assert code == 0
    assert "changed since this run: Campaign is now 'someone-else'" in err
    assert "1 of these were changed by someone since this run" in err
    assert _state(api_env, blocks) == before


def test_unknown_earlier_values_are_never_sent_and_each_row_says_so(
        tmp_path: Path, api_env: SandboxServer, capsys: pytest.CaptureFixture[str]) -> None:
    """A listing without the settings, and nothing this computer sent before: every earlier
    value is unknown, so nothing is sent back, and every row says which."""
    api_env.knobs.listing_settings = False
    blocks = BLOCKS[:4]
    _, run, _ = cli(capsys, "run", _rollout(tmp_path / "s.xlsx", "spring", blocks), "--json")
    sent = stats(api_env)["configure"]
    code, undone, err = cli(capsys, "undo", run["results_path"], "--yes", "--json")
    assert code == 0 and undone["counts"]["SKIPPED"] == len(blocks)
    assert stats(api_env)["configure"] == sent  # not one request
    assert "Campaign: its value before this run is not known; left as it is." in err
    rows = sheet_rows(Path(undone["results_path"]), "Configure")
    assert all(r["Status"] == "SKIPPED" and "nothing to put back" in r["Message"] for r in rows)
    book = openpyxl.load_workbook(undone["results_path"])
    ws = book["Configure"]
    header = [c.value for c in ws[1]]
    campaign = ws.cell(2, header.index("Campaign") + 1)
    assert campaign.fill.fgColor.rgb == "FFFFEB84" and "not known" in campaign.comment.text


def test_without_listing_settings_what_this_computer_sent_last_is_put_back(
        tmp_path: Path, api_env: SandboxServer, capsys: pytest.CaptureFixture[str]) -> None:
    api_env.knobs.listing_settings = False
    blocks = BLOCKS[:4]
    cli(capsys, "run", _rollout(tmp_path / "s.xlsx", "spring", blocks), "--json")
    before = _state(api_env, blocks)
    _, run, _ = cli(capsys, "run", _rollout(tmp_path / "t.xlsx", "autumn", blocks), "--json")
    code, _, _ = cli(capsys, "undo", run["results_path"], "--yes")
    assert code == 0
    after = _state(api_env, blocks)
    for block in blocks:  # what spring sent is known (the ledger); Medium never was: left
        assert after[block]["Campaign"] == before[block]["Campaign"]
        assert after[block]["Source"] == before[block]["Source"]


def test_a_killed_undo_run_again_puts_every_block_back_once(
        tmp_path: Path, sandbox: SandboxServer, state_dir: Path) -> None:
    env = {**_env(sandbox), "IMPORTER_STATE_DIR": str(state_dir)}
    source = tmp_path / "s.xlsx"

    def importer(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "importer", *args, "--json"], env=env,
                              capture_output=True, text=True, timeout=120, check=False)

    assert importer("run", str(_rollout(source, "spring"))).returncode == 0
    before = _state(sandbox)
    second = json.loads(importer("run", str(_rollout(source, "autumn"))).stdout)
    sandbox.knobs.latency_ms = 40
    sent = stats(sandbox)["configure"]
    journal = tmp_path / "s.journal.sqlite"
    with sqlite3.connect(journal) as db:
        done = db.execute("SELECT count(*) FROM rows").fetchone()[0]
    proc = subprocess.Popen([sys.executable, "-m", "importer", "undo", second["results_path"],
                             "--yes"], env=env, text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    _wait_for_journal(journal, done + 20, timeout=60)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    assert _state(sandbox) != before  # half way
    sandbox.knobs.latency_ms = 0
    assert importer("undo", second["results_path"], "--yes").returncode == 0
    assert _state(sandbox) == before
    # Each block once, and the one in flight at the kill at most twice (configure is safe).
    assert len(BLOCKS) <= stats(sandbox)["configure"] - sent <= len(BLOCKS) + 1


def test_an_undo_of_a_rollout_with_purchases_puts_back_only_the_configure_rows(
        tmp_path: Path, api_env: SandboxServer, capsys: pytest.CaptureFixture[str]) -> None:
    source = write_xlsx(tmp_path / "r.xlsx", {
        "Purchase": [PURCHASE_HEADER, ["PRDEMO0001", "NB100000", "0412345678", "C"]],
        "Configure": [CONFIGURE_HEADER, ["ACDEMO0001", "NB090001", "application", None,
                                         None, "APP1", None, "S1"]]})
    cli(capsys, "run", source, "--yes")
    source = write_xlsx(tmp_path / "r.xlsx", {
        "Purchase": [PURCHASE_HEADER, ["PRDEMO0001", "NB100001", "0412345678", "C"]],
        "Configure": [CONFIGURE_HEADER, ["ACDEMO0001", "NB090001", "application", None,
                                         None, "APP2", None, "S2"]]})
    _, run, _ = cli(capsys, "run", source, "--yes", "--json")
    code, undone, err = cli(capsys, "undo", run["results_path"], "--yes", "--json")
    assert code == 0
    assert "the 1 blocks this run bought stay bought" in err
    assert api_env.purchase_counts() == {"NB100000": 1, "NB100001": 1}
    assert _state(api_env, ["NB090001"])["NB090001"]["Application"] == "APP1"
    assert undone["counts"]["OK"] == 1


def test_a_run_stopped_first_leaves_an_undo_workbook_that_says_so(
        tmp_path: Path, sandbox: SandboxServer, state_dir: Path) -> None:
    sandbox.knobs.latency_ms = 50
    env = {**_env(sandbox), "IMPORTER_STATE_DIR": str(state_dir)}
    source = _rollout(tmp_path / "s.xlsx", "spring")
    proc = subprocess.Popen([sys.executable, "-m", "importer", "run", str(source)], env=env,
                            text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _wait_for_journal(tmp_path / "s.journal.sqlite", 10, timeout=60)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    book = openpyxl.load_workbook(tmp_path / "s.undo.xlsx")
    said = " ".join(str(c) for r in book["Instructions"].iter_rows(values_only=True)
                    for c in r if c)
    assert "the run was stopped first" in said
    assert len(sheet_rows(tmp_path / "s.undo.xlsx", "Configure")) == len(BLOCKS)


def test_undo_of_a_check_says_there_is_nothing_to_put_back(
        tmp_path: Path, api_env: SandboxServer, capsys: pytest.CaptureFixture[str]) -> None:
    _, checked, _ = cli(capsys, "validate", _rollout(tmp_path / "s.xlsx", "x"), "--json")
    code, _, err = cli(capsys, "undo", checked["results_path"], "--yes")
    assert code == 2 and "changed nothing that can be put back" in err


def test_an_edit_sent_back_and_forth_is_sent_each_time(
        tmp_path: Path, api_env: SandboxServer, capsys: pytest.CaptureFixture[str]) -> None:
    """A, then B, then A again: the journal no longer calls A applied once B was (it said
    "Already applied" and left the block at B)."""
    blocks = BLOCKS[:2]
    for campaign in ("spring", "autumn", "spring"):
        code, report, _ = cli(capsys, "run", _rollout(tmp_path / "s.xlsx", campaign, blocks),
                              "--json")
        assert code == 0 and report["counts"]["OK"] == len(blocks)
    assert _state(api_env, blocks)[blocks[0]]["Campaign"] == "spring-0"


def test_the_shared_store_of_an_older_schema_is_migrated_and_keeps_the_undo(
        tmp_path: Path, api_env: SandboxServer, pg_server: PgServer,
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """A database a first version of the shared store made (schema 1: no rollback tables) is
    brought up to date on first use."""
    from importer.sending.postgres import MIGRATIONS

    database = pg_server.new_database()
    statements = ["CREATE TABLE importer_schema (version INTEGER NOT NULL)",
                  "INSERT INTO importer_schema VALUES (1)", *MIGRATIONS[1]]
    pg_server.psql("; ".join(statements) + "; " + "; ".join(
        f"ALTER TABLE {t} OWNER TO importer" for t in (
            "importer_schema", "journal_rows", "purchases", "purchase_events",
            "lock_holders")), database)
    monkeypatch.setenv("IMPORTER_STATE_URL", pg_server.url(database))
    blocks = BLOCKS[:3]
    cli(capsys, "run", _rollout(tmp_path / "s.xlsx", "spring", blocks))
    before = _state(api_env, blocks)
    _, run, _ = cli(capsys, "run", _rollout(tmp_path / "s.xlsx", "autumn", blocks), "--json")
    assert cli(capsys, "undo", run["results_path"], "--yes")[0] == 0
    assert _state(api_env, blocks) == before
    assert pg_server.psql("SELECT version FROM importer_schema", database) == "2"
    assert int(pg_server.psql("SELECT count(*) FROM journal_before", database)) >= 3
