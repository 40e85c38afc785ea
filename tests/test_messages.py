"""The words a marketing person reads: each row problem and each unusable sheet, exactly.

Messages name the real reason (an unallocated range, a letter, an invisible character and
where it is), offer the near miss ("did you mean endpoint?"), show values escaped and
shortened, and never carry a library's wording.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from importer.checking.schemas import check
from importer.errors import InputError
from importer.reading.loading import load
from importer.text import shorten, shown

PURCHASE = ["PropertySid", "NumberBlockSid", "AnswerPoint"]
CONFIGURE = ["AccountSid", "NumberBlockSid", "RoutingMethod", "EndpointNumber", "Recording"]


def _file(tmp_path: Path, header: list[str], rows: list[list[str]]) -> Path:
    path = tmp_path / "sheet.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([header, *rows])
    return path


def messages(tmp_path: Path, header: list[str], rows: list[list[str]],
             operation: str | None = None) -> dict[tuple[int | None, str | None], str]:
    (sheet,) = load(_file(tmp_path, header, rows), operation)
    return {(i.row, i.column): i.message for i in check(sheet).issues}


def load_error(tmp_path: Path, header: list[str], rows: list[list[str]],
               operation: str | None = None) -> str:
    with pytest.raises(InputError) as err:
        load(_file(tmp_path, header, rows), operation)
    message = str(err.value)
    assert "\n" not in message
    return message.split(": ", 1)[1]  # without the file name


@pytest.mark.parametrize(("value", "why"), [
    ("0445746282", "no Australian number starts with 0445 (that range is not allocated)"),
    ("0441 234 567", "no Australian number starts with 0441 (that range is not allocated)"),
    ("0412 345", "it has 7 digits; a mobile number has 10, such as 0412 345 678"),
    ("0412 345 6789", "it has 11 digits; a mobile number has 10, such as 0412 345 678"),
    ("02 9876 543", "it has 9 digits; a landline number has 10, such as 02 9876 5432"),
    ("1900 123 456", "it is a premium-rate (190x) number; use a landline (02, 03, 07 or 08), "
                     "a mobile (04), or a 1300, 1800 or 13 number"),
    ("+44 20 7946 0958", "it is a number outside Australia (+44)"),
    ("08 9162 1234", "it is a Christmas Island or Cocos Islands number, not an Australian one"),
    ("1300 FLOWERS", "it contains a letter ('F' at position 6); write the number in digits"),
    ("0412\u2013345\u2013678", "it contains '\u2013' (en dash, U+2013) at position 5, which "
                               "only looks like '-'"),
    ("0412\u200b345678", "it contains an invisible character (zero width space, U+200B) at "
                         "position 5"),
])
def test_why_an_answering_point_is_not_valid(tmp_path: Path, value: str, why: str) -> None:
    found = messages(tmp_path, PURCHASE, [["PRDEMO0001", "NB1", value]])
    assert found == {(2, "AnswerPoint"): f"'{shown(value)}' is not a valid Australian "
                                         f"answering point: {why}."}


@pytest.mark.parametrize(("value", "why"), [
    ("NB 1", "it contains a space at position 3"),
    ("NB\u200b1", "it contains an invisible character (zero width space, U+200B) at "
                  "position 3"),
    ("\u041dB1", "it contains '\u041d' (cyrillic capital letter en, U+041D) at position 1, "
                 "which only looks like 'H'"),
    ("NB\uff11", "it contains '\uff11' (fullwidth digit one, U+FF11) at position 3, which "
                 "only looks like '1'"),
    ("NB/1", "it contains '/' at position 3"),
    ("NB\x1b1", "it contains an invisible character (control character, U+001B) at "
                "position 3"),
])
def test_why_a_sid_is_not_valid(tmp_path: Path, value: str, why: str) -> None:
    found = messages(tmp_path, PURCHASE, [["PRDEMO0001", value, "0412345678"]])
    assert found == {(2, "NumberBlockSid"): f"'{shown(value)}' is not a valid NumberBlockSid: "
                                            f"{why}; use only letters, digits, _ and -."}


def test_a_long_value_is_shown_shortened_with_its_length(tmp_path: Path) -> None:
    value = "N" * 10_000
    found = messages(tmp_path, PURCHASE, [["PRDEMO0001", value, "0412345678"]])
    message = found[(2, "NumberBlockSid")]
    assert message == (f"'{shorten(value)}' is not a valid NumberBlockSid: it is 10,000 "
                       "characters long; use only letters, digits, _ and -, at most 64.")
    assert "(10,000 characters)" in shorten(value) and len(message) < 200


@pytest.mark.parametrize(("column", "value", "hint"), [
    ("RoutingMethod", "end point", " Did you mean endpoint?"),
    ("RoutingMethod", "app", " Did you mean application?"),
    ("RoutingMethod", "Flows", " Did you mean flow?"),
    ("RoutingMethod", "teleport", ""),
    ("Recording", "enable", " Did you mean enabled?"),
])
def test_choices_suggest_the_near_miss(tmp_path: Path, column: str, value: str,
                                       hint: str) -> None:
    row = {"AccountSid": "ACDEMO0001", "NumberBlockSid": "NB1", "RoutingMethod": "endpoint",
           "EndpointNumber": "0298765432", "Recording": ""}
    row[column] = value
    found = messages(tmp_path, CONFIGURE, [list(row.values())], "configure")
    choices = "endpoint, flow, application" if column == "RoutingMethod" else "enabled, disabled"
    assert found[(2, column)] == (f"'{value}' is not allowed in {column}: use one of "
                                  f"{choices}.{hint}")


def test_yes_no_suggests_the_near_miss(tmp_path: Path) -> None:
    found = messages(tmp_path, [*PURCHASE, "Active"], [["PRDEMO0001", "NB1", "0412345678",
                                                        "ture"]])
    assert found[(2, "Active")] == ("'ture' is not a yes/no value: use TRUE or FALSE (yes/no, "
                                    "y/n and 1/0 work too). Did you mean TRUE?")


def test_ignored_columns_suggest_the_column_meant(tmp_path: Path) -> None:
    header = [*PURCHASE, "Campain", "Camp\u200baign", "Notes"]
    found = messages(tmp_path, header, [["PRDEMO0001", "NB1", "0412345678", "a", "b", "c"]])
    assert found[(None, "Campain")] == ("Column 'Campain' is not used by purchase and was "
                                        "ignored. Did you mean Campaign?")
    assert found[(None, "Camp\u200baign")] == (
        "Column 'Camp\\u200baign' is not used by purchase and was ignored. Its header contains "
        "an invisible character (zero width space, U+200B) at position 5; retype it as "
        "Campaign to use the column.")
    assert found[(None, "Notes")] == "Column 'Notes' is not used by purchase and was ignored."


def test_a_missing_column_points_at_its_near_miss(tmp_path: Path) -> None:
    header = ["PropertySid", "NumberBlockSid", "Answer Pt"]
    assert load_error(tmp_path, header, [["PRDEMO0001", "NB1", "0412345678"]], "purchase") == (
        "no AnswerPoint column; purchase needs it (header row 1); the header of column C "
        "('Answer Pt'): did you mean AnswerPoint?")


def test_a_header_with_an_invisible_character_is_pointed_at(tmp_path: Path) -> None:
    header = ["PropertySid", "Number\u200bBlockSid", "AnswerPoint"]
    assert load_error(tmp_path, header, [["PRDEMO0001", "NB1", "0412345678"]]) == (
        "no NumberBlockSid column; purchase needs it (header row 1); the header of column B "
        "('Number\\u200bBlockSid') contains an invisible character (zero width space, U+200B) "
        "at position 7; retype it as NumberBlockSid")


def test_no_header_found_names_the_near_miss(tmp_path: Path) -> None:
    header = ["PropertySid", "NumberBlokSid", "Answer Pt"]
    assert load_error(tmp_path, header, [["PRDEMO0001", "NB1", "0412345678"]]).endswith(
        "no header row naming known columns in the first 30 rows; row 1 has 'NumberBlokSid': "
        "did you mean NumberBlockSid?")


@pytest.mark.parametrize(("header", "operation", "message"), [
    (["PropertySid", "NumberBlockSid", "AnswerPoint", "Description"], "configure",
     "--operation configure was given, but it has purchase columns (AnswerPoint, "
     "Description) that configure does not use; use --operation purchase, or remove them"),
    (["AccountSid", "NumberBlockSid", "RoutingMethod"], "purchase",
     "--operation purchase was given, but it has a configure column (RoutingMethod) that "
     "purchase does not use; use --operation configure, or remove it"),
])
def test_columns_of_the_other_operation(tmp_path: Path, header: list[str], operation: str,
                                        message: str) -> None:
    rows = [["X1", "NB1", "endpoint" if "RoutingMethod" in header else "0412345678", "d"]]
    assert load_error(tmp_path, header, [r[: len(header)] for r in rows], operation) == message


def test_a_tag_column_of_the_other_operation_is_only_ignored(tmp_path: Path) -> None:
    """A Description column (purchase's) in a configure sheet is someone's notes: ignored."""
    header = [*CONFIGURE, "Description"]
    found = messages(tmp_path, header, [["ACDEMO0001", "NB1", "endpoint", "0298765432", "",
                                         "notes"]], "configure")
    assert found == {(None, "Description"): "Column 'Description' is not used by configure "
                                            "and was ignored."}


def test_the_sheet_name_saying_configure_is_contradicted(tmp_path: Path) -> None:
    from tests.util import write_xlsx

    path = write_xlsx(tmp_path / "b.xlsx", {"Configure": [PURCHASE, ["PR1", "NB1",
                                                                     "0412345678"]]})
    with pytest.raises(InputError, match=r"sheet 'Configure': the sheet's name says configure, "
                                         r"but it has a purchase column \(AnswerPoint\)"):
        load(path)


def test_sheet_and_file_names_are_shown_escaped(tmp_path: Path) -> None:
    from tests.util import write_xlsx

    path = write_xlsx(tmp_path / "n\x1bame.xlsx", {"Pur\u200bchase": [PURCHASE]})
    with pytest.raises(InputError) as err:
        load(path)
    assert str(err.value).endswith("n\\x1bame.xlsx: sheet 'Pur\\u200bchase' has a header but "
                                   "no data rows")


@pytest.mark.parametrize(("path", "said"), [
    (".", ".: is a folder, not a spreadsheet"),
    ("", ".: is a folder, not a spreadsheet"),
    ("~", "~: file not found (~ is not your home folder here; give the full path)"),
    ("~/rollout.xlsx", "file not found (~ is not your home folder here"),
])
def test_odd_paths_get_one_line_and_exit_2(tmp_path: Path, path: str, said: str,
                                           capsys: pytest.CaptureFixture,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 22: `importer validate .` ended in "internal error: ValueError"."""
    from importer.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["validate", path]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert said in line and "internal error" not in line


_LONG = "Ünïcødé sheet name that goes on"  # 31 characters
_ZW = "\u200b"


def _book(path: Path, sheets: dict[str, list[list[str]]], hidden: bool = False) -> Path:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    for name, rows in sheets.items():
        ws = book.add_worksheet(name)
        for r, row in enumerate(rows):
            ws.write_row(r, 0, row)
        if hidden:
            ws.hide()
    if hidden:
        book.add_worksheet("Shown")  # one sheet must stay visible
    book.close()
    return path


@pytest.mark.parametrize("case", ["hidden", "not-named", "dup-columns", "missing-near",
                                  "other-op", "headers-zw"])
def test_every_reader_message_is_one_short_line(tmp_path: Path, case: str) -> None:
    """Issue 21 item 4: whatever the file holds, at most ~200 characters after the file name."""
    many = {f"{_LONG[:28]}{i:03d}": [["x"]] for i in range(40)}
    long = "H" * 500
    sheets: tuple[str, ...] = ()
    operation = None
    if case in ("hidden", "not-named"):
        path = _book(tmp_path / "b.xlsx", many, hidden=case == "hidden")
        sheets = ("Nope", *[f"Missing {i} " * 5 for i in range(9)]) if case == "not-named" else ()
    else:
        header = {
            "dup-columns": [f"NumberBlockSid {_ZW}", "Number Block Sid" + " " * 200, long],
            "missing-near": [f"Property{_ZW}Sid", f"Number{_ZW}BlockSid", long],
            "other-op": ["PropertySid", "NumberBlockSid", "AnswerPoint", "Description",
                         "RoutingMethod", "Flow", "Application", "EndpointNumber"],
            "headers-zw": [f"{_ZW}{h}{'y' * 60}" for h in ("PropertySid", "NumberBlockSid")] * 5,
        }[case]
        path = _book(tmp_path / "b.xlsx", {"Purchase": [header, ["PRDEMO0001"] * len(header)]})
        operation = "purchase" if case == "other-op" else None
    with pytest.raises(InputError) as err:
        load(path, operation, sheets)
    message = str(err.value)
    assert "\n" not in message
    after = message.split(": ", 1)[1]  # the file's (and sheet's) name apart
    assert len(after) <= 200, (len(after), message)


def test_an_endpoint_number_is_called_a_phone_number_not_an_answering_point(
        tmp_path: Path) -> None:
    """Issue 30 item 11: EndpointNumber is where calls are sent, not an answering point."""
    found = messages(tmp_path, CONFIGURE, [["ACDEMO0001", "NB1", "endpoint", "123", ""]])
    assert found[(2, "EndpointNumber")].startswith(
        "'123' is not a valid Australian phone number: ")
