"""Templates: blank workbooks generated from the operation specs that stop mistakes early.

Id and phone columns are formatted as Text (Excel keeps leading zeros), enumerated and yes/no
columns get drop-downs, every column shows its help text when selected, and an Instructions
sheet explains the rules, the routing table included.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import xlsxwriter

from importer.errors import ImporterError, UsageError
from importer.operations import CONFIGURE, OPERATIONS, PURCHASE, Field, Kind, Operation

TEMPLATES: dict[str, tuple[Operation, ...]] = {
    "purchase": (PURCHASE,),
    "configure": (CONFIGURE,),
    "rollout": (PURCHASE, CONFIGURE),
}
TEXT_KINDS = (Kind.SID, Kind.PHONE, Kind.TEXT)
LAST_ROW = 1_048_575
FIXED_DATE = datetime(2026, 1, 1)  # reproducible files: the committed templates must not drift


def header_text(op: Operation, f: Field) -> str:
    """Required columns carry a `*` (ignored when the sheet is read back)."""
    return f"{f.name} *" if f.required else f.name


def write_template(name: str, path: Path) -> None:
    if name not in TEMPLATES:
        raise UsageError(f"no template {name!r}; choose one of {', '.join(TEMPLATES)}")
    try:
        book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False,
                                               "strings_to_formulas": False})
        book.set_properties({"title": f"Number Block Importer: {name} template",
                             "created": FIXED_DATE})
        styles = {
            "required": book.add_format({"bold": True, "bg_color": "#F8CBAD", "border": 1}),
            "optional": book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1}),
            "text": book.add_format({"num_format": "@"}),
            "bold": book.add_format({"bold": True}),
            "wrap": book.add_format({"text_wrap": True, "valign": "top"}),
            "title": book.add_format({"bold": True, "font_size": 14}),
        }
        for op in TEMPLATES[name]:
            _operation_sheet(book, styles, op)
        _instructions(book, styles, TEMPLATES[name])
        book.close()
    except (OSError, xlsxwriter.exceptions.XlsxWriterException) as exc:
        raise ImporterError(f"{path}: cannot write the template ({exc})") from exc


def _operation_sheet(book: xlsxwriter.Workbook, styles: dict, op: Operation) -> None:
    ws = book.add_worksheet(op.title)
    for c, f in enumerate(op.fields):
        header = header_text(op, f)
        ws.write_string(0, c, header, styles["required" if f.required else "optional"])
        ws.set_column(c, c, max(14, min(len(header) + 4, 30)),
                      styles["text"] if f.kind in TEXT_KINDS else None)
        prompt = {"validate": "any"}
        if f.allowed:
            prompt = {"validate": "list", "source": list(f.allowed),
                      "error_title": "Value not allowed",
                      "error_message": f"Choose one of: {', '.join(f.allowed)}"}
        ws.data_validation(1, c, LAST_ROW, c, {
            **prompt,
            "input_title": f.name[:32],
            "input_message": _help(op, f)[:255],
        })
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, 0, len(op.fields) - 1)


def _help(op: Operation, f: Field) -> str:
    need = "Required. " if f.required else ("One of AccountSid / PropertySid is required. "
                                            if f.name in op.one_of else "")
    example = f" Example: {f.example}" if f.example else ""
    return f"{need}{f.help}{example}"


def instructions(ops: tuple[Operation, ...]) -> list[tuple[str, ...]]:
    """The Instructions sheet (and the README's column reference) as rows of text."""
    rows: list[tuple[str, ...]] = [
        ("How to use this template",),
        ("1. Fill in one row per number block. Columns marked * are required; leave a cell "
         "empty to not send it.",),
        ("2. Run `importer validate FILE` and fix what the results workbook marks in red.",),
        ("3. Run `importer run FILE`. Open FILE.results.xlsx: every row has a Status. Fix "
         "failed rows there and run it again: rows already done are skipped.",),
        ("Phone numbers: any usual writing of an Australian landline (02/03/07/08), mobile (04), "
         "1300, 1800 or 13 number: 0412 345 678, +61 412 345 678 and 412345678 all work.",),
        ("Yes/no columns: TRUE/FALSE, yes/no, y/n or 1/0.",),
        ("",),
    ]
    for op in ops:
        rows += [(f"{op.title} sheet: {op.summary}",), ("Column", "Kind", "Required",
                                                          "Allowed values", "What it is")]
        for f in op.fields:
            required = "yes" if f.required else ("one of" if f.name in op.one_of else "")
            rows.append((f.name, f.kind.value, required, ", ".join(f.allowed), f.help))
        if op.routing:
            rows += [("",), ("Routing table (RoutingMethod decides which columns are needed)",),
                     ("RoutingMethod", "Needs", "Not used (ignored, with a warning)")]
            for method, needs in op.routing.items():
                unused = [n for n in op.routing_fields if n not in needs]
                rows.append((method, ", ".join(needs), ", ".join(unused)))
            rows.append((f"{', '.join(op.routing_fields)} without a RoutingMethod is an error.",))
        rows.append(("",))
    return rows


def _instructions(book: xlsxwriter.Workbook, styles: dict, ops: tuple[Operation, ...]) -> None:
    ws = book.add_worksheet("Instructions")
    for r, row in enumerate(instructions(ops)):
        for c, text in enumerate(row):
            bold = len(row) == 1 and r == 0 or row[0] in ("Column", "RoutingMethod")
            ws.write_string(r, c, text, styles["title"] if r == 0 else
                            styles["bold"] if bold else None)
    ws.set_column(0, 0, 26)
    ws.set_column(1, 3, 22)
    ws.set_column(4, 4, 90)


__all__ = ["OPERATIONS", "TEMPLATES", "instructions", "write_template"]
