"""Helpers shared by the tests: real files written the way spreadsheet programs write them."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest

from importer.cli import main


def write_xlsx(path: Path, sheets: dict[str, list[list[object]]],
               hidden: tuple[str, ...] = ()) -> Path:
    """A workbook as openpyxl writes it: one sheet per entry, rows as given."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        ws = book.create_sheet(name)
        for row in rows:
            ws.append(row)
        if name in hidden:
            ws.sheet_state = "hidden"
    book.save(path)
    return path


def cli(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, dict | str, str]:
    """Run the real entry point; with --json the stdout is parsed."""
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if "--json" in args else out), err


def sheet_rows(path: Path, sheet: str) -> list[dict[str, object]]:
    """The data rows of one results sheet as dicts keyed by header (header on row 1)."""
    ws = openpyxl.load_workbook(path)[sheet]
    rows = list(ws.iter_rows(values_only=True))
    return [dict(zip(rows[0], r, strict=False)) for r in rows[1:] if any(v is not None for v in r)]


PURCHASE_HEADER = ["PropertySid", "NumberBlockSid", "AnswerPoint", "Campaign"]
CONFIGURE_HEADER = ["AccountSid", "NumberBlockSid", "RoutingMethod", "EndpointNumber", "Flow",
                    "Application", "Recording", "Campaign"]


def page_secret(location: str) -> str:
    """The page's secret as the load that spent the key gets it: in the fragment of the
    redirect (`/#page=...`); no page a cookie can fetch holds it."""
    from importer.web.security import PAGE_FRAGMENT
    assert PAGE_FRAGMENT in location, location
    return location.split(PAGE_FRAGMENT, 1)[1]
