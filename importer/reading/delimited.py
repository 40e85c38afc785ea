"""CSV files -> one text frame, split the way LibreOffice and Excel split the same bytes.

No CSV library reads a file as spreadsheet programs do (Python's csv and pandas turn `"q"r` into
`qr` and let one stray quote swallow the rest of the file), and the people who make these files
check them in Excel, so the rules are LibreOffice's, compared cell by cell with its own reading
in tests/test_csv_like_libreoffice.py: any line ending (CRLF, LF, a Mac's CR, mixed); a quote
inside an unquoted field is text; a quoted field may span lines; a quote followed by anything
but a separator is text; a quote never closed is text too, and that cell is reported at its
line, the rest of the file read as if the quote were not there. Encodings: UTF-8 with or without
BOM, UTF-16, else Windows' cp1252 as Excel's plain CSV (Mac Roman for a Mac's CR-only file).
Delimiters: comma, semicolon, tab, pipe, Excel's `sep=` first line, or as given.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from importer.errors import InputError
from importer.reading.source import Input, Limits
from importer.text import column_letter, shown

DELIMITERS = (",", ";", "\t", "|")
_SNIFF_LINES = 50
_SNIFF_CHARS = 1 << 20  # of the file's start: a line of a billion is not read eight times
_SEP_LINE = re.compile(r"\A\"?sep=(.)\"?[,;\t|]*(?:\r\n|\r|\n)", re.IGNORECASE)
_BREAK = re.compile(r"\r\n|\r|\n")
# A UTF-8 encoded accented letter or symbol (é is C3 A9, € is E2 82 AC): in a cp1252 file
# these pairs are mojibake like "Ã©" and practically never occur.
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}")
# Control bytes (tab, line ends and the old end-of-file mark apart): a few are a cell's
# problem (a bell typed by accident); this many is a file that is not text.
_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x19\x1b-\x1f]")
_BINARY_SHARE = 0.01


@dataclass
class Reading:
    """How a CSV was read: its cells, the encoding and delimiter (and whether each was given
    or guessed), and the cells the reader had to read as written (line, row, column, why)."""

    frame: pd.DataFrame
    encoding: str
    delimiter: str
    given: set[str] = field(default_factory=set)  # "encoding", "delimiter"
    problems: list[tuple[int, int, int, str]] = field(default_factory=list)


def read_csv(source: Input, limits: Limits, encoding: str | None = None,
             delimiter: str | None = None) -> Reading:
    """The file's cells as text, positional columns, every line a row (blank ones too)."""
    text, used = decode(source, encoding)
    first_line = 1
    if hint := _SEP_LINE.match(text):  # Excel's "sep=;" first line: not shown, not a row
        text, first_line = text[hint.end():], 2
        sep = delimiter or hint.group(1)
    else:
        sep = delimiter or sniff(text)
    given = {name for name, value in (("encoding", encoding), ("delimiter", delimiter)) if value}
    reading = Reading(pd.DataFrame(), used, sep, given)
    rows: list[list[str]] = []
    width = 0
    for line, row, problems in _records(source.name, text, sep, first_line, limits):
        line += first_line - 1
        data = len(row)
        if not row[-1].strip():  # fields that only pad a line out are not data
            while data and not row[data - 1].strip():
                data -= 1
        if data > width:
            width = data
            if width > limits.columns:
                raise InputError(f"{source.name}: has {width:,} columns, more than the "
                                 f"{limits.columns:,} an Excel sheet holds")
        rows.append(row)
        if len(rows) > limits.rows:
            raise InputError(f"{source.name}: has more than {limits.rows:,} rows, more than an "
                             "Excel sheet holds; split it into smaller files")
        if width * len(rows) > limits.cells:
            raise InputError(f"{source.name}: line {line} reaches column "
                             f"{column_letter(width - 1)}, more than this tool reads in a file "
                             f"of this length ({limits.cells:,} cells)")
        if problems:
            reading.problems += [(line, len(rows) - 1, col, why) for col, why in problems]
    reading.frame = _frame(rows, width)
    return reading


class FieldTooLong(Exception):
    """A field longer than the cap (line of its record, column, length, whether it is a quote
    never closed), found before anything is built from it."""

    def __init__(self, line: int, column: int, length: int, unclosed: bool) -> None:
        super().__init__(line, column, length)
        self.line, self.column, self.length, self.unclosed = line, column, length, unclosed


def _records(name: str, text: str, sep: str, first_line: int, limits: Limits
             ) -> Iterator[Record]:
    """`records`, a field past the cap said in one line."""
    try:
        yield from records(text, sep, limits.field_chars)
    except FieldTooLong as exc:
        raise InputError(_too_long(name, exc, first_line, limits)) from None


def _too_long(name: str, exc: FieldTooLong, first_line: int, limits: Limits) -> str:
    where = f"{name}: line {exc.line + first_line - 1}, column {column_letter(exc.column)}"
    too_many = (f"{exc.length:,} characters, more than the {limits.field_chars:,} this tool "
                "reads in one cell")
    if exc.unclosed:
        return (f"{where} opens a quote (\") that is never closed, so the cell runs on for "
                f"{too_many}; close or remove the quote")
    return f"{where} holds {too_many}"


def _frame(rows: list[list[str]], width: int) -> pd.DataFrame:
    """Rows -> text columns (through Arrow: a Python loop per cell costs a second a million),
    short rows padded, empty fields as missing, as pandas reads a CSV."""
    padded = [row if len(row) == width else (row + [""] * (width - len(row)))[:width]
              for row in rows]
    cells = {}
    for i, col in enumerate(zip(*padded, strict=True) if padded and width else []):
        text = pa.array(col, pa.large_string())
        cells[i] = pd.array(pc.if_else(pc.equal(text, ""), _NULL, text), dtype="str")
    return pd.DataFrame(cells, index=pd.RangeIndex(len(rows)), columns=pd.RangeIndex(width))


_NULL = pa.scalar(None, pa.large_string())


def decode(source: Input, encoding: str | None = None) -> tuple[str, str]:
    """(text, encoding used): UTF-8 (BOM or not), UTF-16 (BOM or not), else Windows' cp1252 as
    Excel's plain CSV, or Mac Roman for a file with a Mac's CR line ends; or as given.

    A file that is UTF-8 in part (a BOM, or UTF-8 encoded letters) and something else in
    another part is an error: any guess would silently change some values.
    """
    data = source.data
    if encoding:
        return _given(source, encoding), encoding
    head = data[:65536]
    utf16 = head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or (
        b"\x00" in head[:4096] and _looks_utf16(head[:4096]))
    if not utf16 and len(_CONTROL.findall(head)) > max(8, _BINARY_SHARE * len(head)):
        raise InputError(f"{source.name}: not a spreadsheet or CSV file (it holds binary "
                         "content)")
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[3:].decode("utf-8"), "UTF-8"
        except UnicodeDecodeError as exc:
            raise _not_utf8(source, 3, exc, "starts with a UTF-8 marker") from exc
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _utf16(source, data, "utf-16"), "UTF-16"
    if utf16:
        codec = "utf-16-le" if data[1:2] == b"\x00" else "utf-16-be"
        return _utf16(source, data, codec), codec.upper()
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError as exc:
        if _UTF8_SEQUENCE.search(data):
            raise _not_utf8(source, 0, exc, "has UTF-8 text") from exc
    if b"\r" in head and b"\n" not in head:  # Excel for Mac's "CSV (Macintosh)"
        return data.decode("mac_roman"), "Mac Roman"
    try:
        return data.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "Latin-1"


def _given(source: Input, encoding: str) -> str:
    try:
        codec = codecs.lookup(encoding).name
    except LookupError:
        raise InputError(f"{source.name}: --encoding {shown(encoding)} is not an encoding this "
                         "tool knows (e.g. utf-8, cp1252, utf-16, mac_roman)") from None
    data = source.data
    if codec == "utf-8" and data.startswith(codecs.BOM_UTF8):
        data = data[3:]
    try:
        return data.decode("utf-16" if codec.startswith("utf-16") and data[:2] in (
            codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) else codec)
    except UnicodeDecodeError as exc:
        line = source.data[:exc.start].count(b"\n") + 1
        raise InputError(f"{source.name}: line {line} is not {shown(encoding)} (byte "
                         f"0x{source.data[exc.start]:02X}); check --encoding", str(exc)) from exc


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
    line = len(_BREAK.findall(source.data[:at].decode("latin-1"))) + 1
    return InputError(f"{source.name}: {why} but line {line} is not UTF-8 (byte "
                      f"0x{source.data[at]:02X}); save it again as CSV UTF-8", str(exc))


def sniff(text: str) -> str:
    """The candidate that splits the most lines into the same number (>1) of fields, split as
    the file will be: a delimiter inside quoted text does not count, and judged by
    consistency, so the bare commas in a European semicolon file's text do not win."""
    head = _physical(text[:_SNIFF_CHARS])
    sample = "\n".join(line for _, line in zip(range(_SNIFF_LINES), head, strict=False)
                       if line.strip())
    best, best_score = ",", (0, 0)
    for d in DELIMITERS:
        counts: dict[int, int] = {}
        for _, row, _ in records(sample, d):
            if len(row) > 1:
                counts[len(row)] = counts.get(len(row), 0) + 1
        score = max(((n, w) for w, n in counts.items()), default=(0, 0))
        if score > best_score:
            best, best_score = d, score
    return best


def _physical(text: str) -> Iterator[str]:
    """The lines of `text`, split at CRLF, LF or CR, without splitting the whole text."""
    start = 0
    for match in _BREAK.finditer(text):
        yield text[start:match.start()]
        start = match.end()
    if start < len(text):
        yield text[start:]


_NO_LIMIT = 2**31 - 1
Record = tuple[int, list[str], list[tuple[int, str]]]  # (first line, fields, problems)


def records(text: str, sep: str, cap: int = _NO_LIMIT) -> Iterator[Record]:
    """Each record with the line it starts on and the fields whose quote was never closed;
    FieldTooLong for a field of more than `cap` characters, before any more is read.

    Runs of lines without quotes, or with only closed quoted fields, go through the csv module
    (the common case, and fast: every rule agrees on them); any other line is joined with the
    next ones while a quote opened at the start of a field is still open, as LibreOffice does
    it, and its fields scanned from there.
    """
    if csv.field_size_limit() < _NO_LIMIT:  # process-wide; our own cap is checked here
        csv.field_size_limit(_NO_LIMIT)
    lines = _BREAK.split(text)
    if lines[-1] == "":  # the line end of the last line
        lines.pop()
    # A field longer than the cap on one line needs a line as long (a quoted field spanning
    # lines goes through _fields, whose records are checked whatever their lines' lengths).
    long_lines = max(map(len, lines), default=0) > cap
    well = _well_formed(sep).fullmatch
    i = 0
    while i < len(lines):
        j = i
        while j < len(lines) and ('"' not in lines[j] or well(lines[j])):
            j += 1
        if j > i:  # every rule reads these lines as the csv module does: one fast pass
            for k, row in enumerate(csv.reader(lines[i:j], delimiter=sep), i + 1):
                if long_lines:
                    _capped(k, row, [], cap)
                yield k, row or [""], []  # a blank line is a row of one empty field
            i = j
            continue
        line = lines[i]
        end = _logical_end(lines, i, sep)
        fields, problems, closed = _fields("\n".join(lines[i:end]), sep)
        if not closed:  # a quote never closed: read this line as written, the next ones afresh
            fields, problems, _ = _fields(line, sep, literal=True)
            end = i + 1
        _capped(i + 1, fields, problems, cap)
        yield i + 1, fields, problems
        i = end


def _capped(line: int, fields: list[str], problems: list[tuple[int, str]], cap: int) -> None:
    for col, value in enumerate(fields):
        if len(value) > cap:
            raise FieldTooLong(line, col, len(value), any(c == col for c, _ in problems))


@lru_cache(maxsize=8)
def _well_formed(sep: str) -> re.Pattern[str]:
    """A line of closed quoted fields and unquoted ones: a whole record, read the same by
    every rule (most lines with quotes are like this; the character loop is for the rest).
    Possessive, so a long line costs no backtracking (one state per character was 120 bytes
    each: 2.4 GB for a line of 20 million)."""
    s = re.escape(sep)
    one = f'(?:"(?:[^"]++|"")*+"|(?! *")[^{s}]*+)'
    return re.compile(f"{one}(?:{s}{one})*+")


def _logical_end(lines: list[str], start: int, sep: str) -> int:
    """The line after the last one of the record starting at `start`: LibreOffice's rule is
    to go on while an odd number of quotes follows a quote that opened a field. Only a quote
    changes anything inside quotes, and only the character before a quote outside them, so
    the scan goes from quote to quote."""
    quotes, field_start = 0, True
    for i in range(start, len(lines)):
        line = lines[i]
        pos, end = 0, len(line)
        while pos < end:
            if quotes == 0:
                q = line.find('"', pos)
                if q < 0:
                    break
                before = line[pos:q].rstrip(" ")
                if before:
                    field_start = before[-1] == sep
                quotes, field_start = (1, False) if field_start else (0, False)
                pos = q + 1
            elif quotes % 2:  # inside quotes
                q = line.find('"', pos)
                if q < 0:
                    break
                quotes, pos = quotes + 1, q + 1
            else:  # after a quote inside quotes: another one, spaces, or the end of quoting
                ch = line[pos]
                if ch == '"':
                    quotes += 1
                elif ch != " ":
                    quotes, field_start = 0, ch == sep
                pos += 1
        if quotes % 2 == 0:
            return i + 1
    return len(lines)


def _fields(text: str, sep: str, literal: bool = False
            ) -> tuple[list[str], list[tuple[int, str]], bool]:
    """(fields, problems, whether every quote opened at a field start was closed).

    Inside a quoted field `""` is a quote, and a quote followed by (spaces and) a separator or
    the end closes it; any other quote is text. `literal`: a quote that is never closed is
    text, and its field goes to the next separator (the cell is reported)."""
    fields: list[str] = []
    problems: list[tuple[int, str]] = []
    pos, end = 0, len(text)
    while True:
        lead = pos
        while lead < end and text[lead] == " ":
            lead += 1
        if lead < end and text[lead] == '"':
            value, after = _quoted(text, lead + 1, sep)
            if after < 0:
                if not literal:
                    return fields, problems, False
                problems.append((len(fields), "opens a quote (\") that is never closed, so "
                                 "it was read as written; close or remove the quote"))
                after = _next(text, pos, sep)
                value = text[pos:after]
            fields.append(value)
        else:
            after = _next(text, pos, sep)
            fields.append(text[pos:after])
        if after >= end:
            return fields, problems, True
        pos = after + 1


def _next(text: str, pos: int, sep: str) -> int:
    at = text.find(sep, pos)
    return len(text) if at < 0 else at


def _quoted(text: str, pos: int, sep: str) -> tuple[str, int]:
    """(value, position of the separator or end after it) of the quoted field whose content
    starts at `pos`; -1 when no quote closes it."""
    parts = []
    end = len(text)
    while True:
        q = text.find('"', pos)
        if q < 0:
            return "", -1
        parts.append(text[pos:q])
        if text.startswith('"', q + 1):  # "" is a quote
            parts.append('"')
            pos = q + 2
            continue
        after = q + 1
        while after < end and text[after] == " ":
            after += 1
        if after >= end or text[after] == sep:
            parts.append(text[q + 1:after])  # spaces after the closing quote are kept
            return "".join(parts), after
        parts.append('"')
        pos = q + 1
