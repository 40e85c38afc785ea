"""Every row rule with good and bad values, through the loader and the pandera schemas."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from importer.checking.rules import parse_phone
from importer.checking.schemas import check
from importer.reading.loading import load
from importer.report import Severity


def issues(tmp_path: Path, header: list[str], rows: list[list[str]], operation: str,
           prefixes: tuple[str, ...] = ()) -> dict[tuple[int, str], tuple[str, Severity]]:
    path = tmp_path / "sheet.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([header, *rows])
    (sheet,) = load(path, operation)
    result = check(sheet, prefixes)
    return {(i.row, i.column): (i.code, i.severity) for i in result.issues if i.row}


def purchase_row(answer: str = "0412 345 678", **over: str) -> list[str]:
    row = {"PropertySid": "PRDEMO0001", "NumberBlockSid": "NB100000", "AnswerPoint": answer,
           "Active": "", "GroupType": "", "MasterMode": ""}
    row.update(over)
    return list(row.values())


PURCHASE = ["PropertySid", "NumberBlockSid", "AnswerPoint", "Active", "GroupType", "MasterMode"]


@pytest.mark.parametrize("value", [
    "0412 345 678", "+61 412 345 678", "61412345678", "412345678", "(02) 9876 5432",
    "02-9876-5432", "0398765432", "07 1234 5678", "1300 123 456", "1800 123 456", "13 12 34",
    "0011 61 412 345 678",
])
def test_valid_answer_points(tmp_path: Path, value: str) -> None:
    assert issues(tmp_path, PURCHASE, [purchase_row(value)], "purchase") == {}


@pytest.mark.parametrize(("value", "code"), [
    ("123", "invalid_phone"),
    ("0441 234 567", "invalid_phone"),  # unallocated mobile range: a shape regex would pass it
    ("+1 650 253 0000", "invalid_phone"),  # valid, but not Australian
    ("1300 FLOWERS", "invalid_phone"),  # vanity letters are not read as digits
    ("4.12E+08", "excel_scientific"),
    ("412345678.0", "excel_damaged"),
    ("4,12E+08", "excel_scientific"),  # as European Excel writes them
    ("412345678,0", "excel_damaged"),
])
def test_invalid_answer_points(tmp_path: Path, value: str, code: str) -> None:
    assert issues(tmp_path, PURCHASE, [purchase_row(value)], "purchase") == {
        (2, "AnswerPoint"): (code, Severity.ERROR)}


def test_phones_are_sent_in_e164() -> None:
    assert parse_phone("412345678") == ("+61412345678", "0412345678")
    assert parse_phone("1300 123 456") == ("+611300123456", "1300123456")


def test_allowed_prefixes(tmp_path: Path) -> None:
    rows = [purchase_row("0412 345 678", NumberBlockSid="NB1"),
            purchase_row("07 1234 5678", NumberBlockSid="NB2"),
            purchase_row("1800 123 456", NumberBlockSid="NB3")]
    found = issues(tmp_path, PURCHASE, rows, "purchase", ("02", "03", "04"))
    assert found == {(3, "AnswerPoint"): ("prefix_not_allowed", Severity.ERROR),
                     (4, "AnswerPoint"): ("prefix_not_allowed", Severity.ERROR)}


@pytest.mark.parametrize("value", ["TRUE", "false", "Yes", "no", "Y", "n", "1", "0", "True"])
def test_booleans(tmp_path: Path, value: str) -> None:
    assert issues(tmp_path, PURCHASE, [purchase_row(Active=value)], "purchase") == {}


@pytest.mark.parametrize("value", ["maybe", "2", "on"])
def test_bad_booleans(tmp_path: Path, value: str) -> None:
    assert issues(tmp_path, PURCHASE, [purchase_row(Active=value)], "purchase") == {
        (2, "Active"): ("not_allowed_value", Severity.ERROR)}


@pytest.mark.parametrize(("column", "value", "code"), [
    ("GroupType", "0", None), ("GroupType", "1", None), ("GroupType", "2", "not_allowed_value"),
    ("GroupType", "-1", "not_allowed_value"), ("GroupType", "one", "invalid_number"),
    ("GroupType", "1.5", "invalid_number"), ("MasterMode", "-32768", None),
    ("MasterMode", "32767", None), ("MasterMode", "32768", "not_allowed_value"),
])
def test_shorts(tmp_path: Path, column: str, value: str, code: str | None) -> None:
    found = issues(tmp_path, PURCHASE, [purchase_row(**{column: value})], "purchase")
    assert found == ({(2, column): (code, Severity.ERROR)} if code else {})


def test_out_of_range_says_what_to_use(tmp_path: Path) -> None:
    path = tmp_path / "sheet.csv"
    path.write_text("PropertySid,NumberBlockSid,AnswerPoint,GroupType,Preamble,MasterMode\n"
                    "PRDEMO0001,NB1,0412345678,3,7,40000\n", encoding="utf-8")
    (sheet,) = load(path, "purchase")
    messages = {i.column: i.message for i in check(sheet).issues}
    assert messages["GroupType"].endswith("use 0 or 1.")
    assert messages["Preamble"].endswith("use a whole number from 0 to 2.")
    assert messages["MasterMode"].endswith("use a whole number from -32768 to 32767.")


@pytest.mark.parametrize(("value", "code"), [
    ("NB100000", None), ("nb_1-2", None), ("NB/../x", "invalid_id"), ("NB 1", "invalid_id"),
    ("NB?x", "invalid_id"), ("NB#1", "invalid_id"), ("NB%2F", "invalid_id"),
    ("1.23E+11", "excel_scientific"), ("123456.0", "excel_damaged"), ("x" * 65, "invalid_id"),
])
def test_ids_that_could_change_the_path_are_invalid(tmp_path: Path, value: str,
                                                     code: str | None) -> None:
    found = issues(tmp_path, PURCHASE, [purchase_row(NumberBlockSid=value)], "purchase")
    assert found == ({(2, "NumberBlockSid"): (code, Severity.ERROR)} if code else {})


def test_required_and_at_least_one(tmp_path: Path) -> None:
    rows = [purchase_row(NumberBlockSid=""), purchase_row("", NumberBlockSid="NB2"),
            purchase_row(PropertySid="", NumberBlockSid="NB3")]
    assert issues(tmp_path, PURCHASE, rows, "purchase") == {
        (2, "NumberBlockSid"): ("required", Severity.ERROR),
        (3, "AnswerPoint"): ("required", Severity.ERROR),
        (4, "AccountSid"): ("at_least_one", Severity.ERROR),
    }


def test_duplicates_name_the_first_row(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("PropertySid,NumberBlockSid,AnswerPoint\nPRDEMO0001,NB1,0412345678\n"
                    "PRDEMO0001,NB2,0412345678\nPRDEMO0001,NB1,0412345678\n")
    (sheet,) = load(path)
    (issue,) = check(sheet).issues
    assert (issue.row, issue.column, issue.code) == (4, "NumberBlockSid", "duplicate")
    assert "row 2" in issue.message


CONFIGURE = ["AccountSid", "NumberBlockSid", "RoutingMethod", "EndpointNumber", "Flow",
             "Application", "Recording"]


def configure(method: str, endpoint: str = "", flow: str = "", app: str = "",
              recording: str = "") -> list[str]:
    return ["ACDEMO0001", "NB090000", method, endpoint, flow, app, recording]


@pytest.mark.parametrize(("row", "expected"), [
    (configure("endpoint", "0298765432"), {}),
    (configure("Endpoint", "0298765432", recording="ENABLED"), {}),
    (configure("endpoint"), {"EndpointNumber": "conditional_required"}),
    (configure("flow", "0298765432", "FL1"), {}),
    (configure("flow", "0298765432"), {"Flow": "conditional_required"}),
    (configure("flow", flow="FL1"), {"EndpointNumber": "conditional_required"}),
    (configure("application", app="APP1"), {}),
    (configure("application"), {"Application": "conditional_required"}),
    (configure("", "0298765432"), {"EndpointNumber": "routing_without_method"}),
    (configure("", flow="FL1", app="A"), {"Flow": "routing_without_method",
                                          "Application": "routing_without_method"}),
    (configure("", recording="enabled"), {}),  # tags/recording alone need no routing
    (configure("teleport"), {"RoutingMethod": "not_allowed_value"}),
    (configure("endpoint", "0298765432", recording="on"), {"Recording": "not_allowed_value"}),
])
def test_conditional_routing(tmp_path: Path, row: list[str], expected: dict[str, str]) -> None:
    found = issues(tmp_path, CONFIGURE, [row], "configure")
    assert {col: code for (_, col), (code, _) in found.items()} == expected
    assert all(sev is Severity.ERROR for _, sev in found.values())


@pytest.mark.parametrize(("row", "unused"), [
    (configure("endpoint", "0298765432", "FL1", "APP"), {"Flow", "Application"}),
    (configure("application", "0298765432", app="APP"), {"EndpointNumber"}),
    (configure("flow", "0298765432", "FL1", "APP"), {"Application"}),
])
def test_routing_fields_the_method_does_not_use_are_warnings(
        tmp_path: Path, row: list[str], unused: set[str]) -> None:
    found = issues(tmp_path, CONFIGURE, [row], "configure")
    assert found == {(2, col): ("not_used", Severity.WARNING) for col in unused}


def test_not_used_fields_are_not_sent() -> None:
    from importer.spec.operations import CONFIGURE as OP
    body = OP.body_for({"AccountSid": "A", "NumberBlockSid": "NB1", "RoutingMethod": "endpoint",
                        "EndpointNumber": "+61298765432", "Flow": "F", "Application": "X"})
    assert body == {"AccountSid": "A", "RoutingMethod": "endpoint",
                    "EndpointNumber": "+61298765432"}
    assert OP.path_for({"NumberBlockSid": "NB1"}) == "/v2/numberblocks/NB1"


def test_phone_key_never_changes_the_answer() -> None:
    """Caching by one spelling per number must give what phonenumbers gives for each spelling."""
    from importer.checking.rules import _parse_key

    nationals = ["0412345678", "0298765432", "0398765432", "0712345678", "0812345678",
                 "0441234567", "1300123456", "1800123456", "131234", "0412345", "0190012345"]
    spellings = set()
    for n in nationals:
        d = n.lstrip("0")
        spellings |= {n, d, "61" + d, "+61" + d, f"+61 {d}", f"({n[:2]}) {n[2:]}", "+610" + d,
                      "0011 61 " + d, f"{n[:4]} {n[4:7]} {n[7:]}", n + "9", "6" + n, "+" + n}
    valid = 0
    for text in spellings:
        direct = _parse_key.__wrapped__(text)  # phonenumbers on the spelling itself, uncached
        assert parse_phone(text) == direct, text
        valid += direct is not None
    assert 30 < valid < len(spellings)  # both answers occur
