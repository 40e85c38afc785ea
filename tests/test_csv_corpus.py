"""Every CSV of tests/data/csv read as LibreOffice reads the same bytes, and as a user sees it.

LibreOffice converts each file to xlsx with its own CSV filter (separator and character set
given, every column as text, formulas not evaluated, so a cell holds the text the file holds);
calamine reads that back, and our reading must give the same cells. The files are made by
tests/data/make_csv.py; tests/data/README.md says what made each one.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from importer.cli import main
from importer.reading.delimited import read_csv, records
from importer.reading.loading import LIMITS
from importer.reading.source import read_input
from tests.libreoffice import convert

DATA = Path(__file__).parent / "data" / "csv"
# LibreOffice's CSV filter: separator, quote, character set (76 UTF-8, 1 Windows-1252, 2 Mac
# Roman, 65535 UTF-16), first line, 40 columns as text, English, quoted fields as text, no
# special numbers, -, -, no trimming, -, formulas not evaluated.
_TEXT = "/".join(f"{i}/2" for i in range(1, 41))
CHARSETS = {"cr-mac.csv": 2, "cp1252.csv": 1, "utf16.csv": 65535}
SEPARATORS = {"semicolon.csv": 59, "tab.csv": 9, "pipe.csv": 124, "utf16.csv": 9}
CASES = sorted(p.name for p in DATA.glob("*.csv"))


def _filter(name: str) -> str:
    return (f"CSV:{SEPARATORS.get(name, 44)},34,{CHARSETS.get(name, 76)},1,{_TEXT},1033,true,"
            "false,false,false,false,-1,false")


def _cells(frame: pd.DataFrame) -> list[list[str]]:
    rows = [["" if pd.isna(v) else str(v) for v in row] for row in frame.values.tolist()]
    rows = [row[: max((i + 1 for i, v in enumerate(row) if v), default=0)] for row in rows]
    while rows and not rows[-1]:
        rows.pop()
    return rows


@pytest.fixture(scope="module")
def libreoffice(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[list[str]]]:
    out = tmp_path_factory.mktemp("lo")
    groups: dict[str, list[Path]] = {}
    for name in CASES:
        groups.setdefault(_filter(name), []).append(DATA / name)
    read = {}
    for infilter, files in groups.items():
        for made in convert(files, "xlsx", out, infilter=infilter):
            frame = pd.read_excel(made, header=None, dtype=str, engine="calamine",
                                  keep_default_na=False)
            read[made.stem + ".csv"] = _cells(frame)
    return read


@pytest.mark.parametrize("name", CASES)
def test_cells_are_what_libreoffice_reads(libreoffice: dict[str, list[list[str]]],
                                          name: str) -> None:
    ours = read_csv(read_input(DATA / name, LIMITS), LIMITS)
    # LibreOffice keeps a line break in a cell as LF, as we do; it shows a bell as it is.
    assert _cells(ours.frame) == libreoffice[name]


@pytest.mark.parametrize(("name", "valid", "invalid", "said"), [
    ("cr-mac.csv", 3, 0, ""),
    ("mixed-endings.csv", 3, 0, ""),
    ("formula-payloads.csv", 5, 0, ""),  # split where LibreOffice splits them, all sent as text
    ("quote-then-text.csv", 2, 1, "opens a quote"),
    ("unclosed-quote.csv", 2, 1, "Campaign on line 2 of the file opens a quote (\") that "
                                 "is never closed"),
    ("control-character.csv", 2, 1, "invisible character (control character, U+0007) at "
                                    "position 4"),
])
def test_every_row_read_and_each_problem_on_its_row(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                    name: str, valid: int, invalid: int,
                                                    said: str) -> None:
    """Exit 0 or 1, never 2: the file is read, and a strange cell is its row's problem."""
    code = main(["validate", str(DATA / name), "--out", str(tmp_path / "r.xlsx")])
    out = capsys.readouterr()
    assert code == (1 if invalid else 0), out.err
    assert f"VALID {valid}" in out.out if valid else True
    assert (f"INVALID {invalid}" in out.out) == bool(invalid), out.out
    assert said in out.out


def test_zero_width_spaces_in_every_header_one_short_line(capsys: pytest.CaptureFixture,
                                                          tmp_path: Path) -> None:
    code = main(["validate", str(DATA / "zero-width-headers.csv"), "--out",
                 str(tmp_path / "r.xlsx")])
    (line,) = capsys.readouterr().err.splitlines()
    assert code == 2 and len(line.partition("zero-width-headers.csv: ")[2]) <= 200, line
    assert "and 3 more like it" in line and "zero width space" in line


_CELL = st.text(alphabet=st.sampled_from('ab ,;"\n\r\té€'), max_size=8)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(_CELL, min_size=2, max_size=4), min_size=1, max_size=5),
       st.sampled_from([",", ";", "\t"]), st.sampled_from(["\r\n", "\n", "\r"]))
def test_what_excel_writes_is_read_back_cell_for_cell(rows: list[list[str]], sep: str,
                                                      end: str) -> None:
    """Excel quotes a field holding the separator, a quote, a line break or a leading space,
    doubling its quotes: whatever the cells and line ends, the reading gives them back (a
    line break inside a cell as LF, as Excel keeps it)."""
    def field(value: str) -> str:
        if any(c in value for c in (sep, '"', "\n", "\r")) or value[:1] == " ":
            return '"' + value.replace('"', '""') + '"'
        return value

    text = end.join(sep.join(field(v) for v in row) for row in rows) + end
    read = [row for _, row, problems in records(text, sep) if not problems]
    expected = [[v.replace("\r\n", "\n").replace("\r", "\n") for v in row] for row in rows]
    assert read == expected
