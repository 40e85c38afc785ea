"""The loader on files a real spreadsheet program wrote: LibreOffice, headless.

The sources are flat ODS with typed cells (numbers that lost their leading zero, numbers shown
in scientific notation or with `.0`, booleans, formulas, title rows, an inner blank row, junk
in the used range past the data, a hidden sheet); LibreOffice turns them into xlsx, xls, ods
and CSV (UTF-8/comma, cp1252/semicolon, UTF-16/tab, cells saved as shown), and opens our Excel
CSV samples and saves them as xlsx, as a user double-clicking a CSV would. Conversions run once
per session (a few seconds each). Without LibreOffice every test here skips with the reason.
"""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from importer.cli import main
from importer.errors import InputError
from importer.reading.loading import LIMITS, _trim, load
from importer.reading.source import read_input
from importer.reading.spreadsheets import read_workbook
from tests.hostile import run
from tests.libreoffice import (
    CSV_CP1252_SEMICOLON,
    CSV_EXPORT,
    CSV_UTF8_COMMA,
    CSV_UTF16_TAB,
    Formula,
    Number,
    Styled,
    convert,
    sheet_values,
    soffice,
    write_fods,
)

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"

TITLE = "Winter rollout – Café € edition"
PURCHASE_ROWS = [
    [TITLE],
    ["Campaign", "owner: ops"],  # names one known column: still not the header
    [],
    ["Account SID", "property_sid", "NumberBlockSid", "Answer Point", "CallRecordingEnabled",
     "Active", "Campaign", "GroupType", "Notes"],
    ["ACDEMO0001", None, "NB100700", 412345678, True, False, "Café €", 0, "number cell"],
    [None, "PRDEMO0001", Formula('of:="NB"&(100695+ROW())'), Formula('of:="0412 345 "&"679"'),
     Formula("of:=1=1"), False, Formula('of:=UPPER("winter")'), Formula("of:=2-1"), "formulas"],
    ["ACDEMO0001", None, "NB100702", Number(61412345678, "sci"), None, True, "Winter", None,
     "shown as 6.14E+10"],
    ["ACDEMO0001", None, "NB100703", Number(298765432, "dec1"), False, None, None, None,
     "shown as 298765432.0"],
    [None, "PRDEMO0002", "NB100704", "0412 345 680", "TRUE", "no", "Winter", "1", "text"],
    [],
    [None, "PRDEMO0003", "NB100705", 298765433, None, None, None, None, None, " "],
    [],
    [None, None, None, Formula('of:=""')],
    [],
    [Styled()],
]
# Excel row -> (AnswerPoint, CallRecordingEnabled, Active, Campaign, GroupType) as read
WORKBOOK_PURCHASE = {
    5: ("412345678", "True", "False", "Café €", "0"),
    6: ("0412 345 679", "True", "False", "WINTER", "1"),
    7: ("61412345678", None, "True", "Winter", None),
    8: ("298765432", "False", None, None, None),
    9: ("0412 345 680", "TRUE", "no", "Winter", "1"),
    11: ("298765433", None, None, None, None),
}
CONFIGURE_ROWS = [
    ["NumberBlockSid", "PropertySid", "RoutingMethod", "EndpointNumber", "Flow", "Application",
     "Recording"],
    ["NB090060", "PRDEMO0001", "Endpoint", 298765432, None, None, "Enabled"],
    ["NB090061", "PRDEMO0001", "flow", "0412 345 678", "FL-1", None, "disabled"],
    ["NB090062", "PRDEMO0001", "application", None, None, "AP-1", None],
]
OLD_ROWS = [["NumberBlockSid", "AnswerPoint", "AccountSid"],
            ["NB100799", "0412 345 681", "ACDEMO0001"]]
FORMATS = ("xlsx", "xls", "ods")
# Every kind of value a cell can hold, to prove frames read as pandas.read_excel reads them.
VALUE_ROWS = [
    ["text", " padded ", "", 412345678, 0.1, 1.5, 1e20, -3, 2.0 ** 60, True, False],
    [Number(61412345678, "sci"), Number(298765432, "dec1"), Formula("of:=DATE(2026;1;5)"),
     Formula("of:=TIME(12;30;0)"), Formula("of:=DATE(2026;1;5)+TIME(6;0;0)"),
     Formula("of:=1/0"), Formula('of:=""'), Formula("of:=1/3"), Formula("of:=1=1"),
     "Café € – Noël", "line\nbreak"],
]
STRAY_ROWS = [["PropertySid", "NumberBlockSid", "AnswerPoint"],
              *[["PRDEMO0001", f"NB10000{i}", "0412 345 678"] for i in range(3)]]


def _stray(path: Path, row: int, column: int) -> Path:
    """STRAY_ROWS and one space in the cell at (row, column): empty rows and cells between,
    written as repeats, as LibreOffice itself writes them."""
    write_fods(path, {"Purchase": STRAY_ROWS})
    far = (f'<table:table-row table:number-rows-repeated="{row - len(STRAY_ROWS) - 1}">'
           '<table:table-cell/></table:table-row><table:table-row><table:table-cell '
           f'table:number-columns-repeated="{column - 1}"/><table:table-cell office:value-type='
           '"string"><text:p><text:s/></text:p></table:table-cell></table:table-row>')
    path.write_text(path.read_text(encoding="utf-8").replace("</table:table>",
                                                             far + "</table:table>", 1),
                    encoding="utf-8")
    return path
CSV_KINDS = ("utf8-comma", "cp1252-semicolon", "utf16-tab")


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every LibreOffice-written file the tests read, made in 8 soffice runs."""
    soffice()
    src = tmp_path_factory.mktemp("sources")
    sources = [
        write_fods(src / "rollout.fods", {"Purchase": PURCHASE_ROWS,
                                          "Configure": CONFIGURE_ROWS, "Old": OLD_ROWS},
                   hidden=("Old",)),
        write_fods(src / "duplicates.fods", {"Purchase": [
            ["AccountSid", "NumberBlockSid", "AnswerPoint", "Number Block SID"],
            ["ACDEMO0001", "NB100710", "0412 345 678", "NB100711"]]}),
        write_fods(src / "empty.fods", {"Sheet1": []}),
        write_fods(src / "header-only.fods", {"Purchase": [PURCHASE_ROWS[3]]}),
        write_fods(src / "values.fods", {"Values": VALUE_ROWS}),
        write_fods(src / "plain.fods", {"Purchase": STRAY_ROWS}),
        _stray(src / "stray-iv.fods", 65536, 256),
        _stray(src / "stray-xfd.fods", 1_048_576, 16_384),
    ]
    # A results workbook (comments, fills, numbers, Summary and Errors sheets) to round-trip.
    results = src / "mistakes.results.xlsx"
    assert main(["run", str(SAMPLES / "mistakes.xlsx"), "--sandbox", "--yes",
                 "--out", str(results)]) == 1
    out = tmp_path_factory.mktemp("lo")
    made: dict[str, Path] = {"results": results}
    for fmt in FORMATS:
        extra = [results] if fmt != "xls" else []
        for path in convert([*sources, *extra], fmt, out / fmt):
            made[f"{path.stem}.{fmt}"] = path
    for kind, options in zip(CSV_KINDS, (CSV_UTF8_COMMA, CSV_CP1252_SEMICOLON, CSV_UTF16_TAB),
                             strict=True):
        (made[kind],) = convert([sources[0]], CSV_EXPORT + options, out / kind)
    # Our Excel CSV samples opened in LibreOffice and saved as xlsx: numbers are detected, so
    # 0412345613 becomes the number 412345613 and TRUE a boolean, as in Excel.
    (made["utf8-sample.xlsx"],) = convert([SAMPLES / "purchase-excel-utf8.csv"], "xlsx",
                                          out / "utf8-sample", infilter=f"CSV:{CSV_UTF8_COMMA}")
    (made["semicolon-sample.xlsx"],) = convert(
        [SAMPLES / "configure-excel-semicolon.csv"], "xlsx", out / "semicolon-sample",
        infilter=f"CSV:{CSV_CP1252_SEMICOLON}")
    return made


def _validate(path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> dict:
    """`importer validate --json` on path; the results workbook is tmp_path/v.results.xlsx."""
    code = main(["validate", str(path), "--out", str(tmp_path / "v.results.xlsx"), "--overwrite",
                 "--json"])
    report = json.loads(capsys.readouterr().out)
    assert report["exit_code"] == code
    return report


def _purchase_cells(sheet_data: pd.DataFrame) -> dict[int, tuple]:
    cols = ["AnswerPoint", "CallRecordingEnabled", "Active", "Campaign", "GroupType"]
    return {int(row): tuple(None if pd.isna(v) else v for v in values)
            for row, values in zip(sheet_data.index, sheet_data[cols].values.tolist(),
                                   strict=True)}


@pytest.mark.parametrize("fmt", FORMATS)
def test_workbook_cells_read_as_the_sheet_holds_them(files: dict[str, Path], fmt: str) -> None:
    """Title rows skipped, numbers whole (leading zero lost, scientific and .0 formats only a
    display), booleans, formula results, inner blank row kept, trailing junk trimmed."""
    sheets = {s.name: s for s in load(files[f"rollout.{fmt}"])}
    assert list(sheets) == ["Purchase", "Configure"]  # the hidden sheet is not read
    purchase = sheets["Purchase"]
    assert purchase.header_row == 3
    assert purchase.raw.shape == (11, 9)
    assert _purchase_cells(purchase.data) == WORKBOOK_PURCHASE
    assert purchase.data["NumberBlockSid"].tolist() == [f"NB1007{i:02d}" for i in range(6)]
    assert purchase.data["AccountSid"].tolist()[:1] == ["ACDEMO0001"]
    assert purchase.ignored == ["Notes"]
    configure = sheets["Configure"]
    assert configure.data["EndpointNumber"].tolist()[:2] == ["298765432", "0412 345 678"]
    assert configure.data["RoutingMethod"].tolist() == ["Endpoint", "flow", "application"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_workbook_validates_clean(files: dict[str, Path], fmt: str, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    report = _validate(files[f"rollout.{fmt}"], tmp_path, capsys)
    assert report["exit_code"] == 0
    assert report["counts"]["VALID"] == 9 and report["rows"] == 9
    assert report["warnings"] == 1  # the Notes column


@pytest.mark.parametrize("fmt", FORMATS)
def test_hidden_sheet_read_only_when_named(files: dict[str, Path], fmt: str) -> None:
    (old,) = load(files[f"rollout.{fmt}"], sheets=("Old",))
    assert old.data[["NumberBlockSid", "AnswerPoint"]].values.tolist() == [
        ["NB100799", "0412 345 681"]]


@pytest.mark.parametrize("fmt", FORMATS)
def test_unusable_workbooks_say_what_is_wrong(files: dict[str, Path], fmt: str) -> None:
    with pytest.raises(InputError, match=r"columns B \(NumberBlockSid\) and D \(Number Block "
                                         r"SID\) both mean NumberBlockSid"):
        load(files[f"duplicates.{fmt}"])
    with pytest.raises(InputError, match="the sheet is empty"):
        load(files[f"empty.{fmt}"])
    with pytest.raises(InputError, match="sheet 'Purchase' has a header but no data rows"):
        load(files[f"header-only.{fmt}"])


@pytest.mark.parametrize("kind", CSV_KINDS)
def test_csv_saved_by_libreoffice(files: dict[str, Path], kind: str, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    """Saved "as shown": the scientific and .0 cells lost their value and are called out."""
    (sheet,) = load(files[kind])
    assert sheet.header_row == 3
    assert sheet.raw.iat[0, 0] == TITLE
    cells = _purchase_cells(sheet.data)
    assert cells[5] == ("412345678", "TRUE", "FALSE", "Café €", "0")
    assert cells[6] == ("0412 345 679", "TRUE", "FALSE", "WINTER", "1")
    assert cells[7][0] == "6.14E+10" and cells[8][0] == "298765432.0"
    assert list(cells) == [5, 6, 7, 8, 9, 11]

    report = _validate(files[kind], tmp_path, capsys)
    assert report["counts"]["VALID"] == 4 and report["counts"]["INVALID"] == 2
    errors = pd.read_excel(tmp_path / "v.results.xlsx", sheet_name="Errors", dtype=str,
                           engine="calamine")
    found = errors[errors["Severity"] == "error"][["Row", "Column", "Code"]].values.tolist()
    assert found == [["7", "AnswerPoint", "excel_scientific"],
                     ["8", "AnswerPoint", "excel_damaged"]]


def test_excel_csv_samples_opened_and_saved_as_xlsx(files: dict[str, Path], tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    (purchase,) = load(files["utf8-sample.xlsx"])
    phones = purchase.data["AnswerPoint"].tolist()
    assert phones[2] == "412345612" and phones[5] == "412345613"  # leading zeros lost
    assert purchase.data["CallRecordingEnabled"].tolist()[:2] == ["True", "False"]
    assert purchase.data["Campaign"].tolist()[0] == "Café Week"
    assert _validate(files["utf8-sample.xlsx"], tmp_path, capsys)["counts"]["VALID"] == 6

    (configure,) = load(files["semicolon-sample.xlsx"])
    assert configure.data["Campaign"].tolist()[:3] == ["Frühling, Sommer", "Frühling, Sommer",
                                                       "Herbst; Winter"]
    assert _validate(files["semicolon-sample.xlsx"], tmp_path, capsys)["counts"]["VALID"] == 6


@pytest.mark.parametrize("fmt", ["xlsx", "ods"])
def test_results_workbook_opens_in_libreoffice(files: dict[str, Path], fmt: str) -> None:
    """LibreOffice loads it without complaint and keeps every value (and the comments)."""
    ours = sheet_values(files["results"])
    # the input's Instructions sheet (neither operation's) comes back unchanged
    assert list(ours) == ["Purchase", "Configure", "Instructions", "Summary", "Errors"]
    assert sheet_values(files[f"mistakes.results.{fmt}"]) == ours
    if fmt == "xlsx":
        def comments(path: Path) -> int:
            book = openpyxl.load_workbook(path)
            return sum(c.comment is not None for ws in book for row in ws.iter_rows()
                       for c in row)

        assert comments(files["mistakes.results.xlsx"]) == comments(files["results"]) > 10


PANDAS = {"engine": "calamine", "dtype": str, "keep_default_na": False, "na_values": [""],
          "header": None}


@pytest.mark.parametrize("name", ["rollout.xlsx", "rollout.xls", "rollout.ods", "values.xlsx",
                                  "values.xls", "values.ods", "mistakes.results.xlsx",
                                  "mistakes.results.ods", "results"])
def test_frames_are_what_pandas_reads(files: dict[str, Path], name: str) -> None:
    """The loader's own conversion of calamine's cells gives pandas' text, cell for cell; but
    an error value (`=1/0` saved as #DIV/0!), which calamine gives as empty, is its text."""
    book = read_workbook(read_input(files[name], LIMITS), (), LIMITS)
    expected = pd.read_excel(files[name], sheet_name=list(book.frames), **PANDAS)
    assert list(book.frames) and set(book.frames) == set(expected)
    if name.startswith("values."):
        expected["Values"].iat[1, 5] = "#DIV/0!"
    for sheet, frame in book.frames.items():
        pd.testing.assert_frame_equal(frame, expected[sheet])


@pytest.mark.parametrize(("name", "fmt"), [("stray-iv", "xls"), ("stray-iv", "xlsx"),
                                           ("stray-iv", "ods"), ("stray-xfd", "xlsx"),
                                           ("stray-xfd", "ods")])
def test_a_space_far_away_in_a_real_file_costs_nothing(files: dict[str, Path], name: str,
                                                       fmt: str, tmp_path: Path) -> None:
    """LibreOffice's own xlsx, xls and ods with one space at IV65536 or XFD1048576: calamine
    alone built the whole grid (an .xls: 1.7 GB and 9 s; xlsx at XFD1048576: a crash)."""
    result = run(tmp_path, "validate", files[f"{name}.{fmt}"], "--out",
                 tmp_path / "out.results.xlsx", "--json")
    assert result.code == 0, result.stderr
    assert result.report["rows"] == 3 and result.report["counts"]["VALID"] == 3
    assert result.seconds < 30 and result.peak_mb < 500, (result.seconds, result.peak_mb)
    ours = read_workbook(read_input(files[f"{name}.{fmt}"], LIMITS), (), LIMITS).frames
    plain = pd.read_excel(files[f"plain.{fmt}"], sheet_name=None, **PANDAS)
    pd.testing.assert_frame_equal(_trim(ours["Purchase"]), plain["Purchase"])
