"""The files the tool writes: never over anything silently, always whole.

Results go to the next free `<stem>.results[-N].xlsx`; an explicit `--out` replaces a file only
when asked. Every file is written to a temporary file in its own folder, flushed to disk and
then renamed into place, so a kill leaves the previous file or the complete new one. Whether a
folder can be written is proven (a probe file) before anything is sent.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

from importer.errors import ImporterError, UsageError
from importer.text import shown

# The files a rollout makes of itself (its results workbooks, the page's downloads) are that
# rollout: one journal, so what was bought is never asked for again when they come back.
_RESULTS_STEM = re.compile(r"\.results(-\d+)?$")
_ROLLOUT_STEM = re.compile(r"(\.(results(-\d+)?|undo(-\d+)?|edited|to-fix))+$")
MAX_NUMBERED = 10_000


def rollout_stem(path: Path) -> str:
    """`x.xlsx`, `x.results.xlsx`, `x.results-3.xlsx` and the page's `x.edited.xlsx` and
    `x.to-fix.xlsx` are one rollout: `x`."""
    return _ROLLOUT_STEM.sub("", path.stem)


def next_free(path: Path) -> Path:
    """`x.results.xlsx`, else `x.results-2.xlsx`, ... : the first that does not exist."""
    if not _exists(path):
        return path
    base = _RESULTS_STEM.sub("", path.stem)
    for n in range(2, MAX_NUMBERED):
        candidate = path.with_name(f"{base}.results-{n}{path.suffix}")
        if not _exists(candidate):
            return candidate
    raise UsageError(f"{shown(path.parent)}: {MAX_NUMBERED} results workbooks of "
                     f"{shown(base)} already; clear some out or choose --out")


def _exists(path: Path) -> bool:
    return path.exists() or path.is_symlink()


def same_file(a: Path, b: Path) -> bool:
    """True when two paths name one file (also through links, or before either exists)."""
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and a.samefile(b))
    except (OSError, RuntimeError):  # RuntimeError: a loop of symbolic links (Python < 3.13)
        return False


def why_not_writable(exc: OSError) -> str:
    """An OS error as the reason a person can act on."""
    return {
        errno.ENOSPC: "the disk is full",
        errno.EDQUOT: "the disk quota is used up",
        errno.EFBIG: "the file would be too large for this disk",
        errno.EROFS: "the disk is read-only",
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
        errno.ENOENT: "the folder does not exist",
        errno.ENOTDIR: "part of the path is not a folder",
        errno.ENAMETOOLONG: "the name is too long",
    }.get(exc.errno or -1, (exc.strerror or "it cannot be written").lower())


def sha256(path: Path) -> str:
    """The file's SHA-256, streamed (a big input is not held twice in memory)."""
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def os_error_in(exc: BaseException) -> OSError | None:
    """The OS error behind an exception (writers wrap them in their own), if there is one."""
    seen: BaseException | None = exc
    for _ in range(10):
        if seen is None or isinstance(seen, OSError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def probe(folder: Path, what: str) -> None:
    """Prove a file can be created in `folder` (UsageError, exit 2, with the reason if not)."""
    if not folder.is_dir():
        raise UsageError(f"{shown(folder)}: the folder for the {what} does not exist")
    try:
        fd, name = tempfile.mkstemp(dir=folder, prefix=".importer-probe-", suffix=".tmp")
    except OSError as exc:
        raise UsageError(f"{shown(folder)}: the {what} cannot be written there "
                         f"({why_not_writable(exc)}); nothing was sent", str(exc)) from exc
    try:
        os.write(fd, b"probe")
        os.fsync(fd)
    except OSError as exc:
        raise UsageError(f"{shown(folder)}: the {what} cannot be written there "
                         f"({why_not_writable(exc)}); nothing was sent", str(exc)) from exc
    finally:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(name)


def _new_file_mode() -> int:
    """0666 less the umask: the mode open() gives a new file (read once, at import, while the
    process has one thread: os.umask can only be read by setting it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


NEW_FILE_MODE = _new_file_mode()


def write_atomically(target: Path, write: Callable[[Path], None], *, overwrite: bool = False,
                     renumber: bool = False) -> Path:
    """Call `write(tmp)` for a temporary file beside `target`, then move it into place.

    Without `overwrite` an existing target is never replaced: with `renumber` the next free
    name is taken instead (results), otherwise it is an error. Returns the path written.
    Raises OSError (with the temporary file removed) when the file cannot be written."""
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        # mkstemp makes the file private (0600); give it what any new file here would get, so
        # colleagues can open results in a shared folder.
        with contextlib.suppress(OSError):
            os.chmod(tmp, NEW_FILE_MODE)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        return _publish(tmp, target, overwrite=overwrite, renumber=renumber)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def write_file(target: Path, write: Callable[[Path], None], what: str, *,
               overwrite: bool = False) -> Path:
    """`write_atomically`, with a file that cannot be written said in one line naming it and
    `what` it is (a template, an export) and why (ImporterError)."""
    try:
        return write_atomically(target, write, overwrite=overwrite)
    except OSError as exc:
        raise ImporterError(f"{shown(target)}: cannot write the {what} "
                            f"({why_not_writable(exc)})", str(exc)) from exc


def _publish(tmp: Path, target: Path, *, overwrite: bool, renumber: bool) -> Path:
    if overwrite:
        os.replace(tmp, target)
        _sync_folder(target.parent)
        return target
    while True:
        try:
            _link_no_clobber(tmp, target)
        except FileExistsError:
            if not renumber:
                raise UsageError(f"{shown(target)} already exists; it was not replaced") from None
            target = next_free(target)
            continue
        _sync_folder(target.parent)
        return target


def _link_no_clobber(tmp: Path, target: Path) -> None:
    """Atomically give `tmp` the name `target` unless `target` exists (then FileExistsError)."""
    if os.name == "nt":  # rename never replaces on Windows
        os.rename(tmp, target)
        return
    try:
        os.link(tmp, target)
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK):
            raise
        # A file system without hard links (some network and FAT disks): check, then rename.
        if target.exists():
            raise FileExistsError(target) from exc
        os.rename(tmp, target)


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); best effort elsewhere."""
    if os.name == "nt":
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
