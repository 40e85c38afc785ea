"""Files -> text DataFrames: every cell as the sheet holds it, Excel row numbers kept.

Spreadsheets are read with pandas' calamine engine as text (formula cells give their cached
value); CSV files have their encoding (UTF-8 with or without BOM, UTF-16, cp1252) and delimiter
(comma, semicolon, tab, pipe; Excel's `sep=` line) detected. The header is the row (among the
first few) naming the most known columns, so title rows above it are fine; a sheet whose best
row names fewer than two (an instructions or summary sheet) has no header. Hidden sheets are
read only when named. Which operation a sheet is for comes from `--operation`, the sheet's
name, or its columns.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from python_calamine import CalamineWorkbook, SheetVisibleEnum

from importer.errors import InputError
from importer.operations import (
    OPERATIONS,
    RESULT_KEYS,
    Operation,
    header_index,
    header_key,
)

SPREADSHEET_SUFFIXES = {".xlsx", ".xlsm", ".xlsb", ".xls", ".ods"}
TEXT_SUFFIXES = {".csv", ".txt", ".tsv"}
HEADER_SEARCH_ROWS = 30
# Every operation needs NumberBlockSid and AccountSid/PropertySid, so a real header names at
# least two known columns; one known word in a title or instructions row is not a header.
MIN_HEADER_FIELDS = 2
DELIMITERS = (",", ";", "\t", "|")
_ZIP, _CFB = b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_READ = {"dtype": str, "keep_default_na": False, "na_values": [""], "header": None}

_ALL_FIELDS: dict[str, str] = {}
for _op in OPERATIONS.values():
    _ALL_FIELDS.update(header_index(_op))
_ONLY = {
    name: {f.name for f in op.fields} - {f.name for o in OPERATIONS.values() if o is not op
                                         for f in o.fields}
    for name, op in OPERATIONS.items()
}


@dataclass
class Sheet:
    """One input sheet: the raw cells for writing back, the typed-up text for checking."""

    name: str
    operation: Operation
    raw: pd.DataFrame  # every cell as read, positional columns, all rows from row 1
    header_row: int  # position in raw (0-based); Excel row = position + 1
    data: pd.DataFrame  # one column per field of the operation, trimmed text; index = Excel row
    columns: dict[str, int]  # field name -> position in raw
    ignored: list[str] = field(default_factory=list)  # headers that are neither fields nor ours
    result_columns: list[int] = field(default_factory=list)  # status columns of a results file

    def header(self, name: str) -> str:
        """The column's header as the user wrote it (the field name when the sheet lacks it)."""
        pos = self.columns.get(name)
        return name if pos is None else str(self.raw.iat[self.header_row, pos])


def column_letter(pos: int) -> str:
    """0 -> A, 26 -> AA: how Excel users name a column."""
    letters = ""
    pos += 1
    while pos:
        pos, rem = divmod(pos - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def load(path: Path, operation: str | None = None, sheets: tuple[str, ...] = ()) -> list[Sheet]:
    """Read every usable sheet of `path`; raise InputError (one clear line) when none is usable."""
    if not path.exists():
        raise InputError(f"{path}: file not found")
    if path.is_dir():
        raise InputError(f"{path}: is a folder, not a spreadsheet")
    frames, hidden = _read(path, sheets)
    forced = OPERATIONS[operation] if operation else None
    only = bool(sheets) or (len(frames) == 1 and not hidden)
    loaded = [s for name, raw in frames.items()
              if (s := _sheet(path, name, raw, forced, required=only))]
    if not loaded:
        if not frames:
            raise InputError(f"{path}: every sheet is hidden ({', '.join(map(repr, hidden))}); "
                             "name the one to read with --sheet")
        what = ("every sheet is empty" if all(_trim(raw).empty for raw in frames.values())
                else "no sheet has a header row naming known columns (e.g. NumberBlockSid, "
                "AccountSid, AnswerPoint, RoutingMethod)")
        more = (f"; hidden sheets ({', '.join(map(repr, hidden))}) are read only when named "
                "with --sheet" if hidden else "")
        raise InputError(f"{path}: {what}{more}")
    if not any(len(s.data) for s in loaded):
        names = ", ".join(repr(s.name) for s in loaded)
        what = "sheet {} has a header" if len(loaded) == 1 else "sheets {} have headers"
        raise InputError(f"{path}: {what.format(names)} but no data rows")
    # Purchases run first so configure rows can rely on blocks bought in the same run.
    return sorted(loaded, key=lambda s: s.operation.name != "purchase")


def _read(path: Path, wanted: tuple[str, ...]) -> tuple[dict[str, pd.DataFrame], list[str]]:
    """The raw sheets to look at, and the names of hidden sheets left out."""
    with path.open("rb") as f:
        head = f.read(65536)
    if not head:
        raise InputError(f"{path}: the file is empty")
    suffix = path.suffix.lower()
    if head.startswith(_CFB) and "EncryptedPackage".encode("utf-16-le") in head:
        raise InputError(f"{path}: the workbook is password-protected; save a copy without a "
                         "password and use that")
    if suffix in SPREADSHEET_SUFFIXES or head.startswith((_ZIP, _CFB)):
        return _read_workbook(path, wanted)
    if suffix in TEXT_SUFFIXES or suffix == "":
        utf16_bom = head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
        if b"\x00" in head and not utf16_bom and not _looks_utf16(head):
            raise InputError(f"{path}: not a spreadsheet or CSV file (binary content)")
        return {_csv_sheet_name(path): _read_csv(path)}, []
    raise InputError(f"{path}: not a spreadsheet ({suffix or 'no extension'}); use .csv, .xlsx, "
                     ".xls or .ods")


def _read_workbook(path: Path, wanted: tuple[str, ...]) -> tuple[dict[str, pd.DataFrame],
                                                                 list[str]]:
    try:
        meta = CalamineWorkbook.from_path(str(path)).sheets_metadata
    except Exception as exc:  # calamine raises its own error types for damaged files
        raise InputError(f"{path}: cannot be read as a spreadsheet ({exc})") from exc
    names = [m.name for m in meta]
    hidden: list[str] = []
    if wanted:
        missing = [w for w in wanted if w not in names]
        if missing:
            raise InputError(f"{path}: no sheet named {', '.join(map(repr, missing))} "
                             f"(sheets: {', '.join(map(repr, names))})")
        names = list(wanted)
    else:
        names = [m.name for m in meta if m.visible == SheetVisibleEnum.Visible]
        hidden = [m.name for m in meta if m.visible != SheetVisibleEnum.Visible]
    if not names:
        return {}, hidden
    try:
        frames = pd.read_excel(path, sheet_name=names, engine="calamine", **_READ)
    except Exception as exc:
        raise InputError(f"{path}: cannot be read as a spreadsheet ({exc})") from exc
    return frames, hidden


def _looks_utf16(head: bytes) -> bool:
    return head[1::2].count(0) > len(head) // 4 or head[0::2].count(0) > len(head) // 4


# A UTF-8 encoded accented letter or symbol (é is C3 A9, € is E2 82 AC): in a cp1252 file
# these pairs are mojibake like "Ã©" and practically never occur.
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}")


def _not_utf8(path: Path, data: bytes, offset: int, exc: UnicodeDecodeError, why: str
              ) -> InputError:
    at = exc.start + offset
    line = data[:at].count(b"\n") + 1
    return InputError(f"{path}: {why} but line {line} is not UTF-8 (byte 0x{data[at]:02X}); "
                      "save it again as CSV UTF-8")


def _decode(path: Path, data: bytes) -> str:
    """UTF-8 (BOM or not), UTF-16 (BOM or not), else Windows' cp1252 as Excel's plain CSV.

    A file that is UTF-8 in part (a BOM, or UTF-8 encoded letters) and something else in
    another part is an error: any guess would silently change some values.
    """
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[3:].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _not_utf8(path, data, 3, exc, "starts with a UTF-8 marker") from exc
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    if b"\x00" in data[:4096] and _looks_utf16(data[:4096]):
        return data.decode("utf-16-le" if data[1:2] == b"\x00" else "utf-16-be")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if _UTF8_SEQUENCE.search(data):
            raise _not_utf8(path, data, 0, exc, "has UTF-8 text") from exc
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            return data.decode("latin-1")


_SEP_LINE = re.compile(r"\A\"?sep=(.)\"?[,;\t|]*\r?\n", re.IGNORECASE)


def _delimiter(text: str) -> str:
    """The candidate that splits the most lines into the same number (>1) of fields.

    Parsed quote-aware, so a delimiter inside quoted text does not count, and judged by
    consistency, so the bare commas in a European semicolon file's text do not win.
    """
    sample = "\n".join(line for line in text.splitlines()[:50] if line.strip())
    best, best_score = ",", (0, 0)
    for d in DELIMITERS:
        counts: dict[int, int] = {}
        for row in csv.reader(io.StringIO(sample), delimiter=d):
            if len(row) > 1:
                counts[len(row)] = counts.get(len(row), 0) + 1
        score = max(((n, w) for w, n in counts.items()), default=(0, 0))
        if score > best_score:
            best, best_score = d, score
    return best


def _read_csv(path: Path) -> pd.DataFrame:
    text = _decode(path, path.read_bytes())
    if hint := _SEP_LINE.match(text):  # Excel's "sep=;" first line: not shown, not a row
        sep, text = hint.group(1), text[hint.end():]
    else:
        sep = _delimiter(text)
    try:
        return pd.read_csv(io.StringIO(text), sep=sep, skip_blank_lines=False, **_READ)
    except (pd.errors.ParserError, ValueError):
        # Ragged rows (a short title line above a wide header): give every row the full width.
        width = max((len(r) for r in csv.reader(io.StringIO(text), delimiter=sep)), default=1)
        try:
            return pd.read_csv(io.StringIO(text), sep=sep, skip_blank_lines=False,
                               names=range(width), **_READ)
        except (pd.errors.ParserError, ValueError) as exc:
            raise InputError(f"{path}: cannot be read as CSV ({exc})") from exc
    except pd.errors.EmptyDataError as exc:
        raise InputError(f"{path}: the file is empty") from exc


def _csv_sheet_name(path: Path) -> str:
    return re.sub(r"[\[\]:*?/\\]", "_", path.stem)[:31] or "Sheet1"


def _sheet(path: Path, name: str, raw: pd.DataFrame, forced: Operation | None,
           required: bool) -> Sheet | None:
    where = f"{path}, sheet {name!r}"
    raw = _trim(raw)
    if raw.empty:
        if required:
            raise InputError(f"{where}: the sheet is empty")
        return None
    header_row, matched = _find_header(raw, forced)
    if header_row is None:
        if required:
            raise InputError(f"{where}: no header row naming known columns found in the first "
                             f"{HEADER_SEARCH_ROWS} rows (e.g. NumberBlockSid, AnswerPoint)")
        return None
    op = forced or _operation_for(where, name, set(matched.values()))
    index = header_index(op)
    columns: dict[str, int] = {}
    ignored: list[str] = []
    results: list[int] = []
    for pos, cell in raw.iloc[header_row].items():
        if pd.isna(cell) or not str(cell).strip():
            continue
        key = header_key(cell)
        field_name = index.get(key)
        if field_name is None:
            (results if key in RESULT_KEYS else ignored).append(pos if key in RESULT_KEYS
                                                                else str(cell))
        elif field_name in columns:
            first = columns[field_name]
            raise InputError(
                f"{where}: columns {column_letter(first)} ({raw.iat[header_row, first]}) and "
                f"{column_letter(pos)} ({cell}) both mean {field_name}; keep one of them")
        else:
            columns[field_name] = int(pos)
    missing = [f.name for f in op.fields if f.required and f.name not in columns]
    if not any(name in columns for name in op.one_of):
        missing.append(" or ".join(op.one_of))
    if missing:
        raise InputError(f"{where}: no {', no '.join(missing)} column; {op.name} needs "
                         f"{'it' if len(missing) == 1 else 'them'} (header row "
                         f"{header_row + 1})")
    body = raw.iloc[header_row + 1:]
    rows = pd.RangeIndex(header_row + 2, len(raw) + 1)
    cells = {}
    for f in op.fields:
        if f.name in columns:
            text = body[columns[f.name]].str.strip()
            cells[f.name] = text.mask(text == "").set_axis(rows)
        else:
            cells[f.name] = pd.Series(None, index=rows, dtype="str")
    data = pd.DataFrame(cells, index=rows)
    data = data[data.notna().any(axis=1)]
    data.index.name = "row"
    return Sheet(name, op, raw, header_row, data, columns, ignored, results)


def _blank(cells: pd.Series) -> bool:
    present = cells.dropna()
    return bool(present.astype("str").str.strip().eq("").all())


def _trim(raw: pd.DataFrame) -> pd.DataFrame:
    """Drop trailing empty rows and columns (blank or spaces only: spreadsheets keep formatted
    or cleared cells in the used range); keep inner ones so positions match the sheet."""
    filled = raw.notna()
    rows = filled.any(axis=1).to_numpy().nonzero()[0]
    last_row = next((int(r) for r in reversed(rows) if not _blank(raw.iloc[r])), None)
    if last_row is None:
        return raw.iloc[0:0, 0:0]
    cols = filled.iloc[: last_row + 1].any(axis=0).to_numpy().nonzero()[0]
    last_col = next(int(c) for c in reversed(cols) if not _blank(raw.iloc[: last_row + 1, c]))
    raw = raw.iloc[: last_row + 1, : last_col + 1].reset_index(drop=True)
    raw.columns = range(raw.shape[1])
    return raw


def _find_header(raw: pd.DataFrame, forced: Operation | None) -> tuple[int | None, dict]:
    index = header_index(forced) if forced else _ALL_FIELDS
    best, best_row, best_matched = 0, None, {}
    for pos in range(min(HEADER_SEARCH_ROWS, len(raw))):
        matched = {p: index[k] for p, cell in raw.iloc[pos].items()
                   if isinstance(cell, str) and (k := header_key(cell)) in index}
        if len(set(matched.values())) > best:
            best, best_row, best_matched = len(set(matched.values())), pos, matched
    if best < MIN_HEADER_FIELDS:
        return None, {}
    return best_row, best_matched


def _operation_for(where: str, sheet_name: str, fields: set[str]) -> Operation:
    by_name = {"purchase": "purchase", "purchases": "purchase", "buy": "purchase",
               "configure": "configure", "configuration": "configure", "config": "configure"}
    if (named := by_name.get(header_key(sheet_name))) is not None:
        return OPERATIONS[named]
    hits = [name for name, only in _ONLY.items() if fields & only]
    if len(hits) == 1:
        return OPERATIONS[hits[0]]
    why = ("it has columns of both" if hits else "its columns fit both")
    raise InputError(f"{where}: cannot tell whether this sheet is for purchase or configure "
                     f"({why}); name the sheet Purchase or Configure, or pass --operation")
