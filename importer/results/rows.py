"""The cells of a big sheet, rendered a column at a time and streamed into xlsxwriter.

xlsxwriter spends about 5 us of Python on every cell (checks, a tuple, then the XML); a results
sheet of 100,000 rows has 2.5 million cells. Here each column becomes its cells' XML with
Arrow's string kernels, the columns are joined into rows, and the rows go straight into the
worksheet's constant-memory row file, which xlsxwriter copies into the sheet as it closes.
The XML is what xlsxwriter's own constant-memory writer makes (inline strings, the column's
format where a cell has none, control characters as _xHHHH_); any cell out of the ordinary
(an override, a control character, leading or trailing space, text too long for a cell) is
rendered one by one here with xlsxwriter's own escaping. Everything else of the sheet (widths,
formats, comments, validations, panes, print setup) is xlsxwriter's, through its public calls.

It relies on three documented-in-the-source internals of xlsxwriter 3.x: a constant-memory
worksheet's `row_data_fh` and `dim_*` extents and `previous_row`, and Format._get_xf_index();
tests/test_results_reference.py compares the result with the workbooks xlsxwriter made cell
by cell.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from xlsxwriter.format import Format
from xlsxwriter.utility import _datetime_to_excel_datetime, xl_col_to_name
from xlsxwriter.worksheet import Worksheet
from xlsxwriter.xmlwriter import XMLwriter

from importer import excel

CHUNK = 20_000  # rows rendered at a time: bounded memory for a million rows
_SPECIAL = r"[\x00-\x08\x0b-\x1f\x{FFFE}\x{FFFF}]|_x[0-9a-fA-F]{4}_"  # escaped one by one
_SPACE = re.compile(r"^\s|\s$")  # xlsxwriter's test for xml:space="preserve"
_LONG = 32_767 // 2  # xlsxwriter measures UTF-16 length only past this many characters

Value = str | float | int | datetime | None  # None: a blank cell (written only with a format)


@dataclass
class Column:
    """One output column: its text per row (None or NaN: empty) and its cells' format."""

    values: pd.Series  # positional, one entry per sheet row
    formats: pd.Series | None = None  # per-row format (one per status, say); else the column's
    numbers: bool = False  # values are numbers (written as <v>), not text


@dataclass
class Cells:
    """A sheet's cells: columns in bulk, `cells` one by one (header, marked cells)."""

    rows: int
    columns: dict[int, Column] = field(default_factory=dict)
    cells: dict[tuple[int, int], tuple[Value, Format | None]] = field(default_factory=dict)


def text_cells(raw: pd.DataFrame) -> Cells:
    """Every text cell of a frame, in bulk (anything else in it is left empty)."""
    cells = Cells(len(raw))
    for c, name in enumerate(raw.columns):
        column = raw[name]
        if column.dtype != "str":
            column = column.where(column.map(lambda v: v.__class__ is str), None)
        cells.columns[c] = Column(column)
    return cells


def write(ws: Worksheet, cells: Cells) -> None:
    """Write every cell into `ws`, a constant-memory worksheet with no cell written yet.

    Widths and column formats (set_column), row heights (set_row) and comments must be set
    before: a cell without a format of its own takes its column's, as xlsxwriter does, and
    xlsxwriter refuses row heights and comments for rows it takes as written (all of them).
    """
    if not ws.constant_memory or ws.previous_row or ws.table or any(
            info.row_format is not None for info in ws.row_info.values()):
        raise ValueError("rows.write needs a constant-memory worksheet with no cell written "
                         "and no row format")
    extents = [(ws.dim_rowmin, ws.dim_rowmax, ws.dim_colmin, ws.dim_colmax)] \
        if ws.dim_rowmin is not None else []
    for start in range(0, cells.rows, CHUNK):
        text, extent = _chunk(ws, cells, start, min(start + CHUNK, cells.rows))
        ws.row_data_fh.write(text)
        if extent:
            extents.append(extent)
    if extents:  # the <dimension> element, as xlsxwriter keeps it
        ws.dim_rowmin = min(e[0] for e in extents)
        ws.dim_rowmax = max(e[1] for e in extents)
        ws.dim_colmin = min(e[2] for e in extents)
        ws.dim_colmax = max(e[3] for e in extents)
    ws.previous_row = cells.rows  # xlsxwriter's last-row flush then finds nothing to write


def _chunk(ws: Worksheet, cells: Cells, start: int, end: int) -> tuple[str, list[int]]:
    """Rows start..end-1 as <row> XML, and their extent (first/last row, first/last column)."""
    n = end - start
    numbers = pa.array([str(r + 1) for r in range(start, end)], pa.large_string())
    frags: dict[int, pa.Array] = {}
    for c, column in sorted(cells.columns.items()):
        frags[c] = _column(c, column, _column_format(ws, c), numbers, start, end)
    # The one-by-one cells of these rows replace (or add to) the bulk ones.
    mine = [(r, c, v) for (r, c), v in cells.cells.items() if start <= r < end]
    for c in sorted({c for _, c, _ in mine}):
        override: list[str | None] = [None] * n
        for r, cc, (value, fmt) in mine:
            if cc == c:
                override[r - start] = _cell(r, c, value, fmt or _column_format(ws, c))
        over = pa.array(override, pa.large_string())
        frags[c] = pc.coalesce(over, frags[c]) if c in frags else pc.fill_null(over, _s(""))
    order = sorted(frags)
    if not order:
        return "", []
    joined = pc.binary_join_element_wise(*(frags[c] for c in order), _s(""))
    heights: list[str | None] = [None] * n
    for r in ws.row_info:
        if start <= r < end:
            heights[r - start] = _height(ws, r)
    tall = pa.array(heights, pa.large_string())  # row attributes where set_row set any
    has = pc.not_equal(joined, _s(""))
    start_tag = pc.binary_join_element_wise(_s("<row r=\""), numbers, _s("\""),
                                            pc.fill_null(tall, _s("")), _s(""))
    rows = pc.binary_join_element_wise(start_tag, _s(">"), joined, _s("</row>"), _s(""))
    empty = pc.fill_null(pc.binary_join_element_wise(start_tag, _s("/>"), tall, _s("")), _s(""))
    out = pc.if_else(has, rows, empty)
    used_rows = pc.indices_nonzero(pc.or_(has, pc.is_valid(tall))).to_pylist()
    used_cols = [c for c in order if pc.any(pc.not_equal(frags[c], _s(""))).as_py()]
    extent = [start + used_rows[0], start + used_rows[-1], used_cols[0], used_cols[-1]] \
        if used_rows and used_cols else []
    return _concat(out), extent


def _concat(strings: pa.Array) -> str:
    """All the strings of an array as one (one Python string per row, not per cell)."""
    return "".join(pc.fill_null(strings, _s("")).to_pylist())


def _height(ws: Worksheet, r: int) -> str:
    """The attributes of a <row> that set_row made taller, as xlsxwriter writes them."""
    height = ws.row_info[r].height
    if height == ws.original_row_height and height == ws.default_row_height:
        return ""
    return f" ht=\"{height * 0.75:.16g}\" customHeight=\"1\""


def _s(text: str) -> pa.Scalar:
    """A text scalar of the type every array here has (Arrow does not mix string types)."""
    return pa.scalar(text, pa.large_string())


def _column_format(ws: Worksheet, c: int) -> Format | None:
    info = ws.col_info.get(c)
    return info.column_format if info is not None else None


def _style(fmt: Format | None) -> str:
    return f" s=\"{fmt._get_xf_index()}\"" if fmt is not None else ""


def _column(c: int, column: Column, fmt: Format | None, numbers: pa.Array, start: int,
            end: int) -> pa.Array:
    """The <c> elements of one column over rows start..end-1 ('' where a row has none)."""
    values = column.values.iloc[start:end]
    letter = xl_col_to_name(c)
    style = pa.scalar(_style(fmt), pa.large_string())
    if column.formats is not None:
        given = [None if f is None else _style(f) for f in column.formats.iloc[start:end]]
        style = pc.coalesce(pa.array(given, pa.large_string()), style)
    text = pa.array(values.to_numpy(dtype=object), pa.large_string(), from_pandas=True)
    ref = pc.binary_join_element_wise(_s(f"<c r=\"{letter}"), numbers, _s("\""), _s(""))
    if column.numbers:
        number = pc.binary_join_element_wise(ref, style, _s("><v>"), text, _s("</v></c>"), _s(""))
        return pc.fill_null(number, _s(""))
    special = pc.fill_null(pc.or_(pc.match_substring_regex(text, _SPECIAL),
                                  pc.greater(pc.utf8_length(text), _LONG)), False)
    special = pc.or_(special, _spaced(text))
    escaped = text
    if pc.any(pc.match_substring_regex(text, "[&<>]")).as_py():
        escaped = pc.replace_substring(pc.replace_substring(pc.replace_substring(
            text, "&", "&amp;"), "<", "&lt;"), ">", "&gt;")
    bulk = pc.binary_join_element_wise(ref, style, _s(" t=\"inlineStr\"><is><t>"), escaped,
                                       _s("</t></is></c>"), _s(""))
    if pc.any(special).as_py():
        at = pc.indices_nonzero(special).to_pylist()
        one: list[str | None] = [None] * (end - start)
        styles = column.formats
        for i in at:
            own = styles.iloc[start + i] if styles is not None else None
            one[i] = _cell(start + i, c, values.iloc[i], own or fmt)
        bulk = pc.if_else(special, pa.array(one, pa.large_string()), bulk)
    return pc.fill_null(bulk, _s(""))


def _spaced(text: pa.Array) -> pa.Array:
    """True where the text starts or ends with what Python's \\s matches (xlsxwriter's test)."""
    ends = pa.chunked_array([pc.utf8_slice_codeunits(text, 0, 1),
                             pc.utf8_slice_codeunits(text, -1, 2**31 - 1)])
    spaces = [ch for ch in pc.unique(ends).to_pylist() if ch and _SPACE.match(ch)]
    if not spaces:
        return pc.fill_null(pc.equal(pc.utf8_length(text), -1), False)
    spaces_arr = pa.array(spaces, pa.large_string())
    return pc.fill_null(pc.or_(pc.is_in(pc.utf8_slice_codeunits(text, 0, 1), spaces_arr),
                               pc.is_in(pc.utf8_slice_codeunits(text, -1, 2**31 - 1),
                                        spaces_arr)), False)


def _cell(r: int, c: int, value: object, fmt: Format | None) -> str:
    """One cell, as xlsxwriter's constant-memory writer writes it ('': no cell)."""
    ref = f"{xl_col_to_name(c)}{r + 1}"
    style = _style(fmt)
    if isinstance(value, datetime):
        value = _datetime_to_excel_datetime(value, False, False)
    if isinstance(value, bool) or value is None or (isinstance(value, float) and value != value):
        return f"<c r=\"{ref}\"{style}/>" if fmt is not None else ""
    if isinstance(value, int | float):
        return f"<c r=\"{ref}\"{style}><v>{value:.16G}</v></c>"
    text = XMLwriter._escape_control_characters(_utf16_cut(str(value)))
    preserve = " xml:space=\"preserve\"" if _SPACE.search(text) else ""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f"<c r=\"{ref}\"{style} t=\"inlineStr\"><is><t{preserve}>{escaped}</t></is></c>"


def _utf16_cut(text: str) -> str:
    """Cut to what one cell holds, counted in UTF-16 units as Excel counts (and xlsxwriter)."""
    if len(text) <= _LONG:
        return text
    length = 0
    for index, char in enumerate(text):
        length += 2 if ord(char) > 0xFFFF else 1
        if length > excel.CELL_CHARS:
            return text[:index]
    return text

