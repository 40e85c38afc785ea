"""A big xlsx sheet given to calamine a band of rows at a time.

calamine holds a whole sheet in its grid, and building the grid costs about twice that at its
peak: 1.9 GB for a sheet of a million rows of 20 columns, before a single Python object. So a
sheet of more than BAND_CELLS cells is cut into bands of CELLS_PER_BAND cells (the XML streamed,
split between `</row>` and `<row`), each band put into a copy of the workbook (the other
sheets left empty) and read by calamine as its own sheet; every value still comes from
calamine, each band placed at its own first row and column (calamine's `start`).
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator

from importer.reading import ooxml

BAND_CELLS = 4_000_000  # a sheet smaller than this is read whole (nearly every file)
CELLS_PER_BAND = 1_000_000  # about 100 MB for calamine at its peak
_HEAD = re.compile(rb"<sheetData(?:\s[^>]*)?>")
_DIMENSION = re.compile(rb"<dimension\s[^>]*/>")  # a reader may size its grid from it
_END = b"</sheetData></worksheet>"
_ROW_END = b"</row>"


def wanted(cells: int) -> bool:
    return cells > BAND_CELLS


def rows_for(columns: int) -> int:
    """Rows per band for a sheet this wide."""
    return max(1_000, CELLS_PER_BAND // max(columns, 1))


def books(data: bytes, name: str, limit: int, rows: int) -> Iterator[bytes]:
    """Copies of the workbook whose sheet `name` holds one band of its rows each (all of
    them when its XML is not laid out as expected)."""
    zf = zipfile.ZipFile(io.BytesIO(data))
    parts = ooxml.sheet_parts(zf)
    part = parts[name]
    unread = set(parts.values()) - {part}
    head: bytes | None = None
    buffer = bytearray()
    ends = 0  # `</row>` in the buffer
    for piece in ooxml.chunks(zf, part, limit):
        before = len(buffer)
        buffer += piece
        if head is None:
            found = _HEAD.search(buffer)
            if found is None:
                continue
            head = _DIMENSION.sub(b"", bytes(buffer[:found.end()]))
            del buffer[:found.end()]
            before = 0
        ends += buffer.count(_ROW_END, max(0, before - len(_ROW_END) + 1))
        while ends >= rows:
            cut = _nth_row_end(buffer, rows)
            yield _book(zf, part, head, buffer, cut, unread)
            del buffer[:cut]
            ends -= rows
    if head is None:  # <sheetData/>, or an unusual layout: the sheet as it is
        yield data
        return
    end = buffer.rfind(b"</sheetData>")
    if end >= 0:
        yield _book(zf, part, head, buffer, end, unread)


def _book(zf: zipfile.ZipFile, part: str, head: bytes, buffer: bytearray, cut: int,
          unread: set[str]) -> bytes:
    """The workbook whose sheet `part` holds the rows of buffer[:cut] (copied once)."""
    with memoryview(buffer) as view:
        xml = b"".join((head, view[:cut], _END))
    return ooxml.copy_with(zf, {part: xml}, unread)


def _nth_row_end(buffer: bytearray, n: int) -> int:
    """Where the n-th `</row>` of the buffer ends (it holds at least n)."""
    at = -1
    for _ in range(n):
        at = buffer.find(_ROW_END, at + 1)
    return at + len(_ROW_END)
