"""xlsx sheets measured before calamine reads them, and cut back to their data when stray cells
far away would make its grid huge.

`quick_extent` runs on every sheet read: the byte scan of `quickscan`, which gives up on XML
written in ways it does not know. `careful_extent` then parses the XML (expat) with the shared
strings, so it knows which cells hold only spaces, and `cut` drops the placed cells outside the
data, so calamine reads only what is there and every value is still read by calamine.
"""

from __future__ import annotations

import io
import re
import zipfile
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from xml.parsers import expat

import numpy as np

from importer import excel
from importer.reading import quickscan, xmlsafe
from importer.reading.extent import Extent, Measured, SheetTooBig, check, column_number, fits
from importer.reading.quickscan import Quick
from importer.reading.source import Limits

_CHUNK = 1 << 22
_REF = re.compile(r"([A-Z]{1,3})([0-9]{1,7})")


class Damaged(Exception):
    """The XML cannot be parsed; the message is the parser's (for --debug only)."""


def sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> its XML part in the zip, from workbook.xml and its relationships."""
    sheets: list[tuple[str, str]] = []  # (name, relationship id)
    targets: dict[str, str] = {}

    def in_book(tag: str, attrs: dict[str, str]) -> None:
        if tag.rpartition(" ")[2] == "sheet":  # r:id in the transitional or Strict namespace
            rid = next((v for k, v in attrs.items() if k.rpartition(" ")[2] == "id"), "")
            sheets.append((attrs.get("name", ""), rid))

    def in_rels(tag: str, attrs: dict[str, str]) -> None:
        if attrs.get("Id"):
            targets[attrs["Id"]] = attrs.get("Target", "")

    try:
        for part, handler in (("xl/workbook.xml", in_book),
                              ("xl/_rels/workbook.xml.rels", in_rels)):
            parser = xmlsafe.parser(namespace_separator=" ")
            parser.StartElementHandler = handler
            parser.Parse(zf.read(part), True)
    except (KeyError, expat.ExpatError, zipfile.BadZipFile, OSError) as exc:
        raise Damaged(str(exc)) from exc
    parts = {}
    for name, rid in sheets:
        target = targets.get(rid, "")
        if target:
            parts[name] = (target.lstrip("/") if target.startswith("/") else "xl/" + target)
    return parts


def chunks(zf: zipfile.ZipFile, part: str, limit: int) -> Iterator[bytes]:
    """The part unzipped in pieces; Damaged past `limit` bytes (a zip bomb or a lie)."""
    size = 0
    try:
        with zf.open(part) as stream:
            while chunk := stream.read(_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise TooLarge(size)
                yield chunk
    except (zipfile.BadZipFile, OSError, EOFError, KeyError, ValueError) as exc:
        raise Damaged(f"{part}: {exc}") from exc


class TooLarge(Exception):
    """A part unzips to more than the cap."""


def read_part(zf: zipfile.ZipFile, part: str, limit: int) -> bytes:
    return b"".join(chunks(zf, part, limit))


def quick_extent(zf: zipfile.ZipFile, part: str, limit: int) -> Quick:
    """The quick byte scan (`quickscan`) of one sheet part, unzipped in chunks."""
    return quickscan.scan(chunks(zf, part, limit))


@dataclass
class Careful:
    """The careful scan: the extent, and where each placed cell is in the XML."""

    extent: Extent = field(default_factory=Extent)
    rows: array = field(default_factory=lambda: array("q"))
    cols: array = field(default_factory=lambda: array("q"))
    starts: array = field(default_factory=lambda: array("q"))
    ends: array = field(default_factory=lambda: array("q"))


def careful_extent(xml: bytes, strings: SharedStrings) -> Careful:
    """Parse the sheet: which cells are placed, which hold data (shared strings that hold
    only spaces do not), which hold more than an Excel cell (calamine cuts those to 32,767
    characters), and where each placed cell is, for `cut`."""
    found = Careful()
    found.extent.errors = []
    parser = xmlsafe.parser()
    state = _CellState()

    def start(name: str, attrs: dict[str, str]) -> None:
        local = name.rpartition(":")[2]
        if local == "c":
            ref = _REF.fullmatch(attrs.get("r", ""))
            if ref:
                state.row, state.col = int(ref.group(2)), column_number(ref.group(1))
            else:
                state.col += 1
            state.begin(parser.CurrentByteIndex, attrs.get("t", "n"))
        elif local == "row":
            r = attrs.get("r", "")
            state.row = int(r) if r.isdigit() else state.row + 1
            state.col = 0
        elif state.cell is not None:
            state.open(local)

    def end(name: str) -> None:
        local = name.rpartition(":")[2]
        if local == "c" and state.cell is not None:
            _finish(state, xml, parser.CurrentByteIndex, strings, found)
        elif state.cell is not None:
            state.close(local)

    def text(data: str) -> None:
        if state.capturing:
            state.value.append(data)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    try:
        parser.Parse(xml, True)
    except expat.ExpatError as exc:
        raise Damaged(str(exc)) from exc
    return found


class _CellState:
    """Where the parser is: the current row and column, and the cell being read."""

    def __init__(self) -> None:
        self.row = 0
        self.col = 0
        self.cell: tuple[int, str] | None = None  # (start byte, type)
        self.value: list[str] = []
        self.has_value = self.has_formula = self.inline = self.capturing = False
        self.phonetic = 0

    def begin(self, at: int, kind: str) -> None:
        self.cell = (at, kind)
        self.value = []
        self.has_value = self.has_formula = self.inline = self.capturing = False
        self.phonetic = 0

    def open(self, local: str) -> None:
        if local == "v":
            self.has_value = self.capturing = True
        elif local == "f":
            self.has_formula = True
        elif local == "is":
            self.inline = True
        elif local == "rPh":
            self.phonetic += 1
        elif local == "t" and self.inline and not self.phonetic:
            self.capturing = True

    def close(self, local: str) -> None:
        if local in ("v", "t"):
            self.capturing = False
        elif local == "rPh":
            self.phonetic -= 1


def _finish(state: _CellState, xml: bytes, at: int, strings: SharedStrings,
            found: Careful) -> None:
    assert state.cell is not None
    start, kind = state.cell
    state.cell = None
    text = "".join(state.value)
    length = len(text)
    if kind == "s":
        placed = state.has_value and text.strip() != ""
        index = int(text) if text.strip().isdigit() else -1
        blank = strings.blank
        data = placed and not (0 <= index < len(blank) and blank[index])
        length = strings.long.get(index, 0)
    elif kind == "inlineStr":
        placed, data = state.inline, text.strip() != ""
    elif kind == "str":
        placed, data = state.has_value, text.strip() != ""
    elif kind == "e":
        placed = data = state.has_value and text != ""
        if placed and found.extent.errors is not None:
            found.extent.errors.append((state.row - 1, state.col - 1, text.strip()))
    else:
        placed = data = state.has_value and text != ""
    if length > excel.CELL_CHARS:
        found.extent.long_cells.append((state.row - 1, state.col - 1, length))
    if state.has_formula and not (state.has_value and (text or kind in ("str", "inlineStr"))):
        found.extent.formulas.append((state.row - 1, state.col - 1))
    if placed:
        found.extent.place(state.row, state.col, data)
        found.rows.append(state.row)
        found.cols.append(state.col)
        found.starts.append(start)
        found.ends.append(xml.index(b">", at) + 1)


@dataclass
class SharedStrings:
    """What the careful scan needs of the shared strings: a flag per string that holds only
    spaces, and the length of those longer than an Excel cell."""

    blank: bytes = b""
    long: dict[int, int] = field(default_factory=dict)


def shared_strings(zf: zipfile.ZipFile, limit: int) -> SharedStrings:
    part = next((n for n in zf.namelist() if n.lower() == "xl/sharedstrings.xml"), None)
    if part is None:
        return SharedStrings()
    flags = bytearray()
    long: dict[int, int] = {}
    text: list[str] = []
    depth = {"si": 0, "rPh": 0, "t": 0}
    parser = xmlsafe.parser()

    def start(name: str, attrs: dict[str, str]) -> None:
        local = name.rpartition(":")[2]
        if local in depth:
            depth[local] += 1
        if local == "si":
            text.clear()

    def end(name: str) -> None:
        local = name.rpartition(":")[2]
        if local in depth:
            depth[local] -= 1
        if local == "si":
            whole = "".join(text)
            if len(whole) > excel.CELL_CHARS:
                long[len(flags)] = len(whole)
            flags.append(0 if whole.strip() else 1)

    def chars(data: str) -> None:
        if depth["t"] and depth["si"] and not depth["rPh"]:
            text.append(data)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    try:
        for piece in chunks(zf, part, limit):
            parser.Parse(piece, False)
        parser.Parse(b"", True)
    except expat.ExpatError as exc:
        raise Damaged(str(exc)) from exc
    return SharedStrings(bytes(flags), long)


def cut(xml: bytes, found: Careful, rows: int, columns: int) -> bytes:
    """The sheet XML without the placed cells outside rows x columns (1-based bounds)."""
    r = np.frombuffer(found.rows, np.int64)
    c = np.frombuffer(found.cols, np.int64)
    outside = (r > rows) | (c > columns)
    if not outside.any():
        return xml
    starts = np.frombuffer(found.starts, np.int64)[outside]
    ends = np.frombuffer(found.ends, np.int64)[outside]
    order = np.argsort(starts, kind="stable")
    pieces = []
    at = 0
    for s, e in zip(starts[order].tolist(), ends[order].tolist(), strict=True):
        pieces.append(xml[at:s])
        at = e
    pieces.append(xml[at:])
    return b"".join(pieces)


_EMPTY_SHEET = (b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.'
                b'openxmlformats.org/spreadsheetml/2006/main"><sheetData/></worksheet>')


def measure(data: bytes, names: list[str], limits: Limits) -> Measured:
    """The wanted sheets' extents, and a copy of the workbook with inflated sheets cut back
    (calamine opens an xlsx file lazily, so only the sheets read are measured)."""
    zf, parts = _open(data, limits)
    found = Measured()
    replaced: dict[str, bytes] = {}
    strings: list[SharedStrings] = []  # read once, if needed
    for name in names:
        part = _part(parts, name)
        quick = quick_extent(zf, part, limits.unpacked_bytes)
        if quick.extent is not None and fits(quick.extent, quick.size, limits):
            found.extents[name] = quick.extent
            continue
        xml = read_part(zf, part, limits.unpacked_bytes)
        if not strings:
            strings.append(shared_strings(zf, limits.unpacked_bytes))
        careful = careful_extent(xml, strings[0])
        extent = found.extents[name] = careful.extent
        try:
            check(name, extent, limits)
        except SheetTooBig as exc:
            found.refused[name] = exc
            continue
        if not fits(extent, len(xml), limits):
            replaced[part] = cut(xml, careful, extent.data_rows, extent.data_columns)
    if replaced:
        found.patched = copy_with(zf, replaced, set(parts.values()) - {parts[n] for n in names})
    return found


def careful(data: bytes, name: str, limits: Limits) -> Extent:
    """Sheet `name` parsed: the cells holding more characters than an Excel cell (calamine
    gives them cut to 32,767) and the error values (calamine gives them empty), which only
    the XML can tell."""
    zf, parts = _open(data, limits)
    xml = read_part(zf, _part(parts, name), limits.unpacked_bytes)
    return careful_extent(xml, shared_strings(zf, limits.unpacked_bytes)).extent


def _open(data: bytes, limits: Limits) -> tuple[zipfile.ZipFile, dict[str, str]]:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise Damaged(str(exc)) from exc
    for info in infos:
        if info.file_size > limits.unpacked_bytes:
            raise TooLarge(f"{info.filename}: {info.file_size} bytes")
    return zf, sheet_parts(zf)


def _part(parts: dict[str, str], name: str) -> str:
    if name not in parts:
        raise Damaged(f"no part for sheet {name!r}")
    return parts[name]


def copy_with(zf: zipfile.ZipFile, replaced: dict[str, bytes], unread: set[str]) -> bytes:
    """The workbook with some parts replaced; sheets nobody reads are left empty."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as copy:
        for info in zf.infolist():
            if info.filename in replaced:
                data = replaced[info.filename]
            elif info.filename in unread:
                data = _EMPTY_SHEET
            else:
                data = zf.read(info.filename)
            copy.writestr(info.filename, data)
    return out.getvalue()
