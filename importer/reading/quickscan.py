"""The quick scan of an xlsx sheet's XML: where its cells are, without parsing it.

numpy over the unzipped bytes, streamed in pieces (about 0.3 s per 100,000 rows of 20 columns,
against 3.5 s for calamine's read). Exact for the way spreadsheet programs write sheets (every
cell `<c r="B7" ...`, no namespace prefixes); it gives up on anything else, and `ooxml` then
parses the XML properly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from importer.reading.extent import Extent

_CARRY_LIMIT = 1 << 26  # a chunk with no cell end in 64 MB is not a sheet the quick scan knows
_PAD = b" " * 32
_SAVED = re.compile(rb"<(?:[\w.-]+:)?v(?:\s[^>]*)?>[^<]")
_TEXT_TYPE = re.compile(rb"""\st=["'](?:str|inlineStr)["']""")


@dataclass
class Quick:
    """What the quick scan found: the extent (None if it could not vouch for it), the size."""

    extent: Extent | None
    size: int = 0


def scan(pieces: Iterable[bytes]) -> Quick:
    """Bounds of the cells a reader places in a sheet's XML (given in pieces), found without
    parsing: None when the XML is written in a way this scan does not know (it is then parsed
    properly)."""
    extent = Extent()
    carry = b""
    size = 0
    for piece in pieces:
        size += len(piece)
        data = carry + piece if carry else piece
        cut = data.rfind(b"</row>")
        cut = cut + 6 if cut >= 0 else data.rfind(b"</c>") + 4
        if cut < 4:
            if len(data) > _CARRY_LIMIT:
                return Quick(None, size)
            carry = data
            continue
        carry = data[cut:]
        if not _scan(data, cut, extent):
            return Quick(None, size)
    if carry.strip() and not _scan(carry, len(carry), extent):
        return Quick(None, size)
    return Quick(extent, size)


def _scan(data: bytes, end: int, extent: Extent) -> bool:
    """Note the cells of data[:end] in `extent`; False if anything is written unusually."""
    a = np.frombuffer(data[:end] + _PAD, np.uint8)
    colons = np.flatnonzero(a[:end] == 58)
    if len(colons):  # a prefixed element (`<x:c`, `<x:row`): parse it properly
        after = a[colons + 1]
        if np.any((after == 99) & np.isin(a[colons + 2], (32, 47, 62))) or np.any(
                (after == 114) & (a[colons + 2] == 111) & (a[colons + 3] == 119)):
            return False
    lt = np.flatnonzero(a[:end] == 60)
    name = a[lt + 1]
    starts = lt[name == 99]
    follow = a[starts + 2]
    if np.any((follow == 62) | (follow == 47)):  # `<c>` or `<c/>`: no reference
        return False
    cells = starts[follow == 32]
    if not np.all((a[cells + 3] == 114) & (a[cells + 4] == 61) & (a[cells + 5] == 34)):
        return False  # `r` not the first attribute (or missing)
    if not len(cells):
        return True
    rows, cols, ok = _refs(a, cells + 6)
    if not ok:
        return False
    # Every cell counts, self-closing ones too (calamine places none of those): an upper
    # bound is all this scan needs, and formatted empty cells cost bytes like any other.
    extent.place(int(rows.max()), int(cols.max()), data=False)
    if data.find(b't="e"', 0, end) >= 0:
        extent.has_errors = True
    formulas = lt[(name == 102) & np.isin(a[lt + 2], (32, 47, 62))]
    if len(formulas):
        owner = np.searchsorted(cells, formulas) - 1
        for f, i in zip(formulas.tolist(), owner.tolist(), strict=True):
            if i >= 0 and not _saved(data, int(cells[i]), f):
                extent.formulas.append((int(rows[i]) - 1, int(cols[i]) - 1))
    return True


def _refs(a: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
    """Row and column numbers of the references starting at positions `s` (`B7"`); False
    when one is not a plain reference within Excel's grid."""
    letters = [a[s + k].astype(np.int64) - 64 for k in range(4)]
    is2 = (letters[1] >= 1) & (letters[1] <= 26)
    is3 = is2 & (letters[2] >= 1) & (letters[2] <= 26)
    if np.any(is3 & (letters[3] >= 1) & (letters[3] <= 26)) or np.any(
            (letters[0] < 1) | (letters[0] > 26)):
        return s, s, False
    cols = np.where(is3, letters[0] * 676 + letters[1] * 26 + letters[2],
                    np.where(is2, letters[0] * 26 + letters[1], letters[0]))
    d = s + 1 + is2 + is3
    rows = np.zeros(len(s), np.int64)
    digits = np.zeros(len(s), np.int64)
    live = np.ones(len(s), bool)
    for k in range(8):
        digit = a[d + k].astype(np.int64) - 48
        live &= (digit >= 0) & (digit <= 9)
        rows = np.where(live, rows * 10 + digit, rows)
        digits += live
    ok = np.all((a[d + digits] == 34) & (digits >= 1) & (digits <= 7))
    return rows, cols, bool(ok)


def _saved(data: bytes, cell: int, formula: int) -> bool:
    """Whether the formula cell starting at `cell` holds the result Excel saved for it."""
    close = data.find(b"</c>", formula)
    body = data[formula: close if close >= 0 else len(data)]
    if _SAVED.search(body):
        return True
    # An empty text result (`=""`) is saved as an empty value of type str.
    tag = data[cell: data.find(b">", cell) + 1]
    return bool(_TEXT_TYPE.search(tag)) and b"<v" in body
