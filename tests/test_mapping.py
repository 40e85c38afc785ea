"""Column mapping in the library: what the loader proposes when it cannot tell a sheet's
columns, and the person's answer applied by the same loader (the same rules after it), for
every shell; the command line adds its flag to the same fact."""

from __future__ import annotations

from pathlib import Path

import pytest

from importer.checking.schemas import check
from importer.errors import InputError
from importer.reading.loading import ReadOptions, load, load_input
from importer.reading.mapping import ColumnMap, UnclearColumns, guess
from importer.spec.operations import CONFIGURE, PURCHASE
from tests.util import cli, write_xlsx


def _csv(tmp_path: Path, text: str, name: str = "in.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_guesses_come_from_the_spec_and_the_loaders_matching() -> None:
    headers = list(enumerate(["Property", "Block", "Phone number", "Notes", "Campain",
                              "Mobile phone number"]))
    assert guess(headers, PURCHASE) == {0: "PropertySid", 1: "NumberBlockSid", 2: "AnswerPoint",
                                        4: "Campaign"}  # each field at most once
    assert guess(headers, CONFIGURE)[2] == "EndpointNumber"  # configure's phone column
    assert guess([(0, "Answer point number")], PURCHASE) == {0: "AnswerPoint"}
    assert guess([(0, "Routing"), (1, "Recordings")], CONFIGURE) == {0: "RoutingMethod",
                                                                     1: "Recording"}


def test_unknown_headers_raise_what_to_ask(tmp_path: Path) -> None:
    path = _csv(tmp_path, "Property,Block,Phone number,Notes\nPRDEMO0001,NB1,0412345678,x\n")
    with pytest.raises(UnclearColumns) as caught:
        load(path)
    proposal = caught.value.proposal
    assert caught.value.needs == "operation" and proposal.csv and proposal.header_row == 1
    assert proposal.operations == ("purchase", "configure")
    assert proposal.columns[2] == (2, "Phone number", ["0412345678"])
    assert "sheet" not in str(caught.value) and "--" not in str(caught.value)


def test_the_mapping_goes_through_the_loader_and_its_rules(tmp_path: Path) -> None:
    path = _csv(tmp_path, "Where,Property,Block,Phone number\nx,PRDEMO0001,NB100001,12\n"
                          "y,PRDEMO0001,NB100002,0412 345 678\n")
    mapping = {"in": ColumnMap(1, "purchase", {1: "PropertySid", 2: "NumberBlockSid",
                                               3: "AnswerPoint", 0: ""})}
    (sheet,) = load_input(path, given=ReadOptions(mapping=mapping)).sheets
    assert sheet.operation.name == "purchase" and sheet.chosen
    assert sheet.columns == {"PropertySid": 1, "NumberBlockSid": 2, "AnswerPoint": 3}
    assert sheet.ignored == ["Where"]
    assert ("Phone number", "AnswerPoint") in sheet.renamed
    checked = check(sheet)
    assert checked.invalid == {2}  # the mapped column is checked by AnswerPoint's rules
    assert {i.code for i in checked.issues if i.row == 2} == {"invalid_phone"}


def test_a_mapping_is_checked_against_the_operation(tmp_path: Path) -> None:
    path = _csv(tmp_path, "A,B,C\nPRDEMO0001,NB1,0412345678\n")
    bad = {"in": ColumnMap(1, "purchase", {0: "PropertySid", 1: "NumberBlockSid",
                                           2: "RoutingMethod"})}
    with pytest.raises(UnclearColumns, match="purchase has no RoutingMethod column"):
        load(path, given=ReadOptions(mapping=bad))
    short = {"in": ColumnMap(1, "purchase", {0: "PropertySid", 1: "NumberBlockSid"})}
    with pytest.raises(UnclearColumns, match="no AnswerPoint column; purchase needs it") as c:
        load(path, given=ReadOptions(mapping=short))
    assert c.value.proposal.operations == ("purchase",)  # chosen: not asked again
    twice = {"in": ColumnMap(1, "purchase", {0: "NumberBlockSid", 1: "NumberBlockSid"})}
    with pytest.raises(InputError, match="both mean NumberBlockSid"):
        load(path, given=ReadOptions(mapping=twice))


def test_a_workbook_with_no_known_header_proposes_its_fullest_sheet(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "b.xlsx", {
        "Notes": [["just notes"]],
        "Blocks": [["Prop", "Blk", "Phone"], ["PRDEMO0001", "NB100001", "0412345678"]]})
    with pytest.raises(UnclearColumns, match="no sheet has a header row naming known") as c:
        load(path)
    assert c.value.proposal.sheet == "Blocks" and not c.value.proposal.csv
    mapping = {"Blocks": ColumnMap(1, "purchase", {0: "PropertySid", 1: "NumberBlockSid",
                                                   2: "AnswerPoint"})}
    (sheet,) = load(path, given=ReadOptions(mapping=mapping))
    assert sheet.name == "Blocks" and sheet.data["NumberBlockSid"].tolist() == ["NB100001"]


def test_the_command_line_adds_its_flag_to_the_same_fact(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _csv(tmp_path, "PropertySid,NumberBlockSid,Campaign\nPRDEMO0001,NB1,x\n")
    code, _, err = cli(capsys, "validate", path)
    assert code == 2
    assert "cannot tell whether this file is for purchase or configure (its columns fit both" in err
    assert err.strip().endswith("; pass --operation purchase|configure (or, in a workbook, name "
                                "the sheet Purchase or Configure)")
    code, _, err = cli(capsys, "validate", path, "--operation", "configure")
    assert code == 0, err


def test_result_columns_not_mapped_stay_ours(tmp_path: Path) -> None:
    """A results workbook mapped again: its Status column is the tool's, not the person's."""
    path = _csv(tmp_path, "Prop,Blk,Phone,Status\nPRDEMO0001,NB1,0412345678,OK\n")
    mapping = {"in": ColumnMap(1, "purchase", {0: "PropertySid", 1: "NumberBlockSid",
                                               2: "AnswerPoint", 3: ""})}
    (sheet,) = load(path, given=ReadOptions(mapping=mapping))
    assert sheet.result_columns == [3] and sheet.ignored == []
