"""The sheets the tool adds (Summary, Errors): their names, the names input sheets get beside
them, and the mark that tells them apart when a results workbook is read again.

Marked, not recognised by name: re-reading never takes the tool's sheets for input, whatever
values they hold, and a user's own sheet that happens to be called "Summary" still is input.

The mark is a sheet-scoped defined name, `_NumberBlockImporter.ToolSheet`, on each sheet the tool
adds. A cell value cannot make one; it belongs to its sheet (a renamed or moved sheet keeps it);
Excel keeps defined names when it saves, and LibreOffice 7.4 keeps them through xlsx -> xlsx and
xlsx -> ods -> xlsx (tests/test_marks.py runs that round trip). In .ods LibreOffice stores
sheet-scoped names at the end of each sheet's data, so for .ods the list of the tool's sheets
is read from a custom document property written alongside (meta.xml, which LibreOffice carries
over from the .xlsx), at the price of not following a rename made after that.

Reading looks only at the workbook's metadata (xl/workbook.xml or meta.xml, never the sheet
data), reads at most MAX_PART bytes of it, refuses any DTD (no entity expansion) and treats
every failure as "no sheet is the tool's": the loader then reads every sheet, as before.
"""

from __future__ import annotations

import io
import json
import posixpath
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from importer import excel
from importer.reading import xmlsafe

if TYPE_CHECKING:
    import xlsxwriter

SUMMARY, ERRORS = "Summary", "Errors"
TOOL_SHEETS = (SUMMARY, ERRORS)
MARK_NAME = "_NumberBlockImporter.ToolSheet"
PROPERTY = "NumberBlockImporter.ToolSheets"
MAX_PART = 8 * 1024 * 1024  # a workbook.xml with thousands of defined names is still < 1 MB

_MAIN = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
_STRICT_MAIN = "http://purl.oclc.org/ooxml/officeDocument/relationships/officeDocument"


_NOT_IN_NAMES = re.compile(r"[\[\]:*?/\\\x00-\x1f\x7f]")  # Excel's forbidden + control chars
_RESERVED = frozenset({"history"})  # Excel keeps "History" for its change tracking


def result_sheet_names(names: list[str]) -> dict[str, str]:
    """Input sheet name -> its name in the results workbook: the same wherever Excel allows it.

    Otherwise, predictably: `[ ] : * ? / \\` and control characters become `_`, apostrophes at
    either end are dropped, a longer name is cut to 31 characters (Excel counts an emoji as
    two) without a trailing space, and a name taken by the tool's sheets (in any case), by an
    earlier sheet or reserved by Excel gets " (2)", " (3)"... Names Excel allows are kept
    first, so a renamed sheet never takes a kept one's name.
    """
    return dict(zip(names, assign_sheet_names(names), strict=True))


def rename_reason(name: str) -> str:
    """Why an input sheet called `name` has another name in the results workbook, in words."""
    why = []
    if _NOT_IN_NAMES.search(name):
        why.append("Excel does not allow [ ] : * ? / \\ in sheet names")
    if name.startswith("'") or name.endswith("'"):
        why.append("Excel does not allow an apostrophe at the start or end")
    if _utf16_len(name) > excel.SHEET_NAME_CHARS:
        why.append(f"longer than Excel's {excel.SHEET_NAME_CHARS} characters")
    if not name.strip("'"):
        why.append("a sheet needs a name")
    if name.lower() in {t.lower() for t in TOOL_SHEETS}:
        why.append(f"this workbook's own {name.capitalize()} sheet has that name")
    if name.lower() in _RESERVED:
        why.append("Excel keeps that name for itself")
    return "; ".join(why) or "another sheet has the same name (Excel ignores case)"


def assign_sheet_names(names: list[str]) -> list[str]:
    """result_sheet_names as a list, one name per input sheet (safe with repeated names)."""
    taken = {t.lower() for t in TOOL_SHEETS} | _RESERVED
    result: list[str | None] = []
    for name in names:
        if legal_sheet_name(name) == name and name.lower() not in taken:
            taken.add(name.lower())
            result.append(name)
        else:
            result.append(None)
    for i, name in enumerate(names):
        if result[i] is None:
            base, n, candidate = legal_sheet_name(name), 1, legal_sheet_name(name)
            while candidate.lower() in taken:
                n += 1
                suffix = f" ({n})"
                candidate = _cut(base, excel.SHEET_NAME_CHARS - len(suffix)).rstrip(" '") + suffix
            taken.add(candidate.lower())
            result[i] = candidate
    return [r for r in result if r is not None]


def legal_sheet_name(name: str) -> str:
    """`name` as Excel can take it: forbidden characters as `_`, no quote at either end, at
    most 31 characters (UTF-16), never empty."""
    name = _NOT_IN_NAMES.sub("_", name).strip("'")
    if _utf16_len(name) > excel.SHEET_NAME_CHARS:  # cut, and no space or quote left dangling
        name = _cut(name, excel.SHEET_NAME_CHARS).rstrip(" '")
    return name or "Sheet"


def _utf16_len(text: str) -> int:
    return len(text) + sum(ord(ch) > 0xFFFF for ch in text)


def _cut(text: str, limit: int) -> str:
    """At most `limit` UTF-16 units, never half a character."""
    text = text[:limit]
    while _utf16_len(text) > limit:
        text = text[:-1]
    return text


def mark(book: xlsxwriter.Workbook, sheets: dict[str, str]) -> None:
    """Mark `sheets` (name -> role, e.g. "Summary" -> "summary") as the tool's in `book`.

    Call after the sheets are added. Names must be the tool's own (no `!` or `'`)."""
    for name, role in sheets.items():
        book.define_name(f"'{name}'!{MARK_NAME}", f'"{role}"')
    book.set_custom_property(PROPERTY, json.dumps(list(sheets)))


def tool_sheets(workbook: Path | bytes) -> set[str]:
    """The names of the sheets the tool added to a workbook (its path, or its bytes as already
    read); empty for anything else (CSV, .xls, a damaged or hostile file)."""
    try:
        with zipfile.ZipFile(io.BytesIO(workbook) if isinstance(workbook, bytes)
                             else workbook) as zf:
            names = set(zf.namelist())
            if "content.xml" in names and "meta.xml" in names:
                return _from_property(_read(zf, "meta.xml"))
            return _from_defined_names(_read(zf, _workbook_part(zf, names)))
    except Exception:  # any failure means "not marked": the sheets are read as before
        return set()


def _read(zf: zipfile.ZipFile, name: str) -> bytes:
    if zf.getinfo(name).file_size > MAX_PART:
        raise ValueError(f"{name} is too large")
    with zf.open(name) as f:  # the size in the directory can lie: read at most MAX_PART
        data = f.read(MAX_PART + 1)
    if len(data) > MAX_PART:
        raise ValueError(f"{name} is too large")
    return data


def _workbook_part(zf: zipfile.ZipFile, names: set[str]) -> str:
    """The workbook part named by the package's relationships (almost always xl/workbook.xml)."""
    found: list[str] = []

    def start(tag: str, attrs: dict[str, str]) -> None:
        if tag.endswith(" Relationship") and attrs.get("Type") in (_MAIN, _STRICT_MAIN):
            found.append(attrs.get("Target", ""))

    if "_rels/.rels" in names:
        _parse(_read(zf, "_rels/.rels"), start)
    return posixpath.normpath(found[0].lstrip("/")) if found else "xl/workbook.xml"


def _from_defined_names(data: bytes) -> set[str]:
    sheets: list[str] = []
    marked: list[int] = []

    def start(tag: str, attrs: dict[str, str]) -> None:
        local = tag.rpartition(" ")[2]
        if local == "sheet":
            sheets.append(attrs.get("name", ""))
        elif (local == "definedName" and attrs.get("name", "").lower() == MARK_NAME.lower()
              and attrs.get("localSheetId", "").isdigit()):
            marked.append(int(attrs["localSheetId"]))

    _parse(data, start)
    return {sheets[i] for i in marked if i < len(sheets)}


def _from_property(meta: bytes) -> set[str]:
    text: list[str] = []
    inside = [False]

    def start(tag: str, attrs: dict[str, str]) -> None:
        inside[0] = tag.endswith(" user-defined") and any(
            k.endswith(" name") and v == PROPERTY for k, v in attrs.items())

    def end(tag: str) -> None:
        inside[0] = False

    def chars(data: str) -> None:
        if inside[0]:
            text.append(data)

    _parse(meta, start, end, chars)
    if not text:
        return set()
    names = json.loads("".join(text))
    return {n for n in names if isinstance(n, str)} if isinstance(names, list) else set()


def _parse(data: bytes, start: Callable[[str, dict[str, str]], None],
           end: Callable[[str], None] | None = None,
           chars: Callable[[str], None] | None = None) -> None:
    """Stream `data` through the package's one safe parser (no DTD, so no entities)."""
    parser = xmlsafe.parser(namespace_separator=" ")
    parser.StartElementHandler = start
    if end is not None:
        parser.EndElementHandler = end
    if chars is not None:
        parser.CharacterDataHandler = chars
    parser.Parse(data, True)
