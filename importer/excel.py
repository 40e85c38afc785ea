"""Excel's own limits, in one place: what a sheet, a cell and a sheet name can hold.

The reader refuses what no results workbook could hold, the checks flag a value longer than a
cell, and the writers cut to the same numbers.
"""

ROWS = 1_048_576  # the last row (1-based)
COLUMNS = 16_384  # the last column, XFD
CELL_CHARS = 32_767  # the text one cell holds
SHEET_NAME_CHARS = 31  # a sheet name's length, counted in UTF-16 units (an emoji counts 2)

# The media type of an .xlsx file, for downloads.
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
