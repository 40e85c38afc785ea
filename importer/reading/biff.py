"""Excel 97-2003 (.xls) sheets measured before calamine reads them, and cut back to their data.

An .xls sheet can reach IV65536; one stray cell there makes calamine build 16.7 million grid
cells (1.7 GB, 9 s) for a sheet of three rows. The Workbook stream (read with olefile) is a
run of records; the cell records say where each cell is. When a sheet's grid would cost more
than its records, the cells holding only spaces past its data are neutralised in place (their
record type changed to one readers skip, same length), so the file keeps its structure and
calamine reads just the data.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field

import olefile

from importer.reading.extent import Extent, Measured, SheetTooBig, check, fits
from importer.reading.source import Limits

_BOF, _EOF, _BOUNDSHEET, _SST, _CONTINUE = 0x0809, 0x000A, 0x0085, 0x00FC, 0x003C
_LABELSST, _LABEL, _RSTRING, _NUMBER, _RK = 0x00FD, 0x0204, 0x00D6, 0x0203, 0x027E
_MULRK, _BOOLERR, _FORMULA, _STRING = 0x00BD, 0x0205, 0x0006, 0x0207
_SKIPPED = 0x0000  # not a record type any reader acts on: the cell is gone, the bytes stay
_HEADER = struct.Struct("<HH")
_CELL = struct.Struct("<HH")


class Damaged(Exception):
    """The file's structure cannot be followed; the message is for --debug only."""


class Encrypted(Exception):
    """The workbook is protected by a password (a FILEPASS record): nothing can be read."""


_FILEPASS = 0x002F


@dataclass
class _Sheet:
    extent: Extent = field(default_factory=Extent)
    blanks: list[tuple[int, int, int]] = field(default_factory=list)  # (row, col, offset)


def measure(data: bytes, limits: Limits) -> Measured:
    """Every sheet's extent, and a copy of the file with the space-only cells past the data
    of inflated sheets neutralised. calamine reads every sheet of an .xls file as it opens
    it, so all sheets are measured, not only the ones wanted."""
    try:
        ole = olefile.OleFileIO(io.BytesIO(data))
        stream_name = "Workbook" if ole.exists("Workbook") else "Book"
        stream = ole.openstream(stream_name).read()
    except (OSError, ValueError, IndexError, struct.error) as exc:
        raise Damaged(str(exc)) from exc
    try:
        offsets, sst = _globals(stream)
        found = Measured({name: _quick(stream, offset) for name, offset in offsets.items()})
    except (IndexError, struct.error, UnicodeDecodeError) as exc:
        raise Damaged(f"record structure: {exc}") from exc
    patched = bytearray()
    blank_strings: list[bool] | None = None
    for name, extent in list(found.extents.items()):
        if fits(extent, _sheet_size(offsets, name, len(stream)), limits):
            continue
        try:
            if blank_strings is None:
                blank_strings = _blank_strings(sst) if sst else []
            sheet = _careful(stream, offsets[name], blank_strings)
        except (IndexError, struct.error, UnicodeDecodeError) as exc:
            raise Damaged(f"record structure: {exc}") from exc
        sheet.extent.errors = extent.errors
        extent = found.extents[name] = sheet.extent
        rows, columns = extent.data_rows, extent.data_columns
        try:
            check(name, extent, limits)
        except SheetTooBig as exc:
            found.refused[name] = exc
            rows = columns = 0
        if not patched:
            patched = bytearray(stream)
        for offset in _outside(stream, offsets[name], sheet, rows, columns):
            _HEADER.pack_into(patched, offset, _SKIPPED, _HEADER.unpack_from(stream, offset)[1])
    if not patched:
        return found
    copy = io.BytesIO(data)
    try:
        writer = olefile.OleFileIO(copy, write_mode=True)
        writer.write_stream(stream_name, bytes(patched))
    except (OSError, ValueError) as exc:
        raise Damaged(str(exc)) from exc
    found.patched = copy.getvalue()
    return found


def _outside(stream: bytes, start: int, sheet: _Sheet, rows: int, columns: int) -> list[int]:
    """Offsets of the cell records to neutralise: the space-only ones outside the data, or,
    for a sheet refused whole (rows = 0), every cell record."""
    if rows:
        return [at for row, col, at in sheet.blanks if row > rows or col > columns]
    cells = _VALUES | {_MULRK}
    out = []
    for kind, offset, _, _ in _records(stream, start):
        if kind == _EOF:
            break
        if kind in cells:
            out.append(offset)
    return out


def _records(stream: bytes, start: int = 0) -> Iterator[tuple[int, int, int, int]]:
    """(type, offset of the record, offset of its body, body length) from `start`."""
    pos = start
    end = len(stream)
    while pos + 4 <= end:
        kind, length = _HEADER.unpack_from(stream, pos)
        yield kind, pos, pos + 4, length
        pos += 4 + length


def _globals(stream: bytes) -> tuple[dict[str, int], list[bytes]]:
    """Sheet name -> offset of its BOF; the SST record's body and its CONTINUE pieces."""
    offsets: dict[str, int] = {}
    sst: list[bytes] = []
    in_sst = False
    for kind, _, body, length in _records(stream):
        if kind == _EOF:
            break
        if kind == _FILEPASS:
            raise Encrypted("FILEPASS")
        if kind == _BOUNDSHEET:
            offset = struct.unpack_from("<I", stream, body)[0]
            offsets[_short_string(stream, body + 6)] = offset
        if kind == _SST:
            sst = [stream[body: body + length]]
            in_sst = True
        elif kind == _CONTINUE and in_sst:
            sst.append(stream[body: body + length])
        else:
            in_sst = False
    return offsets, sst


def _short_string(data: bytes, pos: int) -> str:
    count, flags = data[pos], data[pos + 1]
    if flags & 1:
        return data[pos + 2: pos + 2 + 2 * count].decode("utf-16-le")
    return data[pos + 2: pos + 2 + count].decode("latin-1")


def _sheet_size(offsets: dict[str, int], name: str, total: int) -> int:
    """Bytes of a sheet's substream: up to the next sheet's BOF (or the stream's end)."""
    start = offsets[name]
    later = [o for o in offsets.values() if o > start]
    return (min(later) if later else total) - start


_VALUES = frozenset({_NUMBER, _RK, _BOOLERR, _LABELSST, _LABEL, _RSTRING, _FORMULA})


def _quick(stream: bytes, start: int) -> Extent:
    """Bounds of every cell with a value in the sheet substream at `start` (text cells of
    spaces too): one tight pass over the records."""
    unpack = _HEADER.unpack_from
    pos, end = start, len(stream)
    rows = cols = 0
    errors: list[tuple[int, int, str]] = []
    while pos + 4 <= end:
        kind, length = unpack(stream, pos)
        if kind in _VALUES:
            row, col = unpack(stream, pos + 4)
            rows, cols = max(rows, row + 1), max(cols, col + 1)
            if (error := _error(stream, kind, pos + 4)) is not None:
                errors.append((row, col, error))
        elif kind == _MULRK:
            row, = struct.unpack_from("<H", stream, pos + 4)
            last, = struct.unpack_from("<H", stream, pos + 2 + length)
            rows, cols = max(rows, row + 1), max(cols, last + 1)
        elif kind == _EOF:
            break
        pos += 4 + length
    extent = Extent(errors=errors)
    if rows:
        extent.place(rows, cols, data=False)
    return extent


# The error values a cell can hold, by their code in BOOLERR and FORMULA records.
_ERRORS = {0x00: "#NULL!", 0x07: "#DIV/0!", 0x0F: "#VALUE!", 0x17: "#REF!", 0x1D: "#NAME?",
           0x24: "#NUM!", 0x2A: "#N/A", 0x2B: "#GETTING_DATA"}


def _error(stream: bytes, kind: int, body: int) -> str | None:
    """The error value (#N/A) a BOOLERR cell or a formula's saved result holds, else None:
    calamine reads these cells as empty."""
    if kind == _BOOLERR and stream[body + 7: body + 8] == b"\x01":
        return _ERRORS.get(stream[body + 6], "#N/A")
    if kind == _FORMULA and stream[body + 12: body + 14] == b"\xff\xff" and (
            stream[body + 6: body + 7] == b"\x02"):
        return _ERRORS.get(stream[body + 8], "#N/A")
    return None


def _careful(stream: bytes, start: int, blank_strings: list[bool]) -> _Sheet:
    """The sheet substream at `start`: every cell with a value, noting the ones that hold
    only spaces (the only ones that can lie past the data)."""
    sheet = _Sheet()
    place = sheet.extent.place
    pending: tuple[int, int, int] | None = None  # a formula whose text result follows
    for kind, offset, body, length in _records(stream, start):
        if kind == _EOF:
            break
        if kind in (_NUMBER, _RK, _BOOLERR):
            row, col = _CELL.unpack_from(stream, body)
            place(row + 1, col + 1, True)
        elif kind == _LABELSST:
            row, col = _CELL.unpack_from(stream, body)
            index = struct.unpack_from("<I", stream, body + 6)[0]
            _text_cell(sheet, row, col, offset,
                       index < len(blank_strings) and blank_strings[index])
        elif kind in (_LABEL, _RSTRING):
            row, col = _CELL.unpack_from(stream, body)
            _text_cell(sheet, row, col, offset, not _label(stream, body + 6).strip())
        elif kind == _MULRK:
            row = struct.unpack_from("<H", stream, body)[0]
            first = struct.unpack_from("<H", stream, body + 2)[0]
            last = struct.unpack_from("<H", stream, body + length - 2)[0]
            place(row + 1, last + 1, True, last - first + 1)
        elif kind == _FORMULA:
            row, col = _CELL.unpack_from(stream, body)
            result = stream[body + 6: body + 14]
            if result[6:8] == b"\xff\xff" and result[0] == 0:
                pending = (row, col, offset)  # a text result: its STRING record follows
            elif result[6:8] == b"\xff\xff" and result[0] == 3:
                _text_cell(sheet, row, col, offset, True)  # an empty text result
            else:
                place(row + 1, col + 1, True)
        elif kind == _STRING and pending is not None:
            row, col, at = pending
            pending = None
            _text_cell(sheet, row, col, at, not _label(stream, body).strip())
    return sheet


def _text_cell(sheet: _Sheet, row: int, col: int, offset: int, blank: bool) -> None:
    sheet.extent.place(row + 1, col + 1, not blank)
    if blank:
        sheet.blanks.append((row + 1, col + 1, offset))


def _label(data: bytes, pos: int) -> str:
    """An XLUnicodeString (2-byte length, flags, characters)."""
    count = struct.unpack_from("<H", data, pos)[0]
    flags = data[pos + 2]
    if flags & 1:
        return data[pos + 3: pos + 3 + 2 * count].decode("utf-16-le", "replace")
    return data[pos + 3: pos + 3 + count].decode("latin-1")


def _blank_strings(pieces: list[bytes]) -> list[bool]:
    """For each shared string, whether it holds only spaces.

    Strings run across CONTINUE records; where their characters do, the next piece starts
    with a fresh flags byte (the width of the characters may change there).
    """
    reader = _Pieces(pieces)
    unique = struct.unpack_from("<I", pieces[0], 4)[0]
    reader.skip(8)
    blanks: list[bool] = []
    for _ in range(unique):
        if reader.done():
            break
        count = reader.u16()
        flags = reader.u8()
        runs = reader.u16() if flags & 0x08 else 0
        ext = reader.u32() if flags & 0x04 else 0
        text = reader.chars(count, bool(flags & 0x01))
        reader.skip(4 * runs + ext)
        blanks.append(not text.strip())
    return blanks


class _Pieces:
    """Reads across the SST record and its CONTINUE records."""

    def __init__(self, pieces: list[bytes]) -> None:
        self.pieces = pieces
        self.index = 0
        self.pos = 0

    def done(self) -> bool:
        return self.index >= len(self.pieces) or (
            self.index == len(self.pieces) - 1 and self.pos >= len(self.pieces[-1]))

    def _room(self) -> bytes:
        while self.pos >= len(self.pieces[self.index]):
            self.index += 1
            self.pos = 0
        return self.pieces[self.index]

    def take(self, n: int) -> bytes:
        out = b""
        while len(out) < n:
            piece = self._room()
            chunk = piece[self.pos: self.pos + n - len(out)]
            self.pos += len(chunk)
            out += chunk
        return out

    def skip(self, n: int) -> None:
        while n > 0:
            piece = self._room()
            step = min(n, len(piece) - self.pos)
            self.pos += step
            n -= step

    def u8(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        return int(struct.unpack("<H", self.take(2))[0])

    def u32(self) -> int:
        return int(struct.unpack("<I", self.take(4))[0])

    def chars(self, count: int, wide: bool) -> str:
        text = []
        while count > 0:
            piece = self._room()
            width = 2 if wide else 1
            fits_here = (len(piece) - self.pos) // width
            n = min(count, fits_here)
            raw = piece[self.pos: self.pos + n * width]
            text.append(raw.decode("utf-16-le" if wide else "latin-1", "replace"))
            self.pos += n * width
            count -= n
            if count:  # the characters go on in the next CONTINUE, with a fresh flags byte
                self.index += 1
                self.pos = 0
                wide = bool(self.take(1)[0] & 0x01)
        return "".join(text)
