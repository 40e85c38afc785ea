"""`importer export`: the blocks a property or account owns, as a Configure sheet to edit.

People change blocks they own far more often than they buy new ones, and typing every
NumberBlockSid from the portal is where mistakes start. The export lists the blocks (the same
complete-listing code as the purchase look-ups: every page checked, or nothing is written),
fills one row per block with its current values where the listing carries them, shows the
listing's documented fields read-only beside, and records what it wrote in each row
(`reading.exported`), so that running the edited file sends only the rows that changed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from importer import excel
from importer.errors import AbortError, ImporterError, UsageError
from importer.reading import exported
from importer.report import readable_time
from importer.results import files
from importer.results.templates import Book, Column, Line, Row, write_book
from importer.sending.client import ApiClient, item_text
from importer.sending.submit import now
from importer.spec import contract
from importer.spec.operations import CONFIGURE
from importer.text import shown

SCOPES = {"property": "PropertySid", "account": "AccountSid"}
SORTS = contract.SORTS
_SID = re.compile(contract.SID_PATTERN)
_NUMBERED = 10_000


@dataclass(frozen=True)
class Request:
    """What to export: one property's or account's blocks, filtered and sorted as asked."""

    scope: str  # "PropertySid" or "AccountSid"
    sid: str
    active: bool | None = None  # None: active and inactive
    text: str | None = None  # the API's free-text search
    sort: str = contract.ITEM_SID  # the order people look blocks up in (Id is the API's)
    descending: bool = False

    @property
    def what(self) -> str:
        kind = "property" if self.scope == "PropertySid" else "account"
        return f"{kind} {shown(self.sid)}"


@dataclass
class Exported:
    """What was written: the file, how many blocks, when, and what the user must know."""

    path: Path
    count: int
    exported_at: str
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {"path": str(self.path), "count": self.count, "exported_at": self.exported_at,
                "notes": self.notes, "exit_code": 0}


def check_request(request: Request) -> None:
    """A Sid that could not be a Sid never reaches a path (UsageError, exit 2)."""
    if request.scope not in SCOPES.values():
        raise UsageError("export the blocks of a property (--property SID) or of an account "
                         "(--account SID)")
    if not _SID.fullmatch(request.sid):
        raise UsageError(f"{request.what} is not a Sid (letters, digits, _ and - only)")
    if request.sort not in SORTS:
        raise UsageError(f"cannot sort by {shown(request.sort)}; choose one of {', '.join(SORTS)}")


def target_path(request: Request, out: Path | None, overwrite: bool, folder: Path) -> Path:
    """`out` (refused if it exists, unless `overwrite`), else `<sid>-blocks.xlsx` in `folder`,
    or the next free `-2`, `-3`...; checked writable before anything is asked of the API."""
    check_request(request)
    if out is None:
        base = folder / f"{request.sid}-blocks.xlsx"
        out = next((p for n in range(1, _NUMBERED) if not (p := base if n == 1 else
                    base.with_name(f"{request.sid}-blocks-{n}.xlsx")).exists()), None)
        if out is None:
            raise UsageError(f"{shown(folder)}: {_NUMBERED} exports of {shown(request.sid)} "
                             "already; clear some out or choose -o")
    elif out.is_dir():
        raise UsageError(f"{shown(out)} is a folder; give the export a file name")
    elif out.suffix.lower() != ".xlsx":
        raise UsageError(f"{shown(out)}: the export is an Excel workbook; name it .xlsx")
    elif out.exists() and not overwrite:
        raise UsageError(f"{shown(out)} already exists and was not replaced; choose another "
                         "name, or allow replacing it (--overwrite)")
    if not out.parent.is_dir():
        raise UsageError(f"{shown(out)}: the folder {shown(out.parent)} does not exist")
    files.probe(out.parent, "export")
    return out


def export_blocks(client: ApiClient, request: Request, target: Path, *,
                  overwrite: bool = False) -> Exported:
    """List every block (complete, or an ImporterError and nothing written), write the export."""
    check_request(request)
    items: list[dict] = []
    query: dict[str, object] = {}
    if request.active is not None:
        query[contract.LIST_FILTERS[0]] = "true" if request.active else "false"
    if request.text:
        query[contract.SEARCH_TEXT] = request.text
    listing = client.owned(request.scope, request.sid, query=query, keep=items)
    if not listing.complete:
        raise _listing_failed(request, listing.reason, listing.reply)
    if len(items) >= excel.ROWS:
        raise UsageError(f"{request.what} owns {len(items):,} blocks, more than an Excel sheet "
                         "holds; nothing was written", needs="fewer")
    exported_at = now()
    rows, settings = _rows(_sorted(items, request), request, exported_at)
    notes = [] if settings or not rows else [
        "The listing gave no routing, recording or tag settings for these blocks, so those "
        "cells are empty: "
        "fill in only what should change (an empty cell is never sent)."]
    book = _book(request, rows, exported_at, notes)
    written = files.write_file(target, lambda tmp: write_book(tmp, book), "export",
                               overwrite=overwrite)
    return Exported(written, len(rows), exported_at, notes)


def _listing_failed(request: Request, reason: str, reply: Any) -> ImporterError:
    """401: the credentials (exit 3); another refusal: the Sid named (exit 2); anything else:
    the listing could not be believed (exit 3). Nothing is written in any case."""
    if reply is not None and reply.unauthorized:
        return AbortError(f"the API refused the credentials (401: {reply.message.rstrip('. ')})"
                          "; check the AccountSid and auth token; nothing was written")
    if reply is not None and reply.refused:
        code = f" {reply.error_code}" if reply.error_code else ""
        return UsageError(f"the API would not list the blocks of {request.what} "
                          f"({reply.status}{code}: {reply.message.rstrip('. ')}); check the "
                          f"{request.scope}; nothing was written")
    return AbortError(f"the blocks of {request.what} could not be listed completely "
                      f"({reason}); nothing was written")


def _sorted(items: list[dict], request: Request) -> list[dict]:
    """In the order asked (the listing itself is taken in Id order: completeness needs it);
    blocks without the value go last either way."""
    def key(item: dict) -> Any:
        value = item.get(request.sort)
        return value if request.sort == contract.ITEM_ID else str(value).casefold()

    present = [i for i in items if _usable(i.get(request.sort))]
    missing = [i for i in items if not _usable(i.get(request.sort))]
    return sorted(present, key=key, reverse=request.descending) + missing


def _usable(value: object) -> bool:
    return (isinstance(value, str) and bool(value.strip())) or (
        isinstance(value, int) and not isinstance(value, bool))


def _rows(items: list[dict], request: Request, exported_at: str
          ) -> tuple[list[Row], bool]:
    """One row per block, with its record; and whether any item carried a setting."""
    rows: list[Row] = []
    settings = False
    for item in items:
        values: dict[str, str | None] = {name: None for name in exported.EDITABLE}
        values[request.scope] = request.sid
        values[CONFIGURE.unique] = item_text(item.get(contract.ITEM_SID))
        for name in contract.ITEM_SETTINGS:
            if name in values and (text := item_text(item.get(name))) is not None:
                values[name] = text
                settings = True
        row: dict[str, object] = {k: v for k, v in values.items() if v is not None}
        for name, header in zip(contract.ITEM_REFERENCE, exported.REFERENCE_HEADERS,
                                strict=True):
            if (text := item_text(item.get(name))) is not None:
                row[header] = text
        row[exported.RECORD_HEADER] = exported.record_text(
            exported_at, [values[n] for n in exported.EDITABLE])
        rows.append(row)
    return rows, settings


def _book(request: Request, rows: list[Row], exported_at: str, notes: list[str]) -> Book:
    when = readable_time(exported_at)
    asked = [f"{'active' if request.active else 'inactive'} blocks only"
             if request.active is not None else "",
             f"matching {shown(request.text)}" if request.text else ""]
    which = "; ".join(a for a in asked if a)
    intro: tuple[Line, ...] = (
        (True, ("How to use this export",)),
        (False, (f"The {len(rows):,} blocks {request.what} owned on {when}"
                 f"{f' ({which})' if which else ''}, one row each, with their current values "
                 "where the API's listing gives them.",)),
        (False, ("1. Change the cells that should change (routing, recording, tags). Leave "
                 "the other rows as they are.",)),
        (False, ("2. Run `importer validate FILE`, then `importer run FILE`: only the rows you "
                 "changed are sent; the others are SKIPPED, unchanged since the export.",)),
        (False, ("An emptied cell is not sent, so it does not clear the value on the API; the "
                 "results workbook marks it (yellow).",)),
        (False, ("Grey columns (read-only) are the listing's own fields, for reference: they "
                 "are never read. The last column, hidden, records what the export wrote: "
                 "leave it as it is.",)),
        (False, ("Rows you add by hand are checked and sent as usual. Fix failed rows in the "
                 "results workbook and run that: nothing is sent twice.",)),
        *((False, (note,)) for note in notes),
    )
    help_text = "Read-only: the API's listing, for reference; never read as input."
    columns = (*(Column(h, help_text) for h in exported.REFERENCE_HEADERS),
               Column(exported.RECORD_HEADER, "What the export wrote in this row; leave it "
                      "as it is.", hidden=True, width=40))
    title = f"Number Block Importer: export of {request.what}"
    created = datetime.now(UTC).replace(tzinfo=None)
    return Book(title, ((CONFIGURE, rows),), title, intro, columns, created)
