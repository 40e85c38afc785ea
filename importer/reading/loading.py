"""Files -> text DataFrames: every cell as the sheet holds it, Excel row numbers kept.

The file is read once (source), spreadsheets through calamine as text, each sheet bounded by
its data (spreadsheets), CSV read as LibreOffice reads the same bytes (delimited). Which row is
the header and which operation a sheet is for is `headers`' business. Hidden sheets are read
only when named; every sheet left out is noted with the reason, to come back in the results.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from importer import excel
from importer.errors import InputError
from importer.reading import exported, headers, undone
from importer.reading.delimited import read_csv
from importer.reading.mapping import ColumnMap, UnclearColumns, propose
from importer.reading.marks import legal_sheet_name
from importer.reading.source import Format, Input, Limits, read_input
from importer.reading.spreadsheets import CONTROL, Book, few, read_workbook
from importer.report import Issue, Severity
from importer.spec.operations import (
    OPERATIONS,
    Operation,
    header_key,
)
from importer.text import (
    column_letter,
    describe_invisible,
    quoted,
    shorten,
    shown,
)

# What one input may cost. Nothing a real rollout needs comes near these; each is refused with
# a message saying which was passed.
MAX_FILE_BYTES = 1 << 30  # the file itself: 1 GiB
MAX_UNPACKED_BYTES = 4 << 30  # one part of a workbook (a sheet's XML) after unzipping
MAX_ROWS = excel.ROWS  # the results workbook could hold no more
MAX_COLUMNS = excel.COLUMNS
MAX_CELLS = 32 * 1_048_576  # rows x columns from A1 to a sheet's last data cell: held in memory
MAX_FIELD_CHARS = 1_000_000  # one CSV field (far past what an Excel cell holds)
DENSE_CELLS = 2_000_000  # a sheet whose grid is this small is read directly, however sparse
# What an Excel cell holds (excel.CELL_CHARS): a longer value is an issue on its row.
LIMITS = Limits(file_bytes=MAX_FILE_BYTES, unpacked_bytes=MAX_UNPACKED_BYTES, rows=MAX_ROWS,
                columns=MAX_COLUMNS, cells=MAX_CELLS, field_chars=MAX_FIELD_CHARS,
                dense_cells=DENSE_CELLS)

SPREADSHEET_SUFFIXES = {".xlsx", ".xlsm", ".xlsb", ".xls", ".ods"}
TEXT_SUFFIXES = {".csv", ".txt", ".tsv"}
@dataclass
class ReadOptions:
    """What the person said about how to read the file (None: guessed), for every shell."""

    encoding: str | None = None  # a CSV's text encoding, e.g. cp1252
    delimiter: str | None = None  # a CSV's field separator
    header_row: int | None = None  # the header's row number, as Excel shows it
    # What the person said a sheet's columns are (sheet name -> mapping), see reading.mapping.
    mapping: dict[str, ColumnMap] = field(default_factory=dict)


@dataclass
class FileReading:
    """The file as a whole: what became of every sheet (name, what, cells of a sheet left out
    to write back unchanged), and how it was read (what, how, whether given or guessed)."""

    sheets: list[tuple[str, str, pd.DataFrame | None]] = field(default_factory=list)
    options: list[tuple[str, str, bool]] = field(default_factory=list)


@dataclass
class Sheet:
    """One input sheet: the raw cells for writing back, the typed-up text for checking."""

    name: str
    operation: Operation
    raw: pd.DataFrame  # every cell as read, positional columns, all rows from row 1
    header_row: int  # position in raw (0-based); Excel row = position + 1
    data: pd.DataFrame  # one column per field of the operation, trimmed text; index = Excel row
    columns: dict[str, int]  # field name -> position in raw
    ignored: list[str] = field(default_factory=list)  # headers that are neither fields nor ours
    result_columns: list[int] = field(default_factory=list)  # status columns of a results file
    issues: list[Issue] = field(default_factory=list)  # found while reading (schemas.check adds)
    file: FileReading = field(default_factory=FileReading)  # shared by the file's sheets
    # Columns read under another name than their header's (header as written, field): an
    # alias the loader knows, or the person's mapping. Shown, never silent.
    renamed: list[tuple[str, str]] = field(default_factory=list)
    chosen: bool = False  # the operation is the person's choice, not what the sheet says

    def column_name(self, pos: int) -> str:
        """How an issue names a column: the field, else its header, else its letter."""
        for name, at in self.columns.items():
            if at == pos:
                return name
        header = self.raw.iat[self.header_row, pos]
        if pd.isna(header) or not str(header).strip():
            return f"Column {column_letter(pos)}"
        return shorten(str(header))

    def header(self, name: str) -> str:
        """The column's header as the user wrote it (the field name when the sheet lacks it)."""
        pos = self.columns.get(name)
        return name if pos is None else str(self.raw.iat[self.header_row, pos])


@dataclass
class Loaded:
    """What `load_input` read: the sheets, and the file's SHA-256 (taken as it was read)."""

    sheets: list[Sheet]
    sha256: str
    size: int


def load(path: Path, operation: str | None = None, sheets: tuple[str, ...] = (),
         limits: Limits = LIMITS, given: ReadOptions | None = None) -> list[Sheet]:
    """Read every usable sheet of `path`; raise InputError (one clear line) when none is usable."""
    return load_input(path, operation, sheets, limits, given).sheets


def load_input(path: Path, operation: str | None = None, sheets: tuple[str, ...] = (),
               limits: Limits = LIMITS, given: ReadOptions | None = None) -> Loaded:
    """As `load`, with the file's SHA-256, so nobody has to open the file a second time."""
    given = given or ReadOptions()
    source = read_input(path, limits)
    book, how = _read(source, sheets, limits, given)
    frames, hidden = book.frames, book.hidden
    forced = OPERATIONS[operation] if operation else None
    only = bool(sheets) or (len(frames) == 1 and not hidden)
    reading = FileReading(options=[*how, _header_option(given)])
    loaded = []
    for sheet_name, raw in frames.items():
        sheet = _sheet(source.name, sheet_name, raw, forced, only, book, given.header_row,
                       given.mapping.get(sheet_name))
        if sheet is None:
            reading.sheets.append((sheet_name, _left_out(raw), raw))
            continue
        sheet.file = reading
        loaded.append(sheet)
        reading.sheets.append((sheet_name, f"read as {sheet.operation.name}", None))
    reading.sheets += [(n, "left out: hidden (name it with --sheet to read it)", None)
                       for n in hidden]
    reading.sheets += [(n, f"left out: {why}", None) for n, why in book.skipped.items()]
    rank = {n: i for i, n in enumerate(book.order)}  # the Summary lists them as the file does
    reading.sheets.sort(key=lambda s: rank.get(s[0], len(rank)))
    name = source.name
    if not loaded:
        if not frames:
            raise InputError(f"{name}: every sheet is hidden ({few(hidden)})", needs="sheet")
        what = ("every sheet is empty" if all(_trim(raw).empty for raw in frames.values())
                else "no sheet has a header row naming known columns" + (
                    "" if hidden else " (e.g. NumberBlockSid, AnswerPoint)"))
        more = f"; hidden sheets ({few(hidden, 2)}) are read only when named" if hidden else ""
        if hidden or what == "every sheet is empty":
            raise InputError(f"{name}: {what}{more}", needs="sheet" if hidden else "rows")
        # The person can say which column is which, in the sheet holding the most cells.
        sheet_name, raw = max(((n, _trim(r)) for n, r in frames.items()),
                              key=lambda f: int(f[1].notna().sum().sum()))
        raise UnclearColumns(f"{name}: {what}", propose(sheet_name, raw, None,
                                                        tuple(OPERATIONS), book.csv))
    if not any(len(s.data) for s in loaded):
        names = few([s.name for s in loaded])
        what = ("the file has a header" if book.csv else "sheet {} has a header"
                if len(loaded) == 1 else "sheets {} have headers")
        raise InputError(f"{name}: {what.format(names)} but no data rows", needs="rows")
    # Purchases run first so configure rows can rely on blocks bought in the same run.
    ordered = sorted(loaded, key=lambda s: s.operation.name != "purchase")
    return Loaded(ordered, source.sha256, len(source.data))


def _header_option(given: ReadOptions) -> tuple[str, str, bool]:
    if given.mapping:
        rows = ", ".join(sorted({f"row {m.header_row}" for m in given.mapping.values()}))
        return ("Header row", f"{rows}, its columns named by hand", True)
    if given.header_row:
        return ("Header row", f"row {given.header_row}", True)
    return ("Header row", "the row naming the most known columns, per sheet", False)


def _left_out(raw: pd.DataFrame) -> str:
    if _trim(raw).empty:
        return "left out: empty (copied here unchanged)"
    return "left out: no header row naming known columns (copied here unchanged)"


def _read(source: Input, wanted: tuple[str, ...], limits: Limits, given: ReadOptions
          ) -> tuple[Book, list[tuple[str, str, bool]]]:
    """The raw sheets to look at, what reading them found, and how the file was read (what,
    how, whether given)."""
    if source.format is not Format.CSV:
        if given.encoding or given.delimiter:
            raise InputError(f"{source.name}: --encoding and --delimiter are for CSV files; "
                             f"this is an {source.format.value}")
        return read_workbook(source, wanted, limits), [("Format", source.format.value, False)]
    suffix = source.path.suffix.lower()
    if suffix not in TEXT_SUFFIXES and suffix != "":
        raise InputError(f"{source.name}: not a spreadsheet ({shown(suffix)}); use .csv, "
                         ".xlsx, .xls or .ods")
    csv = read_csv(source, limits, given.encoding, given.delimiter)
    name = _csv_sheet_name(source.path)
    book = Book({name: csv.frame}, csv=True)
    book.notes[name] = [(row, col, "unclosed_quote", f"on line {line} of the file {why}")
                        for line, row, col, why in csv.problems]
    sep = {"\t": "tab", " ": "space"}.get(csv.delimiter, csv.delimiter)
    how = [("Format", "CSV", False), ("Encoding", csv.encoding, "encoding" in csv.given),
           ("Delimiter", sep, "delimiter" in csv.given)]
    return book, how


def _csv_sheet_name(path: Path) -> str:
    return legal_sheet_name(path.stem)


def _sheet(file: str, name: str, raw: pd.DataFrame, forced: Operation | None, required: bool,
           book: Book, header_at: int | None, mapped: ColumnMap | None = None) -> Sheet | None:
    # A CSV's one sheet is the file: its name said once.
    where = file if book.csv else f"{file}, sheet {quoted(name)}"
    formulas = book.formulas.get(name, [])
    raw = _trim(raw)
    if raw.empty:
        if required:
            raise InputError(f"{where}: the {'file' if book.csv else 'sheet'} is empty",
                             needs="rows")
        return None
    if mapped is not None:
        forced = OPERATIONS[mapped.operation] if mapped.operation else forced
        header_row = mapped.header_row - 1
        if not 0 <= header_row < len(raw):
            raise InputError(f"{where}: no row {mapped.header_row} to read the header from")
        matched = {p: f for p, f in {**headers.matched(raw.iloc[header_row], forced),
                                     **mapped.columns}.items() if f}
    elif header_at is not None:
        header_row, matched = _given_header(where, raw, forced, header_at)
    else:
        header_row, matched = headers.find_header(raw, forced)
    if header_row is None:
        if required:
            hint = headers.no_header_hint(raw) or " (e.g. NumberBlockSid, AnswerPoint)"
            raise UnclearColumns(f"{where}: no header row naming known columns in the first "
                                 f"{headers.HEADER_SEARCH_ROWS} rows{hint}",
                                 propose(name, raw, None, tuple(OPERATIONS), book.csv))
        return None
    op, columns, ignored, results = _columns(where, name, raw, header_row, forced, matched,
                                             mapped, book.csv)
    body = raw.iloc[header_row + 1:]
    rows = pd.RangeIndex(header_row + 2, len(raw) + 1)
    cells = {}
    for f in op.fields:
        if f.name in columns:
            text = body[columns[f.name]].str.strip()
            cells[f.name] = text.mask(text == "").set_axis(rows)
        else:
            cells[f.name] = pd.Series(None, index=rows, dtype="str")
    data = pd.DataFrame(cells, index=rows)
    # A row whose cells are formulas with no saved result reads as empty, but is not.
    unsaved = {r + 1 for r, c in formulas if c in columns.values() and r > header_row}
    data = data[data.notna().any(axis=1) | data.index.isin(unsaved)]
    data.index.name = "row"
    sheet = Sheet(name, op, raw, header_row, data, columns, ignored, results,
                  chosen=bool(mapped and mapped.operation))
    sheet.renamed = [(h, f) for f, pos in columns.items()
                     if header_key(h := str(raw.iat[header_row, pos])) != header_key(f)]
    _too_long(where, sheet, book.long_cells.get(name, []))
    _unsaved_formulas(sheet, formulas)
    _notes(sheet, book.notes.get(name, []))
    _control_characters(sheet)
    exported.note(sheet)  # an export's own columns, and the settings emptied since
    undone.note(sheet)  # an undo workbook's own columns, and what it cannot put back
    return sheet


def _columns(where: str, name: str, raw: pd.DataFrame, header_row: int,
             forced: Operation | None, matched: dict, mapped: ColumnMap | None, csv: bool
             ) -> tuple[Operation, dict[str, int], list[str], list[int]]:
    """The sheet's operation and columns, the person's mapping applied; what the headers
    cannot tell becomes UnclearColumns, with what to ask them."""
    given = mapped.columns if mapped else {}
    op = forced
    try:
        op = forced or headers.operation_for(where, name, set(matched.values()), csv)
        if mapped is not None:
            mapped.check(op, raw.shape[1])
        columns, ignored, results = headers.columns(where, raw, header_row, op, given)
        headers.contradictions(where, raw, header_row, op, forced is not None and not mapped,
                               given)
        headers.require(where, raw, header_row, op, columns)
    except UnclearColumns:
        raise
    except InputError as exc:
        if forced is not None and mapped is None:  # the command line named the operation
            raise
        ops = (op.name,) if op is not None and exc.needs != "operation" else tuple(OPERATIONS)
        raise UnclearColumns(str(exc), propose(name, raw, header_row, ops, csv),
                             exc.needs) from None
    return op, columns, ignored, results


def _given_header(where: str, raw: pd.DataFrame, forced: Operation | None, row: int
                  ) -> tuple[int, dict]:
    """--header-row N: that row is the header, if it names known columns."""
    if row > len(raw):
        raise InputError(f"{where}: --header-row {row} is below the last row with data "
                         f"({len(raw)})")
    matched = headers.matched(raw.iloc[row - 1], forced)
    if not matched:
        hint = headers.no_header_hint(raw.iloc[row - 1:row])
        raise InputError(f"{where}: row {row} (--header-row) names no known column (e.g. "
                         f"NumberBlockSid, AnswerPoint){hint}")
    return row - 1, matched


def _notes(sheet: Sheet, notes: list[tuple[int, int, str, str]]) -> None:
    """What the reader had to read as written (a quote never closed): the row's problem."""
    rows = set(sheet.data.index)
    for row0, col0, code, why in notes:
        if row0 + 1 in rows and col0 < sheet.raw.shape[1]:
            label = sheet.column_name(col0)
            sheet.issues.append(Issue(sheet.name, row0 + 1, label,
                                      shorten(str(sheet.raw.iat[row0, col0])), code,
                                      f"{label} {why}."))


def _control_characters(sheet: Sheet) -> None:
    """A control character (a bell, an escape) in a column the tool does not use is still the
    row's problem: nobody can see it, and the results could not show it. (In the operation's
    columns a rule says so, so that an edit re-checks it.)"""
    fields = set(sheet.columns.values())
    body = sheet.raw.iloc[sheet.header_row + 1:]
    rows = set(sheet.data.index)
    for pos in body.columns:
        if int(pos) in fields:
            continue
        hit = body[pos].str.contains(CONTROL, regex=True, na=False)
        for at in hit.index[hit.to_numpy(dtype=bool)].tolist():
            if at + 1 not in rows:
                continue
            label = sheet.column_name(int(pos))
            value = str(body.at[at, pos])
            sheet.issues.append(Issue(sheet.name, at + 1, label, shorten(shown(value)),
                                      "control_character", f"{label} "
                                      f"{describe_invisible(value).removeprefix('it ')}; "
                                      "delete it."))


def _too_long(where: str, sheet: Sheet, long_cells: list[tuple[int, int, int]]) -> None:
    """Values an Excel cell cannot hold (over 32,767 characters) would be cut in the results.
    In the operation's columns that is a rule the schemas check (so an edit re-checks it);
    here: the other columns (an error on data rows, a warning on rows the tool leaves alone),
    the rows above the data (the file cannot be used as it is), and cells an xlsx reader
    already gave cut (`long_cells`: row, column, length as the file holds it)."""
    raw = sheet.raw
    fields = set(sheet.columns.values())
    found = {(row0, col0): length for row0, col0, length in long_cells
             if row0 < raw.shape[0] and col0 < raw.shape[1]}
    for pos in raw.columns:
        lengths = raw[pos].str.len()
        if lengths.max() > excel.CELL_CHARS:  # NaN (an empty column) compares False
            found.update({(int(at), int(pos)): int(lengths.iat[at]) for at in
                          lengths.index[lengths > excel.CELL_CHARS].tolist()
                          if int(pos) not in fields or (int(at), int(pos)) in found})
    data_rows = set(sheet.data.index)
    for (row0, col0), length in sorted(found.items()):
        row, letter = row0 + 1, column_letter(col0)
        if row0 <= sheet.header_row:
            raise InputError(f"{where}: cell {letter}{row} holds {length:,} characters; an "
                             f"Excel cell holds at most {excel.CELL_CHARS:,}; shorten it")
        name = sheet.column_name(col0)
        message = (f"{name} holds {length:,} characters; an Excel cell holds at most "
                   f"{excel.CELL_CHARS:,}, so the results workbook could not keep it whole. "
                   "Shorten it.")
        sheet.issues.append(Issue(
            sheet.name, row, name, shorten(str(raw.iat[row0, col0])), "too_long", message,
            Severity.ERROR if row in data_rows else Severity.WARNING))



def _unsaved_formulas(sheet: Sheet, formulas: list[tuple[int, int]]) -> None:
    """A formula whose result was never saved reads as empty: say so, not 'X is empty'."""
    fields = {pos: name for name, pos in sheet.columns.items()}
    data_rows = set(sheet.data.index)
    for row0, col0 in formulas:
        row = row0 + 1
        if row0 <= sheet.header_row or col0 >= sheet.raw.shape[1]:
            continue
        name = fields.get(col0)
        if name is None:
            if row in data_rows:
                label = sheet.column_name(col0)
                sheet.issues.append(Issue(
                    sheet.name, row, label, None, "formula_not_saved",
                    f"{label} holds a formula whose result was never saved, so it is read as "
                    "empty; open the file in Excel and save it again.", Severity.WARNING))
            continue
        sheet.issues.append(Issue(
            sheet.name, row, name, None, "formula_not_saved",
            f"{name} holds a formula whose result was never saved; open the file in Excel and "
            "save it again."))


def _blank(cells: pd.Series) -> bool:
    present = cells.dropna()
    return bool(present.astype("str").str.strip().eq("").all())


def _trim(raw: pd.DataFrame) -> pd.DataFrame:
    """Drop trailing empty rows and columns (blank or spaces only: spreadsheets keep formatted
    or cleared cells in the used range); keep inner ones so positions match the sheet."""
    filled = raw.notna()
    rows = filled.any(axis=1).to_numpy().nonzero()[0]
    last_row = next((int(r) for r in reversed(rows) if not _blank(raw.iloc[r])), None)
    if last_row is None:
        return raw.iloc[0:0, 0:0]
    cols = filled.iloc[: last_row + 1].any(axis=0).to_numpy().nonzero()[0]
    last_col = next(int(c) for c in reversed(cols) if not _blank(raw.iloc[: last_row + 1, c]))
    raw = raw.iloc[: last_row + 1, : last_col + 1].reset_index(drop=True)
    raw.columns = range(raw.shape[1])
    return raw
