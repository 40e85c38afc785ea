"""The results workbook as a user meets it, read back with openpyxl: where Status and Message
are, what is frozen, widths, print setup, colours, the Summary, the Errors sheet, sheet names
and values too long for a cell."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from importer.reading.loading import load
from importer.reading.marks import result_sheet_names, tool_sheets
from importer.report import Status
from importer.results.workbook import STATUS_COLOURS, STATUS_MEANING
from importer.spec.operations import RESULT_COLUMNS
from tests.util import PURCHASE_HEADER, write_xlsx
from tests.workbook_util import SAMPLES, ran, validated, xlsx_named


def _head(ws, row: int = 1) -> list[object]:  # type: ignore[no-untyped-def]
    return [c.value for c in ws[row]]


def _cells(ws, column: str) -> dict[int, object]:  # type: ignore[no-untyped-def]
    """Row number -> cell of the column with this header (header on row 1)."""
    c = _head(ws).index(column) + 1
    return {r: ws.cell(r, c) for r in range(2, ws.max_row + 1)}


def _frame(path: Path, sheet: str) -> pd.DataFrame:
    """A sheet as text (calamine), columns named by the header row, result columns dropped."""
    raw = pd.read_excel(path, sheet_name=sheet, engine="calamine", dtype=str, header=None,
                        keep_default_na=False)
    raw.columns = raw.iloc[0]
    return raw[[c for c in raw.columns if c not in RESULT_COLUMNS]]


def test_status_and_message_beside_the_ids_frozen_every_input_cell_kept(tmp_path: Path) -> None:
    results = validated(SAMPLES / "mistakes.xlsx", tmp_path / "m.results.xlsx")
    book = openpyxl.load_workbook(results)
    for name in ("Purchase", "Configure"):
        ws = book[name]
        head = _head(ws)
        assert head[:5] == ["AccountSid", "PropertySid", "NumberBlockSid *", "Status", "Message"]
        assert head[-3:] == ["HTTP Status", "Error Code", "Submitted At"]
        assert ws.freeze_panes == "F2"  # ids, Status and Message stay while scrolling right
        assert ws.auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(len(head))}" \
                                     f"{ws.max_row}"
        # Every input column and value, each row at its own row number.
        pd.testing.assert_frame_equal(_frame(results, name),
                                      _frame(SAMPLES / "mistakes.xlsx", name))
    # Read again, the result columns are recognised wherever they are and the rows are the same.
    for before, again in zip(load(SAMPLES / "mistakes.xlsx"),
                             load(results, sheets=("Purchase", "Configure")), strict=True):
        assert len(again.result_columns) == len(RESULT_COLUMNS)
        pd.testing.assert_frame_equal(again.data, before.data)
    statuses = [c.value for c in _cells(book["Purchase"], "Status").values()]
    assert statuses[:4] == ["VALID", "VALID", "INVALID", "INVALID"]
    assert "empty" in book["Purchase"]["E4"].value  # row 4's message, beside its status


def test_title_rows_kept_and_status_first_when_the_ids_are_not_in_front(tmp_path: Path) -> None:
    source = write_xlsx(tmp_path / "t.xlsx", {"Purchase": [
        ["Spring rollout"], [],
        ["Notes", "Store", "Campaign", "AnswerPoint", "NumberBlockSid", "PropertySid"],
        ["-2+3", "12", "C", "0412 345 678", "NB100000", "PRDEMO0001"],
        ["second", "13", "C", "123", "NB100001", "PRDEMO0001"]]})
    ws = openpyxl.load_workbook(validated(source, tmp_path / "t.results.xlsx"))["Purchase"]
    assert "Spring rollout" in _head(ws, 1)
    assert _head(ws, 3) == ["Status", "Message", "Notes", "Store", "Campaign", "AnswerPoint",
                            "NumberBlockSid", "PropertySid", *RESULT_COLUMNS[2:]]
    assert ws.freeze_panes == "C4" and ws.print_title_rows == "$1:$3"
    assert [ws["A4"].value, ws["A5"].value] == ["VALID", "INVALID"]  # rows 4 and 5 as before
    assert ws["C4"].value == "-2+3" and ws["C4"].data_type == "s"  # data, never a formula
    assert ws["F5"].fill.fgColor.rgb == "FFFF9999" and "123" in ws["F5"].comment.text


def test_widths_fit_up_to_a_cap_and_long_text_wraps(tmp_path: Path) -> None:
    ran(SAMPLES / "mistakes.xlsx", tmp_path / "r.xlsx")
    book = openpyxl.load_workbook(tmp_path / "r.xlsx")
    codes = set()
    for ws in (book["Purchase"], book["Configure"]):
        width = {h: ws.column_dimensions[openpyxl.utils.get_column_letter(i)].width
                 for i, h in enumerate(_head(ws), 1)}
        shown = [c.value for c in _cells(ws, "Error Code").values() if c.value]
        assert width["Error Code"] >= max(map(len, shown)) + 1
        codes.update(shown)
    assert "NUMBER_BLOCK_NOT_AVAILABLE" in codes
    ws = book["Purchase"]
    width = {h: ws.column_dimensions[openpyxl.utils.get_column_letter(i)].width
             for i, h in enumerate(_head(ws), 1)}
    assert len("ACDEMO0001") < width["AccountSid"] < 20
    assert width["Status"] >= len("REJECTED") + 1
    assert max(width.values()) <= 51  # the widest column (Message) stops at its cap...
    notes, messages = _cells(ws, "Notes"), _cells(ws, "Message")
    assert max(len(c.value or "") for c in notes.values()) > width["Notes"]
    assert notes[2].alignment.wrap_text and messages[2].alignment.wrap_text  # ...and wraps
    tall = [r for r, c in notes.items() if len(c.value or "") > 1.5 * width["Notes"]]
    assert tall and all(ws.row_dimensions[r].height >= 30 for r in tall)


def test_print_setup_landscape_fitted_across_header_on_every_page(tmp_path: Path) -> None:
    """Fitted to the page width, or for a wide sheet to a few pages across with the ids,
    Status and Message repeated on each, so the print stays readable (not at a third)."""
    ran(SAMPLES / "mistakes.xlsx", tmp_path / "r.xlsx")
    book = openpyxl.load_workbook(tmp_path / "r.xlsx")
    for name in ("Purchase", "Configure", "Errors"):
        ws = book[name]
        assert ws.page_setup.orientation == "landscape"
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToHeight == 0
        assert ws.print_title_rows == "$1:$1"
        assert ws.page_setup.paperSize == 9  # A4
    purchase = book["Purchase"]  # 26 columns: a few pages across, the key columns on each
    assert 2 <= purchase.page_setup.fitToWidth <= 3 and purchase.print_title_cols == "$A:$E"
    assert book["Errors"].page_setup.fitToWidth in (None, 1)
    summary = book["Summary"]
    assert summary.sheet_properties.pageSetUpPr.fitToPage
    assert summary.page_setup.fitToWidth in (None, 1)
    assert summary.page_setup.fitToHeight in (None, 1)  # one page


def test_a_colour_per_status_red_errors_with_why_yellow_warnings(tmp_path: Path) -> None:
    ran(SAMPLES / "mistakes.xlsx", tmp_path / "r.xlsx")
    book = openpyxl.load_workbook(tmp_path / "r.xlsx")
    seen: dict[str, set[str]] = {}
    for name in ("Purchase", "Configure"):
        for cell in _cells(book[name], "Status").values():
            if cell.value:
                seen.setdefault(cell.value, set()).add(cell.fill.fgColor.rgb)
    assert set(seen) == {s.value for s in Status}
    assert all(len(fills) == 1 for fills in seen.values())
    assert len({f for fills in seen.values() for f in fills}) == len(Status)  # all distinct
    assert {s: f.pop()[2:] for s, f in seen.items()} == {
        s.value: bg[1:] for s, (bg, _) in STATUS_COLOURS.items()}
    purchase, configure = book["Purchase"], book["Configure"]
    blank = _cells(purchase, "NumberBlockSid *")[4]
    assert blank.fill.fgColor.rgb == "FFFF9999" and "empty" in blank.comment.text
    unused = _cells(configure, "Flow")[3]
    assert unused.fill.fgColor.rgb == "FFFFEB84" and "not use Flow" in unused.comment.text


def test_api_columns_readable_submitted_at_is_a_date(tmp_path: Path) -> None:
    ran(SAMPLES / "rollout.xlsx", tmp_path / "r.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "r.xlsx")["Purchase"]
    when, http, code = (_cells(ws, h)[3] for h in ("Submitted At", "HTTP Status", "Error Code"))
    assert when.value == datetime(2026, 11, 23, 11, 24, 2) and "mmm" in when.number_format
    assert http.value == 403 and code.value == "FORBIDDEN"
    assert _cells(ws, "Submitted At")[6].value is None  # SKIPPED: never sent


def test_summary_counts_first_then_the_run_technical_last(tmp_path: Path) -> None:
    report = ran(SAMPLES / "mistakes.xlsx", tmp_path / "r.xlsx",
                 notes=("Rows 3-5 were sent by an earlier run.",))
    rows = list(openpyxl.load_workbook(tmp_path / "r.xlsx")["Summary"].iter_rows(
        values_only=True))
    assert rows[0] == ("Status", "Rows", "What it means")
    counted = rows[1:1 + len(Status)]
    assert [(r[0], r[1]) for r in counted] == list(report.counts.items())  # label, number
    assert all(r[2] == STATUS_MEANING[Status(r[0])] for r in counted)
    assert rows[1 + len(Status)][:2] == ("Total", sum(report.counts.values()))
    labels = [r[0] for r in rows]
    value = {r[0]: r[2] for r in rows if r[0]}
    assert value["Started"] == "23 Nov 2026 11:23" and value["Finished"] == "23 Nov 2026 11:25"
    assert value["API"] == "https://api.example.test" and value["Dry run"].startswith("no")
    assert value["Aborted"] == "no" and value["Interrupted"] == "no"
    assert value["Note"] == "Rows 3-5 were sent by an earlier run."
    assert value["File"].endswith("mistakes.xlsx")
    technical = labels.index("Technical details")
    assert technical > max(labels.index(k) for k in ("File", "API", "Dry run", "Note"))
    assert [r[0] for r in rows[technical + 1:]] == ["Input SHA-256", "Journal", "Tool version"]


def test_errors_sheet_one_row_per_issue_readable(tmp_path: Path) -> None:
    report = ran(SAMPLES / "mistakes.xlsx", tmp_path / "r.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "r.xlsx")["Errors"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("Sheet", "Row", "Column", "Value", "Severity", "Code", "Message")
    not_done = [o for o in report.outcomes
                if o.status in (Status.REJECTED, Status.FAILED, Status.UNKNOWN)]
    assert len(rows) - 1 == len(report.issues) + len(not_done)
    assert ("Purchase", 4, "NumberBlockSid", None, "error", "required") in [r[:6] for r in rows]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref
    widths = [ws.column_dimensions[x].width for x in "ABCDEFG"]
    assert widths[1] < 10 and 40 < widths[6] <= 81


@pytest.mark.parametrize(("name", "expected"), [
    ("Purchase", "Purchase"),
    ("summary", "summary (2)"),
    ("ERRORS", "ERRORS (2)"),
    ("Q1 [draft]*", "Q1 _draft__"),
    ("a/b\\c:d?", "a_b_c_d_"),
    ("'Purchase'", "Purchase"),
    ("Ab'c d#é 😀 & <x>", "Ab'c d#é 😀 & <x>"),
    ("A" * 31, "A" * 31),
    ("B" * 40, "B" * 31),
    ("C" * 30 + "😀", "C" * 30),  # the emoji is two of Excel's 31 units
    ("Campaign 2026 – Sydney stores 🚀", "Campaign 2026 – Sydney stores"),
    ("History", "History (2)"),
    ("''", "Sheet"),
])
def test_sheet_names_kept_where_excel_allows_else_renamed(name: str, expected: str) -> None:
    assert result_sheet_names([name]) == {name: expected}


def test_renamed_sheets_never_take_a_kept_name() -> None:
    names = ["Q1 [draft]", "Q1 _draft_", "X" * 31 + "?", "X" * 31, "summary", "Summary (2)"]
    mapped = result_sheet_names(names)
    assert mapped == {"Q1 [draft]": "Q1 _draft_ (2)", "Q1 _draft_": "Q1 _draft_",
                      "X" * 31 + "?": "X" * 27 + " (2)", "X" * 31: "X" * 31,
                      "summary": "summary (3)", "Summary (2)": "Summary (2)"}
    assert result_sheet_names(list(mapped.values())) == {v: v for v in mapped.values()}


def test_any_input_sheet_name_is_written_and_the_summary_shows_renames(tmp_path: Path) -> None:
    names = ["summary", "Q1 [draft]*", "'Purchase'", "A" * 31, "Ab'c d#é", "D" * 30 + "😀"]
    rows = [PURCHASE_HEADER, ["PRDEMO0001", "NB100000", "0412 345 678", "C"]]
    source = xlsx_named(tmp_path / "odd.xlsx", dict.fromkeys(names, rows))
    results = validated(source, tmp_path / "odd.results.xlsx")
    mapped = result_sheet_names(names)
    book = openpyxl.load_workbook(results)
    assert book.sheetnames == [*mapped.values(), "Summary", "Errors"]
    assert tool_sheets(results) == {"Summary", "Errors"}
    lines = [r[2] for r in book["Summary"].iter_rows(values_only=True) if r[0] == "Sheet"]
    for name, new in mapped.items():
        (line,) = [x for x in lines if x.startswith(f"{new}:")]
        assert (f"Your sheet “{name}” is called “{new}” here" in line) == (name != new)
    again = load(results, sheets=tuple(mapped.values()))
    assert [len(s.data) for s in again] == [1] * len(names)


def test_values_longer_than_a_cell_are_cut_with_a_note(tmp_path: Path) -> None:
    long = "x" * 40_000  # only a CSV file can hold it: spreadsheet cells stop at 32,767
    source = tmp_path / "long.csv"
    source.write_text(f"{','.join(PURCHASE_HEADER)},Notes\nPRDEMO0001,NB100000,0412345678,C,{long}\n")
    ws = openpyxl.load_workbook(validated(source, tmp_path / "l.results.xlsx"))["long"]
    cell = _cells(ws, "Notes")[2]
    assert cell.value == long[:32_767] and "40,000 characters" in cell.comment.text


def test_every_input_sheet_is_in_the_summary_and_left_out_ones_come_back(tmp_path: Path
                                                                          ) -> None:
    """Issue 21: sheets that were neither operation's were dropped without a word."""
    source = xlsx_named(tmp_path / "many.xlsx", {
        "Read me": [["Fill in the Purchase sheet"], ["Ask ops: 0412 345 678"]],
        "Purchase": [PURCHASE_HEADER, ["PRDEMO0001", "NB100000", "0412 345 678", "C"]],
        "Empty": [],
    })
    book = openpyxl.load_workbook(validated(source, tmp_path / "many.results.xlsx"))
    assert book.sheetnames == ["Purchase", "Read me", "Empty", "Summary", "Errors"]
    assert list(book["Read me"].values) == [("Fill in the Purchase sheet",),
                                            ("Ask ops: 0412 345 678",)]
    lines = [r[2] for r in book["Summary"].iter_rows(values_only=True) if r[0] == "Sheet"]
    assert lines == ["Read me: left out: no header row naming known columns (copied here "
                     "unchanged)", "Purchase: read as purchase, 1 row",
                     "Empty: left out: empty (copied here unchanged)"]


def test_the_summary_says_which_reading_options_were_guessed_and_which_given(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from importer.cli import main

    source = tmp_path / "euro.csv"
    source.write_bytes(b"Titel\r\n" + ";".join(PURCHASE_HEADER).encode()
                       + b"\r\nPRDEMO0001;NB100000;0412 345 678;Caf\xe9\r\n")
    out = tmp_path / "r.xlsx"
    assert main(["validate", str(source), "--out", str(out), "--delimiter", ";",
                 "--header-row", "2"]) == 0
    value = {r[0]: r[2] for r in openpyxl.load_workbook(out)["Summary"].iter_rows(
        values_only=True) if r[0]}
    assert value["Format"] == "CSV"
    assert value["Encoding"] == "Windows-1252 (guessed)"
    assert value["Delimiter"] == "; (given)"
    assert value["Header row"] == "row 2 (given)"


def test_a_chart_sheet_is_named_in_the_summary_and_the_rest_read(tmp_path: Path) -> None:
    """A chart sheet holds no cells: left out with its reason (an .xlsb chart sheet calamine
    cannot read sank the readable sheets)."""
    import xlsxwriter

    source = tmp_path / "chart.xlsx"
    book = xlsxwriter.Workbook(str(source))
    ws = book.add_worksheet("Purchase")
    ws.write_row(0, 0, PURCHASE_HEADER)
    ws.write_row(1, 0, ["PRDEMO0001", "NB100000", "0412 345 678", "C"])
    chart = book.add_chart({"type": "column"})
    chart.add_series({"values": "=Purchase!$A$2:$A$2"})
    book.add_chartsheet("Chart").set_chart(chart)
    book.add_worksheet("Notes").write(0, 0, "after the chart")
    book.close()
    summary = openpyxl.load_workbook(validated(source, tmp_path / "r.xlsx"))["Summary"]
    lines = [r[2] for r in summary.iter_rows(values_only=True) if r[0] == "Sheet"]
    assert lines == ["Purchase: read as purchase, 1 row",  # as the file orders them
                     "Chart: left out: a chart sheet (it holds no cells)",
                     "Notes: left out: no header row naming known columns (copied here "
                     "unchanged)"]


def test_results_keep_the_templates_drop_downs_help_and_text_formats(tmp_path: Path) -> None:
    """People fix failed rows in the results workbook: it helps them as the template did."""
    out = validated(SAMPLES / "rollout.xlsx", tmp_path / "r.xlsx")
    book = openpyxl.load_workbook(out)
    assert "Instructions" in book.sheetnames  # the template's, left out and come back
    ws = book["Configure"]
    letters = {c.value.rstrip(" *"): c.column_letter for c in ws[1] if isinstance(c.value, str)}
    rules = {}
    for dv in ws.data_validations.dataValidation:
        for cells in dv.sqref.ranges:
            rules[openpyxl.utils.get_column_letter(cells.min_col)] = dv
    assert rules[letters["RoutingMethod"]].formula1 == '"endpoint,flow,application"'
    help_ = rules[letters["EndpointNumber"]]
    assert help_.promptTitle == "EndpointNumber" and len(help_.prompt or "") > 20
    assert letters["Status"] not in rules  # the tool's own columns carry no rule

    def text(letter: str) -> bool:
        index = openpyxl.utils.column_index_from_string(letter)
        return any(d.min <= index <= d.max and d.number_format == "@"
                   for d in ws.column_dimensions.values())

    assert text(letters["NumberBlockSid"]) and text(letters["EndpointNumber"])
    assert not text(letters["Status"]) and not text(letters["Recording"])
