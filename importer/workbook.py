"""The results workbook: the input sheets as they were, plus what happened to every row.

Written with xlsxwriter in constant-memory mode (rows streamed in order) because results can be
a million rows. Every cell is written with write_string, so nothing ever becomes a formula.
Rows keep their Excel row numbers: title rows above the header are copied too, so "row 7" in a
message is row 7 in both the input and the results.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import xlsxwriter

from importer.errors import ImporterError
from importer.operations import RESULT_COLUMNS
from importer.report import Issue, Outcome, RunReport, Severity, Status

if TYPE_CHECKING:
    from importer.schemas import Checked

STATUS_COLOURS = {
    Status.OK: ("#C6EFCE", "#006100"),
    Status.VALID: ("#E2EFDA", "#375623"),
    Status.INVALID: ("#FFC7CE", "#9C0006"),
    Status.REJECTED: ("#FFC7CE", "#9C0006"),
    Status.FAILED: ("#FFC7CE", "#9C0006"),
    Status.UNKNOWN: ("#F8CBAD", "#833C0B"),
    Status.SKIPPED: ("#EDEDED", "#3A3A3A"),
}
ERROR_FILL, WARNING_FILL = "#FF9999", "#FFEB84"
COMMENT = {"x_scale": 2.5, "y_scale": 1.6}
MAX_CELL = 32767  # Excel's limit on the text in one cell


class _Styles:
    def __init__(self, book: xlsxwriter.Workbook) -> None:
        self.header = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
        self.result_header = book.add_format({"bold": True, "bg_color": "#FCE4D6", "border": 1})
        self.error = book.add_format({"bg_color": ERROR_FILL})
        self.warning = book.add_format({"bg_color": WARNING_FILL})
        self.status = {s: book.add_format({"bg_color": bg, "font_color": fg, "bold": True})
                       for s, (bg, fg) in STATUS_COLOURS.items()}
        self.bold = book.add_format({"bold": True})


def _text(value: object) -> str:
    return str(value)[:MAX_CELL]


def write_results(path: Path, report: RunReport, checked: list[Checked]) -> None:
    """Write the whole results workbook; raise ImporterError if the file cannot be written."""
    try:
        book = xlsxwriter.Workbook(str(path), {"constant_memory": True,
                                               "strings_to_formulas": False,
                                               "strings_to_numbers": False,
                                               "strings_to_urls": False})
        styles = _Styles(book)
        names = set()
        for item, result in zip(checked, report.sheets, strict=True):
            names.add(item.sheet.name)
            _sheet(book, styles, item, result.outcomes)
        _summary(book.add_worksheet(_free("Summary", names)), styles, report)
        _errors(book.add_worksheet(_free("Errors", names)), styles, report, checked)
        book.close()
    except (OSError, xlsxwriter.exceptions.XlsxWriterException) as exc:
        raise ImporterError(f"{path}: cannot write the results workbook ({exc})") from exc


def _free(name: str, taken: set[str]) -> str:
    n, candidate = 1, name
    while candidate in taken:
        n += 1
        candidate = f"{name} {n}"
    return candidate


def _sheet(book: xlsxwriter.Workbook, styles: _Styles, checked: Checked,
           outcomes: list[Outcome]) -> None:
    sheet = checked.sheet
    ws = book.add_worksheet(sheet.name)
    keep = [c for c in sheet.raw.columns if c not in sheet.result_columns]
    out_col = {pos: i for i, pos in enumerate(keep)}
    field_col = {name: out_col[pos] for name, pos in sheet.columns.items()}
    first_status = len(keep)
    cells = sheet.raw[keep].to_numpy(dtype=object)
    by_row = dict(zip(sheet.data.index, outcomes, strict=True))
    marks: dict[int, list[Issue]] = {}
    for issue in checked.issues:
        if issue.row is not None:
            marks.setdefault(issue.row, []).append(issue)

    header = sheet.header_row
    widths = [10] * (first_status + len(RESULT_COLUMNS))
    for r, values in enumerate(cells):
        excel_row = r + 1
        for c, value in enumerate(values):
            if isinstance(value, str):
                ws.write_string(r, c, _text(value), styles.header if r == header else None)
                if r == header:
                    widths[c] = min(max(widths[c], len(value) + 2), 40)
            elif r == header:
                ws.write_blank(r, c, None, styles.header)
        if r == header:
            for i, name in enumerate(RESULT_COLUMNS):
                ws.write_string(r, first_status + i, name, styles.result_header)
            continue
        outcome = by_row.get(excel_row)
        if outcome is None:
            continue
        for issue in marks.get(excel_row, ()):
            c = field_col.get(issue.column or "", first_status)
            fill = styles.error if issue.severity is Severity.ERROR else styles.warning
            value = values[c] if c < first_status else outcome.status.value
            if c < first_status and isinstance(value, str):
                ws.write_string(r, c, _text(value), fill)
            elif c < first_status:
                ws.write_blank(r, c, None, fill)
            ws.write_comment(r, c, _text(issue.message), COMMENT)
        _status_cells(ws, styles, r, first_status, outcome)
    ws.freeze_panes(header + 1, 0)
    ws.autofilter(header, 0, max(header, len(cells) - 1), first_status + len(RESULT_COLUMNS) - 1)
    for c, width in enumerate(widths):
        ws.set_column(c, c, width)
    ws.set_column(first_status, first_status, 11)
    ws.set_column(first_status + 1, first_status + 1, 70)
    ws.set_column(first_status + 2, first_status + 4, 14)
    ws.set_column(first_status + 4, first_status + 4, 26)


def _status_cells(ws, styles: _Styles, r: int, c: int, outcome: Outcome) -> None:  # type: ignore[no-untyped-def]
    ws.write_string(r, c, outcome.status.value, styles.status[outcome.status])
    if outcome.message:
        ws.write_string(r, c + 1, _text(outcome.message))
    if outcome.http_status is not None:
        ws.write_number(r, c + 2, outcome.http_status)
    if outcome.error_code:
        ws.write_string(r, c + 3, outcome.error_code)
    if outcome.submitted_at:
        ws.write_string(r, c + 4, outcome.submitted_at)


def _summary(ws, styles: _Styles, report: RunReport) -> None:  # type: ignore[no-untyped-def]
    lines: list[tuple[str, object]] = [
        ("Input file", report.input_path),
        ("Input SHA-256", report.input_sha256),
        ("Mode", {"validate": "validate (nothing sent)", "dry-run": "dry run (nothing sent)",
                  "run": "run"}[report.mode]),
        ("Dry run", "yes" if report.mode != "run" else "no"),
        ("Started", report.started_at),
        ("Finished", report.finished_at),
        ("API", report.base_url or "(none: nothing was sent)"),
        ("Journal", report.journal_path or "(none)"),
        ("Tool version", report.tool_version),
        ("Aborted", report.aborted or "no"),
        ("Interrupted", "yes" if report.interrupted else "no"),
        ("Rows", len(report.outcomes)),
        ("", ""),
        ("Status", "Rows"),
        *report.counts.items(),
        ("", ""),
        ("Sheet", "Operation"),
        *[(s.name, s.operation) for s in report.sheets],
    ]
    for r, (key, value) in enumerate(lines):
        ws.write_string(r, 0, key, styles.bold)
        if isinstance(value, int):
            ws.write_number(r, 1, value)
        else:
            ws.write_string(r, 1, _text(value))
    ws.set_column(0, 0, 18)
    ws.set_column(1, 1, 80)


def _errors(ws, styles: _Styles, report: RunReport, checked: list[Checked]) -> None:  # type: ignore[no-untyped-def]
    header = ("Sheet", "Row", "Column", "Value", "Severity", "Code", "Message")
    for c, name in enumerate(header):
        ws.write_string(0, c, name, styles.header)
    r = 1
    for item, result in zip(checked, report.sheets, strict=True):
        failed = {row: o for row, o in zip(item.sheet.data.index, result.outcomes, strict=True)
                  if o.status in (Status.REJECTED, Status.FAILED, Status.UNKNOWN)}
        rows = [(i.row, i.column or "", i.value, i.severity.value, i.code, i.message)
                for i in item.issues]
        rows += [(row, "", None, "error", o.error_code or o.status.value, o.message)
                 for row, o in failed.items()]
        rows.sort(key=lambda x: x[0] or 0)
        for row, column, value, severity, code, message in rows:
            ws.write_string(r, 0, item.sheet.name)
            if row is not None:
                ws.write_number(r, 1, row)
            ws.write_string(r, 2, column)
            if value is not None and not pd.isna(value):
                ws.write_string(r, 3, _text(value))
            ws.write_string(r, 4, severity)
            ws.write_string(r, 5, code)
            ws.write_string(r, 6, _text(message))
            r += 1
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(r - 1, 1), len(header) - 1)
    for c, width in enumerate((16, 7, 18, 22, 9, 22, 90)):
        ws.set_column(c, c, width)
