"""The loader on files whose bytes are written here exactly as the programs write them.

CSV quirks (encodings, BOMs, delimiters, Excel's `sep=` line, title rows) are byte-level, so
the files are built byte by byte; workbook cases use openpyxl. The same cases in files written
by LibreOffice itself are in test_real_files.py.
"""

from __future__ import annotations

import codecs
import dataclasses
import hashlib
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
import xlsxwriter

from importer.cli.app import with_way_out
from importer.errors import InputError
from importer.reading import ooxml
from importer.reading.extent import Extent
from importer.reading.loading import LIMITS, load, load_input
from importer.reading.source import Limits
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
    with pytest.raises(InputError, match=r"blank\.csv: the file is empty"):  # no sheet in a CSV
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
    with pytest.raises(InputError, match=r"hidden sheets \('Old'\) are read only when "
                                         r"named$") as caught:
        load(path)
    # The library states the fact; the command line adds its flag, the page its own way out.
    assert caught.value.needs == "sheet"
    assert with_way_out(caught.value).endswith("; name the sheet to read with --sheet")


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


# --- reading bounded by the data ---------------------------------------------------------

def _rewrite(path: Path, edit: Callable[[bytes], bytes]) -> Path:
    """The workbook with its first sheet's XML edited (as other programs write it)."""
    with zipfile.ZipFile(path) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    members["xl/worksheets/sheet1.xml"] = edit(members["xl/worksheets/sheet1.xml"])
    out = path.with_name("edited-" + path.name)
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return out


def _extents(path: Path) -> tuple[Extent | None, Extent]:
    """(quick scan, careful scan) of the first sheet."""
    with zipfile.ZipFile(path) as zf:
        part = ooxml.sheet_parts(zf)["Purchase"]
        quick = ooxml.quick_extent(zf, part, LIMITS.unpacked_bytes).extent
        strings = ooxml.shared_strings(zf, LIMITS.unpacked_bytes)
        careful = ooxml.careful_extent(zf.read(part), strings).extent
    return quick, careful


ROLLOUT = {"Purchase": [HEADER, *ROWS, [None, None, None, None], ROWS[0]]}


@pytest.mark.parametrize("writer", ["openpyxl", "xlsxwriter"])
def test_quick_and_careful_scans_agree_on_ordinary_sheets(tmp_path: Path, writer: str) -> None:
    path = tmp_path / "w.xlsx"
    if writer == "openpyxl":
        write_xlsx(path, ROLLOUT)
    else:
        book = xlsxwriter.Workbook(str(path))
        ws = book.add_worksheet("Purchase")
        for r, row in enumerate(ROLLOUT["Purchase"]):
            ws.write_row(r, 0, row)
        book.close()
    quick, careful = _extents(path)
    assert quick is not None
    assert (quick.rows, quick.columns) == (careful.rows, careful.columns) == (5, 4)
    assert (careful.data_rows, careful.data_columns) == (5, 4)


@pytest.mark.parametrize("edit", [
    lambda xml: xml.replace(b'<c r="A2"', b'<c').replace(b'<row r="3"', b'<row'),  # no refs
    lambda xml: xml.replace(b"<row ", b"<x:row xmlns:x=\"http://schemas.openxmlformats.org/"
                            b"spreadsheetml/2006/main\" ").replace(b"</row>", b"</x:row>"),
    lambda xml: xml.replace(b'<c r="B2" ', b'<c t="inlineStr" r="B2" ', 1).replace(
        b't="inlineStr" r="B2" t="inlineStr"', b't="inlineStr" r="B2"'),
])
def test_sheets_written_unusually_are_parsed_and_read_the_same(tmp_path: Path,
                                                               edit: Callable) -> None:
    """Cells without references, prefixed names, `r` not first: the quick scan gives up, the
    careful one measures, and the values are still calamine's."""
    path = _rewrite(write_xlsx(tmp_path / "w.xlsx", ROLLOUT), edit)
    quick, careful = _extents(path)
    assert quick is None
    assert (careful.data_rows, careful.data_columns) == (5, 4)
    assert _values(path) == _values(write_xlsx(tmp_path / "same.xlsx", ROLLOUT))


def test_spaces_far_away_are_cut_and_the_rest_read_as_it_is(tmp_path: Path) -> None:
    far = write_xlsx(tmp_path / "far.xlsx", ROLLOUT)
    path = _rewrite(far, lambda xml: xml.replace(
        b"</sheetData>", b'<row r="900000"><c r="ZZ900000" t="inlineStr"><is><t>   </t></is>'
        b'</c><c r="AAA900000" s="0"/></row></sheetData>'))
    quick, careful = _extents(path)
    assert quick is not None and quick.grid > LIMITS.dense_cells
    assert (careful.rows, careful.columns) == (900_000, 702)
    assert (careful.data_rows, careful.data_columns) == (5, 4)
    (sheet,) = load(path)
    assert sheet.raw.shape == (5, 4)
    assert _values(path) == _values(far)


def test_an_unsaved_formula_is_found_by_both_scans(tmp_path: Path) -> None:
    rows = [HEADER, ["ACDEMO0001", "NB1", "=D3", "x"], ["ACDEMO0001", "NB2", '=""', "y"]]
    path = write_xlsx(tmp_path / "f.xlsx", {"Purchase": rows})
    quick, careful = _extents(path)
    assert quick is not None
    assert quick.formulas == careful.formulas == [(1, 2), (2, 2)]
    (sheet,) = load(path)
    assert [(i.row, i.column, i.code) for i in sheet.issues] == [
        (2, "AnswerPoint", "formula_not_saved"), (3, "AnswerPoint", "formula_not_saved")]


def test_the_sha256_is_taken_as_the_file_is_read(tmp_path: Path) -> None:
    path = _write(tmp_path, "f.csv", _csv([HEADER, *ROWS]).encode("utf-8"))
    loaded = load_input(path)
    assert loaded.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert loaded.size == path.stat().st_size and len(loaded.sheets) == 1


def _small(**caps: int) -> Limits:
    return dataclasses.replace(LIMITS, **caps)


def test_csv_caps(tmp_path: Path) -> None:
    many = _write(tmp_path, "rows.csv", _csv([HEADER, *ROWS * 10]).encode("utf-8"))
    with pytest.raises(InputError, match="has more than 5 rows, more than an Excel sheet"):
        load(many, limits=_small(rows=5))
    wide = _write(tmp_path, "wide.csv", _csv([HEADER + [f"c{i}" for i in range(20)],
                                              ROWS[0] + ["x"] * 20]).encode("utf-8"))
    with pytest.raises(InputError, match="has 24 columns, more than the 10 an Excel sheet"):
        load(wide, limits=_small(columns=10))
    long = _write(tmp_path, "long.csv", _csv([HEADER, [*ROWS[0][:3], "y" * 500]]).encode())
    with pytest.raises(InputError, match="line 2, column D holds 500 characters, more than the "
                                         "100 this tool reads in one cell"):
        load(long, limits=_small(field_chars=100))


def test_a_ragged_csv_is_as_wide_as_its_data(tmp_path: Path) -> None:
    """Trailing empty fields (20,000 commas on one line) do not widen the sheet; data far to
    the right on a long file is refused before a grid is built for it."""
    text = _csv([HEADER, ["short line"], ROWS[0], ROWS[1] + [""] * 20_000])
    (sheet,) = load(_write(tmp_path, "r.csv", text.encode("utf-8")))
    assert sheet.raw.shape == (4, 4)
    far = _csv([["title"], HEADER, *ROWS * 50, [*ROWS[0], *[""] * 5_000, "x"]])
    with pytest.raises(InputError, match=r"line 103 reaches column GJM, more than this tool "):
        load(_write(tmp_path, "far.csv", far.encode("utf-8")), limits=_small(cells=100_000))


def test_every_guess_can_be_given_instead(tmp_path: Path) -> None:
    """--encoding, --delimiter, --header-row: a Mac Roman file with LF line ends reads as
    cp1252 mojibake unless told; a pipe in the text would not be taken for the separator."""
    from importer.reading.loading import ReadOptions

    text = "Notes\n" + "|".join(HEADER) + "\n" + "|".join([*ROWS[0][:3], "Café"]) + "\n"
    path = _write(tmp_path, "mac.txt", text.encode("mac_roman"))
    guessed = load(path, given=ReadOptions(delimiter="|", header_row=2))
    assert guessed[0].data["Campaign"].tolist() == ["CafŽ"]  # é is 0x8E in Mac Roman: cp1252 Ž
    (sheet,) = load(path, given=ReadOptions(encoding="mac_roman", delimiter="|", header_row=2))
    assert sheet.data["Campaign"].tolist() == ["Café"] and sheet.header_row == 1
    assert ("Encoding", "mac_roman", True) in sheet.file.options
    with pytest.raises(InputError, match=r"--encoding nope is not an encoding this tool knows"):
        load(path, given=ReadOptions(encoding="nope"))
    with pytest.raises(InputError, match=r"row 1 \(--header-row\) names no known column"):
        load(path, given=ReadOptions(delimiter="|", header_row=1))
