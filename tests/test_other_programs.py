"""Workbooks as other programs write them: read, or named for what they are, never "damaged"
when LibreOffice opens them (those cases are opened by LibreOffice here too).

The packages are made from one xlsxwriter workbook by rewriting its zip the way those programs
write theirs: `\\` in member names, the workbook part elsewhere (found through `_rels/.rels`),
Strict OOXML's namespaces; an Excel 4 file's first record; a zip holding a CSV; password
protection of .xls (a FILEPASS record) and .ods (encryption data in the manifest).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import olefile
import pytest
import xlsxwriter

from importer.cli import main
from tests.libreoffice import convert, write_fods

HEADER = ["PropertySid", "NumberBlockSid", "AnswerPoint"]
ROW = ["PRDEMO0001", "NB100001", "0412 345 678"]
STRICT = [(b"http://schemas.openxmlformats.org/spreadsheetml/2006/main",
           b"http://purl.oclc.org/ooxml/spreadsheetml/main"),
          (b"http://schemas.openxmlformats.org/officeDocument/2006/relationships",
           b"http://purl.oclc.org/ooxml/officeDocument/relationships")]
Rewrite = Callable[[str, bytes], tuple[str, bytes]]


def _base(path: Path) -> Path:
    book = xlsxwriter.Workbook(str(path))
    book.add_worksheet("Notes").write(0, 0, "read me")
    sheet = book.add_worksheet("Purchase")
    sheet.write_row(0, 0, HEADER)
    sheet.write_row(1, 0, ROW)
    book.close()
    return path


def _rewritten(src: Path, out: Path, rewrite: Rewrite) -> Path:
    buffer = io.BytesIO()
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for info in zin.infolist():
            z.writestr(*rewrite(info.filename, zin.read(info)))
    out.write_bytes(buffer.getvalue())
    return out


def _backslashes(name: str, data: bytes) -> tuple[str, bytes]:
    """The parts under xl/ named with backslashes (`xl\\workbook.xml`), as some zip tools on
    Windows write them."""
    return (name.replace("/", "\\") if name.startswith("xl/") else name), data


def _strict(name: str, data: bytes) -> tuple[str, bytes]:
    for old, new in STRICT:
        data = data.replace(old, new)
    return name, data


def _moved(name: str, data: bytes) -> tuple[str, bytes]:
    """The workbook part at the root, as some generators write it."""
    if name == "xl/workbook.xml":
        return "book.xml", data
    if name == "xl/_rels/workbook.xml.rels":
        return "_rels/book.xml.rels", data.replace(b'Target="', b'Target="xl/')
    if name in ("_rels/.rels", "[Content_Types].xml"):
        return name, data.replace(b"xl/workbook.xml", b"book.xml")
    return name, data


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("packages")
    base = _base(tmp / "base.xlsx")
    return {kind: _rewritten(base, tmp / f"{kind}.xlsx", rewrite) for kind, rewrite in
            (("backslashes", _backslashes), ("strict", _strict), ("moved", _moved))}


@pytest.mark.parametrize("kind", ["backslashes", "strict", "moved"])
def test_packages_written_otherwise_are_read(packages: dict[str, Path], kind: str,
                                             tmp_path: Path, capsys: pytest.CaptureFixture
                                             ) -> None:
    code = main(["validate", str(packages[kind]), "--out", str(tmp_path / "r.xlsx")])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "1 row: VALID 1" in out.out
    named = main(["validate", str(packages[kind]), "--sheet", "Purchase", "--out",
                  str(tmp_path / "named.xlsx")])
    assert named == 0, capsys.readouterr().err


def test_libreoffice_opens_them_too(packages: dict[str, Path], tmp_path: Path) -> None:
    """So they may not be called damaged. (Backslashed names LibreOffice refuses; Excel and
    calamine read them, and so do we.)"""
    made = convert([packages["strict"], packages["moved"]], "csv", tmp_path)
    assert all(p.stat().st_size for p in made)


def _error(tmp_path: Path, path: Path, capsys: pytest.CaptureFixture) -> str:
    assert main(["validate", str(path), "--out", str(tmp_path / "r.xlsx")]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert "damaged" not in line
    return line


def test_an_excel_4_file_is_named(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "old.xls"  # BOF (BIFF4 worksheet), then EOF
    path.write_bytes(b"\x09\x04\x06\x00\x00\x00\x10\x00\x00\x00" + b"\x0a\x00\x00\x00")
    assert "is an Excel 4 (or older) workbook" in _error(tmp_path, path, capsys)


def test_a_zip_holding_a_csv_is_named(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "rollout.csv"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("rollout.csv", ",".join(HEADER) + "\n" + ",".join(ROW) + "\n")
    assert "archive holding rollout.csv; unzip it" in _error(tmp_path, path, capsys)


def test_a_password_protected_ods_is_named(tmp_path: Path, capsys: pytest.CaptureFixture
                                           ) -> None:
    ods = convert([write_fods(tmp_path / "p.fods", {"Purchase": [HEADER, ROW]})], "ods",
                  tmp_path)[0]
    locked = _rewritten(ods, tmp_path / "locked.ods", lambda n, d: (n, d.replace(
        b'manifest:full-path="content.xml"', b'manifest:full-path="content.xml"><manifest:'
        b'encryption-data manifest:checksum="x"/></manifest:file-entry><manifest:file-entry '
        b'manifest:full-path="x"') if n == "META-INF/manifest.xml" else d))
    assert "password-protected" in _error(tmp_path, locked, capsys)


def test_a_password_protected_xls_is_named(tmp_path: Path, capsys: pytest.CaptureFixture
                                           ) -> None:
    xls = convert([write_fods(tmp_path / "p.fods", {"Purchase": [HEADER, ROW]})], "xls",
                  tmp_path)[0]
    ole = olefile.OleFileIO(str(xls), write_mode=True)
    stream = bytearray(ole.openstream("Workbook").read())
    at = stream.find(b"\x5c\x00")  # WRITEACCESS becomes FILEPASS (same length)
    stream[at:at + 2] = b"\x2f\x00"
    ole.write_stream("Workbook", bytes(stream))
    ole.close()
    assert "password-protected" in _error(tmp_path, xls, capsys)
