"""How sheets of rows are kept in view and printed, the same in every workbook the tool
writes (results, the page's downloads, templates, exports, undo workbooks). No pandas here:
`importer template` and `importer --help` stay light."""

from __future__ import annotations

from xlsxwriter.worksheet import Worksheet

LEAD_COLUMNS = 4  # ids further right than this are not kept in view
FREEZE_ROWS_UP_TO = 8  # a header lower than this is not frozen (it would fill the screen)
FREEZE_WIDTH_CAP = 130  # frozen columns wider than this (in characters) would block scrolling
PRINT_CHARS = 250  # column-width units across an A4 landscape page printed at about 55%


def lead(ids: list[int]) -> int:
    """How many columns on the left hold the row's ids (the positions `ids`): 0 when they
    are not all within the first LEAD_COLUMNS."""
    return max(ids) + 1 if ids and max(ids) < LEAD_COLUMNS else 0


def sheet_setup(ws: Worksheet, header: int, last: int, widths: list[int], frozen: int) -> None:
    """The panes, filter and print of a sheet of rows (results, template, export): the
    header rows and the first `frozen` columns (unless too wide) stay in view on screen and
    are repeated on every printed page, which is landscape A4 fitted to the width, a few
    pages across when it is wide. `widths` of every column, 0 for a hidden one."""
    rows = header + 1 if header < FREEZE_ROWS_UP_TO else 0
    keep = frozen if sum(widths[:frozen]) <= FREEZE_WIDTH_CAP else 0
    ws.freeze_panes(rows, keep)
    ws.autofilter(header, 0, max(header, last), len(widths) - 1)
    print_setup(ws, landscape=True, pages_wide=_pages_wide(widths, sum(widths[:keep])))
    ws.repeat_rows(0, header)
    if keep:
        ws.repeat_columns(0, keep - 1)


def _pages_wide(widths: list[int], repeated: int) -> int:
    """As few pages across as keep the print readable (about 55%): a sheet with 30 columns
    fitted on one page prints at a third of its size."""
    total = sum(widths)
    if total <= PRINT_CHARS:
        return 1
    return max(1, -(-(total - repeated) // max(PRINT_CHARS - repeated, 20)))


def print_setup(ws: Worksheet, landscape: bool, pages_wide: int = 1) -> None:
    """A4, fitted to the page width (or a few pages across), small margins, gridlines and
    page numbers on paper."""
    if landscape:
        ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(pages_wide, 0)
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
    ws.hide_gridlines(0)
    ws.set_footer("&L&A&RPage &P of &N")
