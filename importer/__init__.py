"""Number Block Importer: spreadsheet rows -> Fone Dynamics number-block API calls -> results workbook."""

__version__ = "0.1.0"
