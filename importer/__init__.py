"""Number Block Importer: spreadsheet rows -> Fone Dynamics API calls -> results workbook."""

__version__ = "0.1.0"
