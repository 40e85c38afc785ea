"""The fix-and-run-again loop never loses the user's work and never tells a lie (issue 9).

At the CLI entry point against the sandbox, with real OS faults: a read-only folder (permission
bits, or the immutable flag when the tests run as root), a full disk (a tiny tmpfs), a SIGKILL
while the results workbook is being written, Ctrl-C twice with a purchase in flight.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
import requests

from importer.sandbox import SandboxServer
from tests.test_reliability import _env, _start, configures, purchases
from tests.util import cli, sheet_rows, write_xlsx


def _digest(path: Path) -> bytes:
    return path.read_bytes()


# --- nothing is replaced silently ---------------------------------------------------------------

def test_validate_never_replaces_earlier_results(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    source = configures(tmp_path / "x.xlsx", range(90000, 90003))
    code, first, _ = cli(capsys, "validate", source, "--json")
    assert Path(first["results_path"]) == tmp_path / "x.results.xlsx"
    edited = tmp_path / "x.results.xlsx"
    edited.write_bytes(edited.read_bytes() + b"")  # the user's copy, byte for byte
    before = _digest(edited)
    code, second, _ = cli(capsys, "validate", source, "--json")
    assert Path(second["results_path"]) == tmp_path / "x.results-2.xlsx"
    assert _digest(edited) == before
    # A results workbook fed back in never writes over its siblings either.
    code, third, _ = cli(capsys, "validate", tmp_path / "x.results-2.xlsx", "--json")
    assert Path(third["results_path"]) == tmp_path / "x.results-3.xlsx"
    assert _digest(edited) == before


def test_written_files_get_the_usual_permissions(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """Written through a private temporary file, but not left private: a colleague opening the
    results in a shared folder can read them, as with any file the user saves."""
    source = configures(tmp_path / "x.xlsx", range(90000, 90002))
    _, report, _ = cli(capsys, "validate", source, "--json")
    cli(capsys, "template", "purchase", "-o", tmp_path / "t.xlsx")
    saved = tmp_path / "saved"
    saved.write_bytes(b"")  # what the user's own programs make here
    usual = saved.stat().st_mode & 0o777
    for path in (Path(report["results_path"]), tmp_path / "t.xlsx"):
        assert path.stat().st_mode & 0o777 == usual, oct(path.stat().st_mode)


def test_running_twice_keeps_the_first_results(tmp_path: Path, api_env: SandboxServer,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    source = configures(tmp_path / "x.xlsx", range(90000, 90003))
    _, first, _ = cli(capsys, "run", source, "--json")
    kept = _digest(Path(first["results_path"]))
    _, second, out = cli(capsys, "run", source, "--json")
    assert second["results_path"].endswith("x.results-2.xlsx")
    assert _digest(Path(first["results_path"])) == kept


def test_explicit_out_replaces_only_when_asked(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    source = configures(tmp_path / "x.xlsx", range(90000, 90002))
    mine = tmp_path / "mine.xlsx"
    mine.write_bytes(b"the user's own file")
    code, out, err = cli(capsys, "validate", source, "--out", mine)
    assert code == 2 and "mine.xlsx already exists" in err and len(err.strip().splitlines()) == 1
    assert mine.read_bytes() == b"the user's own file"
    code, report, _ = cli(capsys, "validate", source, "--out", mine, "--overwrite", "--json")
    assert code == 0 and report["results_path"] == str(mine)
    assert sheet_rows(mine, "Configure")[0]["Status"] == "VALID"
    # --overwrite never reaches the input.
    code, out, err = cli(capsys, "validate", source, "--out", source, "--overwrite")
    assert code == 2 and "replace the input" in err


def test_template_never_replaces_a_filled_in_sheet(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    filled = configures(tmp_path / "filled.xlsx", range(90000, 90002))
    before = _digest(filled)
    code, out, err = cli(capsys, "template", "purchase", "-o", filled)
    assert code == 2 and "already exists" in err and _digest(filled) == before
    code, out, err = cli(capsys, "template", "purchase", "-o", filled, "--overwrite")
    assert code == 0 and _digest(filled) != before
    assert openpyxl.load_workbook(filled).sheetnames == ["Purchase", "Instructions"]


@pytest.mark.parametrize("which", ["input", "out"])
def test_journal_may_not_be_the_input_or_the_results(tmp_path: Path, which: str,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    source = configures(tmp_path / "x.xlsx", range(90000, 90002))
    out = tmp_path / "r.xlsx"
    journal = source if which == "input" else out
    before = _digest(source)
    code, _, err = cli(capsys, "run", source, "--sandbox", "--out", out, "--journal", journal)
    assert code == 2 and "journal" in err and len(err.strip().splitlines()) == 1
    assert _digest(source) == before and not out.exists()


def test_the_sandbox_never_keeps_its_state_in_the_users_journal(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], state_dir: Path) -> None:
    import sqlite3

    source = configures(tmp_path / "x.xlsx", range(90000, 90002))
    journal = tmp_path / "j.sqlite"
    code, _, err = cli(capsys, "run", source, "--sandbox", "--journal", journal)
    assert code == 0, err
    with contextlib.closing(sqlite3.connect(journal)) as db:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "rows" in tables and not tables & {"blocks", "accounts", "purchases"}
    assert (state_dir / "sandbox.sqlite").exists()  # the state folder's: one for rehearsals


def test_a_results_workbook_runs_again_whatever_its_errors_sheet_holds(
        tmp_path: Path, api_env: SandboxServer, capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 9's report: values in the Errors sheet that are also column names ('app') made
    the Errors sheet look like input. The tool's sheets are marked, never read as input."""
    source = tmp_path / "c.csv"
    source.write_text("NumberBlockSid,PropertySid,RoutingMethod,Application\n"
                      "NB090001,PRDEMO0001,app,AP1\nNB090002,PRDEMO0001,application,AP2\n")
    code, first, _ = cli(capsys, "run", source, "--yes", "--json")
    results = Path(first["results_path"])
    assert code == 1 and [r["Status"] for r in sheet_rows(results, "c")] == ["INVALID", "OK"]
    assert "app" in {r["Value"] for r in sheet_rows(results, "Errors")}
    code, second, err = cli(capsys, "run", results, "--yes", "--json")
    assert code == 1, err
    again = Path(second["results_path"])
    assert again.name == "c.results-2.xlsx"
    assert [r["Status"] for r in sheet_rows(again, "c")] == ["INVALID", "SKIPPED"]
    assert second["rows"] == 2


# --- whole files, never half ones -----------------------------------------------------------------

def _big_csv(path: Path, rows: int) -> Path:
    lines = ["AccountSid,NumberBlockSid,RoutingMethod,EndpointNumber,Campaign"]
    lines += [f"ACDEMO0001,NB{100000 + i % 19000}X{i},endpoint,0298765432,C{i}"
              for i in range(rows)]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("mode", ["overwrite", "next-name"])
def test_a_kill_while_writing_the_results_leaves_old_or_new(tmp_path: Path, mode: str) -> None:
    source = _big_csv(tmp_path / "big.csv", 60_000)
    previous = tmp_path / ("mine.xlsx" if mode == "overwrite" else "big.results.xlsx")
    shutil.copy(configures(tmp_path / "prev.xlsx", range(90000, 90002)), previous)
    before = _digest(previous)
    args = ["validate", str(source)]
    if mode == "overwrite":
        args += ["--out", str(previous), "--overwrite"]
    proc = _start(args, {**os.environ})
    deadline = time.monotonic() + 120
    written = previous.name if mode == "overwrite" else "big.results-2.xlsx"
    while not list(tmp_path.glob(f".{written}.*.tmp")):
        assert proc.poll() is None and time.monotonic() < deadline, "never started writing"
        time.sleep(0.01)
    time.sleep(0.3)  # well into the write
    proc.kill()
    proc.communicate(timeout=30)
    assert _digest(previous) == before
    assert not (tmp_path / "big.results-2.xlsx").exists()


# --- check you can write before you spend money -------------------------------------------------

@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """A folder nobody can create files in: permission bits, or as root the immutable flag."""
    folder.mkdir(exist_ok=True)
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield
        finally:
            folder.chmod(0o755)
        return
    if subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode != 0:
        pytest.skip("cannot make a folder read-only here (chattr +i refused)")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)


def test_a_read_only_results_folder_stops_before_anything_is_sent(
        tmp_path: Path, api_env: SandboxServer, capsys: pytest.CaptureFixture[str]) -> None:
    source = purchases(tmp_path / "p.xlsx", range(100000, 100003))
    locked = tmp_path / "locked"
    with read_only(locked):
        code, report, err = cli(capsys, "run", source, "--yes", "--out", locked / "r.xlsx",
                                "--json")
    assert code == 2 and "cannot be written there" in report["error"]
    assert "nothing was sent" in err and len(err.strip().splitlines()) == 1
    assert requests.get(f"{api_env.base_url}/_sandbox/stats", timeout=5).json()[
        "Requests"]["purchase"] == 0


@contextlib.contextmanager
def tiny_disk(folder: Path, size: str = "96k") -> Iterator[Path]:
    """A real, small file system (tmpfs): writes past its size fail with ENOSPC."""
    folder.mkdir(exist_ok=True)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a small file system here (needs root)")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def _fill(folder: Path, leave: int) -> None:
    """Fill the disk up to `leave` bytes of room."""
    with contextlib.suppress(OSError), open(folder / "filler", "wb") as f:
        while shutil.disk_usage(folder).free > leave:
            f.write(b"\0" * 4096)
            f.flush()


def test_results_that_do_not_fit_are_written_elsewhere_and_said_so(
        tmp_path: Path, api_env: SandboxServer, capsys: pytest.CaptureFixture[str],
        state_dir: Path) -> None:
    source = purchases(tmp_path / "p.xlsx", range(100000, 100004))
    with tiny_disk(tmp_path / "stick") as stick:
        _fill(stick, leave=4096)  # one page: room for the probe, not for a workbook
        code, report, err = cli(capsys, "run", source, "--yes", "--out", stick / "r.xlsx",
                                "--journal", tmp_path / "j.sqlite", "--json")
        assert not (stick / "r.xlsx").exists()
    assert code == 3 and report["counts"]["OK"] == 4  # the money was spent: say where it is
    written = Path(report["results_path"])
    assert written.is_relative_to(state_dir) and written.exists()
    assert "the disk is full" in report["notes"][0] and str(written) in report["notes"][0]
    assert [r["Status"] for r in sheet_rows(written, "Purchase")] == ["OK"] * 4
    assert "the disk is full" in err


def test_a_journal_that_fills_the_disk_stops_the_run_with_true_statuses(
        tmp_path: Path, api_env: SandboxServer, capsys: pytest.CaptureFixture[str]) -> None:
    source = purchases(tmp_path / "p.xlsx", range(100000, 100040))
    with tiny_disk(tmp_path / "stick", size="64k") as stick:
        code, report, _ = cli(capsys, "run", source, "--yes", "--journal", stick / "j.sqlite",
                              "--json")
    assert code == 3 and "journal could not be written" in report["aborted"]
    rows = {int(r["NumberBlockSid"][2:]): r for r in sheet_rows(Path(report["results_path"]),
                                                                  "Purchase")}
    sold = api_env.purchase_counts()
    assert sold and set(sold.values()) == {1}
    for block in sold:  # every block the server sold is OK (its note says what the journal lost)
        assert rows[int(block[2:])]["Status"] == "OK", rows[int(block[2:])]
    unsent = [r for b, r in rows.items() if f"NB{b}" not in sold]
    assert unsent and all(r["Status"] in ("FAILED", "SKIPPED") for r in unsent)
    assert all("Not sent" in r["Message"] for r in unsent)


# --- an escape mid-request says "may have been sent" --------------------------------------------

def test_ctrl_c_twice_with_a_purchase_in_flight_says_it_may_have_been_bought(
        tmp_path: Path, sandbox: SandboxServer) -> None:
    sandbox.knobs.latency_ms = 3000  # the answer takes long; the server commits it anyway
    source = purchases(tmp_path / "p.xlsx", range(100000, 100003))
    proc = _start(["run", str(source), "--yes", "--json"], _env(sandbox))
    deadline = time.monotonic() + 60
    while requests.get(f"{sandbox.base_url}/_sandbox/stats", timeout=5).json()[
            "Requests"]["purchase"] < 1:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.2)
    proc.send_signal(signal.SIGINT)  # the second one quits now, mid-request
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    rows = sheet_rows(tmp_path / "p.results.xlsx", "Purchase")
    assert rows[0]["Status"] == "UNKNOWN" and "may have been bought" in rows[0]["Message"].lower()
    assert all("Not sent" in r["Message"] for r in rows[1:])
    time.sleep(3.5)  # the server finishes the purchase it was given
    assert sandbox.purchase_counts() == {"NB100000": 1}
    sandbox.knobs.latency_ms = 0
    again = subprocess.run([sys.executable, "-m", "importer", "run", str(source), "--yes",
                            "--json", "--timeout", "5", "--settle-window", "10"],
                           env=_env(sandbox),
                           capture_output=True, text=True, timeout=120, check=False)
    assert again.returncode == 0, again.stderr
    assert sandbox.purchase_counts() == {f"NB{b}": 1 for b in range(100000, 100003)}


def test_sheet_writes_to_an_odd_sheet_name_still_round_trip(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Names the writer takes as they are (31 characters, an apostrophe inside)."""
    name = "Q1 rollout – Sydney's offices 2"[:31]
    source = write_xlsx(tmp_path / "n.xlsx", {name: [
        ["AccountSid", "NumberBlockSid", "RoutingMethod", "Application"],
        ["ACDEMO0001", "NB090001", "application", "A1"]]})
    code, report, _ = cli(capsys, "validate", source, "--json", "--operation", "configure")
    assert code == 0
    assert sheet_rows(Path(report["results_path"]), name)[0]["Status"] == "VALID"
