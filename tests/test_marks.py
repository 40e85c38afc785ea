"""The mark on the sheets the tool adds: set by the writer, kept by Excel-style edits and by
LibreOffice (xlsx and ods), never on a user's sheet, and read safely from any file. Plus the
results as LibreOffice prints them."""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest

from importer.reading.marks import MARK_NAME, MAX_PART, tool_sheets
from tests.libreoffice import convert
from tests.util import PURCHASE_HEADER, write_xlsx
from tests.workbook_util import SAMPLES, validated

TOOLS = {"Summary", "Errors"}


@pytest.fixture(scope="module")
def user_summary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Results of an input whose own data sheet is called Summary, whose Errors sheet holds
    values that are column names (app, flow, end point)."""
    tmp = tmp_path_factory.mktemp("marks")
    source = write_xlsx(tmp / "in.xlsx", {
        "Summary": [PURCHASE_HEADER, ["PRDEMO0001", "NB100000", "0412 345 678", "C"]],
        "Configure": [["AccountSid", "NumberBlockSid", "RoutingMethod", "Application"],
                      ["ACDEMO0001", "NB090000", "app", "A1"],
                      ["ACDEMO0001", "NB090001", "flow", None],
                      ["ACDEMO0001", "NB090002", "end point", None]]})
    return validated(source, tmp / "in.results.xlsx")


def test_the_tool_marks_its_own_sheets_only(user_summary: Path) -> None:
    assert openpyxl.load_workbook(user_summary).sheetnames == [
        "Summary (2)", "Configure", "Summary", "Errors"]
    assert tool_sheets(user_summary) == TOOLS


def test_the_mark_follows_a_renamed_sheet_through_an_edit_and_save(user_summary: Path,
                                                                   tmp_path: Path) -> None:
    book = openpyxl.load_workbook(user_summary)
    book["Summary"].title = "Overview"
    book["Summary (2)"].title = "Summary"  # the user's own sheet takes the name
    book["Configure"]["C3"] = "application"
    book.save(tmp_path / "edited.xlsx")
    assert tool_sheets(tmp_path / "edited.xlsx") == {"Overview", "Errors"}


def test_libreoffice_keeps_the_marks_in_xlsx_and_ods(user_summary: Path, tmp_path: Path) -> None:
    (xlsx,) = convert([user_summary], "xlsx", tmp_path / "xlsx")
    (ods,) = convert([user_summary], "ods", tmp_path / "ods")
    (back,) = convert([ods], "xlsx", tmp_path / "back")
    for path in (xlsx, ods, back):
        assert tool_sheets(path) == TOOLS, path
    assert openpyxl.load_workbook(back).sheetnames[0] == "Summary (2)"


def _zip(path: Path, parts: dict[str, bytes | str]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return path


_WORKBOOK = ('<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             '<sheets><sheet name="Data"/><sheet name="Summary"/></sheets><definedNames>'
             '<definedName name="{name}" localSheetId="{index}">"summary"</definedName>'
             "</definedNames></workbook>")
_BOMB = ('<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "aaaaaaaaaa">'
         '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]>'
         + _WORKBOOK.replace('"summary"', "&c;"))


@pytest.mark.parametrize(("parts", "expected"), [
    ({"xl/workbook.xml": _WORKBOOK.format(name=MARK_NAME, index=1)}, {"Summary"}),
    ({"xl/workbook.xml": _WORKBOOK.format(name=MARK_NAME.upper(), index=1)}, {"Summary"}),
    ({"xl/workbook.xml": _WORKBOOK.format(name="Summary", index=1)}, set()),
    ({"xl/workbook.xml": _WORKBOOK.format(name=MARK_NAME, index=7)}, set()),
    ({"xl/workbook.xml": _BOMB.format(name=MARK_NAME, index=1)}, set()),
    ({"xl/workbook.xml": _WORKBOOK.format(name=MARK_NAME, index=1)[:-5]}, set()),
    ({"xl/workbook.xml": _WORKBOOK.format(name=MARK_NAME, index=1)
      + " " * (MAX_PART + 1)}, set()),
    ({"content.xml": "<x/>", "meta.xml": '<!DOCTYPE m [<!ENTITY e "x">]><m>&e;</m>'}, set()),
    ({"_rels/.rels": '<Relationships xmlns="x"><Relationship Type="http://schemas.openxml'
                     'formats.org/officeDocument/2006/relationships/officeDocument" '
                     'Target="/book/main.xml"/></Relationships>',
      "book/main.xml": _WORKBOOK.format(name=MARK_NAME, index=0)}, {"Data"}),
])
def test_reading_marks_is_safe_on_any_file(parts: dict[str, str], expected: set[str],
                                            tmp_path: Path) -> None:
    assert tool_sheets(_zip(tmp_path / "w.xlsx", parts)) == expected


def test_files_without_marks(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("NumberBlockSid,AccountSid\nNB1,AC1\n")
    (tmp_path / "b.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    plain = write_xlsx(tmp_path / "c.xlsx", {"Summary": [["x"]], "Errors": [["y"]]})
    for path in (tmp_path / "a.csv", tmp_path / "b.xlsx", plain, tmp_path / "missing.xlsx",
                 tmp_path):
        assert tool_sheets(path) == set()


def _pdf_pages(path: Path, out: Path) -> list[str]:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    (pdf,) = convert([path], "pdf", out)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True, timeout=60).stdout
    return text.split("\f")


def test_printed_results_show_ids_status_and_message_on_page_one(tmp_path: Path) -> None:
    results = validated(SAMPLES / "mistakes.xlsx", tmp_path / "m.results.xlsx")
    pages = _pdf_pages(results, tmp_path / "pdf")
    first = pages[0]
    for text in ("NB100500", "NB100501", "VALID", "INVALID", "Valid.",
                 "NumberBlockSid is empty", "Message", "Status"):
        assert text in first, text
    row = next(line for line in first.splitlines() if "NB100500" in line)
    assert "ACDEMO0001" in row and "VALID" in row and "Valid." in row  # one line, side by side
    summary = next(p for p in pages if "What it means" in p)
    lines = summary.splitlines()
    for status, count in (("VALID", "12"), ("INVALID", "14"), ("OK", "0")):
        assert any(line.split()[:2] == [status, count] for line in lines), status
    assert summary.index("What it means") < summary.index("Input SHA-256")
    assert sum("What it means" in p for p in pages) == 1  # the Summary is one page
    assert len(pages) - 1 <= 8  # 26 rows: a handful of readable pages, not 19
