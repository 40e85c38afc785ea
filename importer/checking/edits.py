"""Changing a checked sheet one cell at a time (results/edited.py writes it back out).

The web page's fixes in place go through here: the cell changes in the raw cells (what is
written back) and in the field text (what is checked and sent), exactly as loading would have
read it, and only the rows the change can affect are checked again (the row itself, and the rows
sharing the old or new block, whose duplicate status may flip).
"""

from __future__ import annotations

import pandas as pd

from importer.checking.schemas import Checked, check_rows
from importer.spec import contract


def set_cell(checked: Checked, row: int, position: int, value: str | None,
             allowed_prefixes: tuple[str, ...] = ()) -> tuple[Checked, str | None, list[int]]:
    """Put `value` in (Excel row, column position); return the re-checked sheet, the value it
    replaced, and the Excel rows whose issues were checked again."""
    sheet = checked.sheet
    if row not in sheet.data.index:
        raise KeyError(row)
    before = sheet.raw.iat[row - 1, position]
    before = None if pd.isna(before) else str(before)
    text = value if value else None
    sheet.raw.iat[row - 1, position] = text
    field = next((name for name, pos in sheet.columns.items() if pos == position), None)
    rows = {row}
    if field is not None:
        trimmed = text.strip() if text is not None else None
        if field == sheet.operation.unique:  # checked.keys: the column as compared
            keys = {contract.sid_key(v) for v in (before, trimmed) if v}
            rows |= set(checked.keys.index[checked.keys.isin(keys)].tolist())
        sheet.data.at[row, field] = trimmed or None
    changed = sorted(rows)
    return check_rows(checked, changed, allowed_prefixes), before, changed
