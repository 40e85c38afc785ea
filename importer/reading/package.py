"""Excel packages (OPC zips) as other programs write them, put in the shape readers expect.

Excel finds the workbook through the package's relationships (`_rels/.rels`), wherever it is,
and takes `\\` in member names for `/`; calamine and our sheet measuring look for
`xl/workbook.xml`. So a package that differs is copied once with `/` names and the workbook
moved to `xl/workbook.xml` (its relationships' targets made absolute, so they still lead to
the same parts). Only the small relationship parts are read here, by a bounded regex: nothing
a file says is parsed as markup with entities.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile

WORKBOOK, WORKBOOK_RELS = "xl/workbook.xml", "xl/_rels/workbook.xml.rels"
_MAIN = re.compile(r"/(?:officeDocument/2006/relationships|ooxml/officeDocument/relationships)"
                   r"/officeDocument\Z")
_TAG = re.compile(rb"<(?:\w+:)?Relationship\b[^>]*>")
_ATTR = re.compile(rb"""\b(Type|Target|TargetMode)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_TARGET = re.compile(rb"""(\bTarget\s*=\s*)(?:"([^"]*)"|'([^']*)')""")
_SMALL = 1 << 20


def standard(data: bytes) -> bytes | None:
    """The package with `/` names and its workbook at xl/workbook.xml, or None when it is so
    already (or is no package whose workbook can be found)."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
        names = {_name(i.filename): i for i in infos}
        main = _main_part(zf, names)
        if main is None or (main == WORKBOOK and not any("\\" in i.filename for i in infos)):
            return None
        return _copy(zf, names, main)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, KeyError):
        return None  # the format check that follows says what is wrong


def _name(member: str) -> str:
    return member.replace("\\", "/").lstrip("/")


def _read(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    with zf.open(info) as f:
        return f.read(_SMALL)


def _main_part(zf: zipfile.ZipFile, names: dict[str, zipfile.ZipInfo]) -> str | None:
    rels = names.get("_rels/.rels")
    if rels is None:
        return None
    for tag in _TAG.findall(_read(zf, rels)):
        attrs = {m.group(1): (m.group(2) or m.group(3) or b"").decode("utf-8", "replace")
                 for m in _ATTR.finditer(tag)}
        if _MAIN.search(attrs.get(b"Type", "")) and attrs.get(b"Target"):
            part = posixpath.normpath(attrs[b"Target"].replace("\\", "/")).lstrip("/")
            return part if part in names else None
    return None


def _copy(zf: zipfile.ZipFile, names: dict[str, zipfile.ZipInfo], main: str) -> bytes:
    folder, base = posixpath.split(main)
    old_rels = posixpath.join(folder, "_rels", base + ".rels")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as copy:
        for name, info in names.items():
            if (name == WORKBOOK and main != WORKBOOK) or (
                    name == WORKBOOK_RELS and old_rels != WORKBOOK_RELS):
                continue  # a stray part where the workbook goes
            data = zf.read(info)
            if name == main:
                name = WORKBOOK
            elif name == old_rels:
                name, data = WORKBOOK_RELS, _absolute(data, folder)
            elif name == "_rels/.rels":
                data = data.replace(main.encode(), WORKBOOK.encode())
            elif name == "[Content_Types].xml":
                data = data.replace(f'"/{main}"'.encode(), f'"/{WORKBOOK}"'.encode())
            copy.writestr(name, data)
    return out.getvalue()


def _absolute(rels: bytes, folder: str) -> bytes:
    """Relationship targets relative to the workbook's old folder, made absolute."""
    def fix(match: re.Match[bytes]) -> bytes:
        target = (match.group(2) or match.group(3) or b"").decode("utf-8", "replace")
        if target.startswith("/") or "://" in target:
            return match.group(0)
        path = "/" + posixpath.normpath(posixpath.join(folder, target.replace("\\", "/")))
        return match.group(1) + b'"' + path.encode() + b'"'

    return _TARGET.sub(fix, rels)
