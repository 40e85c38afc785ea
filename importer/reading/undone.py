"""The undo workbook's record: what a rollback row cannot put back, and what the run set.

A configure run writes `<file>.undo-N.xlsx` (results.undo), a Configure sheet of the blocks'
earlier settings. It is an ordinary input; only its last column, hidden, says for each row
which settings the run changed whose earlier value is not known, which were empty before (an
empty cell is never sent, so neither can be put back), and what the run set them to. Read
back, each of those is a warning on its cell (yellow in the results), so nobody believes a
value was put back, or a field cleared, that was not.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from importer.report import Issue, Severity
from importer.spec.operations import CONFIGURE, header_key

if TYPE_CHECKING:
    from importer.reading.loading import Sheet

RECORD_HEADER = "Undo record (do not edit)"
SET_HEADER = "This run set (read-only)"
OURS = frozenset(header_key(h) for h in (RECORD_HEADER, SET_HEADER))
_VERSION = "nbu1"
_SETTINGS = tuple(f.name for f in CONFIGURE.fields
                  if f.name not in (*CONFIGURE.one_of, CONFIGURE.unique))


@dataclass(frozen=True)
class UndoRecord:
    """One rollback row: settings not known before the run, those empty before it, and what
    the run set each setting it changed to (for "changed since this run")."""

    unknown: frozenset[str]
    empty: frozenset[str]
    run_set: dict[str, str]
    routing: frozenset[str] = frozenset()  # routing the earlier method cannot have whole

    def text(self) -> str:
        run_set = json.dumps(self.run_set, sort_keys=True, ensure_ascii=False,
                             separators=(",", ":"))
        return " ".join((_VERSION, _mask(self.unknown), _mask(self.empty),
                         _mask(self.routing), run_set))


def _mask(names: frozenset[str]) -> str:
    return f"{sum(1 << i for i, n in enumerate(_SETTINGS) if n in names):x}"


def _names(mask: str) -> frozenset[str]:
    bits = int(mask, 16)
    if not 0 <= bits < 1 << len(_SETTINGS):
        raise ValueError(mask)
    return frozenset(n for i, n in enumerate(_SETTINGS) if bits >> i & 1)


def parse(cell: object) -> UndoRecord | None:
    """A record cell as `UndoRecord.text` wrote it; anything else (edited, pasted) is None."""
    if not isinstance(cell, str):
        return None
    parts = cell.strip().split(" ", 4)
    if len(parts) != 5 or parts[0] != _VERSION:
        return None
    try:
        run_set = json.loads(parts[4])
        record = UndoRecord(_names(parts[1]), _names(parts[2]), run_set, _names(parts[3]))
    except ValueError:
        return None
    if not isinstance(run_set, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in run_set.items()):
        return None
    return record


def unknown_message(name: str) -> str:
    return f"{name}: its value before this run is not known; left as it is."


def routing_message(name: str) -> str:
    return (f"{name}: the routing before this run cannot be put back whole (its method or a "
            "field the method needs is not known); left as it is.")


def empty_message(name: str, now: str | None) -> str:
    was = f" ({now})" if now else ""
    return (f"{name} was empty before this run; an empty cell is not sent, so the block keeps "
            f"this run's value{was}. Clear it in the portal if it should be empty.")


def records(sheet: Sheet) -> dict[int, UndoRecord]:
    """Excel row -> its undo record, for the rows of a Configure sheet that carry one."""
    if sheet.operation is not CONFIGURE:
        return {}
    header = sheet.raw.iloc[sheet.header_row]
    at = next((int(p) for p, cell in header.items()
               if isinstance(cell, str) and header_key(cell) == header_key(RECORD_HEADER)), None)
    if at is None:
        return {}
    cells = sheet.raw[at]
    return {int(row): found for row in sheet.data.index
            if (found := parse(cells.iat[int(row) - 1])) is not None}


def nothing_to_send(sheet: Sheet) -> set[int]:
    """Excel rows of an undo workbook with no setting to put back (every one the run changed
    was empty or not known before it): not sent, their notes say why."""
    found = records(sheet)
    if not found:
        return set()
    cells = sheet.data.loc[list(found), list(_SETTINGS)]
    return {int(row) for row, values in zip(cells.index, cells.itertuples(index=False),
                                            strict=True) if all(pd.isna(v) for v in values)}


NOTHING = ("Not sent: nothing to put back; every setting this run changed was empty or not "
           "known before it (see the notes).")


def note(sheet: Sheet) -> None:
    """On reading: the undo workbook's own columns are not "ignored", and each setting a row
    cannot put back is a warning on its cell."""
    sheet.ignored[:] = [h for h in sheet.ignored if header_key(h) not in OURS]
    for row, record in records(sheet).items():
        sheet.issues.extend(Issue(sheet.name, row, name, None, "unknown_before",
                                  unknown_message(name), Severity.WARNING)
                            for name in _SETTINGS if name in record.unknown)
        sheet.issues.extend(Issue(sheet.name, row, name, None, "routing_before",
                                  routing_message(name), Severity.WARNING)
                            for name in _SETTINGS if name in record.routing)
        sheet.issues.extend(Issue(sheet.name, row, name, None, "empty_before",
                                  empty_message(name, record.run_set.get(name)),
                                  Severity.WARNING)
                            for name in _SETTINGS if name in record.empty)
