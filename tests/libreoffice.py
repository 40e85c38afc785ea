"""Real spreadsheet-program files for the tests: LibreOffice headless, and flat ODS sources.

Test data is written as flat ODS (.fods, plain XML with explicit cell types: text, number,
boolean, formula, number formats, hidden sheets), then LibreOffice itself converts it to
xlsx/xls/ods/CSV, so the loader is tested on bytes a spreadsheet program wrote. Start-up
dominates a conversion (~2 s), so `convert` takes many files in one soffice process.
Without LibreOffice the tests that need it skip with the reason.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import pandas as pd
import pytest

SKIP_REASON = ("LibreOffice is not installed (no `soffice` on PATH); `.ci/run` installs "
               "libreoffice-calc-nogui so these real-file tests run in CI")

# CSV filter options: separator, text delimiter, character set, first line. Character sets in
# LibreOffice's numbering: 76 UTF-8, 1 Windows-1252, 65535 UTF-16 (with BOM). Export saves
# cell contents as shown (4.12E+08 stays 4.12E+08), as Excel does.
CSV_UTF8_COMMA = "44,34,76,1"
CSV_CP1252_SEMICOLON = "59,34,1,1"
CSV_UTF16_TAB = "9,34,65535,1"
CSV_EXPORT = "csv:Text - txt - csv (StarCalc):"


def soffice() -> str:
    """The LibreOffice binary, or skip the calling test with a clear reason."""
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if exe is None:
        pytest.skip(SKIP_REASON)
    return exe


def convert(files: Sequence[Path], to: str, outdir: Path, infilter: str | None = None
            ) -> list[Path]:
    """Convert `files` with one soffice run; `to` as for --convert-to (e.g. "xlsx", "csv:...").

    A private profile per run: concurrent runs otherwise fight over the user profile lock.
    """
    exe = soffice()
    outdir.mkdir(parents=True, exist_ok=True)
    profile = Path(tempfile.mkdtemp(prefix="lo-profile-"))
    cmd = [exe, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
           "--nolockcheck", "--convert-to", to, "--outdir", str(outdir)]
    if infilter:
        cmd.append(f"--infilter={infilter}")
    try:
        proc = subprocess.run([*cmd, *map(str, files)], capture_output=True, text=True,
                              timeout=240, check=False)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    ext = to.split(":", 1)[0]
    made = [outdir / f"{f.stem}.{ext}" for f in files]
    missing = [p.name for p in made if not p.exists() or not p.stat().st_size]
    if proc.returncode or missing:
        raise AssertionError(f"soffice --convert-to {to} failed (exit {proc.returncode}, "
                             f"missing {missing}): {proc.stdout} {proc.stderr}")
    return made


@dataclass(frozen=True)
class Number:
    """A number cell shown with a format: "sci" (4.12E+08) or "dec1" (412345678.0)."""

    value: float
    style: str


@dataclass(frozen=True)
class Formula:
    """A formula cell (OpenFormula syntax, e.g. `of:="NB"&[.A2]`), given without a result.

    LibreOffice then calculates it and stores the result as the cached value in every format
    (given a cached result it would keep it unchecked, and its .xls export would write 0).
    """

    formula: str


@dataclass(frozen=True)
class Styled:
    """An empty cell that only carries formatting: spreadsheets keep it in the used range."""


_STYLES = """<office:automatic-styles>
  <number:number-style style:name="Nsci"><number:scientific-number number:decimal-places="2"
    number:min-integer-digits="1" number:min-exponent-digits="2"/></number:number-style>
  <number:boolean-style style:name="Nbool"><number:boolean/></number:boolean-style>
  <number:number-style style:name="Ndec1"><number:number number:decimal-places="1"
    number:min-integer-digits="1"/></number:number-style>
  <style:style style:name="sci" style:family="table-cell" style:parent-style-name="Default"
    style:data-style-name="Nsci"/>
  <style:style style:name="dec1" style:family="table-cell" style:parent-style-name="Default"
    style:data-style-name="Ndec1"/>
  <style:style style:name="bool" style:family="table-cell" style:parent-style-name="Default"
    style:data-style-name="Nbool"/>
  <style:style style:name="fill" style:family="table-cell" style:parent-style-name="Default">
    <style:table-cell-properties fo:background-color="#ffff00"/></style:style>
  <style:style style:name="shown" style:family="table">
    <style:table-properties table:display="true"/></style:style>
  <style:style style:name="hidden" style:family="table">
    <style:table-properties table:display="false"/></style:style>
</office:automatic-styles>"""

_NS = " ".join(f'xmlns:{k}="urn:oasis:names:tc:opendocument:xmlns:{v}"' for k, v in {
    "office": "office:1.0", "table": "table:1.0", "text": "text:1.0", "style": "style:1.0",
    "number": "datastyle:1.0", "fo": "xsl-fo-compatible:1.0", "of": "of:1.2"}.items())


def _cell(value: object) -> str:
    if value is None:
        return "<table:table-cell/>"
    if isinstance(value, Styled):
        return '<table:table-cell table:style-name="fill"/>'
    if isinstance(value, bool):
        return (f'<table:table-cell table:style-name="bool" office:value-type="boolean" '
                f'office:boolean-value="{str(value).lower()}"><text:p>{str(value).upper()}'
                "</text:p></table:table-cell>")
    if isinstance(value, int | float):
        return (f'<table:table-cell office:value-type="float" office:value="{value!r}">'
                f"<text:p>{value!r}</text:p></table:table-cell>")
    if isinstance(value, Number):
        return (f'<table:table-cell table:style-name="{value.style}" office:value-type="float" '
                f'office:value="{value.value!r}"><text:p>{value.value!r}</text:p>'
                "</table:table-cell>")
    if isinstance(value, Formula):
        return f"<table:table-cell table:formula={quoteattr(value.formula)}/>"
    return (f'<table:table-cell office:value-type="string"><text:p>{escape(str(value))}'
            "</text:p></table:table-cell>")


def write_fods(path: Path, sheets: Mapping[str, Sequence[Sequence[object]]],
               hidden: Sequence[str] = ()) -> Path:
    """A flat ODS workbook: one table per sheet, cells typed by their Python value."""
    tables = []
    for name, rows in sheets.items():
        body = "".join("<table:table-row>" + "".join(map(_cell, row)) + "</table:table-row>"
                       for row in rows) or "<table:table-row><table:table-cell/></table:table-row>"
        style = "hidden" if name in hidden else "shown"
        tables.append(f"<table:table table:name={quoteattr(name)} table:style-name=\"{style}\">"
                      f"{body}</table:table>")
    path.write_text(
        f'<?xml version="1.0" encoding="UTF-8"?>\n<office:document {_NS} office:version="1.2" '
        'office:mimetype="application/vnd.oasis.opendocument.spreadsheet">'
        f"{_STYLES}<office:body><office:spreadsheet>{''.join(tables)}"
        "</office:spreadsheet></office:body></office:document>\n", encoding="utf-8")
    return path


def sheet_values(path: Path) -> dict[str, list[list[str]]]:
    """Every sheet's values as text (calamine), trailing empty cells and rows dropped: what a
    round trip through another program must keep."""
    frames = pd.read_excel(path, sheet_name=None, engine="calamine", header=None, dtype=str,
                           keep_default_na=False)
    out = {}
    for name, frame in frames.items():
        rows = [[str(v) for v in row] for row in frame.values.tolist()]
        rows = [row[: max((i + 1 for i, v in enumerate(row) if v), default=0)] for row in rows]
        while rows and not rows[-1]:
            rows.pop()
        out[str(name)] = rows
    return out
