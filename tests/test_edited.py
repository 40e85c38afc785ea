"""The web page's "Download as .xlsx" keeps the template's help: drop-downs, help text and Text
formats on the known columns wherever they are, the left-out sheets, an Instructions sheet; the
download of the rows to fix is laid out as the results workbook."""

from __future__ import annotations

from pathlib import Path

import openpyxl
from openpyxl.utils import column_index_from_string, get_column_letter

from importer.checking import edits
from importer.checking.schemas import check
from importer.reading.loading import load
from importer.reading.marks import tool_sheets
from importer.report import Outcome, Status
from importer.results.edited import write_edited
from importer.results.look import ERROR_FILL
from tests.workbook_util import printed, validated

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


def test_the_to_fix_download_is_laid_out_as_the_results_workbook(tmp_path: Path) -> None:
    """Issue 30 item 8: the rows to fix came without red cells or comments, Status and
    Message last, printed portrait on many pages; now as the results workbook."""
    source = SAMPLES / "mistakes.xlsx"
    checked = [check(s) for s in load(source)]
    only = [{r: Outcome(Status.INVALID, f"Fix row {r}.") for r in sorted(c.invalid)}
            for c in checked]
    out = tmp_path / "mistakes.to-fix.xlsx"
    write_edited(out, checked, only)
    results = tmp_path / "mistakes.results.xlsx"
    validated(source, results)
    mine, theirs = openpyxl.load_workbook(out), openpyxl.load_workbook(results)
    for c, picked in zip(checked, only, strict=True):
        ws, model = mine[c.sheet.name], theirs[c.sheet.name]
        header = [cell.value for cell in ws[1]]
        assert header == [cell.value for cell in model[1]][:len(header)]  # Status up front
        assert header[3:5] == ["Status", "Message"]
        mine_, model_ = printed(ws), printed(model)  # pages across aside (3 columns fewer)
        assert mine_[:3] + mine_[4:] == model_[:3] + model_[4:]
        assert mine_[0] == "landscape" and ws.freeze_panes == model.freeze_panes
        moved = {r: k for k, r in enumerate(sorted(picked), 2)}
        for r, k in moved.items():
            assert ws.cell(k, 4).value == "INVALID" and ws.cell(k, 5).value == f"Fix row {r}."
        marked = [i for i in c.issues if i.row in moved and i.column in c.sheet.columns]
        assert marked
        for issue in marked:
            letter = header.index(c.sheet.header(issue.column)) + 1
            cell = ws.cell(moved[issue.row], letter)
            assert cell.fill.fgColor.rgb == "FF" + ERROR_FILL.lstrip("#"), issue
            assert issue.message in cell.comment.text
    # Read back: those rows, with the same problems where they now stand (Status and Message
    # are not input). A duplicate's first row is not among them, so it reads as no duplicate.
    again = [check(s) for s in load(out)]
    for before, after, picked in zip(checked, again, only, strict=True):
        moved = {r: k for k, r in enumerate(sorted(picked), 2)}
        assert list(after.sheet.data.index) == list(moved.values())
        assert sorted((i.row, i.code, i.column) for i in after.issues if i.row) == sorted(
            (moved[i.row], i.code, i.column) for i in before.issues
            if i.row in picked and i.code != "duplicate")
