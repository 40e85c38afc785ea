"""Workbooks (xlsx, xls, ods) -> one text frame per sheet, each costing what its cells cost.

calamine reads every value (the common path, ~6x faster than openpyxl), but it builds a grid
from A1 to the last cell holding anything; so each sheet is measured first (ooxml, odf, biff)
and, when stray cells far from the data would inflate that grid, calamine is given a copy of
the workbook in which those cells are gone. Values therefore always come from calamine, read
the same way whatever path was taken.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import zip_longest

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from python_calamine import CalamineSheet, CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

from importer import excel
from importer.errors import InputError
from importer.reading import bands, biff, marks, odf, ooxml
from importer.reading.extent import Extent, Measured
from importer.reading.source import NOT_EXCEL, Format, Input, Limits
from importer.text import quoted, quoted_list, shorten

# Excel's error values, as a cell holding a formula's failed result shows them (and a CSV
# saved from it holds them): a cell holding one is named, never read as empty.
ERROR_VALUES = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A",
                          "#GETTING_DATA", "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!",
                          "#CONNECT!", "#BUSY!", "#UNKNOWN!"})
# Control characters nobody can see (tab, line feed and carriage return are text in a cell).
CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"


@dataclass
class Book:
    """The sheets read, the hidden sheets left out, and per sheet the (row, column), 0-based,
    of formula cells whose result was never saved, and (row, column, length) of cells longer
    than an Excel cell (read cut to 32,767 characters)."""

    frames: dict[str, pd.DataFrame]
    hidden: list[str] = field(default_factory=list)
    formulas: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    long_cells: dict[str, list[tuple[int, int, int]]] = field(default_factory=dict)
    # per sheet (row, column, code, why) of cells read as written (a CSV quote never closed)
    notes: dict[str, list[tuple[int, int, str, str]]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # sheets not read, and why
    csv: bool = False  # one sheet, which is the file
    order: list[str] = field(default_factory=list)  # every sheet's name, in the file's order


def read_workbook(source: Input, wanted: tuple[str, ...], limits: Limits) -> Book:
    """The visible sheets (or the ones named), as text, each bounded by its data."""
    measured = Measured()
    data = source.data
    if source.format in (Format.ODS, Format.XLS):  # calamine reads these whole on opening
        measured = _measure(source, lambda: _EAGER[source.format](data, limits), limits)
        data = measured.patched or data
    workbook = _open(source, data)
    names, hidden, skipped = _choose(source, workbook, wanted)
    order = list(workbook.sheet_names)
    if not names:
        return Book({}, hidden, skipped=skipped, order=order)
    if source.format is Format.XLSX:
        measured = _measure(source, lambda: ooxml.measure(data, names, limits), limits)
        if measured.patched is not None:
            workbook = _open(source, measured.patched)
    for name in names:
        if name in measured.refused:
            raise InputError(f"{source.name}, sheet {quoted(name)}: {measured.refused[name]}")
    frames: dict[str, pd.DataFrame] = {}
    failure: Exception | None = None
    for name in names:
        try:
            frames[name] = frame(_bands(source, workbook, measured.patched or data, name,
                                        measured.extents.get(name), limits))
        except Exception as exc:  # calamine raises its own error types for damaged parts
            if wanted:  # a sheet asked for by name is read, or the file is refused
                raise _not_excel(source, exc) from exc
            failure = exc  # a chart sheet, say: read the others, name this one
            skipped[name] = "could not be read (a chart sheet, or a damaged one)"
    if failure is not None and not frames:
        raise _not_excel(source, failure) from failure
    formulas = {name: e.formulas for name, e in measured.extents.items() if e.formulas}
    book = Book(frames, hidden, formulas, skipped=skipped, order=order)
    if source.format is Format.XLSX:
        for name, sheet in frames.items():
            extent = measured.extents.get(name) or Extent()
            if _maybe_cut(sheet) or (extent.has_errors and extent.errors is None):
                extent = _measure(source, lambda n=name: _careful(data, n, limits),
                                  limits).extents[name]
            book.long_cells[name] = extent.long_cells
            _error_values(sheet, extent.errors or [])
    else:
        for name, sheet in frames.items():
            _error_values(sheet, (measured.extents.get(name) or Extent()).errors or [])
    return book


def _bands(source: Input, workbook: CalamineWorkbook, data: bytes, name: str,
           extent: Extent | None, limits: Limits) -> Iterator[CalamineSheet]:
    """The sheet whole, or (a big xlsx sheet) in bands of rows: see `bands`."""
    if source.format is not Format.XLSX or extent is None or not bands.wanted(
            extent.rows * extent.columns):
        yield workbook.get_sheet_by_name(name)
        return
    for book in bands.books(data, name, limits.unpacked_bytes, bands.rows_for(extent.columns)):
        sheet = _open(source, book).get_sheet_by_name(name)
        del book  # not held while the band is read
        yield sheet


def _careful(data: bytes, name: str, limits: Limits) -> Measured:
    return Measured({name: ooxml.careful(data, name, limits)})


def _error_values(frame: pd.DataFrame, errors: list[tuple[int, int, str]]) -> None:
    """calamine reads an error value (#N/A) as empty: put its text back, so the checks name
    it and the results workbook shows it."""
    for row, col, text in errors:
        if row < frame.shape[0] and col < frame.shape[1] and pd.isna(frame.iat[row, col]):
            frame.iat[row, col] = text


def _maybe_cut(frame: pd.DataFrame) -> bool:
    """calamine gives an xlsx cell longer than Excel allows cut to exactly 32,767 characters."""
    return any(frame[c].str.len().max() == excel.CELL_CHARS for c in frame.columns)


_EAGER = {Format.ODS: odf.measure, Format.XLS: biff.measure}


def frame(sheets: Iterable[CalamineSheet]) -> pd.DataFrame:
    """The sheet's cells as text, exactly as `pandas.read_excel(engine="calamine", dtype=str,
    keep_default_na=False, na_values=[""], header=None)` gives them, without its per-cell
    Python conversion where a column is all text (a third of the read time saved). The sheet
    comes whole or in bands of rows (`sheets`), each placed at its own first row and column;
    Python objects are made for one band at a time, the columns kept in Arrow."""
    columns: list[list[pa.Array]] = []
    height = 0
    for sheet in sheets:
        rows, start = sheet.to_python(skip_empty_area=True), sheet.start
        del sheet  # this band's grid goes before the next is read
        if not rows or start is None:
            continue
        top, left = start
        width = left + len(rows[0])
        columns += [[_nulls(height)] for _ in range(width - len(columns))]
        cells = zip_longest(*rows, fillvalue="")
        for c, parts in enumerate(columns):
            if top > height:
                parts.append(_nulls(top - height))
            parts.append(_column(next(cells)) if left <= c < width else _nulls(len(rows)))
        height = top + len(rows)
        del rows, cells
    return pd.DataFrame({i: pd.array(pa.chunked_array(p, pa.large_string()), dtype="str")
                         for i, p in enumerate(columns)},
                        index=pd.RangeIndex(height), columns=pd.RangeIndex(len(columns)))


_NULL = pa.scalar(None, pa.large_string())


def _nulls(n: int) -> pa.Array:
    return pa.nulls(n, pa.large_string())


def _column(cells: tuple[object, ...]) -> pa.Array:
    if set(map(type, cells)) == {str}:
        text = pa.array(cells, pa.large_string())
        return pc.if_else(pc.equal(text, ""), _NULL, text)
    return pa.array([v if v.__class__ is str and v else _text(v) for v in cells],
                    pa.large_string())


def _text(value: object) -> str | None:
    """A non-text cell as pandas writes it: integral floats without `.0`, dates as midnight."""
    kind = type(value)
    if kind is str:  # only the empty string gets here: an empty cell
        return None
    if kind is float:
        return str(int(value)) if value.is_integer() else str(value)  # type: ignore[attr-defined]
    if kind is date:
        return str(datetime(value.year, value.month, value.day))  # type: ignore[attr-defined]
    return str(value)


def _open(source: Input, data: bytes) -> CalamineWorkbook:
    try:
        return CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:  # calamine raises its own error types for damaged files
        raise _not_excel(source, exc) from exc


def few(names: list[str], shown_at_most: int = 3) -> str:
    """`'A', 'B', 'C' and 7 more`: names in a one-line message, however many there are."""
    more = len(names) - shown_at_most
    listed = quoted_list([shorten(n, 40) for n in names[:shown_at_most]])
    return f"{listed} and {more} more" if more > 0 else listed


def _choose(source: Input, workbook: CalamineWorkbook, wanted: tuple[str, ...]
            ) -> tuple[list[str], list[str], dict[str, str]]:
    """The sheets to read (the named ones, else the visible ones), the hidden left out, and
    the others left out with why."""
    try:
        meta = workbook.sheets_metadata
    except Exception as exc:
        raise _not_excel(source, exc) from exc
    names = [m.name for m in meta]
    ours = marks.tool_sheets(source.data) if source.format in (Format.XLSX, Format.ODS) else set()
    if wanted:
        missing = [w for w in wanted if w not in names]
        if missing:
            raise InputError(f"{source.name}: no sheet named {few(missing, 2)} (sheets: "
                             f"{few(names)})")
        return list(dict.fromkeys(wanted)), [], {n: "not named with --sheet" for n in names
                                                 if n not in wanted}
    charts = {m.name for m in meta if m.typ != SheetTypeEnum.WorkSheet}
    hidden = [m.name for m in meta if m.visible != SheetVisibleEnum.Visible
              and m.name not in charts]
    skipped = {n: "a chart sheet (it holds no cells)" for n in names if n in charts}
    # The sheets this tool added to a results workbook (Summary, Errors) are never input.
    skipped.update({n: "this tool's own sheet, written afresh" for n in names if n in ours})
    return [m.name for m in meta if m.visible == SheetVisibleEnum.Visible
            and m.name not in ours and m.name not in charts], hidden, skipped


def _measure(source: Input, scan: Callable[[], Measured], limits: Limits) -> Measured:
    """Run a format scanner, its failures said in plain words (the parser's in `detail`)."""
    try:
        return scan()
    except (ooxml.Damaged, odf.Damaged, biff.Damaged) as exc:
        raise _not_excel(source, exc) from exc
    except biff.Encrypted as exc:
        raise InputError(f"{source.name}: the workbook is password-protected; save a copy "
                         "without a password and use that") from exc
    except ooxml.TooLarge as exc:
        raise InputError(f"{source.name}: a part of this workbook unpacks to more than "
                         f"{limits.unpacked_bytes / 2**30:,.0f} GB; it may be damaged, or "
                         "be too big for this tool", str(exc)) from exc


def _not_excel(source: Input, exc: BaseException) -> InputError:
    suffix = source.path.suffix.lower() or "(no extension)"
    what = NOT_EXCEL.format(suffix=suffix)
    if source.format is Format.ODS:
        what = "is not a working spreadsheet: it may be damaged, or be another kind of file"
    return InputError(f"{source.name}: {what}", f"{type(exc).__name__}: {exc}")
