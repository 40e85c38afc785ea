"""The results workbook, and the page's edited download (whole, and only the rows to fix), are
the same cell for cell (values, fills, fonts, comments, validations, panes, widths, print
setup) as xlsxwriter's own cell-by-cell writing made them before issue 28 changed how their
cells are written: tests/data/results/*.json (edited/ for the downloads) are that writer's
output, fingerprinted.

Regenerate them only on purpose (a change of what the workbook shows), and say so in the commit:

    python -m tests.test_results_reference --write
"""

from __future__ import annotations

import difflib
import sys
from pathlib import Path

import pytest

from importer.checking.schemas import check
from importer.reading.loading import load
from importer.report import Outcome, Status
from importer.results.edited import write_edited
from tests.fingerprint import dump, fingerprint
from tests.workbook_util import ran, sample_inputs

DATA = Path(__file__).resolve().parent / "data"
REFERENCE = DATA / "results"
EDITED = REFERENCE / "edited"
CASES = {
    **{p.name: p for p in sample_inputs()},
    **{f"csv-{p.name}": p for p in sorted((DATA / "csv").glob("*.csv"))
       if p.stem != "zero-width-headers"},  # refused before a workbook is written
    **{p.name: p for p in sorted(REFERENCE.glob("*.xlsx"))},
}


EDITED_CASES = {**{p.name: (p, False) for p in sample_inputs()},
                **{f"{p.name}.to-fix": (p, True) for p in sample_inputs(".xlsx")}}


def _written(source: Path, folder: Path) -> str:
    out = folder / "results.xlsx"
    ran(source, out)
    return dump(fingerprint(out, {str(folder): "<folder>", str(source.parent): "<input>"}))


def _edited(source: Path, folder: Path, to_fix: bool) -> str:
    """The page's download: every row, or every third row with a Status and a Message."""
    checked = [check(s) for s in load(source)]
    only = [{int(r): Outcome(Status.INVALID, f"Row {r}: fix the red cells.")
             for r in c.sheet.data.index[::3]} for c in checked] if to_fix else None
    out = folder / "edited.xlsx"
    write_edited(out, checked, only)
    return dump(fingerprint(out))


def _same(expected: str, got: str) -> None:
    diff = list(difflib.unified_diff(expected.splitlines(), got.splitlines(), "before", "now",
                                     n=0, lineterm=""))
    assert not diff, "\n".join(diff[:40])


@pytest.mark.parametrize("name", list(CASES))
def test_results_workbook_unchanged_cell_for_cell(name: str, tmp_path: Path) -> None:
    expected = (REFERENCE / f"{name}.json").read_text(encoding="utf-8")
    _same(expected, _written(CASES[name], tmp_path))


@pytest.mark.parametrize("name", list(EDITED_CASES))
def test_edited_download_unchanged_cell_for_cell(name: str, tmp_path: Path) -> None:
    expected = (EDITED / f"{name}.json").read_text(encoding="utf-8")
    _same(expected, _edited(*EDITED_CASES[name][:1], tmp_path, EDITED_CASES[name][1]))


def _write_references() -> None:
    import tempfile

    for name, source in CASES.items():
        with tempfile.TemporaryDirectory() as tmp:
            (REFERENCE / f"{name}.json").write_text(_written(source, Path(tmp)),
                                                   encoding="utf-8")
        print(f"wrote {name}.json")
    EDITED.mkdir(exist_ok=True)
    for name, (source, to_fix) in EDITED_CASES.items():
        with tempfile.TemporaryDirectory() as tmp:
            (EDITED / f"{name}.json").write_text(_edited(source, Path(tmp), to_fix),
                                                encoding="utf-8")
        print(f"wrote edited/{name}.json")


if __name__ == "__main__" and "--write" in sys.argv:
    _write_references()
