"""The results workbook is the same cell for cell (values, fills, fonts, comments, validations,
panes, widths, print setup) as the xlsxwriter writer made it before issue 28 changed how it is
written: tests/data/results/*.json are that writer's output, fingerprinted.

Regenerate them only on purpose (a change of what the workbook shows), and say so in the commit:

    python -m tests.test_results_reference --write
"""

from __future__ import annotations

import difflib
import sys
from pathlib import Path

import pytest

from tests.fingerprint import dump, fingerprint
from tests.workbook_util import SAMPLES, ran

DATA = Path(__file__).resolve().parent / "data"
REFERENCE = DATA / "results"
CASES = {
    **{p.name: p for p in sorted(SAMPLES.iterdir()) if p.suffix in (".xlsx", ".csv")},
    **{f"csv-{p.name}": p for p in sorted((DATA / "csv").glob("*.csv"))
       if p.stem != "zero-width-headers"},  # refused before a workbook is written
    **{p.name: p for p in sorted(REFERENCE.glob("*.xlsx"))},
}


def _written(source: Path, folder: Path) -> str:
    out = folder / "results.xlsx"
    ran(source, out)
    return dump(fingerprint(out, {str(folder): "<folder>", str(source.parent): "<input>"}))


@pytest.mark.parametrize("name", list(CASES))
def test_results_workbook_unchanged_cell_for_cell(name: str, tmp_path: Path) -> None:
    expected = (REFERENCE / f"{name}.json").read_text(encoding="utf-8")
    got = _written(CASES[name], tmp_path)
    diff = list(difflib.unified_diff(expected.splitlines(), got.splitlines(), "before", "now",
                                     n=0, lineterm=""))
    assert not diff, "\n".join(diff[:40])


def _write_references() -> None:
    import tempfile

    for name, source in CASES.items():
        with tempfile.TemporaryDirectory() as tmp:
            (REFERENCE / f"{name}.json").write_text(_written(source, Path(tmp)),
                                                   encoding="utf-8")
        print(f"wrote {name}.json")


if __name__ == "__main__" and "--write" in sys.argv:
    _write_references()
