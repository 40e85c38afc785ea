"""The settle window has a floor (issue 29, item 3): a window shorter than a listing's lag
calls a purchase that went through "not bought", and the next run buys it again.

Against a sandbox that lists a sale 5 s late, drops answers and fails after committing, and
sells an owned block again (counting every sale): three runs in a row, and a run killed three
times then run again, buy each block once with the real floor; a shorter window is refused
before anything is sent; and where a window is shorter than the lag anyway (the floor scaled
down, as an API lagging past 10 s would be), every message says what was sent.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from importer.errors import UsageError
from importer.pipeline import Options, prepare, run
from importer.sandbox import SandboxServer
from importer.sending.client import ApiClient, Credentials
from importer.spec import contract
from tests.test_reliability import _env, _start, _wait_for_journal, purchases
from tests.util import cli, sheet_rows

BLOCKS = range(105000, 105030)


@pytest.fixture
def lagging(api_env: SandboxServer) -> SandboxServer:
    knobs = api_env.knobs
    knobs.rebuy, knobs.listing_lag_s, knobs.seed = True, 5.0, 7
    knobs.drop_rate, knobs.fail_after_commit_rate = 0.3, 0.2
    return api_env


def test_the_floor_is_ten_seconds_and_never_below_the_timeout() -> None:
    assert contract.settle_floor(5) == contract.LISTING_TRUSTED_AFTER == 10
    assert contract.settle_floor(30) == 30


@pytest.mark.parametrize("args", [("--settle-window", "0.5", "--timeout", "5"),
                                  ("--settle-window", "15", "--timeout", "20"),
                                  ("--settle-window", "9.9", "--timeout", "1")])
def test_a_window_below_the_floor_is_refused_before_anything_is_sent(
        tmp_path: Path, lagging: SandboxServer, capsys: pytest.CaptureFixture[str],
        args: tuple[str, ...]) -> None:
    code, out, err = cli(capsys, "run", purchases(tmp_path / "p.xlsx", BLOCKS), "--yes", *args)
    assert code == 2
    assert "--settle-window" in err and "too short" in err and "give at least" in err
    assert lagging.purchase_requests() == {}
    assert not list(tmp_path.glob("*.results*.xlsx"))


def test_serve_refuses_a_short_window_too(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "serve", "--sandbox", "--no-browser", "--settle-window", "1")
    assert code == 2 and "too short" in err


def test_the_core_refuses_a_short_window_whoever_built_the_options(
        tmp_path: Path, lagging: SandboxServer) -> None:
    """The web app builds Options itself: the pipeline checks the window before buying."""
    prepared = prepare(purchases(tmp_path / "p.xlsx", BLOCKS), Options(settle_window=1.0))
    client = ApiClient(Credentials(lagging.base_url, lagging.account_sid, lagging.auth_token),
                       timeout=(5.0, 5.0))
    with pytest.raises(UsageError, match="too short"):
        run(prepared, client, scope="test")
    client.close()
    assert lagging.purchase_requests() == {}


def test_three_runs_in_a_row_against_a_lagging_listing_buy_each_block_once(
        tmp_path: Path, lagging: SandboxServer, capsys: pytest.CaptureFixture[str]) -> None:
    source = purchases(tmp_path / "p.xlsx", BLOCKS)
    for _ in range(3):
        code, report, _ = cli(capsys, "run", source, "--yes", "--json", "--timeout", "5")
        assert code in (0, 1), report
        for row in sheet_rows(Path(report["results_path"]), "Purchase"):
            if row["Status"] == "OK":
                assert lagging.purchase_counts().get(row["NumberBlockSid"]) == 1
    assert set(lagging.purchase_counts().values()) == {1}
    assert report["counts"]["UNKNOWN"] == 0 and len(lagging.purchase_counts()) == len(BLOCKS)


def test_a_run_killed_three_times_then_run_again_buys_each_block_once(
        tmp_path: Path, lagging: SandboxServer) -> None:
    source = purchases(tmp_path / "p.xlsx", BLOCKS)
    journal = tmp_path / "p.journal.sqlite"
    args = ["run", str(source), "--yes", "--timeout", "5", "--wait"]
    for rows in (4, 12, 20):
        proc = _start(args, _env(lagging))
        try:
            _wait_for_journal(journal, rows, timeout=60)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.communicate(timeout=30)
    proc = _start([*args, "--json"], _env(lagging))
    proc.communicate(timeout=180)
    assert proc.returncode in (0, 1)
    assert set(lagging.purchase_counts().values()) == {1}, lagging.purchase_counts()
    assert set(lagging.purchase_requests().values()) <= {1, 2}  # a second only when unsold


@pytest.mark.usefixtures("fast_settling")
def test_a_block_sent_again_after_a_window_shorter_than_the_lag_says_so(
        tmp_path: Path, api_env: SandboxServer, capsys: pytest.CaptureFixture[str]) -> None:
    """What an API lagging past the floor does: the run sends the block again, and its
    message says so (it said "It was not sent again")."""
    api_env.knobs.rebuy, api_env.knobs.drop_rate, api_env.knobs.listing_lag_s = True, 1.0, 3.0
    source = purchases(tmp_path / "p.xlsx", range(105000, 105001))
    _, first, _ = cli(capsys, "run", source, "--yes", "--json", "--settle-window", "0.3")
    assert "sent it once and not again" in sheet_rows(Path(first["results_path"]),
                                                      "Purchase")[0]["Message"]
    _, second, _ = cli(capsys, "run", source, "--yes", "--json", "--settle-window", "0.3")
    row = sheet_rows(Path(second["results_path"]), "Purchase")[0]
    assert api_env.purchase_requests() == {"NB105000": 2}
    assert row["Status"] == "UNKNOWN" and "This run sent it again" in row["Message"]
    assert "not a third time" in row["Message"]
