"""Every sample runs against the sandbox with the statuses the README describes.

EXPECTED is that README table. Each sample is run on a fresh sandbox (as the README's commands
do), all of them against one shared sandbox (they use separate blocks), and the committed files
are checked against samples/make_samples.py.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest

from importer.cli import main
from importer.reading.loading import load
from importer.sandbox.seed import (
    DEMO_ACCOUNT_SID,
    DEMO_PROPERTY_SIDS,
    OTHER_PROPERTY_SIDS,
    PREOWNED_DEMO_BLOCKS,
    PREOWNED_OTHER_BLOCKS,
    is_inventory_sid,
)
from tests.workbook_util import sample_inputs

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"

# sample -> (exit code of `importer run --sandbox`, statuses, VALID/INVALID of `validate`)
EXPECTED: dict[str, tuple[int, dict[str, int], dict[str, int]]] = {
    "rollout.xlsx": (0, {"OK": 28}, {"VALID": 28}),
    "purchase.xlsx": (0, {"OK": 10}, {"VALID": 10}),
    "configure.xlsx": (0, {"OK": 9}, {"VALID": 9}),
    "purchase-excel-utf8.csv": (0, {"OK": 6}, {"VALID": 6}),
    "purchase-excel-cp1252.csv": (0, {"OK": 6}, {"VALID": 6}),
    "configure-excel-semicolon.csv": (0, {"OK": 6}, {"VALID": 6}),
    "mistakes.xlsx": (1, {"OK": 5, "INVALID": 14, "REJECTED": 4, "SKIPPED": 3},
                      {"VALID": 12, "INVALID": 14}),
}

# mistakes.xlsx row by row: (sheet, row) -> (Status, Error Code)
MISTAKES = {
    ("Purchase", 2): ("OK", None), ("Purchase", 3): ("OK", None),
    **{("Purchase", r): ("INVALID", None) for r in range(4, 14)},
    ("Purchase", 14): ("REJECTED", "FORBIDDEN"),
    ("Purchase", 15): ("REJECTED", "NUMBER_BLOCK_NOT_AVAILABLE"),
    ("Purchase", 16): ("REJECTED", "NUMBER_BLOCK_NOT_FOUND"),
    ("Purchase", 17): ("SKIPPED", None),
    ("Configure", 2): ("OK", None), ("Configure", 3): ("OK", None),
    **{("Configure", r): ("INVALID", None) for r in range(4, 8)},
    ("Configure", 8): ("OK", None),
    ("Configure", 9): ("SKIPPED", None), ("Configure", 10): ("SKIPPED", None),
    ("Configure", 11): ("REJECTED", "FORBIDDEN"),
}
# Every code the local rules can give (prefix_not_allowed needs --allowed-prefixes).
ISSUE_CODES = {"required", "duplicate", "at_least_one", "invalid_id", "invalid_phone",
               "excel_scientific", "excel_damaged", "not_allowed_value", "invalid_number",
               "conditional_required", "routing_without_method", "not_used", "ignored_column"}


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> dict:
    code = main([*args, "--json"])
    report = json.loads(capsys.readouterr().out)
    assert report["exit_code"] == code
    return report


def _nonzero(counts: dict[str, int]) -> dict[str, int]:
    return {k: v for k, v in counts.items() if v}


def test_every_sample_is_listed() -> None:
    """What the README's quick start leaves beside the samples (results) is not a sample."""
    made = {p.name for p in sample_inputs()}
    assert made == set(EXPECTED)


@pytest.mark.parametrize("sample", list(EXPECTED))
def test_sample_on_a_fresh_sandbox(sample: str, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    code, statuses, validated = EXPECTED[sample]
    report = _run(["validate", str(SAMPLES / sample), "--out", str(tmp_path / "v.xlsx")],
                  capsys)
    assert _nonzero(report["counts"]) == validated
    report = _run(["run", str(SAMPLES / sample), "--sandbox", "--yes",
                   "--out", str(tmp_path / "r.xlsx")], capsys)
    assert (report["exit_code"], _nonzero(report["counts"])) == (code, statuses)


def test_all_samples_share_one_sandbox(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                       state_dir: Path) -> None:
    """One sandbox per state folder: no sample takes another's blocks."""
    journal = tmp_path / "shared.journal.sqlite"
    for i, (sample, (code, statuses, _)) in enumerate(EXPECTED.items()):
        report = _run(["run", str(SAMPLES / sample), "--sandbox", "--yes", "--journal",
                       str(journal), "--out", str(tmp_path / f"{i}.results.xlsx")], capsys)
        assert (sample, report["exit_code"], _nonzero(report["counts"])) == (sample, code,
                                                                              statuses)
    assert (state_dir / "sandbox.sqlite").exists()


def test_mistakes_results_row_by_row(tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    results = tmp_path / "mistakes.results.xlsx"
    _run(["run", str(SAMPLES / "mistakes.xlsx"), "--sandbox", "--yes", "--out", str(results)],
         capsys)
    book = openpyxl.load_workbook(results)
    got = {}
    for sheet in ("Purchase", "Configure"):
        rows = list(book[sheet].iter_rows(values_only=True))
        header = list(rows[0])
        for r, row in enumerate(rows[1:], 2):
            got[(sheet, r)] = (row[header.index("Status")], row[header.index("Error Code")])
    assert got == MISTAKES
    errors = list(book["Errors"].iter_rows(values_only=True))
    codes = {row[5] for row in errors[1:] if row[4] in ("error", "warning") and row[2]}
    assert codes == ISSUE_CODES


def test_rollout_readme_command(tmp_path: Path) -> None:
    """The README's first command, as a user types it from a clone; then again: nothing is sent
    twice, and the first results are kept beside the new ones."""
    (tmp_path / "samples").mkdir()
    shutil.copy(SAMPLES / "rollout.xlsx", tmp_path / "samples")
    cmd = [sys.executable, "-m", "importer", "run", "samples/rollout.xlsx", "--sandbox", "--yes"]
    first = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False,
                           cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "OK 28" in first.stdout and "results: samples/rollout.results.xlsx" in first.stdout
    kept = (tmp_path / "samples/rollout.results.xlsx").read_bytes()
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False,
                           cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "SKIPPED 28" in again.stdout and "rollout.results-2.xlsx" in again.stdout
    assert (tmp_path / "samples/rollout.results.xlsx").read_bytes() == kept


def _blocks(sample: str) -> tuple[set[str], set[str]]:
    """(NumberBlockSids, Account/Property Sids) a sample names."""
    blocks, owners = set(), set()
    for sheet in load(SAMPLES / sample):
        blocks |= set(sheet.data["NumberBlockSid"].dropna())
        for column in ("AccountSid", "PropertySid"):
            owners |= set(sheet.data[column].dropna())
    return blocks, owners


def test_the_sandbox_seed_covers_every_sid_and_samples_do_not_share_blocks() -> None:
    seeded = {*PREOWNED_DEMO_BLOCKS, *PREOWNED_OTHER_BLOCKS}
    deliberate = {"NB999999", "NB 100504"}  # mistakes.xlsx: no such block, a bad Sid
    seen: dict[str, str] = {}
    for sample in EXPECTED:
        blocks, owners = _blocks(sample)
        assert owners <= {DEMO_ACCOUNT_SID, *DEMO_PROPERTY_SIDS, *OTHER_PROPERTY_SIDS}, sample
        unknown = {b for b in blocks if not (is_inventory_sid(b) or b in seeded)}
        assert unknown <= (deliberate if sample == "mistakes.xlsx" else set()), sample
        for block in blocks:
            assert seen.setdefault(block, sample) == sample, f"{block} in {sample} too"


def _load_generator():  # samples/ is not a package
    spec = importlib.util.spec_from_file_location("make_samples", SAMPLES / "make_samples.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def test_committed_samples_match_the_generator(tmp_path: Path) -> None:
    written = _load_generator().write_samples(tmp_path)
    assert {p.name for p in written} == set(EXPECTED)
    for path in written:
        committed = SAMPLES / path.name
        if path.suffix == ".csv":
            assert path.read_bytes() == committed.read_bytes(), path.name
        else:
            with zipfile.ZipFile(path) as new, zipfile.ZipFile(committed) as old:
                assert new.namelist() == old.namelist()
                drifted = [m for m in new.namelist() if new.read(m) != old.read(m)]
            assert not drifted, f"samples/{path.name} is out of date: python " \
                                f"samples/make_samples.py ({drifted})"


def test_excel_csv_bytes() -> None:
    """As Excel on Windows writes them: BOM or not, encoding, delimiter, CRLF line ends."""
    utf8 = (SAMPLES / "purchase-excel-utf8.csv").read_bytes()
    cp1252 = (SAMPLES / "purchase-excel-cp1252.csv").read_bytes()
    semicolon = (SAMPLES / "configure-excel-semicolon.csv").read_bytes()
    assert utf8.startswith(b"\xef\xbb\xbfAccountSid,") and "Café".encode() in utf8
    assert b"Cr\xe8me br\xfbl\xe9e \x96 \x805 off" in cp1252  # è û é – € in cp1252
    assert semicolon.startswith(b"PropertySid;") and b"Fr\xfchling, Sommer" in semicolon
    assert b'"Herbst; Winter"' in semicolon
    for data in (utf8, cp1252, semicolon):
        assert data.endswith(b"\r\n") and data.count(b"\n") == data.count(b"\r\n")
    (sheet,) = load(SAMPLES / "purchase-excel-cp1252.csv")
    assert sheet.data["Campaign"].iloc[0] == "Crème brûlée – €5 off"
