"""The export's record of what it wrote, so that a run sends only the rows a person changed.

`importer export` writes a Configure sheet whose last column, hidden, holds for each row the
time of the export, which editable cells it filled, and a digest of them all. The record is a
cell of its row: it moves with the row when the sheet is sorted, survives a save by Excel,
LibreOffice or openpyxl (a plain text cell), and comes back in every results workbook (which
keeps the columns it does not use), so a results workbook of an export is read the same way.
A row without a record that reads right (typed by hand, or pasted) is an ordinary row. The
reference columns beside (the listing's documented fields) are shown read-only, never read.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import pandas as pd

from importer.report import Issue, Outcome, Severity, Status, readable_time
from importer.spec import contract
from importer.spec.operations import CONFIGURE, header_key

if TYPE_CHECKING:
    from importer.reading.loading import Sheet

RECORD_HEADER = "Export record (do not edit)"
REFERENCE_HEADERS = tuple(f"{name} (read-only)" for name in contract.ITEM_REFERENCE)
EDITABLE = tuple(f.name for f in CONFIGURE.fields)  # what the digest covers, in this order
_OURS = frozenset(header_key(h) for h in (RECORD_HEADER, *REFERENCE_HEADERS))
_RECORD_KEY = header_key(RECORD_HEADER)
_VERSION = "nbi1"
_DIGEST_CHARS = 24
_EMPTIED = "emptied"  # the issue code of a setting emptied since the export
# Emptying an id column is already an error of its own; these are the settings that stay.
_SETTINGS = tuple(n for n in EDITABLE if n not in (*CONFIGURE.one_of, CONFIGURE.unique))


@dataclass(frozen=True)
class Record:
    """One row's record: when it was exported, the cells it filled, the digest of them all."""

    exported_at: str  # ISO 8601 with offset
    filled: frozenset[str]
    digest: str

    def matches(self, values: Sequence[str | None]) -> bool:
        return digest(values) == self.digest


def digest(values: Sequence[str | None]) -> str:
    """The editable cells of a row (as the reader gives them: trimmed, empty as None)."""
    text = json.dumps(list(values), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:_DIGEST_CHARS]


def record_text(exported_at: str, values: Sequence[str | None]) -> str:
    """The record cell of a row the export writes with `values` (EDITABLE order, trimmed)."""
    mask = sum(1 << i for i, value in enumerate(values) if value is not None)
    return f"{_VERSION} {exported_at} {mask:x} {digest(values)}"


def parse(cell: object) -> Record | None:
    """A record cell as written by `record_text`; anything else (edited, pasted) is None."""
    if not isinstance(cell, str):
        return None
    parts = cell.strip().split(" ")
    if len(parts) != 4 or parts[0] != _VERSION or len(parts[3]) != _DIGEST_CHARS:
        return None
    try:
        datetime.fromisoformat(parts[1])
        mask = int(parts[2], 16)
        int(parts[3], 16)
    except ValueError:
        return None
    if not 0 <= mask < 1 << len(EDITABLE):
        return None
    filled = frozenset(name for i, name in enumerate(EDITABLE) if mask >> i & 1)
    return Record(parts[1], filled, parts[3])


def _records(sheet: Sheet, rows: Iterable[int] | None = None) -> dict[int, Record]:
    """Excel row -> its record, for the data rows (all, or `rows`) of a Configure sheet that
    carry one."""
    if sheet.operation is not CONFIGURE:
        return {}
    header = sheet.raw.iloc[sheet.header_row]
    at = next((int(p) for p, cell in header.items()
               if isinstance(cell, str) and header_key(cell) == _RECORD_KEY), None)
    if at is None:
        return {}
    cells = sheet.raw[at]
    found = {}
    for row in sheet.data.index if rows is None else rows:
        if (record := parse(cells.iat[int(row) - 1])) is not None:
            found[int(row)] = record
    return found


def _changed(sheet: Sheet, rows: Iterable[int] | None = None
             ) -> dict[int, tuple[Record, list[str | None], bool]]:
    """Excel row -> (its record, its editable cells now, whether they still match)."""
    records = _records(sheet, rows)
    if not records:
        return {}
    cells = sheet.data.loc[list(records), list(EDITABLE)]
    found = {}
    for row, now in zip(cells.index, cells.itertuples(index=False, name=None), strict=True):
        values = [None if pd.isna(v) else str(v) for v in now]
        record = records[int(row)]
        found[int(row)] = (record, values, record.matches(values))
    return found


def _emptied(record: Record, values: list[str | None]) -> list[tuple[str, str]]:
    """(column, message) for each setting the export filled that is now empty."""
    return [(name, f"{name} was emptied since the export; an empty cell is not sent, so the "
             f"block keeps its {name} on the API. Type the new value to change it.")
            for name, value in zip(EDITABLE, values, strict=True)
            if value is None and name in record.filled and name in _SETTINGS]


def note(sheet: Sheet) -> None:
    """On reading: the export's own columns are not "ignored" (they are ours, never input),
    and the settings emptied since the export are warnings (`note_emptied`)."""
    sheet.ignored[:] = [h for h in sheet.ignored if header_key(h) not in _OURS]
    note_emptied(sheet)


def note_emptied(sheet: Sheet, rows: Iterable[int] | None = None) -> None:
    """A setting the export filled that is now empty is a warning of its cell: an empty cell
    is not sent, so the API keeps the value. Judged again for `rows` (all when None) as they
    are now: on reading, and after every change in the page (checking/edits.py), so the page
    says it at the edit as `importer validate` says it of the file."""
    again = None if rows is None else set(rows)
    sheet.issues[:] = [i for i in sheet.issues
                       if i.code != _EMPTIED or (again is not None and i.row not in again)]
    for row, (record, values, same) in _changed(sheet, again).items():
        if not same:
            sheet.issues.extend(Issue(sheet.name, row, name, None, _EMPTIED, message,
                                      Severity.WARNING)
                                for name, message in _emptied(record, values))


def skip_unchanged(sheet: Sheet, outcomes: list[Outcome | None]) -> list[Outcome | None]:
    """The plan's view (outcomes in the order of sheet.data): rows whose editable cells are
    as the export wrote them are not sent, and a row with problems says so, as fixing them
    changes it."""
    rows = _changed(sheet)
    if not rows:
        return outcomes
    out = list(outcomes)
    for i, row in enumerate(sheet.data.index):
        record, _, same = rows.get(int(row), (None, [], False))
        if record is None or not same:
            continue
        also = ("" if out[i] is None else
                " It has problems (in red); fixing them changes the row, which is then sent.")
        out[i] = Outcome(Status.SKIPPED, "Not sent: unchanged since the export of "
                         f"{readable_time(record.exported_at)}.{also}", done=True)
    return out


def to_send(sheet: Sheet, invalid: frozenset[int]) -> int:
    """How many rows a run would send: neither invalid nor unchanged since the export."""
    unchanged = {row for row, (_, _, same) in _changed(sheet).items() if same}
    return len(sheet.data) - len(invalid | unchanged)
