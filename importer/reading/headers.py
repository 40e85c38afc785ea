"""Headers and operations: which row is the header, which column is which field, which
operation a sheet is for, and what to say when a header comes close but does not match.

The header is the row (among the first 30) naming the most known columns, so title rows above
it are fine; one known word in a title or instructions row is not a header. Which operation a
sheet is for comes from the caller, the sheet's name, or its columns; columns that belong only
to the other operation make that a clear error rather than rows quietly checked against the
wrong rules.
"""

from __future__ import annotations

import pandas as pd

from importer.errors import InputError
from importer.spec.operations import (
    OPERATIONS,
    RESULT_KEYS,
    Operation,
    header_index,
    header_key,
)
from importer.text import (
    column_letter,
    describe_invisible,
    did_you_mean,
    quoted,
    shorten,
    shown,
    visible,
)

HEADER_SEARCH_ROWS = 30
# Every operation needs NumberBlockSid and AccountSid/PropertySid, so a real header names at
# least two known columns; one known word in a title or instructions row is not a header.
MIN_HEADER_FIELDS = 2

ALL_FIELDS: dict[str, str] = {}
for _op in OPERATIONS.values():
    ALL_FIELDS.update(header_index(_op))
_ONLY = {
    name: {f.name for f in op.fields} - {f.name for o in OPERATIONS.values() if o is not op
                                         for f in o.fields}
    for name, op in OPERATIONS.items()
}
# The columns that say a sheet is for an operation: its required ones, and the routing ones.
_DEFINING = {
    name: {f.name for f in op.fields if f.required or f.name in op.routing_fields
           or f.name == op.routing_field} & _ONLY[name]
    for name, op in OPERATIONS.items()
}
_SHEET_NAMES = {"purchase": "purchase", "purchases": "purchase", "buy": "purchase",
                "configure": "configure", "configuration": "configure", "config": "configure"}


def columns(where: str, raw: pd.DataFrame, header_row: int, op: Operation,
            given: dict[int, str] | None = None
            ) -> tuple[dict[str, int], list[str], list[int]]:
    """Field name -> position; headers ignored; positions of result columns (ours). `given`
    (position -> field, '' for none) is what the person said a column is: it wins over its
    header."""
    index = header_index(op)
    given = given or {}
    columns: dict[str, int] = {}
    ignored: list[str] = []
    results: list[int] = []
    for pos, cell in raw.iloc[header_row].items():
        named = given.get(int(pos))
        if named is None and (pd.isna(cell) or not str(cell).strip()):
            continue
        key = header_key(cell)
        field_name = index.get(key) if named is None else (named or None)
        if named == "":  # the person said the column is not used (a result column is ours)
            if key in RESULT_KEYS:
                results.append(int(pos))
            elif not pd.isna(cell) and str(cell).strip():
                ignored.append(str(cell))
            continue
        if field_name is None:
            if key in RESULT_KEYS:
                results.append(int(pos))
            else:
                ignored.append(str(cell))
        elif field_name in columns:
            first = columns[field_name]
            raise InputError(
                f"{where}: columns {column_letter(first)} "
                f"({shown(shorten(str(raw.iat[header_row, first]), 30))}) and "
                f"{column_letter(int(pos))} ({shown(shorten(str(cell), 30))}) both mean "
                f"{field_name}; keep one of them")
        else:
            columns[field_name] = int(pos)
    return columns, ignored, results


def require(where: str, raw: pd.DataFrame, header_row: int, op: Operation,
             columns: dict[str, int]) -> None:
    """Every required column present, else say which, and what in the header comes close."""
    missing = [f.name for f in op.fields if f.required and f.name not in columns]
    if not any(name in columns for name in op.one_of):
        missing.append(" or ".join(op.one_of))
    if not missing:
        return
    hints = []
    for name in missing:
        for choice in name.split(" or "):
            if hint := near_header(raw.iloc[header_row], choice, set(columns.values())):
                hints.append(hint)
                break
    them = "it" if len(missing) == 1 else "them"
    hint = f"; {hints[0]}" if hints else ""  # the first near miss: one line, not a list
    raise InputError(f"{where}: no {', no '.join(missing)} column; {op.name} needs {them} "
                     f"(header row {header_row + 1}){hint}")


def _near_miss(text: str, index: dict[str, str]) -> tuple[str, str] | None:
    """(field, why) when `text` would name a field of `index` (header key -> field) but for an
    invisible character (`why` names it) or a near miss in spelling (`why` is '')."""
    cleaned = visible(text)
    key = header_key(cleaned)
    if cleaned != text and key in index:
        return index[key], describe_invisible(text).removeprefix("it ")
    near = None if key in index else did_you_mean(key, list(index))
    return (index[near], "") if near else None


def near_header(header: pd.Series, wanted: str, taken: set[int]) -> str:
    """'' or why a header cell that is not `wanted` looks like it: an invisible or look-alike
    character in it, or a near miss in spelling."""
    for pos, cell in header.items():
        if int(pos) in taken or pd.isna(cell) or not str(cell).strip():
            continue
        if found := _near_miss(str(cell), {header_key(wanted): wanted}):
            where = (f"the header of column {column_letter(int(pos))} "
                     f"({quoted(shorten(str(cell), 40))})")
            field_name, why = found
            return (f"{where} {why}; retype it as {field_name}" if why
                    else f"{where}: did you mean {field_name}?")
    return ""


def header_hint(header: str, op: Operation, taken: set[str] = frozenset()) -> str:  # type: ignore[assignment]
    """For an ignored header: '' or ' Did you mean X?', or the hidden character named that
    keeps it from matching. Fields the sheet already has are not suggested."""
    index = {k: name for k, name in header_index(op).items() if name not in taken}
    if not (found := _near_miss(header, index)):
        return ""
    field_name, why = found
    return (f" Its header {why}; retype it as {field_name} to use the column." if why
            else f" Did you mean {field_name}?")


def no_header_hint(raw: pd.DataFrame) -> str:
    """When no header is found: what in the first rows comes close to one (a hidden character
    in a header, a near miss in spelling), the first such cell named and the others counted."""
    for pos in range(min(HEADER_SEARCH_ROWS, len(raw))):
        near = [(str(cell), found) for cell in raw.iloc[pos].dropna()
                if (found := _near_miss(str(cell), ALL_FIELDS))]
        if near:
            (cell, (field_name, why)), more = near[0], len(near) - 1
            has = f"; row {pos + 1} has {quoted(shorten(cell, 40))}"
            if not why:
                return f"{has}: did you mean {field_name}?"
            also = f" and {more} more like it" if more else ""
            return (f"{has}{also}: {why.removeprefix('contains ')}; retype "
                    f"{'them' if more else 'it'}")
    return ""


def contradictions(where: str, raw: pd.DataFrame, header_row: int, op: Operation,
                    forced: bool, given: dict[int, str] | None = None) -> None:
    """A sheet holding the columns that define the other operation is not for this one:
    checking it against this operation's rules would pass rows that cannot be sent right.
    (Columns the person named are what they said.)"""
    header = raw.iloc[header_row].drop(labels=list(given or ()), errors="ignore")
    keys = {header_key(c): str(c) for c in header.dropna() if str(c).strip()}
    for other, defining in _DEFINING.items():
        if other == op.name:
            continue
        index = header_index(OPERATIONS[other])
        present = [keys[k] for k in keys if index.get(k) in _ONLY[other]]
        if not any(index.get(header_key(h)) in defining for h in present):
            continue
        why = (f"--operation {op.name} was given" if forced
               else f"the sheet's name says {op.name}")
        listed = ", ".join(shown(shorten(h, 30)) for h in present[:4]) + (
            f" and {len(present) - 4} more" if len(present) > 4 else "")
        them = f"a {other} column" if len(present) == 1 else f"{other} columns"
        it = "it" if len(present) == 1 else "them"
        if forced:
            raise InputError(f"{where}: {why}, but it has {them} ({listed}) that "
                             f"{op.name} does not use; use --operation {other}, or remove {it}")
        raise InputError(f"{where}: {why}, but it has {them} ({listed}) that {op.name} does "
                         f"not use; remove {it}, or say it is for {other}", needs="operation")


def matched(row: pd.Series, forced: Operation | None) -> dict:
    """Position -> field for each cell of `row` that names a known column (of `forced`, or
    of either operation)."""
    index = header_index(forced) if forced else ALL_FIELDS
    return {p: index[k] for p, cell in row.items()
            if isinstance(cell, str) and (k := header_key(cell)) in index}


def find_header(raw: pd.DataFrame, forced: Operation | None) -> tuple[int | None, dict]:
    best, best_row, best_matched = 0, None, {}
    for pos in range(min(HEADER_SEARCH_ROWS, len(raw))):
        found = matched(raw.iloc[pos], forced)
        if len(set(found.values())) > best:
            best, best_row, best_matched = len(set(found.values())), pos, found
    if best < MIN_HEADER_FIELDS:
        return None, {}
    return best_row, best_matched


def operation_for(where: str, sheet_name: str, fields: set[str], csv: bool = False
                  ) -> Operation:
    """The operation a sheet's name or columns say; else an error the shells add their way
    out to (a flag, a choice in the page)."""
    if (named := _SHEET_NAMES.get(header_key(sheet_name))) is not None:
        return OPERATIONS[named]
    hits = [name for name, only in _ONLY.items() if fields & only]
    if len(hits) == 1:
        return OPERATIONS[hits[0]]
    what = "file" if csv else "sheet"
    if hits:
        why = "it has columns of both"
    elif not fields:
        why = "none of its headers is a column of either"
    else:
        only = " or ".join(f"{next(f.name for f in op.fields if f.name in _DEFINING[n])} ({n})"
                           for n, op in OPERATIONS.items())
        why = (f"its columns fit both: it has no column that only one of them has, such as "
               f"{only}")
    raise InputError(f"{where}: cannot tell whether this {what} is for purchase or configure "
                     f"({why})", needs="operation")
