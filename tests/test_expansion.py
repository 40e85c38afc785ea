"""Tiny files that would expand to far more than they hold (issue 29 item 4): each is made
here in a few bytes, and `importer validate` (the loader the web upload uses too) must refuse
it in one plain line naming the file, its peak memory (the child process's own) well under
what the attack used to take."""

from __future__ import annotations

from pathlib import Path

from tests.hostile import run

MEGABYTES = 500  # the attacks took 1.7 to more than 6 GB


def refused(tmp_path: Path, path: Path, *words: str) -> str:
    result = run(tmp_path, "validate", path, "--out", tmp_path / "out.results.xlsx")
    assert result.code == 2, (result.code, result.stderr[-2000:])
    assert result.peak_mb < MEGABYTES, f"peak {result.peak_mb:.0f} MB"
    (line,) = result.stderr.splitlines()
    assert line.startswith("importer: ") and f"{path.name}:" in line, line
    for word in words:
        assert word in line, line
    return line


def test_a_csv_quote_never_closed_on_a_huge_line(tmp_path: Path) -> None:
    """A 208 MB CSV with an unclosed quote answered 500 with a MemoryError: the regex that
    spots well-formed lines kept a backtracking state per character (120 bytes each)."""
    path = tmp_path / "quote.csv"
    with path.open("wb") as f:
        f.write(b'PropertySid,NumberBlockSid,AnswerPoint\nPRDEMO0001,NB1,"0412 ')
        f.write(b"x" * 30_000_000)
        f.write(b"\nPRDEMO0001,NB2,0412345678\n")
    refused(tmp_path, path, "line 2, column C opens a quote", "never closed",
            "30,000,006 characters", "1,000,000")
