"""Hostile and broken inputs through the real command, each timed and weighed.

Every file is made here, in tmp: stray cells far away, long and broken CSV lines, a FIFO, a
device, process substitution, symlink loops, names with control characters, damaged and
mis-named workbooks, unsaved formulas, invisible characters, values too long for Excel. For
each: the exit code, one line on stderr (no traceback, no library wording), and the time and
peak memory of the child process within generous bounds.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from importer.text import shown
from tests.hostile import Run, run

HEADER = ["PropertySid", "NumberBlockSid", "AnswerPoint"]
ROWS = [["PRDEMO0001", f"NB10000{i}", "0412 345 678"] for i in range(3)]
SECONDS, MEGABYTES = 30, 500  # generous for CI; the stray-cell files take ~1 s and ~150 MB
LIBRARY_WORDS = ("EOCD", "zip", "Zip", "C error", "tokenizing", "rels", "calamine", "Errno",
                 "Traceback", "unrecognized entity")


def xlsx(path: Path, rows: list[list[object]], extra: dict[str, object] | None = None,
         shared_strings: bool = False) -> Path:
    """A workbook as openpyxl (inline strings) or xlsxwriter (shared strings, like Excel)
    writes it; `extra` puts values in far cells ("XFD1048576": " ")."""
    if shared_strings:
        book = xlsxwriter.Workbook(str(path))
        ws = book.add_worksheet("Purchase")
        for r, row in enumerate(rows):
            ws.write_row(r, 0, row)
        for ref, value in (extra or {}).items():
            ws.write(ref, value)
        book.close()
        return path
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Purchase"
    for row in rows:
        ws.append(row)
    for ref, value in (extra or {}).items():
        ws[ref] = value
    wb.save(path)
    return path


def validate(tmp_path: Path, path: Path | str, *more: object, **kw: object) -> Run:
    return run(tmp_path, "validate", path, "--out", tmp_path / "out.results.xlsx", "--json",
               *more, **kw)  # type: ignore[arg-type]


def one_line_error(result: Run, *words: str) -> str:
    """The run failed as unusable input (exit 2) with one plain line saying `words`."""
    assert result.code == 2, (result.code, result.stderr)
    (line,) = result.error_lines
    assert line.startswith("importer: ")
    for word in words:
        assert word in line, line
    for word in LIBRARY_WORDS:
        assert word not in line, line
    assert result.report["exit_code"] == 2
    return line


def cheap(result: Run, seconds: float = SECONDS, megabytes: float = MEGABYTES) -> None:
    assert result.seconds < seconds, f"took {result.seconds:.1f} s"
    assert result.peak_mb < megabytes, f"peak {result.peak_mb:.0f} MB"


@pytest.mark.parametrize("shared_strings", [False, True])
@pytest.mark.parametrize("far", ["XFD1048576", "ZZ100000", "A1048576"])
def test_a_space_in_a_far_cell_costs_nothing(tmp_path: Path, far: str,
                                             shared_strings: bool) -> None:
    """One space typed far away made calamine allocate its whole grid (512 GiB: a native
    panic; at ZZ100000 4.7 GB and 34 s). Now: the three rows, in a second or two."""
    path = xlsx(tmp_path / "stray.xlsx", [HEADER, *ROWS], {far: " "}, shared_strings)
    result = validate(tmp_path, path)
    assert result.code == 0, result.stderr
    assert result.report["rows"] == 3 and result.report["counts"]["VALID"] == 3
    assert result.stderr == ""
    cheap(result)


@pytest.mark.parametrize(("far", "named"), [("XFD1048576", "XFD1048576"),
                                             ("C1000000", "C1000000")])
def test_data_far_from_the_rest_is_named(tmp_path: Path, far: str, named: str) -> None:
    path = xlsx(tmp_path / "far.xlsx", [HEADER, *ROWS], {far: "x"})
    result = validate(tmp_path, path)
    line = one_line_error(result, f"cell {named} holds", "clear it")
    assert " C1 " not in line and "C1 and" not in line  # never the header cell beside it
    cheap(result)


def test_a_csv_cell_of_150000_characters_is_read(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    path.write_text(",".join([*HEADER, "Notes"]) + "\n"
                    + ",".join([*ROWS[0], "x" * 150_000]) + "\n" + ",".join([*ROWS[1], "ok"])
                    + "\n")
    result = validate(tmp_path, path)
    assert result.code == 1, result.stderr
    assert result.report["counts"]["VALID"] == 1 and result.report["counts"]["INVALID"] == 1
    cheap(result)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_value_too_long_for_excel_is_an_issue_not_cut(tmp_path: Path, fmt: str) -> None:
    """50,000 characters: the results workbook would keep 32,767 of them without a word."""
    rows = [[*HEADER, "Notes"], [*ROWS[0], "n" * 50_000], [*ROWS[1][:2], "4" * 40_000, ""]]
    if fmt == "csv":
        path = tmp_path / "long.csv"
        path.write_text("\n".join(",".join(r) for r in rows) + "\n")
    else:  # openpyxl and Excel cut at 32,767; a program writing the XML itself may not
        short = xlsx(tmp_path / "short.xlsx", [[v[:32_767] for v in r] for r in rows])
        path = tmp_path / "long.xlsx"
        path.write_bytes(_zip({name: _lengthen(name, data) for name, data in
                               _members(short).items()}))
    result = validate(tmp_path, path)
    assert result.code == 1
    assert result.report["counts"]["INVALID"] == 2
    errors = openpyxl.load_workbook(tmp_path / "out.results.xlsx")["Errors"]
    found = {(r[1], r[2], r[5]) for r in errors.iter_rows(min_row=2, values_only=True)}
    assert (2, "Notes", "too_long") in found and (3, "AnswerPoint", "too_long") in found
    cheap(result)


@pytest.mark.parametrize("line", [2, 80])  # in the lines read to find the delimiter, and after
def test_a_csv_cell_beyond_the_cap_is_refused_with_its_line(tmp_path: Path, line: int) -> None:
    path = tmp_path / "huge-cell.csv"
    rows = [",".join(HEADER)] + [",".join(ROWS[0])] * (line - 2)
    rows.append("PRDEMO0001,NB100009," + "9" * 1_100_000)
    path.write_text("\n".join(rows) + "\n")
    result = validate(tmp_path, path)
    one_line_error(result, f"{line}", "1,000,000", "this tool reads in one cell")
    cheap(result)


def test_a_nul_byte_is_its_rows_problem(tmp_path: Path) -> None:
    """One NUL in a text file: the cell is named, the file is read (not "binary content")."""
    path = tmp_path / "nul.csv"
    path.write_bytes(b"PropertySid,NumberBlockSid,AnswerPoint\r\nPRDEMO0001,NB1,0412345678\r\n"
                     b"PRDEMO0001,NB\x002,0412345678\r\n")
    result = validate(tmp_path, path)
    assert result.code == 1, result.stderr
    assert result.report["counts"] == {**result.report["counts"], "VALID": 1, "INVALID": 1}


def test_an_unclosed_quote_is_its_rows_problem_and_the_rest_is_read(tmp_path: Path) -> None:
    """As LibreOffice reads it: the quote is text, the next lines are rows of their own."""
    path = tmp_path / "quote.csv"
    path.write_text('PropertySid,NumberBlockSid,AnswerPoint\nPRDEMO0001,NB1,0412345678\n'
                    'PRDEMO0001,NB2,"0412 345 678\nPRDEMO0001,NB3,0412345678\n')
    result = validate(tmp_path, path)
    assert result.code == 1, result.stderr
    assert result.report["counts"] == {**result.report["counts"], "VALID": 2, "INVALID": 1}
    errors = openpyxl.load_workbook(tmp_path / "out.results.xlsx")["Errors"]
    found = [r for r in errors.iter_rows(min_row=2, values_only=True) if r[5] == "unclosed_quote"]
    assert [(r[1], r[2]) for r in found] == [(3, "AnswerPoint")]
    assert "on line 3 of the file opens a quote" in found[0][6]


def test_a_fifo_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    result = validate(tmp_path, fifo, timeout=30)
    one_line_error(result, "pipe")
    cheap(result, seconds=10)


def test_process_substitution_is_refused(tmp_path: Path) -> None:
    """`importer validate <(cat f.csv)`: a pipe behind /dev/fd/N, drained by a second open."""
    read, write = os.pipe()
    os.write(write, b"PropertySid,NumberBlockSid,AnswerPoint\nPRDEMO0001,NB1,0412345678\n")
    try:
        result = validate(tmp_path, f"/dev/fd/{read}", pass_fds=(read,))
    finally:
        os.close(read)
        os.close(write)
    one_line_error(result, "pipe", "<(...)")


def test_a_link_to_a_device_is_refused(tmp_path: Path) -> None:
    link = tmp_path / "zero.csv"
    link.symlink_to("/dev/zero")
    result = validate(tmp_path, link)
    one_line_error(result, "device")
    cheap(result, seconds=10)


def test_a_symlink_loop_says_so(tmp_path: Path) -> None:
    (tmp_path / "a.csv").symlink_to(tmp_path / "b.csv")
    (tmp_path / "b.csv").symlink_to(tmp_path / "a.csv")
    one_line_error(validate(tmp_path, tmp_path / "a.csv"), "loop")


def test_a_symlink_loop_says_so_when_loaded(tmp_path: Path) -> None:
    from importer.errors import InputError
    from importer.reading.loading import load

    (tmp_path / "a.csv").symlink_to(tmp_path / "b.csv")
    (tmp_path / "b.csv").symlink_to(tmp_path / "a.csv")
    with pytest.raises(InputError, match="loop of symbolic links"):
        load(tmp_path / "a.csv")


@pytest.mark.parametrize("name", ["two\nlines.csv", "title\x1b]0;pwned\x07.csv",
                                  "red\x1b[31m.csv"])
def test_control_characters_in_file_names_are_shown_escaped(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text(",".join(HEADER) + "\n")  # a header, no rows: an error naming the file
    line = one_line_error(validate(tmp_path, path), "no data rows", shown(name))
    assert "\x1b" not in line and "\x07" not in line


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _lengthen(name: str, data: bytes) -> bytes:
    if not name.startswith("xl/worksheets/"):
        return data
    return data.replace(b"n" * 32_767, b"n" * 50_000).replace(b"4" * 32_767, b"4" * 40_000)


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


@pytest.mark.parametrize(("name", "content", "words"), [
    ("cut.xlsx", "truncated", ["is not a working Excel file", "damaged"]),
    ("word.xlsx", _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w/>"}),
     ["is a Word document"]),
    ("noise.xlsx", b"PK\x03\x04" + bytes(range(256)) * 4, ["is not a working Excel file"]),
    ("partial.xlsx", _zip({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml":
                           b"<workbook/>"}), ["is not a working Excel file"]),
    ("text.xlsx", b"PropertySid,NumberBlockSid\nPR1,NB1\n", ["text (CSV) file", ".csv"]),
    ("page.xls", b"<html><table><tr><td>1</td></tr></table></html>", ["web page"]),
    ("bad.xml.xlsx", _zip({"xl/workbook.xml": b"<workbook><sheets><sheet name='S' r:id='x'",
                           "[Content_Types].xml": b"<Types/>"}),
     ["is not a working Excel file"]),
])
def test_damaged_and_misnamed_workbooks(tmp_path: Path, name: str, content: bytes | str,
                                        words: list[str]) -> None:
    path = tmp_path / name
    if content == "truncated":
        whole = xlsx(tmp_path / "whole.xlsx", [HEADER, *ROWS]).read_bytes()
        content = whole[: len(whole) // 2]
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    one_line_error(validate(tmp_path, path), *words)


def test_a_formula_without_a_saved_result_says_so(tmp_path: Path) -> None:
    """openpyxl writes formulas without a result; the cell reads as empty."""
    path = xlsx(tmp_path / "formula.xlsx", [HEADER, ["PRDEMO0001", "NB1", "=C3"], ROWS[1]])
    result = validate(tmp_path, path)
    assert result.code == 1
    errors = openpyxl.load_workbook(tmp_path / "out.results.xlsx")["Errors"]
    (issue,) = [r for r in errors.iter_rows(min_row=2, values_only=True) if r[1] == 2]
    assert issue[2] == "AnswerPoint" and issue[5] == "formula_not_saved"
    assert "result was never saved" in issue[6] and "empty" not in issue[6]


def test_an_invisible_character_in_a_header_is_pointed_at(tmp_path: Path) -> None:
    path = tmp_path / "zwsp.csv"
    path.write_text("PropertySid,Number\u200bBlockSid,AnswerPoint\nPRDEMO0001,NB1,0412345678\n",
                    encoding="utf-8")
    one_line_error(validate(tmp_path, path), "column B", "zero width space", "position 7")


def test_an_invisible_character_in_a_sid_is_pointed_at(tmp_path: Path) -> None:
    path = tmp_path / "zwsp.csv"
    path.write_text("PropertySid,NumberBlockSid,AnswerPoint\nPRDEMO0001,NB\u200b1,0412345678\n",
                    encoding="utf-8")
    result = validate(tmp_path, path)
    assert result.code == 1
    errors = openpyxl.load_workbook(tmp_path / "out.results.xlsx")["Errors"]
    (issue,) = [r for r in errors.iter_rows(min_row=2, values_only=True) if r[1] == 2]
    assert "invisible character (zero width space, U+200B) at position 3" in issue[6]


def test_a_very_long_value_is_not_echoed_whole(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    path.write_text(",".join(HEADER) + "\nPRDEMO0001," + "N" * 10_000 + ",0412345678\n")
    result = validate(tmp_path, path)
    assert result.code == 1
    errors = openpyxl.load_workbook(tmp_path / "out.results.xlsx")["Errors"]
    (issue,) = [r for r in errors.iter_rows(min_row=2, values_only=True) if r[1] == 2]
    assert "10,000 characters" in issue[6] and len(issue[6]) < 300


def test_columns_of_the_other_operation_are_an_error(tmp_path: Path) -> None:
    """A purchase sheet checked as configure was all VALID: its AnswerPoint merely ignored."""
    path = xlsx(tmp_path / "purchase.xlsx", [HEADER, *ROWS])
    one_line_error(validate(tmp_path, path, "--operation", "configure"),
                   "'Purchase'", "--operation configure", "AnswerPoint", "purchase")


def test_a_huge_file_is_refused_by_its_size_without_reading_it(tmp_path: Path) -> None:
    from importer.errors import InputError
    from importer.reading.loading import LIMITS, load

    path = tmp_path / "big.csv"
    path.write_text(",".join(HEADER) + "\n" + ",".join(ROWS[0]) + "\n" * 2000)
    small = LIMITS.__class__(**{**LIMITS.__dict__, "file_bytes": 1000})
    with pytest.raises(InputError, match=r"the file is 2,\d+ bytes, more than the 1,000 bytes "
                                         r"this tool reads"):
        load(path, limits=small)


def _bomb(path: Path, string_mb: int) -> Path:
    """An xlsx (as xlsxwriter writes it) whose one shared string is `string_mb` MB of "A",
    deflated to about a thousandth of that."""
    small = xlsx(path.with_suffix(".small.xlsx"), [HEADER, *ROWS], shared_strings=True)
    with zipfile.ZipFile(small) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            if info.filename != "xl/sharedStrings.xml":
                out.writestr(info, src.read(info))
                continue
            with out.open("xl/sharedStrings.xml", "w", force_zip64=True) as f:
                f.write(b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.'
                        b'openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
                        b"<si><t>")
                chunk = b"A" * (1 << 20)
                for _ in range(string_mb):
                    f.write(chunk)
                f.write(b"</t></si></sst>")
    return path


def test_a_bomb_is_refused_from_the_directory_fast_and_small(tmp_path: Path) -> None:
    """Issue 17: a 0.5 MB xlsx holding one 500 MB shared string took 39 s and 4.26 GB."""
    path = _bomb(tmp_path / "bomb.xlsx", 500)
    assert path.stat().st_size < 1 << 20
    result = validate(tmp_path, path)
    one_line_error(result, "unpacks to 500 MB", "256 MB", "fill memory")
    cheap(result, seconds=10, megabytes=250)


SECRET = "tok-5ecret-in-url"


@pytest.mark.parametrize(("url", "said"), [
    (f"https://ACCOUNT:{SECRET}@api.example.com", "must not contain credentials"),
    (f"htps://ACCOUNT:{SECRET}@api.example.com", "must not contain credentials"),
    (f"ftp://{SECRET}:x@api.example.com/v2", "must not contain credentials"),
    # Without credentials in the address, the token (SECRET) goes further: each failure later on
    # is reached, and none of them echoes it.
    ("htps://api.example.com", "not an http(s) URL"),
    ("http://api.example.com", "refusing to send credentials over plain http"),
    ("https://api.example.com:99999", "could not be listed"),  # a port that cannot be
    ("https://nonexistent.invalid", "the address could not be found"),
    ("https://127.0.0.1:9", "the connection was refused"),  # nothing listening
])
@pytest.mark.parametrize("where", ["flag", "environment"])
def test_a_credential_in_a_url_is_never_echoed(tmp_path: Path, url: str, said: str, where: str,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "p.csv"
    source.write_text("\n".join(",".join(r) for r in [HEADER, *ROWS]) + "\n")
    monkeypatch.setenv("IMPORTER_ACCOUNT_SID", "ACDEMO0001")
    monkeypatch.setenv("IMPORTER_AUTH_TOKEN", SECRET)
    monkeypatch.setenv("IMPORTER_CONFIG", str(tmp_path / "no-config.toml"))
    args: list[object] = ["run", source, "--yes", "--retries", "0", "--timeout", "2"]
    if where == "flag":
        args += ["--base-url", url]
    else:
        monkeypatch.setenv("IMPORTER_BASE_URL", url)
    result = run(tmp_path, *args)
    assert result.code in (1, 2, 3), result.stderr
    assert said in result.stdout + result.stderr, result.stdout + result.stderr
    assert SECRET not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    for path in tmp_path.rglob("*"):
        if path.is_file() and not path.name.startswith(".peak"):
            assert SECRET.encode() not in path.read_bytes(), path
