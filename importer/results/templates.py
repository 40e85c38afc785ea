"""Templates: workbooks generated from the operation specs that stop mistakes before they are made.

Id and phone columns are formatted as Text (Excel keeps leading zeros and never shows them in
scientific notation), enumerated and yes/no columns get drop-downs, whole-number columns refuse
anything else, every column shows its help text when selected, and an Instructions sheet
explains the rules, the routing table included. The same writer, given rows, makes the samples
(a sample is a filled-in template) and the export (a filled-in Configure sheet with read-only
columns beside it). Output is byte-reproducible so the committed templates can be checked
against the generator.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from importer import excel
from importer.errors import ImporterError, UsageError
from importer.results import pages
from importer.spec.operations import CONFIGURE, PURCHASE, SHORT_BOUNDS, Field, Kind, Operation

TEMPLATES: dict[str, tuple[Operation, ...]] = {
    "purchase": (PURCHASE,),
    "configure": (CONFIGURE,),
    "rollout": (PURCHASE, CONFIGURE),
}
TEXT_KINDS = (Kind.SID, Kind.PHONE, Kind.TEXT)
LAST_ROW = excel.ROWS - 1  # xlsxwriter counts rows from 0
FIXED_DATE = datetime(2026, 1, 1)  # reproducible files: the committed templates must not drift

Row = Mapping[str, object]  # header -> value (str, int, float or bool); missing = empty cell
Line = tuple[bool, tuple[str, ...]]  # an Instructions line: (bold?, cells)


@dataclass(frozen=True)
class Column:
    """A column the tool adds beside an operation's (the export's reference columns and its
    record): greyed as read-only, its help shown when selected, hidden if asked (a record:
    results/look.py is_record hides it in the workbooks written from the file)."""

    header: str
    help: str
    hidden: bool = False
    width: int = 24


@dataclass(frozen=True)
class Book:
    """What to write: the sheets (operation, rows) in order, and the Instructions' text."""

    heading: str  # the Instructions sheet's title line
    sheets: tuple[tuple[Operation, Sequence[Row]], ...]
    title: str  # the document property
    intro: tuple[Line, ...] | None = None  # replaces "How to use this template"
    columns: tuple[Column, ...] = ()  # added after the operation's columns on every sheet
    created: datetime = FIXED_DATE


def header_text(f: Field) -> str:
    """Required columns carry a `*` (ignored when the sheet is read back)."""
    return f"{f.name} *" if f.required else f.name


def write_template(name: str, path: Path, rows: Mapping[str, Sequence[Row]] | None = None,
                   title: str | None = None) -> None:
    """Write template `name`; with `rows` (per operation name) it comes back filled in.

    Row keys that are not columns of the operation become extra columns on the right, as
    users add them (the importer ignores them, with a warning).
    """
    if name not in TEMPLATES:
        raise UsageError(f"no template {name!r}; choose one of {', '.join(TEMPLATES)}")
    sheets = tuple((op, (rows or {}).get(op.name, ())) for op in TEMPLATES[name])
    write_book(path, Book(f"Number Block Importer: {name} template", sheets,
                          title or f"Number Block Importer: {name} template"))


def write_book(path: Path, spec: Book) -> None:
    """Write `spec` to `path` (a temporary file: callers publish it with files.write_atomically)."""
    try:
        book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False,
                                               "strings_to_formulas": False,
                                               "strings_to_urls": False})
        book.set_properties({"title": spec.title, "created": spec.created})
        styles = _styles(book)
        if spec.columns:  # only then: the templates' styles stay byte for byte as committed
            styles["reference"] = book.add_format({"bold": True, "italic": True,
                                                   "bg_color": "#D9D9D9", "border": 1})
            styles["read_only"] = book.add_format({"num_format": "@", "font_color": "#595959",
                                                   "bg_color": "#F2F2F2"})
        for op, rows in spec.sheets:
            _operation_sheet(book, styles, op, rows, spec.columns)
        _instructions(book, styles, spec.heading, tuple(op for op, _ in spec.sheets), spec.intro)
        book.close()
    except (OSError, xlsxwriter.exceptions.XlsxWriterException) as exc:
        raise ImporterError(f"{path}: cannot write the workbook ({exc})") from exc


def _styles(book: xlsxwriter.Workbook) -> dict[str, object]:
    return {
        "required": book.add_format({"bold": True, "bg_color": "#F8CBAD", "border": 1}),
        "optional": book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1}),
        "extra": book.add_format({"bold": True, "bg_color": "#EDEDED", "border": 1}),
        "text": book.add_format({"num_format": "@"}),
        "bold": book.add_format({"bold": True}),
        "title": book.add_format({"bold": True, "font_size": 14}),
    }


def _validation(op: Operation, f: Field) -> dict[str, object]:
    """The data validation of a column: a drop-down, a whole-number range, or just the help."""
    rule: dict[str, object] = {"validate": "any"}
    if f.allowed:
        rule = {"validate": "list", "source": list(f.allowed),
                "error_message": f"Choose one of: {', '.join(f.allowed)}"[:255]}
    elif f.kind is Kind.SHORT:
        low, high = f.bounds or SHORT_BOUNDS
        rule = {"validate": "integer", "criteria": "between", "minimum": low, "maximum": high,
                "error_message": f"A whole number from {low} to {high}."}
    if rule["validate"] != "any":
        rule["error_title"] = "Value not allowed"
    return {**rule, "input_title": f.name[:32], "input_message": help_text(op, f)[:255]}


def _operation_sheet(book: xlsxwriter.Workbook, styles: dict, op: Operation,
                     rows: Sequence[Row], added: tuple[Column, ...] = ()) -> None:
    ws = book.add_worksheet(op.title)
    names = [f.name for f in op.fields]
    ours = [c.header for c in added]
    extra = list(dict.fromkeys(k for row in rows for k in row if k not in names
                               and k not in ours))
    widths = []  # as printed: 0 for a hidden column
    for c, f in enumerate(op.fields):
        header = header_text(f)
        ws.write_string(0, c, header, styles["required" if f.required else "optional"])
        widths.append(max(14, min(len(header) + 4, 30)))
        ws.set_column(c, c, widths[c], styles["text"] if f.kind in TEXT_KINDS else None)
        ws.data_validation(1, c, LAST_ROW, c, _validation(op, f))
    for c, column in enumerate(added, len(names)):
        ws.write_string(0, c, column.header, styles["reference"])
        ws.set_column(c, c, column.width, styles["read_only"], {"hidden": column.hidden})
        widths.append(0 if column.hidden else column.width)
        ws.data_validation(1, c, LAST_ROW, c, {"validate": "any",
                                               "input_title": column.header[:32],
                                               "input_message": column.help[:255]})
    for c, name in enumerate(extra, len(names) + len(added)):
        ws.write_string(0, c, name, styles["extra"])
        widths.append(max(14, min(len(name) + 4, 30)))
        ws.set_column(c, c, widths[c])
    columns = {name: c for c, name in enumerate([*names, *ours, *extra])}
    for r, row in enumerate(rows, 1):
        for key, value in row.items():
            _write(ws, r, columns[key], value)
    ids = pages.lead([names.index(f) for f in (*op.one_of, op.unique)])
    pages.sheet_setup(ws, 0, len(rows), widths, ids)  # printed as the results workbook


def _write(ws: Worksheet, r: int, c: int, value: object) -> None:
    """Cells as a user's spreadsheet holds them: text, numbers and booleans kept apart."""
    if isinstance(value, bool):
        ws.write_boolean(r, c, value)
    elif isinstance(value, int | float):
        ws.write_number(r, c, value)
    elif value is not None:
        ws.write_string(r, c, str(value))


def help_text(op: Operation, f: Field) -> str:
    """The input message of a column: required or not, what it is, an example."""
    need = "Required. " if f.required else ("" if f.name in op.one_of else "Optional. ")
    example = f" Example: {f.example}" if f.example else ""
    return f"{need}{f.help}{example}"


def instructions(ops: tuple[Operation, ...], intro: tuple[Line, ...] | None = None
                 ) -> list[Line]:
    """The Instructions sheet (and the README's column reference) as lines of cells; `intro`
    replaces the template's "How to use" lines (the export says how to use an export)."""
    def text(*cells: str) -> Line:
        return False, cells

    def bold(*cells: str) -> Line:
        return True, cells

    how: list[Line] = [
        bold("How to use this template"),
        text("1. Fill in one row per number block. Columns marked * are required; every row "
             "also needs AccountSid or PropertySid (at least one). Leave a cell empty to not "
             "send it."),
        text("2. Run `importer validate FILE` and fix what its results workbook marks in red."),
        text("3. Run `importer run FILE`. Open the results workbook its last line names: every "
             "row has a Status. Fix failed rows there and run that file: rows already done are "
             "skipped, nothing is bought twice."),
        text("Each validate and run writes a new results workbook beside its file, under the "
             "next free name: for my-rollout.xlsx, my-rollout.results.xlsx, then "
             "my-rollout.results-2.xlsx, -3 and so on (running a results workbook carries on "
             "the numbers); none is ever replaced."),
    ]
    lines: list[Line] = [
        *(how if intro is None else intro),
        text(""),
        bold("Rules"),
        text("Each NumberBlockSid may appear only once in a sheet; later repeats are refused."),
        text("Ids (AccountSid, PropertySid, NumberBlockSid): letters, digits, _ and - only."),
        text("Phone numbers: an Australian landline (02/03/07/08), mobile (04), 1300, 1800 or "
             "13 number in any usual writing: 0412 345 678, +61 412 345 678, (02) 9876 5432."),
        text("Id and phone columns are formatted as Text so Excel keeps leading zeros. Paste "
             "with Paste Special > Values to keep that; a number in scientific notation "
             "(4.12E+08) has lost digits and is refused."),
        text("Yes/no columns: choose TRUE or FALSE from the drop-down (files made elsewhere may "
             "also use yes/no, y/n or 1/0). Choice columns: pick from the drop-down."),
    ]
    if len(ops) > 1:
        first, then = ops[0].title, ops[1].title
        lines.append(text(f"The {first} sheet runs first, so {then} rows may use blocks bought "
                          f"there; a {then} row whose purchase did not go through is skipped."))
    for op in ops:
        lines += [text(""), bold(f"{op.title} sheet: {op.summary}"),
                  bold("Column", "Kind", "Required", "Allowed values", "What it is")]
        lines += [text(*row) for row in op.reference()]
        if op.routing:
            lines += [text(""),
                      bold("Routing table (RoutingMethod decides which columns are needed)"),
                      bold("RoutingMethod", "Needs", "Not used (ignored, with a warning)")]
            lines += [text(*row) for row in op.routing_table()]
            lines.append(text(f"{', '.join(op.routing_fields)} filled in without a "
                              "RoutingMethod is an error."))
    return lines


def guide(book: xlsxwriter.Workbook, ws: Worksheet, op: Operation,
          positions: Mapping[str, int], first_row: int, format_text: bool = True) -> None:
    """The template's help on a sheet laid out by its user (a download of an edited file, a
    results workbook): each known column, wherever it is, gets its drop-down or range and its
    help text from `first_row` (0-based) down, and (unless the caller sets its columns' formats
    itself, see `text_columns`) id and phone columns the Text format."""
    text = book.add_format({"num_format": "@"})  # xlsxwriter keeps one copy of equal formats
    for f in op.fields:
        c = positions.get(f.name)
        if c is None:
            continue
        if format_text and f.kind in TEXT_KINDS:
            ws.set_column(c, c, None, text)
        ws.data_validation(first_row, c, LAST_ROW, c, _validation(op, f))


def text_columns(op: Operation, positions: Mapping[str, int]) -> set[int]:
    """The columns (of `positions`) a template formats as Text: ids, phones, free text."""
    return {positions[f.name] for f in op.fields
            if f.kind in TEXT_KINDS and f.name in positions}


def add_instructions(book: xlsxwriter.Workbook, name: str, ops: tuple[Operation, ...]) -> None:
    """The templates' Instructions sheet, under `name`, in a workbook written elsewhere."""
    _instructions(book, _styles(book), "Number Block Importer: how to fill this in", ops, None,
                  name)


def _instructions(book: xlsxwriter.Workbook, styles: dict, heading: str,
                  ops: tuple[Operation, ...], intro: tuple[Line, ...] | None,
                  name: str = "Instructions") -> None:
    ws = book.add_worksheet(name)
    ws.write_string(0, 0, heading, styles["title"])
    for r, (bold, cells) in enumerate(instructions(ops, intro), 2):
        for c, cell in enumerate(cells):
            ws.write_string(r, c, cell, styles["bold"] if bold else None)
    ws.set_column(0, 0, 26)
    ws.set_column(1, 3, 22)
    ws.set_column(4, 4, 90)
    pages.print_setup(ws, landscape=True)  # the column table one page wide
