"""The web page's "Download as .xlsx": the sheets as they are now, ready to keep working in.

Every cell is written as text (never a number, a date or a formula); the known columns keep the
template's drop-downs, help and Text format wherever the user put them; sheets the importer left
out (notes, the template's Instructions) come back as they were, and a file that had no
Instructions sheet gets the templates' one, marked as the tool's so it is never read as input.
Columns read under another name (an alias, or the person's column mapping) get the operation's
own header, and a sheet whose operation the person chose is named after it, so the file reads
the same way again anywhere, the command line included, without a mapping.

The download of the rows that need the person ("to fix") carries results, so its sheets are
the results workbook's (results/workbook.py write_sheet): Status and Message beside the ids,
bad cells red or yellow with a comment saying why, the same widths, panes and print setup.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import xlsxwriter
from xlsxwriter.format import Format

from importer.checking.schemas import Checked
from importer.reading.marks import assign_sheet_names, mark
from importer.report import Outcome
from importer.results import look, rows
from importer.results.templates import add_instructions, guide, text_columns
from importer.results.workbook import copy_sheet, write_sheet

if TYPE_CHECKING:
    from importer.reading.loading import Sheet

INSTRUCTIONS = "Instructions"
_PLAIN = {"constant_memory": True, "strings_to_numbers": False, "strings_to_formulas": False,
          "strings_to_urls": False}


def write_edited(path: Path, sheets: list[Checked],
                 only: list[dict[int, Outcome]] | None = None) -> None:
    """Write `sheets` (and the file's left-out sheets) to `path`. With `only` (per sheet, Excel
    row -> what became of it): those rows alone, each with its Status and Message, laid out as
    the results workbook is (the reader knows those columns are not input): "the rows that
    need you", to fix and upload again as the same rollout."""
    book = xlsxwriter.Workbook(str(path), _PLAIN) if only is None else look.workbook(str(path))
    styles = None if only is None else look.Styles(book)
    reading = sheets[0].sheet.file if sheets else None
    left_out = [(n, raw) for n, _, raw in (reading.sheets if reading else []) if raw is not None]
    has_help = any(n.casefold() == INSTRUCTIONS.casefold() for n, _ in left_out)
    names = assign_sheet_names([_name(c) for c in sheets] + [n for n, _ in left_out]
                               + ([] if has_help else [INSTRUCTIONS]))
    bold = book.add_format({"bold": True})
    text = book.add_format({"num_format": "@"})  # ids and phones stay text, as in the template
    for i, (checked, name) in enumerate(zip(sheets, names, strict=False)):
        ws = book.add_worksheet(name)
        if only is not None and styles is not None:
            write_sheet(book, ws, styles, *_needing(checked, only[i]), results=2)
            continue
        sheet = checked.sheet
        keep = [c for c in sheet.raw.columns if c not in sheet.result_columns]
        positions = {f: keep.index(pos) for f, pos in sheet.columns.items() if pos in keep}
        guide(book, ws, sheet.operation, positions, sheet.header_row + 1, format_text=False)
        raw = _headers(sheet)[keep]
        _widths(ws, raw, sheet.header_row, text_columns(sheet.operation, positions), text)
        _cells(ws, raw, sheet.header_row, bold)
        ws.freeze_panes(sheet.header_row + 1, 0)
    for (_, raw), name in zip(left_out, names[len(sheets):], strict=False):
        if styles is None:
            _cells(book.add_worksheet(name), raw)
        else:
            copy_sheet(book.add_worksheet(name), styles, raw)
    if not has_help:
        ops = tuple({c.sheet.operation.name: c.sheet.operation for c in sheets}.values())
        add_instructions(book, names[-1], ops)
        mark(book, {names[-1]: "instructions"})
    book.close()


def _headers(sheet: Sheet) -> pd.DataFrame:
    """The sheet's cells, with the columns read under another name headed by their field."""
    if not sheet.renamed:
        return sheet.raw
    raw = sheet.raw.copy()
    for field_name, pos in sheet.columns.items():
        raw.iat[sheet.header_row, pos] = field_name
    return raw


def _needing(checked: Checked, outcomes: dict[int, Outcome]) -> tuple[Checked, list[Outcome]]:
    """The sheet cut to its header rows and the rows of `outcomes` (Excel rows), renumbered as
    they stand in the download, with their issues; and their outcomes in that order."""
    sheet = checked.sheet
    picked = sorted(outcomes)
    first = sheet.header_row + 2  # the Excel row just below the header
    moved = {r: first + k for k, r in enumerate(picked)}
    raw = _headers(sheet).iloc[[*range(sheet.header_row + 1), *(r - 1 for r in picked)]]
    issues = [replace(i, row=moved[i.row]) for i in checked.issues if i.row in moved]
    view = replace(sheet, raw=raw.reset_index(drop=True), issues=issues,
                   data=sheet.data.loc[picked].set_axis(list(moved.values())))
    invalid = frozenset(moved[r] for r in checked.invalid if r in moved)
    return Checked(view, issues, invalid), [outcomes[r] for r in picked]


def _widths(ws: xlsxwriter.worksheet.Worksheet, raw: pd.DataFrame, header_row: int,
            text_at: set[int], text: object) -> None:
    """Each column as wide as its text (within the results workbook's cap), so headers can be
    read without widening columns by hand; the known text columns formatted as Text; a record
    column hidden."""
    for c in range(raw.shape[1]):
        header = raw.iat[header_row, c]
        width = look.fit(look.longest(raw.iloc[header_row + 1:, c]), header, look.WIDTH_CAP)
        ws.set_column(c, c, width, text if c in text_at else None,
                      {"hidden": look.is_record(header)})


def _name(checked: Checked) -> str:
    """The sheet's name; the operation's when the person chose it (the columns fit both)."""
    sheet = checked.sheet
    return sheet.operation.title if sheet.chosen else sheet.name


def _cells(ws: xlsxwriter.worksheet.Worksheet, raw: pd.DataFrame, header_row: int = -1,
           bold: Format | None = None) -> None:
    cells = rows.text_cells(raw)
    if header_row >= 0:
        for c, value in enumerate(raw.iloc[header_row]):
            if isinstance(value, str):
                cells.cells[header_row, c] = (value, bold)
    rows.write(ws, cells)
