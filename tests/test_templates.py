"""Templates: committed files match the command, they stop mistakes, and a filled one is clean.

Workbooks are inspected with openpyxl (a different library from the xlsxwriter that writes
them), and opened by LibreOffice to prove another spreadsheet program reads them as meant.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils import column_index_from_string
from openpyxl.worksheet.worksheet import Worksheet

from importer.cli import main
from importer.pipeline import Options, output_paths
from importer.results.templates import TEMPLATES
from importer.spec.operations import CONFIGURE, PURCHASE, Kind, Operation
from tests.libreoffice import convert, sheet_values
from tests.workbook_util import printed

ROOT = Path(__file__).resolve().parents[1]
NAMES = ("purchase", "configure", "rollout")


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {name: z.read(name) for name in z.namelist()}


def _generate(name: str, tmp_path: Path) -> Path:
    out = tmp_path / f"{name}.xlsx"
    assert main(["template", name, "-o", str(out)]) == 0
    return out


def test_every_template_is_committed() -> None:
    assert set(TEMPLATES) == set(NAMES)
    assert sorted(p.name for p in (ROOT / "templates").glob("*.xlsx")) == sorted(
        f"{n}.xlsx" for n in NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_committed_template_matches_the_command(name: str, tmp_path: Path) -> None:
    """Compared member by member (zip compression may differ between zlib builds)."""
    committed = _members(ROOT / "templates" / f"{name}.xlsx")
    generated = _members(_generate(name, tmp_path))
    assert sorted(committed) == sorted(generated)
    drifted = [m for m in generated if generated[m] != committed[m]]
    assert not drifted, (f"templates/{name}.xlsx is out of date ({', '.join(drifted)}); "
                         f"regenerate: importer template {name} -o templates/{name}.xlsx")


def _formats(ws: Worksheet) -> dict[int, str]:
    """Column number -> the number format new cells in it get (ranges of <col> expanded)."""
    return {i: dim.number_format for dim in ws.column_dimensions.values()
            for i in range(dim.min, dim.max + 1)}


def _widths(ws: Worksheet) -> dict[int, float]:
    return {i: dim.width for dim in ws.column_dimensions.values()
            for i in range(dim.min, dim.max + 1)}


def _validations(ws: Worksheet) -> dict[str, object]:
    """Header (without the `*`) -> its data validation, checked to cover the whole column."""
    found = {}
    for dv in ws.data_validations.dataValidation:
        (cells,) = str(dv.sqref).split()
        first, last = cells.split(":")
        letter = first.rstrip("0123456789")
        assert first == f"{letter}2" and last == f"{letter}1048576", cells
        header = ws.cell(1, column_index_from_string(letter)).value
        found[header.removesuffix(" *")] = dv
    return found


def _check_sheet(ws: Worksheet, op: Operation) -> None:
    headers = [c.value for c in ws[1]]
    assert headers == [f"{f.name} *" if f.required else f.name for f in op.fields]
    assert ws.freeze_panes == "D2"  # the header, and the ids on the left
    formats, widths = _formats(ws), _widths(ws)
    validations = _validations(ws)
    assert list(validations) == [f.name for f in op.fields]
    for col, f in enumerate(op.fields, 1):
        dv = validations[f.name]
        assert dv.showInputMessage and dv.promptTitle == f.name and f.help in dv.prompt
        assert not dv.showDropDown  # (in the file format, showDropDown=1 hides the arrow)
        if f.kind in (Kind.SID, Kind.PHONE):
            assert formats[col] == "@", f"{f.name} is not formatted as Text"
        if f.kind is Kind.BOOL:
            assert (dv.type, dv.formula1) == ("list", '"TRUE,FALSE"'), f.name
        assert 14 <= widths[col] <= 31 and widths[col] >= min(len(headers[col - 1]), 26)


def test_rollout_template_stops_mistakes_before_they_are_made(tmp_path: Path) -> None:
    book = openpyxl.load_workbook(_generate("rollout", tmp_path))
    assert book.sheetnames == ["Purchase", "Configure", "Instructions"]
    purchase, configure = book["Purchase"], book["Configure"]
    _check_sheet(purchase, PURCHASE)
    _check_sheet(configure, CONFIGURE)

    lists = {name: (dv.type, dv.formula1) for name, dv in _validations(configure).items()
             if dv.type}
    assert lists == {"RoutingMethod": ("list", '"endpoint,flow,application"'),
                     "Recording": ("list", '"enabled,disabled"')}
    checks = {name: (dv.type, dv.formula1, dv.formula2)
              for name, dv in _validations(purchase).items() if dv.type}
    booleans = ["CallRecordingEnabled", "CallWhisperEnabled", "CallWrapUpEnabled", "Active",
                "EnableRules", "PortInProgress", "Ported"]
    assert checks == {**{b: ("list", '"TRUE,FALSE"', None) for b in booleans},
                      "GroupType": ("list", '"0,1"', None),
                      "Preamble": ("list", '"0,1,2"', None),
                      "RoutingAction": ("list", '"0,1,2,3"', None),
                      "MasterMode": ("whole", "-32768", "32767")}
    text = {ws.title: sorted(ws.cell(1, c).value.removesuffix(" *") for c, fmt
                             in _formats(ws).items() if fmt == "@" and ws.cell(1, c).value)
            for ws in (purchase, configure)}
    assert {"AccountSid", "PropertySid", "NumberBlockSid", "AnswerPoint"} <= set(
        text["Purchase"])
    assert {"AccountSid", "PropertySid", "NumberBlockSid", "EndpointNumber"} <= set(
        text["Configure"])

    lines = [[v for v in row if v] for row in book["Instructions"].iter_rows(values_only=True)]
    start = lines.index(["RoutingMethod", "Needs", "Not used (ignored, with a warning)"])
    assert lines[start + 1: start + 4] == [
        ["endpoint", "EndpointNumber", "Flow, Application"],
        ["flow", "Flow, EndpointNumber", "Application"],
        ["application", "Application", "EndpointNumber, Flow"]]
    assert any("NumberBlockSid may appear only once" in line[0] for line in lines if line)


def test_the_instructions_name_the_results_workbooks_as_they_are_written(
        tmp_path: Path) -> None:
    """Issue 30 item 11: "Open FILE.results.xlsx" was false from the second run on (a validate
    first, or any run again, writes the next free name). The names it gives are the tool's."""
    book = openpyxl.load_workbook(_generate("rollout", tmp_path))
    text = " ".join(str(v) for row in book["Instructions"].iter_rows(values_only=True)
                    for v in row if v)
    assert "FILE.results.xlsx" not in text
    named = re.findall(r"my-rollout\.results(?:-\d+)?\.xlsx", text)
    source = tmp_path / "my-rollout.xlsx"
    source.touch()
    made = []
    for _ in named:  # each validate or run of the file, or of the last results workbook
        results, _ = output_paths(made[-1] if made else source, Options())
        results.touch()
        made.append(results)
    assert len(named) >= 2 and named == [p.name for p in made]


@pytest.mark.parametrize("name", NAMES)
def test_a_template_prints_as_the_results_workbook(name: str, tmp_path: Path) -> None:
    """Issue 30 item 11: templates printed portrait, 4 columns a page, the header on the first
    page only. Now landscape A4 fitted across (the wide Purchase sheet on 2 pages), the header
    row and the id columns on every page; the Instructions one page wide."""
    book = openpyxl.load_workbook(_generate(name, tmp_path))
    across = {"Purchase": 2, "Configure": 1}
    for op in TEMPLATES[name]:
        assert printed(book[op.title]) == ("landscape", 9, True, across[op.title], 0, "$1:$1",
                                           "$A:$C")
    assert printed(book["Instructions"])[:5] == ("landscape", 9, True, 1, 0)


@pytest.mark.parametrize("name", ["purchase", "configure"])
def test_single_templates(name: str, tmp_path: Path) -> None:
    op = {"purchase": PURCHASE, "configure": CONFIGURE}[name]
    book = openpyxl.load_workbook(_generate(name, tmp_path))
    assert book.sheetnames == [op.title, "Instructions"]
    _check_sheet(book[op.title], op)


GOOD = {
    "Purchase": [
        {"AccountSid": "ACDEMO0001", "NumberBlockSid *": "NB100900",
         "AnswerPoint *": "0412 345 678", "CallRecordingEnabled": True, "GroupType": 1,
         "Campaign": "Spring Sale"},
        {"PropertySid": "PRDEMO0002", "NumberBlockSid *": "NB100901",
         "AnswerPoint *": "(02) 9876 5432", "Active": False, "MasterMode": -5},
    ],
    "Configure": [
        {"PropertySid": "PRDEMO0001", "NumberBlockSid *": "NB090090", "RoutingMethod": "endpoint",
         "EndpointNumber": "0412 345 678", "Recording": "enabled"},
        {"AccountSid": "ACDEMO0001", "NumberBlockSid *": "NB090091", "RoutingMethod": "flow",
         "Flow": "FL-1", "EndpointNumber": "1300 123 456"},
        {"AccountSid": "ACDEMO0001", "NumberBlockSid *": "NB100900",
         "RoutingMethod": "application", "Application": "AP-1", "Recording": "disabled"},
    ],
}


def _fill(template: Path, out: Path, rows: dict[str, list[dict[str, object]]]) -> Path:
    """As a user fills it in Excel: typed text, drop-down picks (TRUE is a boolean cell)."""
    book = openpyxl.load_workbook(template)
    for sheet, items in rows.items():
        if sheet in book.sheetnames:
            ws = book[sheet]
            headers = [c.value for c in ws[1]]
            for r, item in enumerate(items, 2):
                for key, value in item.items():
                    ws.cell(r, headers.index(key) + 1, value)
    book.save(out)
    return out


@pytest.mark.parametrize("name", NAMES)
def test_filled_in_template_validates_clean(name: str, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    filled = _fill(ROOT / "templates" / f"{name}.xlsx", tmp_path / "filled.xlsx", GOOD)
    code = main(["validate", str(filled), "--out", str(tmp_path / "v.xlsx"), "--json"])
    report = json.loads(capsys.readouterr().out)
    rows = sum(len(GOOD[op.title]) for op in TEMPLATES[name])
    assert (code, report["counts"]["VALID"], report["rows"]) == (0, rows, rows)
    assert report["issues"] == report["warnings"] == 0

    bad = {"Purchase": [*GOOD["Purchase"], {"AccountSid": "ACDEMO0001",
                                            "NumberBlockSid *": "NB100902",
                                            "AnswerPoint *": "4.12E+08"}],
           "Configure": [*GOOD["Configure"], {"AccountSid": "ACDEMO0001",
                                              "NumberBlockSid *": "NB090092",
                                              "RoutingMethod": "flow"}]}
    filled = _fill(ROOT / "templates" / f"{name}.xlsx", tmp_path / "bad.xlsx", bad)
    code = main(["validate", str(filled), "--out", str(tmp_path / "b.xlsx"), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert (code, report["counts"]["INVALID"]) == (1, len(TEMPLATES[name]))


def test_filled_in_rollout_template_runs(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    filled = _fill(ROOT / "templates" / "rollout.xlsx", tmp_path / "filled.xlsx", GOOD)
    code = main(["run", str(filled), "--sandbox", "--yes", "--json",
                 "--out", str(tmp_path / "r.xlsx")])
    report = json.loads(capsys.readouterr().out)
    assert (code, report["counts"]["OK"]) == (0, 5)


@pytest.fixture(scope="module")
def reopened(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The committed templates opened by LibreOffice and saved as xlsx and as ods."""
    out = tmp_path_factory.mktemp("lo")
    sources = [ROOT / "templates" / f"{n}.xlsx" for n in NAMES]
    return {f"{p.stem}.{fmt}": p for fmt in ("xlsx", "ods")
            for p in convert(sources, fmt, out / fmt)}


@pytest.mark.parametrize("fmt", ["xlsx", "ods"])
@pytest.mark.parametrize("name", NAMES)
def test_templates_open_in_libreoffice(reopened: dict[str, Path], name: str, fmt: str) -> None:
    ours = sheet_values(ROOT / "templates" / f"{name}.xlsx")
    assert sheet_values(reopened[f"{name}.{fmt}"]) == ours
    if fmt == "xlsx":  # LibreOffice understood the drop-downs and the Text columns
        book = openpyxl.load_workbook(reopened[f"{name}.xlsx"])
        ws = book[book.sheetnames[0]]
        lists = sorted(dv.formula1 for dv in ws.data_validations.dataValidation
                       if dv.type == "list")
        assert lists and all(f.startswith('"') for f in lists)
        assert _formats(ws)[3] == "@"  # NumberBlockSid


def test_a_missing_template_name_lists_the_choices_on_one_line(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["template"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == ("importer: error: Missing argument '{configure|purchase|rollout}'. "
                           "Choose from: configure, purchase, rollout")
