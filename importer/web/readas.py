"""How the person said to read an upload, kept beside it so every later read of it reads it
so: where the guess was wrong ("Change how the file is read"), the CLI's --encoding,
--delimiter, --sheet and --header-row, checked as the CLI checks them; and which column is
which ("Which column is which?"), also offered to later uploads of the rollout."""

from __future__ import annotations

import codecs
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from importer import excel
from importer.checking.schemas import Checked
from importer.pipeline import Prepared
from importer.reading.loading import Sheet
from importer.reading.mapping import ColumnMap, Proposal
from importer.results import files
from importer.text import column_letter, delimiter_named, shown

READING_FILE = "reading.json"  # beside the upload it is for
MAPPING_FILE = "columns.json"  # the person's column mapping, beside the upload it is for


@dataclass(frozen=True)
class Reading:
    """How the person said to read a file, where the guess was wrong: what `importer run`
    takes as --encoding, --delimiter, --sheet and --header-row (None, (): guessed)."""

    encoding: str | None = None
    delimiter: str | None = None
    sheets: tuple[str, ...] = ()
    header_row: int | None = None

    @classmethod
    def given(cls, body: dict) -> Reading:
        """From the page's form (ValueError with a plain line for what cannot be)."""
        encoding = str(body.get("encoding") or "").strip() or None
        if encoding is not None:
            try:
                codecs.lookup(encoding)
            except LookupError:
                raise ValueError(f"{shown(encoding)} is not an encoding this tool knows (e.g. "
                                 "utf-8, cp1252, utf-16, mac_roman)") from None
        delimiter = str(body.get("delimiter") or "") or None
        sheets = body.get("sheets") or []
        if not isinstance(sheets, list) or not all(isinstance(n, str) for n in sheets):
            raise ValueError("Give the sheets to read by name.")
        row = body.get("header_row")
        if row in ("", None):
            row = None
        elif not isinstance(row, int) or isinstance(row, bool) or not 1 <= row <= excel.ROWS:
            raise ValueError(f"The header row is a row number, 1 to {excel.ROWS:,}.")
        return cls(encoding, delimiter_named(delimiter) if delimiter else None,
                   tuple(dict.fromkeys(n for n in sheets if n)), row)

    def options(self) -> dict:
        return {"encoding": self.encoding, "delimiter": self.delimiter, "sheets": self.sheets,
                "header_row": self.header_row}

    @classmethod
    def kept(cls, path: Path) -> Reading | None:
        """What `options` wrote beside an upload (None when there is none or it is unreadable)."""
        try:
            return cls.given(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, AttributeError):
            return None


def save_mapping(path: Path, mapping: dict[str, ColumnMap], prepared: Prepared) -> None:
    """The person's mapping, with the header each field was read from (so a later file of
    the rollout with those headers can be read the same way), written whole or not at all."""
    headers = {c.sheet.name: {str(c.sheet.raw.iat[c.sheet.header_row, pos]): f
                              for f, pos in c.sheet.columns.items()} for c in prepared.checked}
    text = json.dumps({s: {"header_row": m.header_row, "operation": m.operation,
                           "columns": {str(p): f for p, f in m.columns.items()},
                           "by_header": headers.get(s, {})} for s, m in mapping.items()})
    files.write_atomically(path, lambda tmp: tmp.write_text(text, encoding="utf-8"),
                           overwrite=True)


def _saved(path: Path) -> dict[str, dict]:
    """Sheet name -> what `save_mapping` wrote (nothing when missing or unreadable)."""
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(s): m for s, m in saved.items() if isinstance(m, dict)} \
        if isinstance(saved, dict) else {}


def saved_mapping(path: Path) -> dict[str, ColumnMap]:
    """The mapping an upload was read with (none when the file is missing or unreadable)."""
    try:
        return {s: ColumnMap(int(m["header_row"]), m["operation"] or None,
                             {int(p): str(f) for p, f in m["columns"].items()})
                for s, m in _saved(path).items()}
    except (ValueError, KeyError, TypeError, AttributeError):
        return {}


def remembered(folder: Path, proposal: Proposal) -> ColumnMap | None:
    """The newest mapping an earlier upload of the rollout was read with whose headers this
    sheet has (by header, not position: a results workbook moves the columns after its
    identifying ones), for the sheet's own columns; None when no earlier one fits."""
    saved = sorted(folder.glob(f"uploads/*/{MAPPING_FILE}"), key=lambda p: -p.stat().st_mtime)
    headers = {pos: header for pos, header, _ in proposal.columns}
    for path in saved:
        for kept in _saved(path).values():
            by_header, operation = kept.get("by_header"), kept.get("operation")
            if (isinstance(by_header, dict) and operation in proposal.operations
                    and set(by_header) <= set(headers.values())):
                return ColumnMap(proposal.header_row, operation,
                                 {pos: str(by_header.get(h, "")) for pos, h in headers.items()})
    return None


def reading_of(checked: list[Checked]) -> dict:
    """How the file was read (format, encoding, delimiter: given or guessed) and what became
    of each of its sheets: what "Change how the file is read" starts from."""
    if not checked:
        return {"how": [], "sheets": []}
    file = checked[0].sheet.file
    return {"how": [[what, how, given] for what, how, given in file.options],
            "sheets": [[name, what] for name, what, _ in file.sheets],
            "header_row": checked[0].sheet.header_row + 1}


def columns_of(sheet: Sheet, positions: list[int]) -> list[dict]:
    """The sheet's columns as the grid shows them: the file's header (its letter where it has
    none), the field each is read as, and the values a drop-down offers (the spec's)."""
    found = []
    for pos in positions:
        name = next((n for n, p in sheet.columns.items() if p == pos), None)
        header = sheet.raw.iat[sheet.header_row, pos]
        found.append({"field": f"c{pos}", "name": name,
                      "title": column_letter(pos) if pd.isna(header) or not str(header).strip()
                      else str(header),
                      "allowed": list(sheet.operation.field(name).allowed) if name else []})
    return found
