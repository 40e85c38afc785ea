"""How the results workbook looks, shared by its sheets: a colour per status, the fills of
cells with problems, the formats, row heights for wrapped text, the hidden record columns
(the print setup is results/pages.py)."""

from __future__ import annotations

import pandas as pd
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from importer.reading import exported, undone
from importer.report import Status
from importer.spec.operations import header_key

WIDTH_CAP, MESSAGE_CAP = 40, 50  # widest a column gets; longer text wraps
LINE_HEIGHT, MAX_HEIGHT = 15, 409  # points: one line of 11-point text; Excel's tallest row

# One colour per status (fill, text).
STATUS_COLOURS = {
    Status.OK: ("#C6EFCE", "#006100"),
    Status.INVALID: ("#FFC7CE", "#9C0006"),
    Status.REJECTED: ("#F8CBAD", "#843C0C"),
    Status.FAILED: ("#D9C3E9", "#5B2C83"),
    Status.UNKNOWN: ("#B7E1DA", "#0E5C52"),
    Status.SKIPPED: ("#E7E6E6", "#3A3A3A"),
    Status.VALID: ("#BDD7EE", "#1F4E78"),
}
ERROR_FILL, WARNING_FILL = "#FF9999", "#FFEB84"
_RECORDS = frozenset(header_key(h) for h in (exported.RECORD_HEADER, undone.RECORD_HEADER))


def is_record(header: object) -> bool:
    """A record column (what an export wrote, what an undo cannot put back): the tool's, not
    to be edited, so hidden in every workbook written with it, as the export hides it."""
    return isinstance(header, str) and header_key(header) in _RECORDS


def workbook(target: object) -> xlsxwriter.Workbook:
    """A streaming workbook (a results workbook can be a million rows) that writes every value
    as given, never as a formula, a number or a link."""
    return xlsxwriter.Workbook(target, {
        "constant_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
        "strings_to_urls": False,
        # Text at the top of tall rows, set once for every cell (a format per cell costs).
        "default_format_properties": {"font_name": "Calibri", "font_size": 11,
                                      "valign": "top"}})


class Styles:
    """The formats every sheet of the results workbook shares (made once per workbook)."""


    def __init__(self, book: xlsxwriter.Workbook) -> None:
        def fmt(**props: object) -> Format:
            return book.add_format(props)

        self.header = fmt(bold=True, bg_color="#D9E1F2", bottom=1, text_wrap=True)
        self.result_header = fmt(bold=True, bg_color="#44546A", font_color="#FFFFFF", bottom=1,
                                 text_wrap=True)
        self.error = fmt(bg_color=ERROR_FILL)
        self.warning = fmt(bg_color=WARNING_FILL)
        self.status = {s: fmt(bg_color=bg, font_color=fg, bold=True)
                       for s, (bg, fg) in STATUS_COLOURS.items()}
        self.wrap = fmt(text_wrap=True)
        self.text = fmt(num_format="@")  # id and phone columns, as the template has them
        self.text_wrap = fmt(num_format="@", text_wrap=True)
        self.when = fmt(num_format="d mmm yyyy hh:mm:ss", align="left")
        self.heading = fmt(bold=True, font_size=12, bottom=1)
        self.label = fmt(bold=True)
        self.count = fmt(bold=True, align="center", num_format="#,##0")


def per_line(width: int) -> int:
    """About how many characters of 11-point text one line of a column this wide holds
    (a width counts digits; text is narrower, less what word wrapping leaves unused)."""
    return max(1, int(width * 1.2) - 2)


def lines(text: str, per_line: int) -> int:
    return sum(len(part) // per_line + 1 for part in text.split("\n"))


def tall(ws: Worksheet, r: int, lines: int) -> None:
    """Row height for wrapped text: LibreOffice does not size rows itself when it opens the
    file, so text would spill over the next row on screen and on paper."""
    if lines > 1:
        ws.set_row(r, min(LINE_HEIGHT * lines, MAX_HEIGHT))


def longest(column: pd.Series) -> int:
    """The longest text in a column (vectorised: a million rows take milliseconds)."""
    try:
        most = column.str.len().max()
    except (AttributeError, TypeError):  # not a text column (all empty): look cell by cell
        most = max((len(v) for v in column if isinstance(v, str)), default=0)
    return 0 if pd.isna(most) else int(most)


def fit(chars: int, header: object, cap: int) -> int:
    """A column's width for its longest text (`chars`) and its header, within `cap`."""
    title = len(header) + 3 if isinstance(header, str) else 0  # + the filter button
    return max(6, min(max(chars + 2, title), cap))
