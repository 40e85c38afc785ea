"""The loader on files whose bytes are written here exactly as the programs write them.

CSV quirks (encodings, BOMs, delimiters, Excel's `sep=` line, title rows) are byte-level, so
the files are built byte by byte; workbook cases use openpyxl. The same cases in files written
by LibreOffice itself are in test_real_files.py.
"""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from importer.errors import InputError
from importer.loading import load
from tests.util import write_xlsx

HEADER = ["AccountSid", "NumberBlockSid", "AnswerPoint", "Campaign"]
ROWS = [["ACDEMO0001", "NB100000", "0412 345 678", "Café €5 – Noël"],
        ["ACDEMO0001", "NB100001", "412345679", "Spring, Sale; \"big\""]]


def _csv(rows: list[list[str]], sep: str = ",", crlf: bool = True) -> str:
    def cell(v: str) -> str:
        return f'"{v.replace(chr(34), chr(34) * 2)}"' if any(c in v for c in f'{sep}"\n') else v

    end = "\r\n" if crlf else "\n"
    return "".join(sep.join(cell(v) for v in row) + end for row in rows)


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _values(path: Path, **kw: object) -> list[list[object]]:
    (sheet,) = load(path, **kw)  # type: ignore[arg-type]
    data = sheet.data[["AccountSid", "NumberBlockSid", "AnswerPoint", "Campaign"]]
    return [[row, *values] for row, values in zip(data.index, data.values.tolist(), strict=True)]


EXPECTED = [[2, *ROWS[0]], [3, *ROWS[1]]]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "utf-16", "utf-16-le", "utf-16-be",
                                      "cp1252"])
def test_csv_encodings(tmp_path: Path, encoding: str) -> None:
    """Excel's CSV UTF-8 (BOM), UTF-8 without BOM (Google Sheets, LibreOffice), Unicode Text
    (UTF-16 with BOM) and BOM-less UTF-16, and plain CSV (cp1252): the € and – too."""
    path = _write(tmp_path, "f.csv", _csv([HEADER, *ROWS]).encode(encoding))
    assert _values(path) == EXPECTED


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_delimiters_detected_despite_quoted_and_unquoted_others(tmp_path: Path,
                                                                sep: str) -> None:
    path = _write(tmp_path, "f.csv", _csv([HEADER, *ROWS], sep).encode("utf-8"))
    assert _values(path) == EXPECTED


def test_semicolon_file_with_many_unquoted_commas(tmp_path: Path) -> None:
    """European Excel quotes only what holds a semicolon: commas in text stay bare."""
    rows = [HEADER] + [["ACDEMO0001", f"NB10000{i}", "0412 345 678", "a, b, c, d, e, f"]
                       for i in range(3)]
    path = _write(tmp_path, "f.csv", _csv(rows, ";").encode("cp1252"))
    assert [r[4] for r in _values(path)] == ["a, b, c, d, e, f"] * 3


def test_excel_sep_line_is_honoured_and_not_a_row(tmp_path: Path) -> None:
    text = "sep=;\r\n" + _csv([HEADER, *ROWS], ";")
    path = _write(tmp_path, "f.csv", text.encode("utf-8-sig"))
    assert _values(path) == EXPECTED


def test_title_rows_above_the_header_keep_excel_row_numbers(tmp_path: Path) -> None:
    """A short title line, a line naming one known column, a blank line, then the header."""
    text = "Spring rollout\r\nCampaign,Spring\r\n\r\n" + _csv([HEADER, *ROWS])
    path = _write(tmp_path, "f.csv", text.encode("utf-8"))
    (sheet,) = load(path)
    assert sheet.header_row == 3
    assert _values(path) == [[5, *ROWS[0]], [6, *ROWS[1]]]


def test_header_must_name_two_known_columns(tmp_path: Path) -> None:
    path = _write(tmp_path, "f.csv", b"Campaign,Notes\r\nSpring,x\r\n")
    with pytest.raises(InputError, match="no header row naming known columns"):
        load(path)


def test_header_too_far_down_is_reported(tmp_path: Path) -> None:
    text = "title\r\n" * 30 + _csv([HEADER, *ROWS])
    path = _write(tmp_path, "f.csv", text.encode("utf-8"))
    with pytest.raises(InputError, match="first 30 rows"):
        load(path)


def test_trailing_empty_and_blank_rows_and_columns_are_trimmed(tmp_path: Path) -> None:
    rows = [[*HEADER, "", ""], [*ROWS[0], "", " "], ["", "", "", "", "", ""],
            [*ROWS[1], "", ""], ["", "", "", "", "  ", ""], ["", "", "", "", "", ""]]
    path = _write(tmp_path, "f.csv", _csv(rows).encode("utf-8"))
    (sheet,) = load(path)
    assert sheet.raw.shape == (4, 4)
    assert [r[0] for r in _values(path)] == [2, 4]  # the inner blank row keeps its place


def test_utf8_bom_with_bytes_that_are_not_utf8_is_an_error(tmp_path: Path) -> None:
    data = codecs.BOM_UTF8 + _csv([HEADER, ROWS[0]]).encode("utf-8") + "Café\r\n".encode("cp1252")
    path = _write(tmp_path, "f.csv", data)
    with pytest.raises(InputError, match="line 3 is not UTF-8"):
        load(path)


def test_utf8_mixed_with_cp1252_is_an_error_not_mojibake(tmp_path: Path) -> None:
    """Rows appended by another program in another encoding: no guess fits every line."""
    appended = ["ACDEMO0001", "NB100002", "0412 345 678", "Noël"]
    data = _csv([HEADER, *ROWS]).encode("utf-8") + _csv([appended]).encode("cp1252")
    with pytest.raises(InputError, match=r"has UTF-8 text but line 4 is not UTF-8 \(byte "
                                         r"0xEB\)"):
        load(_write(tmp_path, "f.csv", data))


def test_duplicate_header_names_both_columns(tmp_path: Path) -> None:
    text = _csv([[*HEADER, "Number Block SID"], [*ROWS[0], "NB1"]])
    path = _write(tmp_path, "f.csv", text.encode("utf-8"))
    with pytest.raises(InputError, match=r"columns B \(NumberBlockSid\) and E \(Number Block "
                                         r"SID\) both mean NumberBlockSid"):
        load(path)


def test_header_only_and_empty_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="has a header but no data rows"):
        load(_write(tmp_path, "h.csv", _csv([HEADER]).encode("utf-8")))
    with pytest.raises(InputError, match="the file is empty"):
        load(_write(tmp_path, "e.csv", b""))
    with pytest.raises(InputError, match="the sheet is empty"):
        load(_write(tmp_path, "blank.csv", b"\r\n,,\r\n"))


def test_workbook_numbers_and_booleans_come_back_as_the_cell_shows(tmp_path: Path) -> None:
    """Number cells lose no digits (412345678, not 412345678.0); booleans read as True/False."""
    rows = [["AccountSid", "NumberBlockSid", "AnswerPoint", "Active", "GroupType"],
            ["ACDEMO0001", "NB100000", 412345678, True, 1],
            ["ACDEMO0001", "NB100001", 412345678.0, False, 0.0],
            ["ACDEMO0001", "NB100002", 61412345678, "TRUE", "1"]]
    path = write_xlsx(tmp_path / "b.xlsx", {"Purchase": rows})
    (sheet,) = load(path)
    got = sheet.data[["AnswerPoint", "Active", "GroupType"]].values.tolist()
    assert got == [["412345678", "True", "1"], ["412345678", "False", "0"],
                   ["61412345678", "TRUE", "1"]]


def test_hidden_sheets_are_read_only_when_named(tmp_path: Path) -> None:
    good = [HEADER, ROWS[0]]
    old = [["NumberBlockSid", "AnswerPoint", "AccountSid"], ["NB100099", "0412345678", "ACDEMO1"]]
    path = write_xlsx(tmp_path / "b.xlsx", {"Purchase": good, "Old": old}, hidden=("Old",))
    assert [s.name for s in load(path)] == ["Purchase"]
    (sheet,) = load(path, sheets=("Old",))
    assert sheet.name == "Old" and sheet.data["NumberBlockSid"].tolist() == ["NB100099"]


def test_only_hidden_sheets_usable_says_so(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "b.xlsx", {"Notes": [["just notes"]], "Old": [HEADER, ROWS[0]]},
                 hidden=("Old",))
    with pytest.raises(InputError, match=r"hidden sheets \('Old'\) are read only when named "
                                         r"with --sheet"):
        load(path)


def test_instructions_sheets_are_not_mistaken_for_data(tmp_path: Path) -> None:
    """One known column name per row (a column reference) is not a header row."""
    instructions = [["How to use"], ["Column", "What it is"], ["AccountSid", "the account"],
                    ["NumberBlockSid", "the block"], ["RoutingMethod", "endpoint, flow"]]
    path = write_xlsx(tmp_path / "b.xlsx", {"Purchase": [HEADER, ROWS[0]],
                                       "Instructions": instructions})
    assert [s.name for s in load(path)] == ["Purchase"]
    assert [s.name for s in load(path, operation="purchase")] == ["Purchase"]


def test_empty_sheets(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="the sheet is empty"):
        load(write_xlsx(tmp_path / "one.xlsx", {"Purchase": []}))
    with pytest.raises(InputError, match="every sheet is empty"):
        load(write_xlsx(tmp_path / "two.xlsx", {"Purchase": [], "Configure": []}))
    with pytest.raises(InputError, match="sheet 'Purchase' has a header but no data rows"):
        load(write_xlsx(tmp_path / "hdr.xlsx", {"Purchase": [HEADER]}))
    # A header-only sheet beside one with data is fine: nothing to do there.
    two = load(write_xlsx(tmp_path / "ok.xlsx", {"Purchase": [HEADER, ROWS[0]],
                                            "Configure": [["NumberBlockSid", "AccountSid",
                                                           "RoutingMethod"]]}))
    assert [(s.name, len(s.data)) for s in two] == [("Purchase", 1), ("Configure", 0)]
