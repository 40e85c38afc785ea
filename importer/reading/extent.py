"""How far a sheet's cells really reach, measured before a reader builds a grid for it.

calamine (and pandas on top of it) allocates one grid cell for every position from A1 to the
last cell that holds anything, so a single space typed in XFD1048576 asks for 17 billion cells
and the process dies. The format scanners (ooxml, odf, biff) find where the cells are without
building a grid; `Extent` is what they report, and `far_cells` says it in Excel's words.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from importer.reading.source import Limits
from importer.text import column_letter


@dataclass
class Extent:
    """Where a sheet's cells are (1-based bounds, 0 when there are none).

    `rows`/`columns` bound every cell a reader would place (a cell holding only spaces too);
    `data_rows`/`data_columns` bound the cells holding data; `last_row_cell`/`last_column_cell`
    name the data cells that set those bounds. `formulas` are (row, column), 0-based, of formula
    cells whose result was never saved; `long_cells` (row, column, length) of cells longer than
    an Excel cell (when the scan looked at values).
    """

    rows: int = 0
    columns: int = 0
    data_rows: int = 0
    data_columns: int = 0
    data_cells: int = 0
    last_row_cell: tuple[int, int] = (0, 0)
    last_column_cell: tuple[int, int] = (0, 0)
    formulas: list[tuple[int, int]] = field(default_factory=list)
    long_cells: list[tuple[int, int, int]] = field(default_factory=list)  # (row, col, length)
    errors: list[tuple[int, int, str]] | None = None  # (row, col, #N/A...); None: not looked
    has_errors: bool = False  # the quick scan saw an error cell (t="e")

    def place(self, row: int, column: int, data: bool, count: int = 1) -> None:
        """Note a cell (1-based) that a reader places; `data` when it holds more than spaces;
        `count` cells when it stands for a run ending there."""
        if row > self.rows:
            self.rows = row
        if column > self.columns:
            self.columns = column
        if data:
            self.data_cells += count
            if row > self.data_rows:
                self.data_rows, self.last_row_cell = row, (row, column)
            if column > self.data_columns:
                self.data_columns, self.last_column_cell = column, (row, column)

    @property
    def grid(self) -> int:
        """Cells of the grid a reader builds from A1."""
        return self.rows * self.columns

    @property
    def data_grid(self) -> int:
        return self.data_rows * self.data_columns

    def far_cells(self) -> str:
        """`XFD1048576` or `XFD2 and A1048576`: the cells that make the data reach so far.

        A cell that only ends the sheet's usual width or length (a header cell in the last
        column, say) is not named: clearing it is not what the person should do."""
        by_row, by_column = self.last_row_cell, self.last_column_cell
        far = [cell for cell, reaches in (
            (by_column, by_column[1] > SPARSE * max(by_row[1], 1)),
            (by_row, by_row[0] > SPARSE * max(by_column[0], 1))) if reaches]
        cells = dict.fromkeys(cell_name(*c) for c in (far or [by_column, by_row]))
        return " and ".join(cells)


def cell_name(row: int, column: int) -> str:
    """(1-based row, column) -> `B7`."""
    return f"{column_letter(column - 1)}{row}"


def column_number(letters: str) -> int:
    """`A` -> 1, `XFD` -> 16384."""
    number = 0
    for ch in letters:
        number = number * 26 + (ord(ch) - 64)
    return number


# A sheet's data may be this much sparser than its grid (a rollout sheet is nearly full).
SPARSE = 4


@dataclass
class Measured:
    """What a format scanner found: each sheet's extent, a copy of the file with inflated
    sheets cut back (None: read the file as it is), and the sheets too big to read at all
    (cut to nothing in the copy, so that opening the workbook cannot blow up)."""

    extents: dict[str, Extent] = field(default_factory=dict)
    patched: bytes | None = None
    refused: dict[str, SheetTooBig] = field(default_factory=dict)


class SheetTooBig(Exception):
    """A sheet's data reaches further than the caps allow; the message says where."""

    def __init__(self, sheet: str, message: str) -> None:
        super().__init__(message)
        self.sheet = sheet


def check(name: str, extent: Extent, limits: Limits) -> None:
    """The data of a sheet (trailing cells of spaces not counted) must fit the caps."""
    far = extent.far_cells()
    if extent.data_rows > limits.rows or extent.data_columns > limits.columns:
        raise SheetTooBig(name, f"cell {far} is beyond the last row or column an Excel "
                          f"sheet has ({cell_name(limits.rows, limits.columns)}); the file "
                          "may be damaged")
    if extent.data_grid > max(limits.dense_cells, SPARSE * extent.data_cells):
        raise SheetTooBig(name, f"cell {far} holds data far from the rest of the sheet "
                          f"({extent.data_cells:,} cells with data spread over "
                          f"{extent.data_grid:,} from A1); if {far} should be empty, clear "
                          "it, else move the data together")
    if extent.data_grid > limits.cells:
        raise SheetTooBig(name, f"its data reaches cell {far}, {extent.data_grid:,} cells "
                          f"from A1, more than the {limits.cells:,} this tool reads; if "
                          f"{far} should be empty, clear it, else split the sheet")


def fits(extent: Extent, size: int, limits: Limits) -> bool:
    """Whether the grid a reader builds for this extent costs about what the file holds:
    small, or no more than one grid cell per 20 bytes of the sheet's XML."""
    return (extent.rows <= limits.rows and extent.columns <= limits.columns
            and extent.grid <= limits.cells
            and extent.grid <= max(limits.dense_cells, size // 20))
