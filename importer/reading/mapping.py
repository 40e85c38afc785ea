"""Column mapping: what a person says a file's columns are when its headers do not say it.

When the loader cannot match a sheet's headers by itself (no header row it knows, a required
column it cannot find, columns that fit both operations), it raises `UnclearColumns`: the
plain fact, and a `Proposal` (the sheet's headers with a few values, which operations could fit,
the best guess for each column). A shell shows the proposal (the web page as a form); the
answer is a `ColumnMap` passed back to the same loader (`ReadOptions.mapping`), which applies
it where it matches headers, so every rule after that is the one every file goes through.
The guesses come from the operation specs (names, aliases, a column's kind) and the loader's
own header matching; nothing here keeps a list of columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import islice

import pandas as pd

from importer.errors import InputError
from importer.spec.operations import OPERATIONS, Operation, header_index, header_key
from importer.text import did_you_mean, shorten, visible

SAMPLE_VALUES = 3  # values shown under each header, so a person can tell the columns apart


@dataclass(frozen=True)
class ColumnMap:
    """One sheet's columns as the person named them: the header's row (as Excel numbers it),
    the operation (None: the loader decides), and column position (0 = A) -> field name
    ('' = not used). Columns not in `columns` are matched by their headers as usual."""

    header_row: int
    operation: str | None = None
    columns: dict[int, str] = field(default_factory=dict)

    def check(self, op: Operation, width: int) -> None:
        """Every named field is the operation's, every position is a column of the sheet."""
        names = {f.name for f in op.fields}
        for pos, name in self.columns.items():
            if not 0 <= pos < width:
                raise InputError(f"the sheet has no column {pos + 1}")
            if name and name not in names:
                raise InputError(f"{op.name} has no {name} column")


@dataclass
class Proposal:
    """What a shell needs to ask for a mapping: the sheet, its header row (Excel's number),
    every column (position, header, first values), the operations that could fit, and per
    operation the best guess for each column (position -> field)."""

    sheet: str
    header_row: int
    columns: list[tuple[int, str, list[str]]]
    operations: tuple[str, ...]
    guesses: dict[str, dict[int, str]]
    csv: bool = False


class UnclearColumns(InputError):
    """The loader could not tell the sheet's columns (or its operation) by itself."""

    def __init__(self, message: str, proposal: Proposal, needs: str = "") -> None:
        super().__init__(message, needs=needs or "columns")
        self.proposal = proposal


def propose(name: str, raw: pd.DataFrame, header_row: int | None,
            operations: tuple[str, ...], csv: bool,
            current: tuple[str, dict[int, str]] | None = None) -> Proposal:
    """The columns of `raw` as the person will be asked about them. Without a known header
    row: the first row with two cells filled (a header names at least two columns).
    `current` (operation, position -> field): how the sheet is read now, offered as the guess
    for that operation when the person asks to change it."""
    if header_row is None:
        filled = raw.notna().sum(axis=1)
        header_row = next((int(i) for i, n in enumerate(filled) if n >= 2), 0)
    header = raw.iloc[header_row]
    body = raw.iloc[header_row + 1:]
    columns = []
    for pos in raw.columns:
        cell = header.iat[int(pos)]
        text = "" if pd.isna(cell) else str(cell).strip()
        values = list(islice((shorten(str(v), 60) for v in body[pos].dropna()
                              if str(v).strip()), SAMPLE_VALUES))  # the first few, however long
        if text or values:
            columns.append((int(pos), text, values))
    guesses = {op: guess([(p, h) for p, h, _ in columns], OPERATIONS[op]) for op in operations}
    if current is not None:
        guesses[current[0]] = dict(current[1])
    return Proposal(name, header_row + 1, columns, operations, guesses, csv)


def guess(headers: list[tuple[int, str]], op: Operation) -> dict[int, str]:
    """Position -> the field each header most likely means, each field at most once: the
    loader's own match (names and aliases), then a near miss in spelling or an invisible
    character, then the name of the column's kind ("Phone number": the phone column), then a
    field's name inside the header ("Answer point number")."""
    index = header_index(op)
    kinds: dict[str, list[str]] = {}
    for f in op.fields:
        kinds.setdefault(header_key(f.kind.value), []).append(f.name)
    found: dict[int, str] = {}
    for step in (_exact, _near, _kind, _inside):
        for pos, text in headers:
            if pos in found or not text:
                continue
            name = step(header_key(visible(text)), index, kinds, op)
            if name and name not in found.values():
                found[pos] = name
    return found


def _exact(key: str, index: dict[str, str], kinds: dict, op: Operation) -> str | None:
    return index.get(key)


def _near(key: str, index: dict[str, str], kinds: dict, op: Operation) -> str | None:
    near = did_you_mean(key, list(index)) if len(key) >= 4 else None
    return index[near] if near else None


def _kind(key: str, index: dict[str, str], kinds: dict, op: Operation) -> str | None:
    names = kinds.get(key, [])
    return names[0] if len(names) == 1 else None


def _inside(key: str, index: dict[str, str], kinds: dict, op: Operation) -> str | None:
    hits = {name for k, name in index.items() if len(k) >= 4 and k in key}
    return hits.pop() if len(hits) == 1 else None
