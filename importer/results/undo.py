"""The undo workbook: `<file>.undo-N.xlsx`, written beside a configure run's results before
the run sends its first row, rewritten at its end with only the rows it sent.

An ordinary input (a Configure sheet like the export's: drop-downs, help, Text formats, grey
reference columns), holding for each block the run changes the value each changed setting had
before: `importer run x.undo-3.xlsx` puts them back through the ordinary pipeline. What is not
known is never written (an empty cell is never sent): the hidden record says so per row, and
the run of the file marks it (reading.undone).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from importer.reading import exported
from importer.reading.undone import RECORD_HEADER, SET_HEADER, UndoRecord
from importer.report import readable_time
from importer.results import files
from importer.results.templates import Book, Column, Line, Row, write_book
from importer.spec import contract
from importer.spec.operations import CONFIGURE
from importer.text import shown

_NUMBERED = re.compile(r"(?P<stem>.*)\.results(?P<n>-\d+)?$")
ROUTING = (CONFIGURE.routing_field, *sorted({f for need in CONFIGURE.routing.values()
                                             for f in need} | {"Application"}))


def undo_path(results: Path) -> Path:
    """`x.results-3.xlsx` -> `x.undo-3.xlsx` (`x.results.xlsx` -> `x.undo.xlsx`)."""
    found = _NUMBERED.fullmatch(results.stem)
    stem, n = (found["stem"], found["n"] or "") if found else (results.stem, "")
    return results.with_name(f"{stem}.undo{n}.xlsx")


@dataclass(frozen=True)
class Change:
    """One configure row the run sends: the block's ids as the row gives them, what the row
    sets, and the block before it (None: that setting's earlier value is not known)."""

    ids: Mapping[str, str]  # the row's AccountSid / PropertySid, and its NumberBlockSid
    sets: Mapping[str, str]  # setting -> the value the run sends
    before: Mapping[str, str | None]  # setting -> its earlier value (None: it was empty)
    unknown: frozenset[str]
    reference: Mapping[str, str]  # the listing's documented fields, for a person to read


def _put_back(change: Change) -> tuple[dict[str, str], set[str], set[str], set[str]]:
    """(setting -> earlier value to send, settings not known, settings empty before, routing
    that cannot go back whole), for the settings the run changes (a setting it sends as it
    already was is not a change). A routing change goes back whole or not at all: the earlier
    method with the fields it needs."""
    known = {n: v for n, v in change.before.items() if n not in change.unknown}
    wanted = {n for n, v in change.sets.items() if n not in known or known[n] != v}
    cannot: set[str] = set()
    routing = wanted & set(ROUTING)
    if routing:
        wanted -= routing
        method = known.get(CONFIGURE.routing_field)
        needs = CONFIGURE.routing.get(method or "", ())
        if method and all(known.get(n) for n in needs):
            wanted |= {CONFIGURE.routing_field, *needs}
        elif CONFIGURE.routing_field in known and not method:
            wanted |= routing  # no routing before: each one was empty, and says so
        else:
            cannot = routing
    values = {n: v for n in wanted if (v := known.get(n))}
    unknown = {n for n in wanted if n in change.unknown}
    empty = wanted - unknown - set(values)
    return values, unknown, empty, cannot


def undo_rows(changes: list[Change]) -> list[Row]:
    """The rows of the undo workbook: one a block the run changes, even with nothing that can
    be put back (its run says why, and sends nothing)."""
    rows: list[Row] = []
    for change in changes:
        values, unknown, empty, routing = _put_back(change)
        if not (values or unknown or empty or routing):
            continue  # the run sends what the block already has: nothing to put back
        record = UndoRecord(frozenset(unknown), frozenset(empty), dict(change.sets),
                            frozenset(routing))
        row: dict[str, object] = {**change.ids, **values}
        for name, header in zip(contract.ITEM_REFERENCE, exported.REFERENCE_HEADERS,
                                strict=True):
            if change.reference.get(name):
                row[header] = change.reference[name]
        row[SET_HEADER] = "; ".join(f"{k}: {v}" for k, v in change.sets.items())
        row[RECORD_HEADER] = record.text()
        rows.append(row)
    return rows


@dataclass(frozen=True)
class About:
    """What the Instructions sheet says of the run."""

    source: str  # the input as the results call it
    results: str  # the results workbook's name
    started_at: str
    bought: int = 0  # blocks this run bought: they stay bought
    final: bool = False  # the run has ended: only the rows it sent are here


def write_undo(path: Path, changes: list[Change], about: About) -> Path:
    """Write (or, at the run's end, rewrite) the undo workbook, whole or not at all."""
    book = _book(undo_rows(changes), about)
    return files.write_file(path, lambda tmp: write_book(tmp, book), "undo workbook",
                            overwrite=True)


def _book(rows: list[Row], about: About) -> Book:
    when = readable_time(about.started_at)
    name = shown(Path(about.source).name, 80)
    intro: list[Line] = [
        (True, ("How to put these blocks back",)),
        (False, (f"For each block the run of {name} on {when} changed, the value each changed "
                 "setting had before (from the API's listing taken just before it, or what "
                 "this computer last sent to the block).",)),
        (False, (f"To put them back: `importer undo {shown(about.results, 80)}` shows what "
                 "will change and asks first; or `importer run` this file. Running it again "
                 "sends nothing new.",)),
        (False, ("A yellow note in the results says what cannot be put back: a setting whose "
                 "earlier value is not known, or one that was empty (an empty cell is never "
                 "sent, so it is not cleared).",)),
        (False, ("Grey columns (read-only) are for reference and never read; the last column, "
                 "hidden, records what cannot be put back: leave it as it is.",)),
    ]
    if about.bought:
        intro.append((False, (f"The {about.bought:,} blocks this run bought stay bought: the "
                              "API documents no way to release a block.",)))
    if not about.final:
        intro.append((True, ("Written before the run sent its first row. When the run ends, "
                             "this file is rewritten with only the rows it sent: if you read "
                             "this line, the run was stopped first, and some rows here may "
                             "not have been sent (putting them back sets the value the block "
                             "already has).",)))
    help_text = "Read-only: for reference; never read as input."
    columns = (*(Column(h, help_text) for h in exported.REFERENCE_HEADERS),
               Column(SET_HEADER, "What the run set in this row; read-only.", width=40),
               Column(RECORD_HEADER, "What cannot be put back; leave it as it is.",
                      hidden=True, width=40))
    title = f"Number Block Importer: undo of {name}"
    return Book(title, ((CONFIGURE, rows),), title, tuple(intro), columns,
                datetime.now(UTC).replace(tzinfo=None))
