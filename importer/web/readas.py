"""How the person says to read an upload where the guess was wrong ("Change how the file is
read" in the page): the CLI's --encoding, --delimiter, --sheet and --header-row, checked as
the CLI checks them and kept beside the upload, so every later read of it reads it so."""

from __future__ import annotations

import codecs
import json
from dataclasses import dataclass
from pathlib import Path

from importer import excel
from importer.text import delimiter_named, shown

READING_FILE = "reading.json"  # beside the upload it is for


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

    def saved(self) -> dict:
        return {**self.options(), "sheets": list(self.sheets)}

    @classmethod
    def kept(cls, path: Path) -> Reading | None:
        """What `saved` wrote beside an upload (None when there is none or it is unreadable)."""
        try:
            return cls.given(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, AttributeError):
            return None
