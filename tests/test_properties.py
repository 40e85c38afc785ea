"""Property tests (hypothesis): the shortcuts agree with the slow, obvious way.

- Sheet measuring: the quick byte scan, the careful XML parse and calamine itself place the same
  grid on random sparse sheets, as openpyxl and xlsxwriter write them; the careful parse's data
  bounds are those of the cells that hold more than spaces.
- `check_rows` after random edits gives exactly what a full `check` of the edited sheet gives.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import openpyxl
import python_calamine
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from importer.checking.schemas import check, check_rows
from importer.reading import ooxml
from importer.reading.loading import LIMITS, load

TEXT = st.text(alphabet=st.sampled_from("ab Z09 .-"), min_size=1, max_size=6).filter(
    lambda s: not s.startswith(("=", "-", "+")))
VALUE = st.one_of(TEXT, st.just(" "), st.just("   "), st.integers(-10**6, 10**6),
                  st.floats(-1e6, 1e6, allow_nan=False), st.booleans())
CELLS = st.dictionaries(st.tuples(st.integers(1, 300), st.integers(1, 40)), VALUE,
                        min_size=1, max_size=25)
PROPERTY = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def _openpyxl(cells: dict[tuple[int, int], object]) -> bytes:
    book = openpyxl.Workbook()
    for (row, column), value in cells.items():
        book.active.cell(row, column, value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _xlsxwriter(cells: dict[tuple[int, int], object]) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet()
    for (row, column), value in cells.items():
        if isinstance(value, str):
            sheet.write_string(row - 1, column - 1, value)  # shared strings
        else:
            sheet.write(row - 1, column - 1, value)
    book.close()
    return out.getvalue()


@PROPERTY
@given(cells=CELLS, writer=st.sampled_from([_openpyxl, _xlsxwriter]))
def test_quick_and_careful_measuring_agree_with_calamine(cells, writer) -> None:  # type: ignore[no-untyped-def]
    data = writer(cells)
    zf = zipfile.ZipFile(io.BytesIO(data))
    part = next(iter(ooxml.sheet_parts(zf).values()))
    quick = ooxml.quick_extent(zf, part, LIMITS.unpacked_bytes).extent
    careful = ooxml.careful_extent(zf.read(part),
                                   ooxml.shared_strings(zf, LIMITS.unpacked_bytes)).extent
    rows = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data)) \
        .get_sheet_by_index(0).to_python(skip_empty_area=False)
    grid = (len(rows), max((len(r) for r in rows), default=0))
    assert quick is not None  # both writers write XML the quick scan knows
    assert (quick.rows, quick.columns) == (careful.rows, careful.columns) == grid
    held = [(r, c) for (r, c), v in cells.items() if not (isinstance(v, str) and not v.strip())]
    assert careful.data_cells == len(held)
    assert (careful.data_rows, careful.data_columns) == (
        max((r for r, _ in held), default=0), max((c for _, c in held), default=0))


PURCHASE = ["PropertySid", "NumberBlockSid", "AnswerPoint", "Active", "GroupType"]
CONFIGURE = ["AccountSid", "NumberBlockSid", "RoutingMethod", "EndpointNumber", "Flow",
             "Application", "Recording"]
CHOICES = {
    "PropertySid": ["PRDEMO0001", "", "PR 1"],
    "AccountSid": ["ACDEMO0001", ""],
    "NumberBlockSid": ["NB1", "NB2", "NB3", "", "nb1", "NB/4", "4.12E+08"],
    "AnswerPoint": ["0412 345 678", "412345678", "0445746282", "", "123"],
    "Active": ["yes", "no", "ture", ""],
    "GroupType": ["0", "1", "9", ""],
    "RoutingMethod": ["endpoint", "flow", "application", "", "end point"],
    "EndpointNumber": ["0298765432", "", "123"],
    "Flow": ["FL1", ""],
    "Application": ["AP1", ""],
    "Recording": ["enabled", "disabled", "on", ""],
}


@st.composite
def sheet_and_edits(draw: st.DrawFn) -> tuple[str, list[list[str]], list[list[tuple]]]:
    operation = draw(st.sampled_from(["purchase", "configure"]))
    header = PURCHASE if operation == "purchase" else CONFIGURE
    row = st.tuples(*(st.sampled_from(CHOICES[c]) for c in header)).map(list)
    rows = draw(st.lists(row, min_size=1, max_size=12))
    edit = st.tuples(st.integers(0, len(rows) - 1), st.sampled_from(header)).flatmap(
        lambda e: st.tuples(st.just(e[0]), st.just(e[1]), st.sampled_from(CHOICES[e[1]])))
    rounds = draw(st.lists(st.lists(edit, min_size=1, max_size=3), min_size=1, max_size=3))
    return operation, rows, rounds


@settings(PROPERTY, max_examples=20)  # each round runs a whole pandera check (~0.1 s)
@given(case=sheet_and_edits())
def test_check_rows_gives_what_check_gives(tmp_path: Path, case) -> None:  # type: ignore[no-untyped-def]
    operation, rows, rounds = case
    header = PURCHASE if operation == "purchase" else CONFIGURE
    path = tmp_path / f"{operation}.csv"
    path.write_text("\n".join(",".join(r) for r in [header, *rows]) + "\n", encoding="utf-8")
    (sheet,) = load(path, operation)
    checked = check(sheet)
    index = list(sheet.data.index)
    for edits in rounds:
        for position, column, value in edits:
            sheet.data.at[index[position], column] = value or None
        checked = check_rows(checked, [index[p] for p, _, _ in edits])
        full = check(sheet)
        assert checked.issues == full.issues
        assert checked.invalid == full.invalid
