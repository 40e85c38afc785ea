"""Excel error values (#N/A, #DIV/0! ...) saved as formulas' results, in files LibreOffice wrote.

calamine reads such a cell as empty, so the row said "AnswerPoint is empty", and a sheet of
error values was "empty". Each is now named where it is, and the results workbook shows it.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from importer.cli import main
from tests.libreoffice import Formula, convert, write_fods

HEADER = ["PropertySid", "NumberBlockSid", "AnswerPoint", "Campaign"]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    src = tmp_path_factory.mktemp("errors")
    rows = [HEADER, ["PRDEMO0001", "NB100001", Formula("of:=NA()"), "Spring"],
            ["PRDEMO0001", "NB100002", "0412 345 678", Formula("of:=1/0")],
            ["PRDEMO0001", "NB100003", "0412 345 679", Formula('of:=1+"x"')]]
    fods = write_fods(src / "errors.fods", {"Purchase": rows})
    return {fmt: convert([fods], fmt, src)[0] for fmt in ("xlsx", "xls", "ods")}


@pytest.mark.parametrize("fmt", ["xlsx", "xls", "ods"])
def test_an_error_value_is_named_and_shown(files: dict[str, Path], fmt: str, tmp_path: Path,
                                           capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "r.xlsx"
    assert main(["validate", str(files[fmt]), "--out", str(out)]) == 1
    said = capsys.readouterr().out
    assert "row 2, AnswerPoint: AnswerPoint holds the error #N/A (the formula's result), " \
           "not a value." in said
    assert "row 3, Campaign: Campaign holds the error #DIV/0!" in said
    assert "row 4, Campaign: Campaign holds the error #VALUE!" in said
    assert "is empty" not in said
    sheet = openpyxl.load_workbook(out)["Purchase"]
    cells = {c.value for row in sheet.iter_rows(min_row=2) for c in row}
    assert {"#N/A", "#DIV/0!", "#VALUE!"} <= cells
