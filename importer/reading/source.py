"""The input file, read once and safely: only a regular file, never more than the caps allow.

A FIFO, a device, a socket or a process substitution (`<(...)`, a pipe behind `/dev/fd/N`)
would hang the tool or feed it forever, and a second open of a pipe finds it drained; so the
path is checked, opened once without blocking, checked again on the open descriptor, and read
whole (up to the cap) while its SHA-256 is taken. Everything after works on the bytes in memory.
The format is decided by the content, not the name: a Word document renamed `.xlsx` or a CSV
renamed `.xls` is called what it is.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import stat
import zipfile
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from importer.errors import InputError
from importer.reading import package
from importer.text import shown

_ZIP, _CFB = b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_EMPTY_ZIP = b"PK\x05\x06"
_CHUNK = 1 << 20
NOT_EXCEL = ("is not a working Excel file: it may be damaged, or be another kind of file "
             "renamed {suffix}")


@dataclass(frozen=True)
class Limits:
    """Caps on what one input may cost; the values live at the top of loading.py."""

    file_bytes: int  # the file itself
    unpacked_bytes: int  # one part of a workbook (a sheet's XML) after unzipping
    rows: int  # rows of a sheet (Excel's own limit)
    columns: int  # columns of a sheet (Excel's own limit)
    cells: int  # rows x columns of a sheet's data, the size of the frame built for it
    field_chars: int  # one CSV field
    dense_cells: int  # a sheet this small is read directly, however sparse it is
    # A zip (xlsx, ods) may unpack to at most this much in all, or this many times its own
    # size if more: its directory says so before anything is unpacked, so a zip bomb costs
    # nothing, and what is unpacked stays in proportion to the file.
    unpacked_floor: int = 256 << 20
    unpacked_ratio: int = 100


class Format(StrEnum):
    CSV = "CSV"
    XLSX = "Excel workbook"
    XLSB = "Excel binary workbook"
    XLS = "Excel 97-2003 workbook"
    ODS = "OpenDocument spreadsheet"


@dataclass(frozen=True)
class Input:
    """One input file as read: its bytes, their SHA-256 and what kind of file it is."""

    path: Path
    data: bytes
    sha256: str
    format: Format

    @property
    def name(self) -> str:
        """The path as messages show it (escaped: no control characters)."""
        return shown(self.path)


def read_input(path: Path, limits: Limits) -> Input:
    """The file's bytes, read once; InputError (one line) for anything that is not a usable
    regular file."""
    name = shown(path)
    fd = _open(path, name)
    try:
        info = os.fstat(fd)
        _regular_only(info.st_mode, path, name)
        if info.st_size > limits.file_bytes:
            raise InputError(_too_big(name, info.st_size, limits))
        data, digest = _read_all(fd, name, limits)
    finally:
        os.close(fd)
    if not data:
        raise InputError(f"{name}: the file is empty", needs="rows")
    kind, data = _format(path, name, data, limits)
    return Input(path, data, digest, kind)


def _open(path: Path, name: str) -> int:
    """Open without blocking (a FIFO would otherwise wait for a writer) and without a
    controlling terminal; the kind of file is checked on the descriptor, so a file swapped
    after a check cannot slip through."""
    try:
        st = os.stat(path)
    except OSError as exc:
        raise InputError(_why_not_found(path, name, exc), str(exc)) from exc
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"{name}: is a folder, not a spreadsheet")
    _regular_only(st.st_mode, path, name)
    flags = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
             | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))
    try:
        return os.open(path, flags)
    except OSError as exc:
        raise InputError(_why_not_found(path, name, exc), str(exc)) from exc


def _why_not_found(path: Path, name: str, exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return (f"{name}: is a link that leads back to itself (a loop of symbolic links); "
                "point it at the spreadsheet")
    if exc.errno == errno.ENOENT:
        if path.is_symlink():
            return (f"{name}: is a link to {shown(os.readlink(path))}, which does not exist")
        if str(path).startswith("~"):
            return f"{name}: file not found (~ is not your home folder here; give the full path)"
        return f"{name}: file not found"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"{name}: permission denied; check that you may read the file"
    if exc.errno == errno.ENOTDIR:
        return f"{name}: file not found (part of the path is not a folder)"
    if exc.errno == errno.ENAMETOOLONG:
        return f"{name}: the file name is too long"
    return f"{name}: cannot be opened ({(exc.strerror or 'unknown error').lower()})"


def _regular_only(mode: int, path: Path, name: str) -> None:
    if stat.S_ISREG(mode):
        return
    if stat.S_ISDIR(mode):
        raise InputError(f"{name}: is a folder, not a spreadsheet")
    if stat.S_ISFIFO(mode):
        what = ("a pipe (such as <(...) in a shell), not a file" if str(path).startswith(
            ("/dev/fd/", "/proc/")) else "a pipe (FIFO), not a file")
    elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        what = "a device, not a file"
    elif stat.S_ISSOCK(mode):
        what = "a socket, not a file"
    else:
        what = "not a regular file"
    raise InputError(f"{name}: is {what}; save the data to a spreadsheet or CSV file and give "
                     "that")


def _read_all(fd: int, name: str, limits: Limits) -> tuple[bytes, str]:
    """Read to the end, but never past the cap (the file may grow while it is read)."""
    digest = hashlib.sha256()
    buf = io.BytesIO()
    while True:
        try:
            chunk = os.read(fd, _CHUNK)
        except BlockingIOError:  # a regular file never blocks; anything else is refused above
            raise InputError(f"{name}: is not a regular file; save the data to a file") from None
        except OSError as exc:
            raise InputError(f"{name}: cannot be read ({(exc.strerror or '').lower()})",
                             str(exc)) from exc
        if not chunk:
            break
        digest.update(chunk)
        buf.write(chunk)
        if buf.tell() > limits.file_bytes:
            raise InputError(_too_big(name, buf.tell(), limits, growing=True))
    return buf.getvalue(), digest.hexdigest()


def _too_big(name: str, size: int, limits: Limits, growing: bool = False) -> str:
    more = "more than " if growing else ""
    return (f"{name}: the file is {more}{size_text(size)}, more than the "
            f"{size_text(limits.file_bytes)} this tool reads; split it into smaller files")


def size_text(size: int) -> str:
    """`1,000 bytes`, `12 MB`, `1.5 GB`: a size as people read it."""
    if size < 2**20:
        return f"{size:,} bytes"
    if size < 2**30:
        return f"{size / 2**20:,.0f} MB"
    return f"{size / 2**30:,.1f} GB"


def _format(path: Path, name: str, data: bytes, limits: Limits) -> tuple[Format, bytes]:
    """What the bytes are, whatever the file is called (and, for a package written unusually,
    the bytes as readers expect them)."""
    suffix = path.suffix.lower()
    if data.startswith(_CFB):
        head = data[: 1 << 20]
        if any(s.encode("utf-16-le") in head for s in ("EncryptedPackage", "EncryptionInfo")):
            raise InputError(f"{name}: the workbook is password-protected; save a copy without "
                             "a password and use that")
        if "WordDocument".encode("utf-16-le") in head:
            raise InputError(f"{name}: is a Word document, not a spreadsheet")
        return Format.XLS, data
    if data.startswith((_ZIP, _EMPTY_ZIP)):
        return _zip_format(data, name, suffix, limits)
    if data[:1] == b"\x09" and data[1:2] in b"\x00\x02\x04" and data[2:4] in (
            b"\x04\x00", b"\x06\x00", b"\x08\x00"):  # a BIFF2-4 BOF record, not inside OLE
        raise InputError(f"{name}: is an Excel 4 (or older) workbook, which this tool cannot "
                         "read; open it in Excel or LibreOffice and save it as .xlsx")
    if suffix in (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods"):
        head = data[:4096].lstrip().lower()
        if head.startswith((b"<!doctype html", b"<html", b"<?xml", b"<table")):
            kind = ("it is a web page or XML file with a spreadsheet's name; open it in Excel "
                    "and save it as .xlsx")
        elif b"\x00" not in head or head.startswith((b"\xff\xfe", b"\xfe\xff")):
            kind = "it is a text (CSV) file; rename it .csv"
        else:
            kind = "it may be damaged, or be another kind of file renamed " + suffix
        raise InputError(f"{name}: is not a working Excel file: {kind}")
    return Format.CSV, data


def _zip_format(data: bytes, name: str, suffix: str, limits: Limits) -> tuple[Format, bytes]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            _bounded(zf, name, len(data), limits)
        data = package.standard(data) or data
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
            mimetype = b""
            if "mimetype" in names:
                with zf.open("mimetype") as f:
                    mimetype = f.read(100)
            encrypted = any(info.flag_bits & 1 for info in zf.infolist()) or (
                "META-INF/manifest.xml" in names and b"encryption-data" in _small_part(
                    zf, "META-INF/manifest.xml"))
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, KeyError) as exc:
        raise InputError(_not_excel_text(name, suffix), str(exc)) from exc
    if encrypted:
        raise InputError(f"{name}: the workbook is password-protected; save a copy without "
                         "a password and use that")
    if "xl/workbook.xml" in names:
        return Format.XLSX, data
    if "xl/workbook.bin" in names:
        return Format.XLSB, data
    if b"opendocument.spreadsheet" in mimetype or ("content.xml" in names and not mimetype):
        return Format.ODS, data
    others = {"word/document.xml": "a Word document", "ppt/presentation.xml":
              "a PowerPoint presentation"}
    for part, kind in others.items():
        if part in names:
            raise InputError(f"{name}: is {kind}, not a spreadsheet")
    if b"opendocument" in mimetype:
        raise InputError(f"{name}: is an OpenDocument file, but not a spreadsheet")
    if len(names) == 1 and next(iter(names)).lower().endswith((".csv", ".txt", ".xlsx", ".xls",
                                                                ".ods")):
        inner = shown(next(iter(names)))[-60:]
        raise InputError(f"{name}: is a zip archive holding {inner}; unzip it and give that file")
    raise InputError(_not_excel_text(name, suffix), f"zip members: {sorted(names)[:20]}")


def _bounded(zf: zipfile.ZipFile, name: str, size: int, limits: Limits) -> None:
    """Refuse, from the zip's directory, what would unpack past the bound. (A directory that
    lies is no way round it: zipfile and calamine both stop where it says a part ends.)"""
    infos = zf.infolist()
    bound = min(max(limits.unpacked_floor, limits.unpacked_ratio * size),
                limits.unpacked_bytes)
    total = sum(info.file_size for info in infos)
    if total > bound:
        raise InputError(f"{name}: unpacks to {size_text(total)}, more than the "
                         f"{size_text(bound)} this tool unpacks from a file of "
                         f"{size_text(size)} ({limits.unpacked_ratio} times its size, at least "
                         f"{size_text(limits.unpacked_floor)}); it is damaged or made to fill "
                         "memory",
                         f"{len(infos)} members")


def _small_part(zf: zipfile.ZipFile, part: str) -> bytes:
    with zf.open(part) as f:
        return f.read(1 << 20)


def _not_excel_text(name: str, suffix: str) -> str:
    return f"{name}: {NOT_EXCEL.format(suffix=suffix or '(no extension)')}"
