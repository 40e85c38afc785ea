"""CSV files -> one text frame: encoding and delimiter detected, problems said with their line.

Encodings: UTF-8 with or without BOM, UTF-16 (with BOM or without), else Windows' cp1252 as
Excel's plain CSV. Delimiters: comma, semicolon, tab, pipe, and Excel's `sep=` first line.
A field may be as long as the cap (well past Excel's 32,767 characters: those rows are then
reported, not cut). A NUL character or a quote that is never closed is named with its line and
column, since a person can go and fix it there.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator

import pandas as pd

from importer.errors import InputError
from importer.reading.source import Input, Limits
from importer.text import column_letter

DELIMITERS = (",", ";", "\t", "|")
READ = {"dtype": str, "keep_default_na": False, "na_values": [""], "header": None}
_SNIFF_LINES = 50
_SEP_LINE = re.compile(r"\A\"?sep=(.)\"?[,;\t|]*\r?\n", re.IGNORECASE)
# A UTF-8 encoded accented letter or symbol (é is C3 A9, € is E2 82 AC): in a cp1252 file
# these pairs are mojibake like "Ã©" and practically never occur.
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}")
# Bytes no text file holds (NUL apart: it is reported where it is).
_BINARY = re.compile(rb"[\x01-\x08\x0e-\x1a\x1c-\x1f]")


def read_csv(source: Input, limits: Limits) -> pd.DataFrame:
    """The file's cells as text, positional columns, every line a row (blank ones too)."""
    text = decode(source)
    if hint := _SEP_LINE.match(text):  # Excel's "sep=;" first line: not shown, not a row
        sep, text = hint.group(1), text[hint.end():]
        first_line = 2
    else:
        try:
            sep, first_line = delimiter(text, limits), 1
        except FieldTooLong as exc:
            raise InputError(f"{source.name}: line {exc.line} holds a cell of more than "
                             f"{limits.field_chars:,} characters, more than this tool reads in "
                             "one cell") from exc
    if (nul := text.find("\x00")) >= 0:
        line, column = _where(text, nul, sep, limits)
        raise InputError(f"{source.name}: line {line + first_line - 1}{column} holds a NUL "
                         "character (an invisible code some programs write by mistake); "
                         "delete it, or open the file in Excel and save it again as CSV")
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, skip_blank_lines=False, **READ)
    except (pd.errors.ParserError, ValueError) as exc:  # EmptyDataError too: blank lines only
        if "EOF inside string" in str(exc):
            raise _unclosed(source, text, sep, first_line, exc) from exc
        frame = _ragged(source, text, sep, first_line, limits, exc)
    _check_size(source, frame, first_line, limits)
    return frame


def decode(source: Input) -> str:
    """UTF-8 (BOM or not), UTF-16 (BOM or not), else Windows' cp1252 as Excel's plain CSV.

    A file that is UTF-8 in part (a BOM, or UTF-8 encoded letters) and something else in
    another part is an error: any guess would silently change some values.
    """
    data = source.data
    head = data[:65536]
    utf16 = head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or (
        b"\x00" in head[:4096] and _looks_utf16(head[:4096]))
    if not utf16 and (_BINARY.search(head) or head.count(b"\x00") > 8):
        raise InputError(f"{source.name}: not a spreadsheet or CSV file (it holds binary "
                         "content)")
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[3:].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _not_utf8(source, 3, exc, "starts with a UTF-8 marker") from exc
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _utf16(source, data, "utf-16")
    if utf16:
        return _utf16(source, data, "utf-16-le" if data[1:2] == b"\x00" else "utf-16-be")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if _UTF8_SEQUENCE.search(data):
            raise _not_utf8(source, 0, exc, "has UTF-8 text") from exc
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            return data.decode("latin-1")


def _utf16(source: Input, data: bytes, codec: str) -> str:
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        raise InputError(f"{source.name}: is UTF-16 text but is cut short or damaged near "
                         f"byte {exc.start:,}; save it again", str(exc)) from exc


def _looks_utf16(head: bytes) -> bool:
    return head[1::2].count(0) > len(head) // 4 or head[0::2].count(0) > len(head) // 4


def _not_utf8(source: Input, offset: int, exc: UnicodeDecodeError, why: str) -> InputError:
    at = exc.start + offset
    line = source.data[:at].count(b"\n") + 1
    return InputError(f"{source.name}: {why} but line {line} is not UTF-8 (byte "
                      f"0x{source.data[at]:02X}); save it again as CSV UTF-8", str(exc))


def _lines(text: str, count: int) -> Iterator[str]:
    """The first `count` lines, without splitting the whole text."""
    start = 0
    for _ in range(count):
        end = text.find("\n", start)
        if end < 0:
            yield text[start:]
            return
        yield text[start:end]
        start = end + 1


class FieldTooLong(Exception):
    """A field longer than the cap, on this line of the sample."""

    def __init__(self, line: int) -> None:
        super().__init__(f"line {line}")
        self.line = line


def delimiter(text: str, limits: Limits) -> str:
    """The candidate that splits the most lines into the same number (>1) of fields.

    Parsed quote-aware, so a delimiter inside quoted text does not count, and judged by
    consistency, so the bare commas in a European semicolon file's text do not win.
    """
    _allow_long_fields(limits)
    sample = "\n".join(line for line in _lines(text, _SNIFF_LINES) if line.strip())
    best, best_score = ",", (0, 0)
    for d in DELIMITERS:
        counts: dict[int, int] = {}
        reader = csv.reader(io.StringIO(sample), delimiter=d)
        try:
            for row in reader:
                if len(row) > 1:
                    counts[len(row)] = counts.get(len(row), 0) + 1
        except csv.Error as err:  # the only error the reader raises here: a field too long
            raise FieldTooLong(reader.line_num) from err
        score = max(((n, w) for w, n in counts.items()), default=(0, 0))
        if score > best_score:
            best, best_score = d, score
    return best


def _allow_long_fields(limits: Limits) -> None:
    """The csv module refuses fields over 131,072 characters unless told otherwise (a
    process-wide setting; it is only ever raised, and our own cap is checked separately)."""
    if csv.field_size_limit() < limits.field_chars + 1:
        csv.field_size_limit(limits.field_chars + 1)


def _ragged(source: Input, text: str, sep: str, first_line: int, limits: Limits,
            exc: Exception) -> pd.DataFrame:
    """Rows of different lengths (a short title line above a wide header): every row gets
    the width of the widest row's data; fields that only pad a line out are not data."""
    _allow_long_fields(limits)
    rows: list[list[str]] = []
    width = 0
    try:
        for row in csv.reader(io.StringIO(text), delimiter=sep, strict=False):
            data = len(row)
            while data and not row[data - 1].strip():
                data -= 1
            width = max(width, data)
            rows.append(row)
            if len(rows) > limits.rows:
                break
            if width * len(rows) > limits.cells:
                raise InputError(f"{source.name}: line {len(rows) + first_line - 1} reaches "
                                 f"column {column_letter(width - 1)}, more than this tool "
                                 f"reads in a file of this length ({limits.cells:,} cells)")
    except csv.Error as err:
        raise InputError(f"{source.name}: cannot be read as CSV", f"{exc}; {err}") from err
    cells = [[v if v != "" else None for v in row[:width]] + [None] * (width - len(row))
             for row in rows]
    return pd.DataFrame(cells, columns=range(width), dtype="str")


def _check_size(source: Input, frame: pd.DataFrame, first_line: int, limits: Limits) -> None:
    if len(frame) > limits.rows:
        raise InputError(f"{source.name}: has more than {limits.rows:,} rows, more than an "
                         "Excel sheet holds; split it into smaller files")
    if frame.shape[1] > limits.columns:
        raise InputError(f"{source.name}: has {frame.shape[1]:,} columns, more than the "
                         f"{limits.columns:,} an Excel sheet holds")
    for col in frame.columns:
        lengths = frame[col].str.len()
        if lengths.max() > limits.field_chars:
            row = int(lengths.idxmax())
            raise InputError(f"{source.name}: row {row + 1}, column {column_letter(int(col))} "
                             f"holds {int(lengths.max()):,} characters, more than the "
                             f"{limits.field_chars:,} this tool reads in one cell")


def _where(text: str, pos: int, sep: str, limits: Limits) -> tuple[int, str]:
    """(line of the file, ', column X' where the CSV row can be told) of character `pos`."""
    line = text.count("\n", 0, pos) + 1
    _allow_long_fields(limits)
    try:
        records = list(csv.reader(io.StringIO(text[:pos] + "\x01"), delimiter=sep))
    except csv.Error:
        return line, ""
    if not records or not records[-1]:
        return line, ""
    return line, f", column {column_letter(len(records[-1]) - 1)}"


_QUOTED = re.compile(r'"(?:[^"]|"")*"')


def _unclosed(source: Input, text: str, sep: str, first_line: int, exc: Exception
              ) -> InputError:
    """The quote that opens a field and is never closed: its line and column."""
    at = _open_quote(text, sep)
    where = "a line"
    if at is not None:
        line, column = at
        where = f"line {line + first_line - 1}, column {column_letter(column)},"
    return InputError(f"{source.name}: {where} opens a quote (\") that is never closed, so "
                      "the rest of the file would be one cell; close or remove the quote",
                      str(exc))


def _open_quote(text: str, sep: str) -> tuple[int, int] | None:
    """(line, 0-based field) of the first quoted field without its closing quote."""
    unquoted = re.compile(f"[^{re.escape(sep)}\r\n]*")
    pos, line, field = 0, 1, 0
    end = len(text)
    while pos < end:
        if text[pos] == '"':
            match = _QUOTED.match(text, pos)
            if match is None:
                return line, field
            line += text.count("\n", pos, match.end())
            pos = match.end()
        rest = unquoted.match(text, pos)
        pos = rest.end() if rest else pos
        if pos >= end:
            break
        if text[pos] == sep:
            field += 1
        else:  # \r, \n or \r\n: the row ends
            if text.startswith("\r\n", pos):
                pos += 1
            line += 1 if text[pos] == "\n" or text[pos] == "\r" else 0
            field = 0
        pos += 1
    return None
