"""OpenDocument spreadsheets measured before calamine reads them, and cut back to their data.

ODS writes runs of equal rows and cells once with a repeat count, so a stray cell far down
(LibreOffice writes `number-rows-repeated="99995"` empty rows before it) makes calamine expand
every repeat into a real grid. The content is parsed once (expat), counting repeats; a table
whose grid would cost more than its bytes loses the rows and cells past its data (a run that
straddles the edge is shortened), and calamine reads that copy.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from xml.parsers import expat

from importer.reading import xmlsafe
from importer.reading.extent import Extent, Measured, SheetTooBig, check, fits
from importer.reading.source import Limits

_CONTENT = "content.xml"
_REPEAT = re.compile(rb'(number-(?:rows|columns)-repeated=["\'])(\d+)(["\'])')
_CELLS = ("table-cell", "covered-table-cell")


class Damaged(Exception):
    """The content cannot be parsed; the message is the parser's (for --debug only)."""


@dataclass
class _Table:
    extent: Extent = field(default_factory=Extent)
    # (first row, last row, first column, last column, start byte, end byte) of placed cells
    cells: list[tuple[int, int, int, int, int, int]] = field(default_factory=list)
    rows: list[tuple[int, int, int, int]] = field(default_factory=list)  # (first, last, s, e)
    size: int = 0  # bytes of the table's XML


def measure(data: bytes, limits: Limits) -> Measured:
    """Every table's extent (when it had to be measured), and a copy of the file with
    inflated tables cut back. calamine reads every table of an ODS file as it opens it, so
    all tables are measured, not only the ones wanted."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        info = zf.getinfo(_CONTENT)
        if info.file_size > limits.unpacked_bytes:
            raise Damaged(f"{_CONTENT} declares {info.file_size} bytes")
        with zf.open(_CONTENT) as stream:
            xml = stream.read(limits.unpacked_bytes + 1)
    except (zipfile.BadZipFile, KeyError, OSError, EOFError, ValueError) as exc:
        raise Damaged(str(exc)) from exc
    if len(xml) > limits.unpacked_bytes:
        raise Damaged(f"{_CONTENT} unpacks to more than {limits.unpacked_bytes} bytes")
    if not _may_inflate(xml) and b'calcext:value-type="error"' not in xml:
        return Measured()
    tables = _parse(xml)
    found = Measured({name: t.extent for name, t in tables.items()})
    edits: list[tuple[int, int, bytes]] = []
    for name, table in tables.items():
        extent = table.extent
        try:
            check(name, extent, limits)
        except SheetTooBig as exc:
            found.refused[name] = exc
            edits += _cut(xml, table, 0, 0)
            continue
        if not fits(extent, table.size, limits):
            edits += _cut(xml, table, extent.data_rows, extent.data_columns)
    if edits:
        found.patched = _rewrite(zf, _apply(xml, edits))
    return found


# A run of 100 or more empty cells that ends its row, or of empty rows that ends its table,
# costs nothing (calamine drops trailing empties; LibreOffice writes one on every row). Any
# other long run is followed by something, and calamine expands it into a grid: parse then.
_COLUMN_RUN = re.compile(rb'number-columns-repeated="\d{3,}"(?!/>(?:<table:table-cell(?: '
                         rb'table:style-name="[^"]*")?(?: table:number-columns-repeated="\d+")?'
                         rb'/>)*</table:table-row>)')
_ROW_RUN = re.compile(rb'number-rows-repeated="\d{3,}"')


def _may_inflate(xml: bytes) -> bool:
    for match in _COLUMN_RUN.finditer(xml):
        tag = xml[xml.rfind(b"<", 0, match.start()): match.start()]
        if not tag.startswith(b"<table:table-column"):  # column formats: no cells
            return True
    for match in _ROW_RUN.finditer(xml):
        end = xml.find(b"</table:table>", match.end())
        if xml.find(b"value-type", match.end(), end if end >= 0 else len(xml)) >= 0:
            return True
    return False


class _Parser:
    """expat handlers: where each row and cell is, counting repeats."""

    def __init__(self, xml: bytes) -> None:
        self.xml = xml
        self.tables: dict[str, _Table] = {}
        self.table: _Table | None = None
        self.depth = 0  # nesting of tables (a table inside a cell is not a sheet)
        self.row = 0
        self.row_span = (0, 0, 0)  # (first row, last row, start byte)
        self.col = 0
        self.cell: tuple[int, int, int, bool, bool] | None = None  # first col, last, start..
        self.text: list[str] = []
        self.note = 0  # inside a comment (office:annotation): not the cell's text
        self.error = False  # the cell holds an error value
        self.parser = xmlsafe.parser()
        self.parser.StartElementHandler = self.start
        self.parser.EndElementHandler = self.end
        self.parser.CharacterDataHandler = self.chars

    def start(self, name: str, attrs: dict[str, str]) -> None:
        local = name.rpartition(":")[2]
        if local == "table":
            self.depth += 1
            table_name = attrs.get("table:name", "")
            if self.depth == 1 and table_name not in self.tables:
                self.table = self.tables[table_name] = _Table()
                self.table.size = -self.parser.CurrentByteIndex
                self.row = 0
            return
        if self.table is None or self.depth != 1:
            return
        if local == "table-row":
            repeat = _count(attrs.get("table:number-rows-repeated"))
            self.row_span = (self.row + 1, self.row + repeat, self.parser.CurrentByteIndex)
            self.row += repeat
            self.col = 0
        elif local in _CELLS:
            repeat = _count(attrs.get("table:number-columns-repeated"))
            typed = "office:value-type" in attrs
            value = attrs.get("office:string-value", "")
            self.cell = (self.col + 1, self.col + repeat, self.parser.CurrentByteIndex, typed,
                         attrs.get("office:value-type", "string") != "string")
            self.error = attrs.get("calcext:value-type") == "error"
            self.text = [value]
            self.col += repeat
            if "table:formula" in attrs and not typed:  # a formula with no saved result
                self.table.extent.formulas.append((self.row_span[0] - 1, self.col - repeat))
        elif local == "annotation":
            self.note += 1
        elif local == "s" and self.cell is not None and not self.note:
            self.text.append(" ")

    def end(self, name: str) -> None:
        local = name.rpartition(":")[2]
        if local == "table":
            self.depth -= 1
            if self.depth == 0 and self.table is not None:
                self.table.size += self.parser.CurrentByteIndex
                self.table = None
            return
        if self.table is None or self.depth != 1:
            return
        if local == "table-row":
            first, last, start = self.row_span
            self.table.rows.append((first, last, start, self._end()))
        elif local in _CELLS and self.cell is not None:
            first, last, start, typed, number = self.cell
            self.cell = None
            text = "".join(self.text)
            if self.error:  # calamine reads the saved error (#N/A) as empty: keep its text
                self.table.extent.errors = [*(self.table.extent.errors or []),
                                            (self.row_span[0] - 1, first - 1, text.strip())]
            placed = typed or text != ""
            if placed:
                row_first, row_last, _ = self.row_span
                self.table.extent.place(row_last, last, number or text.strip() != "",
                                        (row_last - row_first + 1) * (last - first + 1))
                self.table.cells.append((row_first, row_last, first, last, start, self._end()))
        elif local == "annotation":
            self.note -= 1
        elif local == "p" and self.cell is not None and not self.note and len(self.text) > 1:
            self.text.append("\n")

    def chars(self, data: str) -> None:
        if self.cell is not None and not self.note:
            self.text.append(data)

    def _end(self) -> int:
        return self.xml.index(b">", self.parser.CurrentByteIndex) + 1


def _count(text: str | None) -> int:
    return int(text) if text and text.isdigit() and int(text) > 0 else 1


def _parse(xml: bytes) -> dict[str, _Table]:
    parser = _Parser(xml)
    try:
        parser.parser.Parse(xml, True)
    except expat.ExpatError as exc:
        raise Damaged(str(exc)) from exc
    return parser.tables


def _cut(xml: bytes, table: _Table, rows: int, columns: int) -> list[tuple[int, int, bytes]]:
    """Edits (start, end, replacement) dropping what lies past rows x columns: whole row
    elements below, cells to the right, and runs straddling the edge shortened."""
    edits: list[tuple[int, int, bytes]] = []
    if rows == 0:  # nothing kept: no row either
        return [(start, end, b"") for _, _, start, end in table.rows]
    for first, last, start, end in table.rows:
        if first > rows:
            edits.append((start, end, b""))
        elif last > rows:
            edits.append(_shorten(xml, start, rows - first + 1))
    for row_first, _, first, last, start, end in table.cells:
        if row_first > rows:
            continue  # its row is dropped whole
        if first > columns:
            edits.append((start, end, b""))
        elif last > columns:
            edits.append(_shorten(xml, start, columns - first + 1))
    return edits


def _shorten(xml: bytes, start: int, count: int) -> tuple[int, int, bytes]:
    """The start tag at `start` with its repeat count set to `count`."""
    tag_end = xml.index(b">", start) + 1
    tag = xml[start:tag_end]
    return start, tag_end, _REPEAT.sub(lambda m: m.group(1) + str(count).encode() + m.group(3),
                                       tag, count=1)


def _apply(xml: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
    """Apply non-overlapping edits; an edit inside an earlier dropped span is moot."""
    pieces = []
    at = 0
    for start, end, replacement in sorted(edits):
        if start < at:
            continue
        pieces += [xml[at:start], replacement]
        at = end
    pieces.append(xml[at:])
    return b"".join(pieces)


def _rewrite(zf: zipfile.ZipFile, content: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as copy:
        for info in zf.infolist():
            data = content if info.filename == _CONTENT else zf.read(info.filename)
            copy.writestr(info.filename, data)
    return out.getvalue()
