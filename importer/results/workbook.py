"""The results workbook: the input sheets as they were, plus what happened to every row.

It is the user's working document (read, fix in place, run again), so it is laid out for a
person with a laptop and a printer: Status and Message beside the identifying columns and
frozen with the header, one colour per status, widths that fit, landscape pages one wide with
the header on each; a Summary that leads with the counts; an Errors sheet, one row per issue.

Written with xlsxwriter in constant-memory mode because results can be a million rows; the
cells of the data sheets go in a column at a time through results/rows.py (xlsxwriter's own
XML, made with Arrow's string kernels; bench/README.md has the figures), always as text,
a number or a date, so nothing is ever a formula. Rows keep their Excel row numbers: title
rows above the header are copied too, so "row 7" in a message is row 7 in both the input and
the results. Columns move only to make room for Status and Message; a re-read finds every
column by its header.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from importer import excel
from importer.errors import ImporterError
from importer.reading import marks
from importer.reading.marks import ERRORS, SUMMARY, assign_sheet_names
from importer.report import Outcome, RunReport, Severity
from importer.results import look, pages, rows
from importer.results.look import STATUS_COLOURS as STATUS_COLOURS
from importer.results.summary import STATUS_MEANING as STATUS_MEANING
from importer.results.summary import write_summary
from importer.results.templates import guide, text_columns
from importer.spec.operations import RESULT_COLUMNS

if TYPE_CHECKING:
    from importer.checking.schemas import Checked
    from importer.reading.loading import Sheet

COMMENT_WIDTH = 48  # characters per line of a comment box at x_scale 2.5




def write_results(path: Path, report: RunReport, checked: list[Checked]) -> None:
    """Write the whole results workbook to `path`; ImporterError if it cannot be written."""
    try:
        # Zipped into memory (the sheets still stream through temporary files), then written
        # here: a full disk is then a plain error, not a half-closed zip inside xlsxwriter
        # whose clean-up prints tracebacks later.
        buffer = io.BytesIO()
        book = look.workbook(buffer)
        styles = look.Styles(book)
        reading = checked[0].sheet.file if checked else None
        left_out = [(n, raw) for n, _, raw in (reading.sheets if reading else [])
                    if raw is not None]
        every = assign_sheet_names([c.sheet.name for c in checked] + [n for n, _ in left_out])
        names = every[:len(checked)]
        for item, result, name in zip(checked, report.sheets, names, strict=True):
            write_sheet(book, book.add_worksheet(name), styles, item, result.outcomes)
        for (_, raw), name in zip(left_out, every[len(checked):], strict=True):
            copy_sheet(book.add_worksheet(name), styles, raw)
        renamed = dict(zip([c.sheet.name for c in checked] + [n for n, _ in left_out], every,
                           strict=True))
        write_summary(book.add_worksheet(SUMMARY), styles, report, checked, renamed)
        _errors(book.add_worksheet(ERRORS), styles, report, renamed)
        marks.mark(book, {SUMMARY: "summary", ERRORS: "errors"})
        book.close()
        with path.open("wb") as f:
            f.write(buffer.getbuffer())
    except (OSError, UnicodeError, xlsxwriter.exceptions.XlsxWriterException) as exc:
        raise ImporterError(f"{path}: cannot write the results workbook ({exc})") from exc


def copy_sheet(ws: Worksheet, styles: look.Styles, raw: pd.DataFrame) -> None:
    """A sheet the tool left out (instructions, notes), back as it was read: text as text, in
    columns that fit (long text wraps), printed one page wide."""
    widths = [look.fit(look.longest(raw[c]), None, look.MESSAGE_CAP) for c in raw.columns]
    cells = rows.text_cells(raw)
    lines: dict[int, int] = {}
    for c, width in enumerate(widths):
        ws.set_column(c, c, width, styles.wrap)
        chars = look.per_line(width)
        text = cells.columns[c].values
        wraps = (text.str.len().ge(chars) | text.str.contains("\n", regex=False)).fillna(False)
        for r, value in text[wraps.astype(bool)].items():
            lines[int(r)] = max(lines.get(int(r), 1), look.lines(value, chars))
    for r, n in lines.items():
        look.tall(ws, r, n)
    rows.write(ws, cells)
    pages.print_setup(ws, landscape=False)


@dataclass
class _Layout:
    """Where each kept input column and each result column goes in the results sheet."""

    keep: list[int]  # raw positions of the user's columns (old result columns dropped)
    out: list[int]  # output column of each kept column
    status: int  # output column of Status; Message is the next one
    extra: int  # output column of HTTP Status; Error Code and Submitted At follow
    source: dict[int, int]  # output column -> index into `keep`
    results: int  # how many of RESULT_COLUMNS the sheet has (the first ones)

    @property
    def width(self) -> int:
        return self.extra + self.results - 2


def _layout(sheet: Sheet, results: int) -> _Layout:
    keep = [int(c) for c in sheet.raw.columns if c not in set(sheet.result_columns)]
    index = {pos: k for k, pos in enumerate(keep)}
    op = sheet.operation
    at = pages.lead([index[sheet.columns[f]] for f in (*op.one_of, op.unique)
                    if f in sheet.columns])  # Status goes after the ids, else first
    out = [k if k < at else k + 2 for k in range(len(keep))]
    return _Layout(keep, out, at, len(keep) + 2, {c: k for k, c in enumerate(out)}, results)


def _comment(ws: Worksheet, r: int, c: int, lines: list[str]) -> None:
    text = "\n".join(lines)[:excel.CELL_CHARS]
    rows = sum(len(line) // COMMENT_WIDTH + 1 for line in lines)
    ws.write_comment(r, c, text, {"x_scale": 2.5, "y_scale": max(1.2, rows / 4.5)})


def write_sheet(book: xlsxwriter.Workbook, ws: Worksheet, styles: look.Styles,
                checked: Checked, outcomes: list[Outcome],
                results: int = len(RESULT_COLUMNS)) -> None:
    """A data sheet: the user's columns and the first `results` result columns (the page's
    download of the rows to fix has only Status and Message), marked, commented, printable."""
    sheet = checked.sheet
    lay = _layout(sheet, results)
    header, status = sheet.header_row, lay.status
    body = sheet.raw.iloc[header + 1:]
    longest = [look.longest(body[pos]) for pos in lay.keep]
    heads = [sheet.raw.iat[header, pos] for pos in lay.keep]
    notes = _notes(checked, lay, body, longest)
    positions = {name: lay.out[lay.keep.index(pos)] for name, pos in sheet.columns.items()
                 if pos in lay.keep}
    widths = _widths(ws, styles, heads, lay, longest, outcomes,
                     text_columns(sheet.operation, positions))
    guide(book, ws, sheet.operation, positions, header + 1, format_text=False)
    # Every printed page shows which row it is and what happened to it.
    pages.sheet_setup(ws, header, len(sheet.raw) - 1, widths, lay.status + 2)

    cells = rows.Cells(len(sheet.raw))
    for k, c in enumerate(lay.out):
        cells.columns[c] = rows.Column(sheet.raw[lay.keep[k]])
    _status_columns(cells, styles, lay, sheet.data.index, outcomes)
    titles = [(c, v) for c, v in zip(lay.out, heads, strict=True) if isinstance(v, str)]
    titles += [(status + i if i < 2 else lay.extra + i - 2, name)
               for i, name in enumerate(RESULT_COLUMNS[:results])]
    for c, value in zip(lay.out, heads, strict=True):
        cells.cells[header, c] = (value if isinstance(value, str) else None, styles.header)
    for c, name in titles[-results:]:
        cells.cells[header, c] = (name, styles.result_header)
    for r, marked in notes.items():
        if r != header:
            _marked(ws, cells, styles, r, marked, lay)
    lines = _lines(sheet, lay, outcomes, widths, longest)
    lines[header] = max(look.lines(v, look.per_line(widths[c])) for c, v in titles
                        if widths[c])
    for r, n in sorted(lines.items()):
        look.tall(ws, r, n)
    rows.write(ws, cells)


def _status_columns(cells: rows.Cells, styles: look.Styles, lay: _Layout, index: pd.Index,
                    outcomes: list[Outcome]) -> None:
    """Status, Message, HTTP Status, Error Code and Submitted At of every row with an outcome
    (the first `lay.results` of them)."""
    n = cells.rows
    status: list[str | None] = [None] * n
    fills: list[Format | None] = [None] * n
    message: list[str | None] = [None] * n
    http: list[str | None] = [None] * n
    code: list[str | None] = [None] * n
    c, x = lay.status, lay.extra
    for row, outcome in zip(index, outcomes, strict=True):
        r = row - 1
        status[r], fills[r] = outcome.status.value, styles.status[outcome.status]
        message[r] = outcome.message or None
        if outcome.http_status is not None:
            http[r] = f"{outcome.http_status:.16G}"
        code[r] = outcome.error_code or None
        if outcome.submitted_at and lay.results == len(RESULT_COLUMNS):
            try:  # local time as it was written; a real date cell sorts and filters as one
                at = datetime.fromisoformat(outcome.submitted_at).replace(tzinfo=None)
            except ValueError:
                cells.cells[r, x + 2] = (outcome.submitted_at, None)
            else:
                cells.cells[r, x + 2] = (at, styles.when)
    cells.columns[c] = rows.Column(pd.Series(status, dtype=object), pd.Series(fills, dtype=object))
    cells.columns[c + 1] = rows.Column(pd.Series(message, dtype=object))
    if lay.results < len(RESULT_COLUMNS):
        return
    if any(v is not None for v in http):
        cells.columns[x] = rows.Column(pd.Series(http, dtype=object), numbers=True)
    cells.columns[x + 1] = rows.Column(pd.Series(code, dtype=object))


def _lines(sheet: Sheet, lay: _Layout, outcomes: list[Outcome], widths: list[int],
           longest: list[int]) -> dict[int, int]:
    """Row -> lines of wrapped text it shows (rows of one line left out): its Message, and
    text longer than its column in the columns that wrap."""
    lines: dict[int, int] = {}
    per_line = look.per_line(widths[lay.status + 1])
    for row, outcome in zip(sheet.data.index, outcomes, strict=True):
        if len(outcome.message) > per_line:
            lines[row - 1] = look.lines(outcome.message, per_line)
    for k, c in enumerate(lay.out):
        if longest[k] + 2 <= look.WIDTH_CAP or not widths[c]:  # fits, or hidden
            continue
        chars = look.per_line(widths[c])
        column = sheet.raw[lay.keep[k]]
        for r, value in column[column.str.len() > chars].items():
            if r != sheet.header_row:
                lines[int(r)] = max(lines.get(int(r), 1), look.lines(value, chars))
    return {r: n for r, n in lines.items() if n > 1}


def _notes(checked: Checked, lay: _Layout, body: pd.DataFrame, longest: list[int]
           ) -> dict[int, dict[int, tuple[bool, list[str]]]]:
    """Row position -> output column -> (is an error, comment lines): issues, and cut cells."""
    field_col = {name: lay.out[k] for k, pos in enumerate(lay.keep)
                 for name, p in checked.sheet.columns.items() if p == pos}
    notes: dict[int, dict[int, tuple[bool, list[str]]]] = {}
    for issue in checked.issues:
        if issue.row is None:
            continue
        c = field_col.get(issue.column or "", lay.status)
        cell = notes.setdefault(issue.row - 1, {})
        error, lines = cell.get(c, (False, []))
        cell[c] = (error or issue.severity is Severity.ERROR, [*lines, issue.message])
    for k, pos in enumerate(lay.keep):
        if longest[k] > excel.CELL_CHARS:  # rare: only then look at single cells
            sizes = body[pos].str.len()
            for at, size in sizes[sizes > excel.CELL_CHARS].items():
                cell = notes.setdefault(int(at), {})
                error, lines = cell.get(lay.out[k], (False, []))
                cell[lay.out[k]] = (error, [*lines, (
                    f"Cut: this cell holds {int(size):,} characters and an Excel cell at most "
                    f"{excel.CELL_CHARS:,}; only the first {excel.CELL_CHARS:,} are shown here.")])
    return notes


def _marked(ws: Worksheet, cells: rows.Cells, styles: look.Styles, r: int,
            marked: dict[int, tuple[bool, list[str]]], lay: _Layout) -> None:
    for c, (error, lines) in marked.items():
        fill = styles.error if error else styles.warning
        if c in lay.source:
            value = cells.columns[c].values.iat[r]
            cells.cells[r, c] = (value[:excel.CELL_CHARS] if isinstance(value, str) else None,
                                 fill)
        _comment(ws, r, c, lines)


def _widths(ws: Worksheet, styles: look.Styles, header: list[object], lay: _Layout,
            longest: list[int], outcomes: list[Outcome], text: set[int]
            ) -> list[int]:
    """Set every column's width (and wrapping where text is longer, and the Text format of id
    and phone columns, as in the template; a record column hidden); return the widths as
    shown (0: hidden)."""
    widths = [0] * lay.width
    formats: dict[int, Format | None] = {}
    hidden = {c for k, c in enumerate(lay.out) if look.is_record(header[k])}
    for k, c in enumerate(lay.out):
        widths[c] = look.fit(longest[k], header[k], look.WIDTH_CAP)
        wrap = longest[k] + 2 > look.WIDTH_CAP and c not in hidden
        formats[c] = ((styles.text_wrap if wrap else styles.text) if c in text
                      else styles.wrap if wrap else None)
    message = max((len(o.message) for o in outcomes), default=0)
    code = max((len(o.error_code) for o in outcomes), default=0)
    fitted = [(lay.status, 11, None),
              (lay.status + 1, look.fit(message, "Message", look.MESSAGE_CAP), styles.wrap),
              (lay.extra, 8, None), (lay.extra + 1, look.fit(code, "Error", look.WIDTH_CAP), None),
              (lay.extra + 2, 20, None)]
    for c, width, fmt in fitted[:lay.results]:
        widths[c], formats[c] = width, fmt
    for c in range(lay.width):
        ws.set_column(c, c, widths[c], formats[c], {"hidden": c in hidden})
    return [0 if c in hidden else width for c, width in enumerate(widths)]


_ERRORS_HEADER = ("Sheet", "Row", "Column", "Value", "Severity", "Code", "Message")
_ERRORS_CAPS = (31, 7, 24, 30, 9, 30, 80)


def _errors(ws: Worksheet, styles: look.Styles, report: RunReport, renamed: dict[str, str]) -> None:
    """One row per issue, and per row the API did not settle (RunReport.problems, the list the
    terminal shows too), under the sheet names of this workbook."""
    rows = [(renamed.get(p.sheet, p.sheet), p.row, p.column, p.value or "", p.severity, p.code,
             p.message) for p in report.problems()]
    for c, title in enumerate(_ERRORS_HEADER):
        ws.write_string(0, c, title, styles.header)
    fill = {Severity.ERROR.value: styles.error, Severity.WARNING.value: styles.warning}
    widths = []
    for c, cap in enumerate(_ERRORS_CAPS):
        longest = max((len(str(x[c])) for x in rows if x[c] is not None), default=0)
        widths.append(look.fit(longest, _ERRORS_HEADER[c], cap))
        ws.set_column(c, c, widths[c], styles.wrap if longest + 2 > cap else None)
    value_line, message_line = look.per_line(widths[3]), look.per_line(widths[6])
    for r, (sheet, row, column, value, severity, code, message) in enumerate(rows, 1):
        if len(message) > message_line or len(value) > value_line:
            look.tall(ws, r, max(look.lines(message, message_line), look.lines(value, value_line)))
        ws.write_string(r, 0, sheet)
        if row is not None:
            ws.write_number(r, 1, row)
        ws.write_string(r, 2, column)
        if value:
            ws.write_string(r, 3, value[:excel.CELL_CHARS])
        ws.write_string(r, 4, severity, fill.get(severity))
        ws.write_string(r, 5, code)
        ws.write_string(r, 6, message[:excel.CELL_CHARS])
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(len(rows), 1), len(_ERRORS_HEADER) - 1)
    pages.print_setup(ws, landscape=True)
    ws.repeat_rows(0)
