"""What a person sees in a workbook, as plain data: every cell's value, fill, font and comment,
the data validations, frozen panes, filter, widths, heights and print setup of every sheet.

Two workbooks that give the same fingerprint look and behave the same in Excel, whichever
library wrote them; tests/data/results/*.json hold the fingerprints of results workbooks as the
xlsxwriter writer made them (issue 28), and tests/test_results_reference.py compares today's
writer with them.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import openpyxl
from openpyxl.worksheet.worksheet import Worksheet


def _colour(c: object) -> str | None:
    rgb = getattr(c, "rgb", None)
    return rgb if isinstance(rgb, str) else None


def _cell(cell) -> list[object]:  # type: ignore[no-untyped-def]
    value = cell.value
    if isinstance(value, datetime):
        value = value.isoformat()
    fill = cell.fill.fgColor if cell.fill is not None and cell.fill.fill_type else None
    font = cell.font
    return [value, type(cell.value).__name__, _colour(fill) if fill is not None else None,
            bool(font.b), _colour(font.color) if font.color is not None else None,
            cell.number_format, bool(cell.alignment.wrap_text), cell.alignment.vertical,
            cell.comment.text if cell.comment is not None else None]


def _sheet(ws: Worksheet, replace: dict[str, str]) -> dict[str, object]:
    cells = {}
    for row in ws.iter_rows():
        for cell in row:
            if cell.value is None and cell.comment is None and not cell.has_style:
                continue
            print_ = _cell(cell)
            if isinstance(print_[0], str):
                for old, new in replace.items():
                    print_[0] = print_[0].replace(old, new)
            cells[cell.coordinate] = print_
    setup = ws.page_setup
    return {
        "state": ws.sheet_state,
        "freeze": ws.freeze_panes,
        "filter": ws.auto_filter.ref,
        "widths": {k: [d.width, d.customWidth] for k, d in sorted(ws.column_dimensions.items())
                   if d.width},
        "heights": {str(k): d.height for k, d in sorted(ws.row_dimensions.items()) if d.height},
        "validations": sorted([str(v.sqref), v.type, v.formula1, v.allow_blank, v.showDropDown,
                               v.promptTitle, v.prompt, v.errorTitle, v.error, v.errorStyle]
                              for v in ws.data_validations.dataValidation),
        "print": [setup.orientation, setup.paperSize, setup.fitToWidth, setup.fitToHeight,
                  ws.print_title_rows, ws.print_title_cols, ws.oddFooter.left.text,
                  ws.oddFooter.right.text, ws.print_options.gridLines,
                  ws.sheet_properties.pageSetUpPr.fitToPage
                  if ws.sheet_properties.pageSetUpPr else None],
        "cells": cells,
    }


def fingerprint(path: Path, replace: dict[str, str] | None = None) -> dict[str, object]:
    """The workbook as data; `replace` rewrites text in values (a temporary folder's path)."""
    book = openpyxl.load_workbook(path)
    names = {n: str(d.attr_text) for n, d in book.defined_names.items()}
    for ws in book.worksheets:
        names.update({f"{ws.title}!{n}": str(d.attr_text) for n, d in ws.defined_names.items()})
    return {"sheets": [ws.title for ws in book.worksheets], "names": names,
            **{ws.title: _sheet(ws, replace or {}) for ws in book.worksheets}}


def dump(data: dict[str, object]) -> str:
    """One line per cell (and per other property), so that a difference reads as a diff."""
    def line(key: str, value: object) -> str:
        return f"{json.dumps(key, ensure_ascii=False)}: " \
               f"{json.dumps(value, ensure_ascii=False, sort_keys=True)}"

    out = [line("sheets", data["sheets"]), line("names", data["names"])]
    for name in data["sheets"]:  # type: ignore[union-attr]
        sheet = dict(data[name])  # type: ignore[call-overload]
        cells = sheet.pop("cells")
        out.append(line(f"sheet {name}", sheet))
        out += [line(k, v) for k, v in cells.items()]
    return "\n".join(out) + "\n"
