"""`check_rows`: re-checking the rows a person edited gives what a full `check` gives.

The web app re-checks each edit on the server; a full check of a 100,000-row sheet takes about
half a second, so only the edited rows are checked again, plus the rows whose NumberBlockSid
they share before or after the edit (those stop or start being duplicates).
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from importer.checking import edits
from importer.checking.schemas import check, check_rows
from importer.reading.loading import Sheet, load

PURCHASE = ["PropertySid", "NumberBlockSid", "AnswerPoint", "Active", "GroupType", "Notes"]
CONFIGURE = ["AccountSid", "NumberBlockSid", "RoutingMethod", "EndpointNumber", "Flow",
             "Application", "Recording"]


def _sheet(tmp_path: Path, header: list[str], rows: list[list[str]], operation: str) -> Sheet:
    path = tmp_path / f"{operation}.csv"
    path.write_text("\n".join(",".join(r) for r in [header, *rows]) + "\n", encoding="utf-8")
    (sheet,) = load(path, operation)
    return sheet


def purchase_rows(n: int, rng: random.Random) -> list[list[str]]:
    phones = ["0412 345 678", "412345679", "0445746282", "123", "", "+61 2 9876 5432"]
    return [["PRDEMO0001" if rng.random() > 0.05 else "", f"NB{rng.randrange(n * 2):07d}",
             rng.choice(phones), rng.choice(["TRUE", "no", "maybe", ""]),
             rng.choice(["0", "1", "7", ""]), "note"] for _ in range(n)]


def configure_rows(n: int, rng: random.Random) -> list[list[str]]:
    return [["ACDEMO0001", f"NB{rng.randrange(n * 2):07d}",
             rng.choice(["endpoint", "flow", "application", "", "end point"]),
             rng.choice(["0298765432", "", "0445746282"]), rng.choice(["FL1", ""]),
             rng.choice(["AP1", ""]), rng.choice(["enabled", "", "on"])] for _ in range(n)]


EDITS = {
    "purchase": {
        "NumberBlockSid": ["NB 1", "", "NB0000001", "NB0000002", "NB\u200b3"],
        "AnswerPoint": ["0412 345 678", "0445746282", "", "x" * 40_000],
        "Active": ["yes", "ture", ""],
        "GroupType": ["0", "9", "abc"],
        "PropertySid": ["", "PRDEMO0002"],
    },
    "configure": {
        "NumberBlockSid": ["NB0000001", "NB0000002", "", "NB/4"],
        "RoutingMethod": ["endpoint", "flow", "application", "", "app"],
        "EndpointNumber": ["0298765432", "", "123"],
        "Flow": ["FL2", ""],
        "Application": ["AP2", ""],
    },
}


@pytest.mark.parametrize("operation", ["purchase", "configure"])
def test_check_rows_agrees_with_check_after_random_edits(tmp_path: Path, operation: str) -> None:
    rng = random.Random(operation)
    # Small sheets: every round ends with a full check (pandera's report of a failed
    # cross-column check is slow when thousands of rows fail it, as here on purpose).
    rows = (purchase_rows if operation == "purchase" else configure_rows)(300, rng)
    sheet = _sheet(tmp_path, PURCHASE if operation == "purchase" else CONFIGURE, rows,
                   operation)
    checked = check(sheet)
    index = list(sheet.data.index)
    sids = list(sheet.data["NumberBlockSid"].dropna())
    for _ in range(12):  # tests/test_properties.py explores many more, smaller cases
        edited = rng.sample(index, rng.randint(1, 4))
        for row in edited:
            column, choices = rng.choice(list(EDITS[operation].items()))
            value = rng.choice([*choices, rng.choice(sids)] if column == "NumberBlockSid"
                               else choices)
            sheet.data.at[row, column] = value or None
        checked = check_rows(checked, edited)
        full = check(sheet)
        assert checked.issues == full.issues
        assert checked.invalid == full.invalid
    assert any(i.code == "duplicate" for i in checked.issues)


def test_an_edit_that_ends_a_duplicate_clears_the_other_row(tmp_path: Path) -> None:
    rows = [["PRDEMO0001", "NB1", "0412345678", "", "", ""],
            ["PRDEMO0001", "NB1", "0412345678", "", "", ""],
            ["PRDEMO0001", "NB1", "0412345678", "", "", ""]]
    sheet = _sheet(tmp_path, PURCHASE, rows, "purchase")
    checked = check(sheet)
    assert [(i.row, i.code) for i in checked.issues if i.row] == [(3, "duplicate"),
                                                                  (4, "duplicate")]
    sheet.data.at[2, "NumberBlockSid"] = "NB9"  # the first one changes: row 3 is now first
    checked = check_rows(checked, [2])
    assert [(i.row, i.code, i.message) for i in checked.issues if i.row] == [
        (4, "duplicate", "NumberBlockSid NB1 already appears in row 3; each block may appear "
                         "only once in a sheet.")]
    sheet.data.at[3, "NumberBlockSid"] = "NB9"  # now row 3 repeats row 2's new value
    checked = check_rows(checked, [3])
    assert [(i.row, i.code) for i in checked.issues if i.row] == [(3, "duplicate")]
    assert checked.invalid == frozenset({3})


def test_an_edit_that_fills_an_unsaved_formula_cell_clears_it(tmp_path: Path) -> None:
    from tests.util import write_xlsx

    path = write_xlsx(tmp_path / "f.xlsx", {"Purchase": [
        ["PropertySid", "NumberBlockSid", "AnswerPoint"], ["PRDEMO0001", "NB1", "=C3"],
        ["PRDEMO0001", "NB2", "0412345678"]]})
    (sheet,) = load(path)
    checked = check(sheet)
    assert [(i.row, i.column, i.code) for i in checked.issues] == [
        (2, "AnswerPoint", "formula_not_saved")]
    position = sheet.columns["AnswerPoint"]
    edited, before, _ = edits.set_cell(checked, 2, position, "0412 345 679")
    assert before == "=C3" or before is None
    assert edited.issues == check(sheet).issues == []


def test_an_edit_rids_a_cell_of_what_the_reader_noted_about_it(tmp_path: Path) -> None:
    """A quote never closed is a note about the value as read: once the cell is changed the
    note goes (it stayed, and the row stayed INVALID, after a fix in the page); a cell not
    changed keeps it."""
    path = tmp_path / "q.csv"
    path.write_bytes(b'PropertySid,NumberBlockSid,AnswerPoint\nPRDEMO0001,NB1,0412345678\n'
                     b'PRDEMO0001,NB2,"0412 345 679\n')
    (sheet,) = load(path)
    checked = check(sheet)
    noted = [(i.row, i.column) for i in checked.issues if i.code == "unclosed_quote"]
    assert noted and 3 in checked.invalid
    row, column = noted[0]
    position = sheet.columns.get(column)
    assert position is not None
    same = sheet.raw.iat[row - 1, position]
    kept, _, _ = edits.set_cell(checked, row, position, same)
    assert any(i.code == "unclosed_quote" for i in kept.issues)
    fixed, _, _ = edits.set_cell(kept, row, position, "0412 345 679")
    assert not any(i.code == "unclosed_quote" for i in fixed.issues)
    assert row not in fixed.invalid
