"""The web page's "Download as .xlsx" keeps the template's help: drop-downs, help text and Text
formats on the known columns wherever they are, the left-out sheets, an Instructions sheet."""

from __future__ import annotations

from pathlib import Path

import openpyxl
from openpyxl.utils import column_index_from_string, get_column_letter

from importer.checking import edits
from importer.checking.schemas import check
from importer.reading.loading import load
from importer.reading.marks import tool_sheets
from importer.results.edited import write_edited

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def _text_format(ws: openpyxl.worksheet.worksheet.Worksheet, letter: str) -> bool:
    """Whether the column is formatted as Text (openpyxl groups equal columns in one entry)."""
    index = column_index_from_string(letter)
    return any(d.min <= index <= d.max and d.number_format == "@"
               for d in ws.column_dimensions.values())


def _validations(ws: openpyxl.worksheet.worksheet.Worksheet) -> dict[str, object]:
    """Column letter -> its data validation (one per column in what we write)."""
    found = {}
    for dv in ws.data_validations.dataValidation:
        for cells in dv.sqref.ranges:
            found[get_column_letter(cells.min_col)] = dv
    return found


def test_an_edited_template_keeps_drop_downs_help_text_formats_and_instructions(
        tmp_path: Path) -> None:
    checked = [check(s) for s in load(SAMPLES / "rollout.xlsx")]
    purchase = next(c for c in checked if c.sheet.operation.name == "purchase")
    pos = purchase.sheet.columns["AnswerPoint"]
    purchase, _, _ = edits.set_cell(purchase, 3, pos, "0412 345 777")
    checked = [purchase if c.sheet.name == "Purchase" else c for c in checked]
    out = tmp_path / "edited.xlsx"
    write_edited(out, checked)

    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["Purchase", "Configure", "Instructions"]
    ws = book["Purchase"]
    headers = {c.value.rstrip(" *"): c.column_letter for c in ws[1] if c.value}
    assert ws[f"{headers['AnswerPoint']}3"].value == "0412 345 777"
    found = _validations(ws)
    assert found[headers["Active"]].type == "list"  # a yes/no drop-down
    assert found[headers["GroupType"]].type == "list"  # 0 or 1
    assert found[headers["MasterMode"]].type == "whole"
    assert "where calls are answered" in found[headers["AnswerPoint"]].prompt.lower()
    assert _text_format(ws, headers["NumberBlockSid"]) and _text_format(ws, headers["AnswerPoint"])
    assert not _text_format(ws, headers["Active"])
    configure = _validations(book["Configure"])
    routing = {c.value.rstrip(" *"): c.column_letter for c in book["Configure"][1] if c.value}
    assert configure[routing["RoutingMethod"]].formula1 == '"endpoint,flow,application"'
    # The template's own Instructions came back as it was, and is still not read as input.
    assert "Instructions" not in tool_sheets(out)
    again = load(out)
    assert [s.name for s in again] == ["Purchase", "Configure"]
    assert [len(s.data) for s in again] == [len(c.sheet.data) for c in checked]


def test_a_csv_download_gets_the_instructions_marked_as_the_tools(tmp_path: Path) -> None:
    source = tmp_path / "blocks.csv"
    source.write_text("NumberBlockSid,AccountSid,RoutingMethod,EndpointNumber,Recording\n"
                      "NB1,ACDEMO0001,endpoint,0298765432,enabled\n", encoding="utf-8")
    checked = [check(s) for s in load(source)]
    out = tmp_path / "edited.xlsx"
    write_edited(out, checked)
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["blocks", "Instructions"]
    found = _validations(book["blocks"])
    assert found["C"].type == "list" and found["E"].type == "list"  # where the user put them
    assert _text_format(book["blocks"], "A") and _text_format(book["blocks"], "D")
    assert tool_sheets(out) == {"Instructions"}
    (sheet,) = load(out)
    assert sheet.name == "blocks" and list(sheet.data["NumberBlockSid"]) == ["NB1"]
