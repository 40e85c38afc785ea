"""The column mapping form's data: what the loader proposed, as JSON for the page, and the
person's answer, back as the loader's own `ColumnMap`.

The choices offered (each operation's columns, which are required, their help) come from the
operation specs and the guesses from the loader (`reading.mapping`); the page only shows them.
"""

from __future__ import annotations

from importer.reading.mapping import ColumnMap
from importer.spec.operations import OPERATIONS
from importer.text import column_letter
from importer.web.workspace import Pending


def describe(pending: Pending) -> dict:
    """The form for a waiting upload: its columns with guesses, the operations to choose
    from (their columns), and the core's words for what it could not tell."""
    proposal = pending.proposal
    operations = []
    for name in proposal.operations:
        op = OPERATIONS[name]
        operations.append({
            "name": op.name, "title": op.title, "summary": op.summary,
            "fields": [{"name": f.name, "help": f.help, "required": f.required,
                        "one_of": f.name in op.one_of} for f in op.fields],
            "guesses": {str(p): f for p, f in proposal.guesses[name].items()},
        })
    return {"mapping": {
        "id": pending.id, "name": pending.name, "message": pending.message,
        "sheet": None if proposal.csv else proposal.sheet,
        "header_row": proposal.header_row,
        "operation": proposal.operations[0] if len(proposal.operations) == 1 else None,
        "reading": pending.reading or None,  # the operation chosen already (changing it)
        "replaces": pending.replaces or None,
        "operations": operations,
        "columns": [{"position": p, "letter": column_letter(p), "header": h, "values": v}
                    for p, h, v in proposal.columns],
    }}


def answer(pending: Pending, body: dict) -> tuple[str, ColumnMap]:
    """The sheet and mapping the page sent (ValueError when it is not one): the columns and
    the operation, or only another row to read the header from."""
    row = body.get("header_row", pending.proposal.header_row)
    if not isinstance(row, int) or isinstance(row, bool) or row < 1:
        raise ValueError("Give the header's row as a number from 1.")
    if "operation" not in body:  # the header is on another row: the loader reads it there
        return pending.proposal.sheet, ColumnMap(row)
    operation = body.get("operation")
    if operation not in pending.proposal.operations:
        raise ValueError("Choose what the file is for: purchase or configure.")
    given = body.get("columns")
    if not isinstance(given, dict):
        raise ValueError("Say which column is which.")
    positions = {p for p, _, _ in pending.proposal.columns}
    columns = {}
    for key, value in given.items():
        if not str(key).isdigit() or int(key) not in positions or not isinstance(value, str):
            raise ValueError("That column mapping is not one of this file's columns.")
        columns[int(key)] = value
    # Every column of the form is answered: one left blank is not used, whatever its header.
    columns.update({p: "" for p in positions - columns.keys()})
    if row != pending.proposal.header_row:
        raise ValueError("Read the header from that row first, then say which column is which.")
    return pending.proposal.sheet, ColumnMap(row, operation, columns)
