"""Changing cells of a checked sheet (results/edited.py writes it back out).

The web page's fixes in place go through here: the cell changes in the raw cells (what is
written back) and in the field text (what is checked and sent), exactly as loading would have
read it, and only the rows the change can affect are checked again (the row itself, and the rows
sharing the old or new block, whose duplicate status may flip).
"""

from __future__ import annotations

import pandas as pd

from importer.checking.schemas import Checked, check_rows
from importer.reading import exported
from importer.spec import contract


def set_cell(checked: Checked, row: int, position: int, value: str | None,
             allowed_prefixes: tuple[str, ...] = ()) -> tuple[Checked, str | None, list[int]]:
    """Put `value` in (Excel row, column position); return the re-checked sheet, the value it
    replaced, and the Excel rows whose issues were checked again."""
    checked, befores, changed = set_cells(checked, [(row, position, value)], allowed_prefixes)
    return checked, befores[0], changed


def set_cells(checked: Checked, changes: list[tuple[int, int, str | None]],
              allowed_prefixes: tuple[str, ...] = ()) -> tuple[Checked, list[str | None],
                                                              list[int]]:
    """Put values in (Excel row, column position, value): one typed cell, a paste, a fill down,
    a find and replace. Every affected row is re-checked in one pass, column by column, so
    thousands of cells take well under a second. Returns the re-checked sheet, the value each
    change replaced (in order), and the rows checked again. Every row is looked up before
    anything changes, so a bad one changes nothing; a cell named twice keeps the later value.
    What the reader noted about a cell (a quote never closed, a formula never saved, a value
    cut) is about the value it read: a cell changed is rid of it."""
    sheet = checked.sheet
    missing = [row for row, _, _ in changes if row not in sheet.data.index]
    if missing:
        raise KeyError(missing[0])
    fields = {pos: name for name, pos in sheet.columns.items()}
    befores: list[str | None] = []
    for row, position, _ in changes:
        before = sheet.raw.iat[row - 1, position]
        befores.append(None if pd.isna(before) else str(before))
    by_column: dict[int, dict[int, str | None]] = {}
    for row, position, value in changes:
        by_column.setdefault(position, {})[row] = value if value else None
    rows: set[int] = set()
    keys: set[str] = set()
    for position, values in by_column.items():
        at = list(values)
        old = sheet.raw.iloc[[r - 1 for r in at], position]
        sheet.raw.iloc[[r - 1 for r in at], position] = pd.Series(
            list(values.values()), index=old.index, dtype=sheet.raw.dtypes.iloc[position])
        rows |= set(at)
        field = fields.get(position)
        if field is None:
            continue
        trimmed = [v.strip() or None if v is not None else None for v in values.values()]
        if field == sheet.operation.unique:
            keys |= {contract.sid_key(v) for v in [*old.dropna().astype(str), *trimmed] if v}
        sheet.data.loc[at, field] = pd.Series(trimmed, index=at,
                                              dtype=sheet.data.dtypes[field])
    names = {position: sheet.column_name(position) for position in by_column}
    changed_cells = {(row, names[position])
                     for (row, position, value), before in zip(changes, befores, strict=True)
                     if (value or None) != before}
    if changed_cells:
        sheet.issues[:] = [i for i in sheet.issues if (i.row, i.column) not in changed_cells]
    if keys:
        rows |= set(checked.keys.index[checked.keys.isin(keys)].tolist())
    changed = sorted(rows)
    exported.note_emptied(sheet, changed)  # as reading says it: a setting emptied since the export
    return check_rows(checked, changed, allowed_prefixes), befores, changed
