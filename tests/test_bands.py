"""A big xlsx sheet is given to calamine a band of rows at a time (issue 28 item 2): the frame
is the same as the whole sheet read at once, and the read's peak memory is well below it."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from importer.reading import bands
from importer.reading.loading import LIMITS
from importer.reading.source import read_input
from importer.reading.spreadsheets import read_workbook
from tests.util import write_xlsx


def _read(path: Path) -> dict[str, pd.DataFrame]:
    return read_workbook(read_input(path, LIMITS), (), LIMITS).frames


def test_bands_give_the_frame_the_whole_sheet_gives(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # Shared strings, numbers, dates, booleans, gaps of empty rows (a band with no cells),
    # a first column empty in some bands, a last column reached in one band only.
    rows: list[list[object]] = [["Title"], [], ["NumberBlockSid", "AnswerPoint", "When"]]
    for i in range(60):
        if 20 <= i < 35:
            rows.append([])
            continue
        rows.append([None if i % 11 < 4 else f"NB{i}", 412345000 + i if i % 2 else f"04{i}",
                     datetime(2026, 1, 1 + i % 28) if i % 3 == 0 else i % 4 == 0,
                     *(["far"] if i == 47 else [])])
    path = write_xlsx(tmp_path / "t.xlsx", {"Sheet1": rows, "Other": [["x"]]})
    whole = _read(path)
    monkeypatch.setattr(bands, "BAND_CELLS", 0)
    for size in (1, 7, 16, 1000):
        monkeypatch.setattr(bands, "rows_for", lambda columns, n=size: n)
        banded = _read(path)
        assert list(banded) == list(whole)
        for name in whole:
            pd.testing.assert_frame_equal(banded[name], whole[name])


def _big(path: Path, rows: int, columns: int) -> Path:
    """An xlsx as spreadsheet programs write it (inline strings), made without a writer."""
    cells = "".join(f'<c r="{{col{c}}}{{r}}" t="inlineStr"><is><t>v{{r}}-{c}</t></is></c>'
                    for c in range(columns))
    template = "<row r=\"{r}\">" + cells + "</row>"
    letters = {f"col{c}": chr(65 + c) for c in range(columns)}
    body = "".join(template.format(r=r, **letters) for r in range(1, rows + 1))
    sheet = ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.'
             'openxmlformats.org/spreadsheetml/2006/main"><dimension ref="A1:T1"/>'
             f"<sheetData>{body}</sheetData></worksheet>")
    ns = "http://schemas.openxmlformats.org"
    parts = {
        "[Content_Types].xml": f'<?xml version="1.0"?><Types xmlns="{ns}/package/2006/content-'
        'types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override '
        'PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        'spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"'
        '/></Types>',
        "_rels/.rels": f'<?xml version="1.0"?><Relationships xmlns="{ns}/package/2006/'
        f'relationships"><Relationship Id="rId1" Type="{ns}/officeDocument/2006/relationships/'
        'officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<?xml version="1.0"?><workbook xmlns="{ns}/spreadsheetml/2006/main"'
        f' xmlns:r="{ns}/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" '
        'sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<?xml version="1.0"?><Relationships xmlns="{ns}/package'
        f'/2006/relationships"><Relationship Id="rId1" Type="{ns}/officeDocument/2006/'
        'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
        "xl/worksheets/sheet1.xml": sheet,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in parts.items():
            zf.writestr(name, text)
    path.write_bytes(buffer.getvalue())
    return path


# VmHWM, not ru_maxrss: a child's ru_maxrss starts at its parent's peak (kept across exec).
_PEAK = """
import json, re, sys
from pathlib import Path
from importer.reading import bands
from importer.reading.loading import LIMITS
from importer.reading.source import read_input
from importer.reading.spreadsheets import read_workbook
if sys.argv[2] == "whole":
    bands.BAND_CELLS = 10 ** 12
bands.CELLS_PER_BAND = 250_000  # a twentieth of the sheet: the peak follows the band
def peak():
    return int(re.search(r"VmHWM:\\s+(\\d+)", Path("/proc/self/status").read_text())[1])
before = peak()
frames = read_workbook(read_input(Path(sys.argv[1]), LIMITS), (), LIMITS).frames
print(json.dumps([(peak() - before) / 1024, frames["Sheet1"].shape]))
"""


def test_a_big_sheet_is_read_in_far_less_memory_than_whole(tmp_path: Path) -> None:
    path = _big(tmp_path / "big.xlsx", 250_000, 20)  # 5 million cells: more than BAND_CELLS

    def peak(how: str) -> tuple[float, list[int]]:
        done = subprocess.run([sys.executable, "-c", _PEAK, str(path), how],
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        mb, shape = json.loads(done.stdout)
        return mb, shape

    whole, shape = peak("whole")
    banded, banded_shape = peak("banded")
    assert shape == banded_shape == [250_000, 20]
    assert banded < 0.6 * whole, (banded, whole)
