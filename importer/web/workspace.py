"""The workspace: where uploads are checked and kept, and which documents are in memory.

An upload is written to `incoming/` and checked there; only a file that loads is moved, whole,
into a folder of its own (`rollouts/<stem>/uploads/<n>/`), so it can never replace a results
workbook, a journal or another upload, and a refused one leaves nothing. One whose columns the
loader cannot tell waits in `incoming/` for the person's column mapping, then is checked again
with it (the mapping is kept beside the upload, so a re-read applies it again). A document's
rows are in memory only while it is in use: the least recently used are dropped and read again
from disk (their edits replayed) when next needed.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import re
import secrets
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO

from importer.errors import ImporterError
from importer.pipeline import Options, Prepared, prepare
from importer.reading.mapping import ColumnMap, Proposal, UnclearColumns, propose
from importer.results import files
from importer.sending.locks import Busy
from importer.spec.operations import OPERATIONS
from importer.text import shown
from importer.web.documents import UPLOAD_SUFFIXES, Document
from importer.web.history import earlier_runs
from importer.web.readas import (
    MAPPING_FILE,
    READING_FILE,
    Reading,
    remembered,
    save_mapping,
    saved_mapping,
)

# Names Windows keeps for devices, whatever follows the first dot (`nul.results.xlsx` too).
DEVICES = frozenset({"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$",
                     *(f"{d}{n}" for d in ("COM", "LPT") for n in "0123456789¹²³")})
KEEP_LOADED = 2  # documents whose rows stay in memory (the one in use and the one before)
IDLE_SECONDS = 300.0  # a document untouched this long leaves memory
CHUNK = 1 << 20
STALE_SECONDS = 3600.0
CHECKS = 2  # files checked at once (each takes memory in proportion to it)
RECENT_SHOWN = 10  # rollouts offered by "Carry on with an earlier file"
# What the page says about what the loader could not decide alone (the CLI names its flags).
WAYS_OUT = {"sheet": "unhide it in Excel (right-click a sheet tab, Unhide), save, and upload "
                     "the file again",
            "operation": "choose it below",
            "columns": "say below which column is which",
            "rows": "add the rows to send (a template above has every column), save, and "
                    "upload it again",
            "fewer": "export some at a time: give a part of their number in “Only blocks "
                     "matching”"}


def safe_name(name: str) -> str:
    """A file name for the workspace: no folders, no odd characters, no device names (CON,
    NUL, COM1 ... fail on Windows), the suffix kept."""
    base = Path(name.replace("\\", "/")).name
    stem, suffix = Path(base).stem, Path(base).suffix.lower()
    stem = re.sub(r"[^\w .()-]+", "_", stem).strip(" .") or "upload"
    if stem.split(".")[0].strip().upper() in DEVICES:
        stem = f"_{stem}"
    return f"{stem[:80]}{suffix}"


def plain(text: str, path: Path, name: str) -> str:
    """A message about the workspace copy at `path`, naming the user's file instead (the page
    never shows the server's folders)."""
    return text.replace(str(path), shown(name)).replace(str(path.parent) + os.sep, "")



def way_out(exc: ImporterError, path: Path, name: str) -> str:
    """The core's fact in the page's words: the user's file name, and what to do in the page."""
    return with_way_out(exc, plain(str(exc), path, name))


def with_way_out(exc: ImporterError, text: str) -> str:
    """`text` (the core's fact, as the page shows it) and what to do about it in the page."""
    way = WAYS_OUT.get(exc.needs)
    if isinstance(exc, UnclearColumns) and exc.needs != "columns":
        way = f"{way}, and say which column is which" if way else WAYS_OUT["columns"]
    return f"{text}; {way}." if way else text


@dataclass
class Pending:
    """An upload waiting for the person to say what its columns are."""

    id: str
    name: str  # as the user named it
    staged: Path  # the upload, still in incoming/
    folder: Path
    proposal: Proposal
    message: str
    mapping: dict[str, ColumnMap] = field(default_factory=dict)  # answers to earlier sheets
    made: float = field(default_factory=time.monotonic)
    replaces: str = ""  # the document whose columns are being changed ("": a new upload)
    reading: str = ""  # the operation it is read as now (offered first), when changing it


class NeedsMapping(Exception):
    """The upload is kept aside until its columns are mapped (not an error of the file)."""

    def __init__(self, pending: Pending) -> None:
        super().__init__(pending.message)
        self.pending = pending


class Workspace:
    """Every document of this server, in the user's state folder."""

    def __init__(self, root: Path, options: Options, checks: int = CHECKS) -> None:
        self.root = root
        self.options = options
        self.documents: dict[str, Document] = {}
        self.pending: dict[str, Pending] = {}
        self.lock = threading.Lock()
        # Checking a file takes memory in proportion to it: only this many at once.
        self.checking = threading.BoundedSemaphore(checks)
        self._clear_incoming()

    def _clear_incoming(self) -> None:
        """Uploads left half-checked by a server that was killed (an hour old: a second server
        on this workspace may be checking one right now)."""
        for staged in (self.root / "incoming").glob("*"):
            with contextlib.suppress(OSError):
                if time.time() - staged.stat().st_mtime > STALE_SECONDS:
                    shutil.rmtree(staged, ignore_errors=True)

    def folder_for(self, name: str) -> Path:
        """One folder per rollout, as the CLI keeps one journal: x.xlsx and its results
        workbooks (x.results-2.xlsx) uploaded later carry on together."""
        return self.root / "rollouts" / files.rollout_stem(Path(safe_name(name)))

    def add(self, filename: str, stream: IO[bytes], how: Reading | None = None) -> Document:
        """Check the upload in `incoming/` (read as `how` says, else as guessed), then keep it
        in a folder of its own."""
        name = safe_name(filename)
        if Path(name).suffix not in UPLOAD_SUFFIXES:
            raise ValueError(f"{shown(filename)}: not a spreadsheet; upload a .csv, .xlsx, "
                             ".xls or .ods file")
        folder = self.folder_for(name)
        if any(d.busy and d.folder == folder for d in list(self.documents.values())):
            raise Busy("a file of this name is being run; upload it again when the run has "
                       "finished")
        (self.root / "incoming").mkdir(parents=True, exist_ok=True)
        staged = Path(tempfile.mkdtemp(dir=self.root / "incoming")) / name
        kept = False
        try:
            with staged.open("wb") as f:
                shutil.copyfileobj(stream, f, CHUNK)
                f.flush()
                os.fsync(f.fileno())  # whole on disk before it is given its name
            if how is not None:  # beside it from here on: every later read reads it so
                (staged.parent / READING_FILE).write_text(json.dumps(how.options()),
                                                          encoding="utf-8")
            return self._accept(staged, filename, folder, {})
        except NeedsMapping:
            kept = True
            raise
        finally:
            if not kept:
                shutil.rmtree(staged.parent, ignore_errors=True)

    def _accept(self, staged: Path, filename: str, folder: Path,
                mapping: dict[str, ColumnMap], replaces: str = "") -> Document:
        """Check the staged upload with `mapping`; keep it when it loads, else keep it aside
        for the person's mapping (NeedsMapping) or refuse it (ValueError)."""
        name = safe_name(filename)
        while True:
            try:
                prepared = self._check(staged, filename, folder, mapping)
                break
            except UnclearColumns as exc:
                # A file of this rollout whose columns were named before (its results
                # workbook, fixed in Excel): read the same headers the same way.
                again = None if replaces or exc.proposal.sheet in mapping else remembered(
                    folder, exc.proposal)
                if again is not None:
                    mapping = {**mapping, exc.proposal.sheet: again}
                    continue
                pending = Pending(secrets.token_hex(8), filename, staged, folder, exc.proposal,
                                  way_out(exc, staged, filename), mapping, replaces=replaces)
                with self.lock:
                    self.pending[pending.id] = pending
                raise NeedsMapping(pending) from None
        final = self._keep(staged, folder)
        if mapping:  # kept beside the upload: reopening it later reads it the same way
            save_mapping(final.parent / MAPPING_FILE, mapping, prepared)
        return self._opened(final, name, folder, replace(prepared, path=final), mapping)

    def map(self, pending_id: str, sheet: str, answer: ColumnMap) -> Document:
        """The person's answer for a waiting upload: checked again with it (KeyError: no
        such upload waits; NeedsMapping: still not enough, or another sheet to map)."""
        with self.lock:
            pending = self.pending.pop(pending_id)
        mapping = {**pending.mapping, sheet: answer}
        try:
            document = self._accept(pending.staged, pending.name, pending.folder, mapping,
                                    pending.replaces)
        except NeedsMapping:
            raise  # still waiting, under a new id
        except (Busy, ValueError):  # checked again in a moment, or a wrong answer: it waits
            with self.lock:
                self.pending[pending.id] = pending
            raise
        except BaseException:
            shutil.rmtree(pending.staged.parent, ignore_errors=True)
            raise
        shutil.rmtree(pending.staged.parent, ignore_errors=True)
        with self.lock:  # read another way, the document is the new one
            self.documents.pop(pending.replaces, None)
        return document

    def read_again(self, document: Document, how: Reading) -> Document:
        """Read a document's kept upload another way (encoding, delimiter, sheets, header
        row): as a new upload of the same file, which replaces it. Refused while it runs, or
        once it has changes made in the page (they are of the file as read now)."""
        with document.lock:
            _as_read(document, "how it is read")
        with document.path.open("rb") as kept:
            try:
                found = self.add(document.name, kept, how)
            except NeedsMapping as exc:
                exc.pending.replaces = document.id  # mapped, it replaces the document
                raise
        with self.lock:
            self.documents.pop(document.id, None)
        return found

    def remap(self, document: Document, index: int) -> Pending:
        """Change how a document's sheet is read: its kept upload waits again for the
        person's mapping, offered as it is read now. Refused while it runs, or once it has
        changes made in the page (they are of the columns as read now)."""
        with document.lock:
            _as_read(document, "its columns")
            sheet = document.checked[index].sheet
            csv = ("Format", "CSV", False) in sheet.file.options
            current = (sheet.operation.name, {p: f for f, p in sheet.columns.items()})
            proposal = propose(sheet.name, sheet.raw, sheet.header_row, tuple(OPERATIONS), csv,
                               current)
        (self.root / "incoming").mkdir(parents=True, exist_ok=True)
        staged = Path(tempfile.mkdtemp(dir=self.root / "incoming")) / document.path.name
        shutil.copyfile(document.path, staged)
        mapping = saved_mapping(document.path.parent / MAPPING_FILE)
        mapping.pop(sheet.name, None)
        pending = Pending(secrets.token_hex(8), document.name, staged, document.folder,
                          proposal, "Say which column is which; the rows are checked again.",
                          mapping, replaces=document.id, reading=current[0])
        with self.lock:
            self.pending[pending.id] = pending
        return pending

    def drop_pending(self, pending_id: str) -> None:
        """The person gave up on mapping an upload: nothing of it stays."""
        with self.lock:
            pending = self.pending.pop(pending_id, None)
        if pending is not None:
            shutil.rmtree(pending.staged.parent, ignore_errors=True)

    def _check(self, path: Path, name: str, folder: Path,
               mapping: dict[str, ColumnMap] | None = None) -> Prepared:
        if not self.checking.acquire(blocking=False):
            raise Busy("other files are being checked; upload this one again in a moment")
        try:
            return replace(prepare(path, self._options(folder, path, mapping)), name=name)
        except UnclearColumns:
            raise
        except ImporterError as exc:
            raise ValueError(way_out(exc, path, name)) from None
        finally:
            self.checking.release()

    def _options(self, folder: Path, path: Path,
                 mapping: dict[str, ColumnMap] | None = None) -> Options:
        journal = folder / f"{files.rollout_stem(path)}.journal.sqlite"
        how = Reading.kept(path.parent / READING_FILE)
        return replace(self.options, journal=journal, mapping=dict(mapping or {}),
                       **(how.options() if how else {}))

    @staticmethod
    def _keep(staged: Path, folder: Path) -> Path:
        """Move the checked upload into a new folder: it never replaces anything."""
        uploads = folder / "uploads"
        uploads.mkdir(parents=True, exist_ok=True)
        n = len(list(uploads.iterdir())) + 1
        while True:
            try:
                (uploads / str(n)).mkdir()
                break
            except FileExistsError:
                n += 1
        final = uploads / str(n) / staged.name
        os.replace(staged, final)
        if (how := staged.parent / READING_FILE).exists():
            os.replace(how, final.parent / READING_FILE)
        return final

    def _opened(self, path: Path, name: str, folder: Path, prepared: Prepared,
                mapping: dict[str, ColumnMap] | None = None) -> Document:
        def load() -> Prepared:  # a re-read applies the person's mapping again
            with self.checking:
                return prepare(path, self._options(folder, path, mapping))
        document = Document(secrets.token_hex(8), name, path, folder, load, _prepared=prepared)
        with self.lock:
            self.documents[document.id] = document
        self._evict(document)
        return document

    def open(self, path: Path, name: str, checked: Prepared | None = None) -> Document:
        """A file kept in the workspace, opened; `checked`: it was just read (`read`)."""
        folder = self.folder_for(name)
        mapping = saved_mapping(path.parent / MAPPING_FILE)
        return self._opened(path, name, folder,
                            checked or self._check(path, name, folder, mapping), mapping)

    def read(self, path: Path) -> Prepared:
        """A file kept in a rollout's folder (a run's undo workbook), checked as an upload is
        but not opened: a preview of what running it would send."""
        return self._check(path, path.name, self.folder_for(path.name))

    def _uploads(self, folder: Path) -> list[Path]:
        """The uploads kept in a rollout's folder, newest first."""
        kept = [p for d in (folder / "uploads").glob("*") if d.is_dir() for p in d.iterdir()
                if p.is_file() and p.suffix.lower() in UPLOAD_SUFFIXES]  # not its mapping
        # Beside them, only what the page wrote (results, undo, edited and to-fix downloads).
        kept += [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in
                 UPLOAD_SUFFIXES and files.rollout_stem(p) == p.stem]
        return sorted(kept, key=lambda p: -p.stat().st_mtime)

    def recent(self) -> list[dict]:
        """Rollouts kept from earlier uploads (newest first), to reopen after a restart."""
        found = []
        for folder in sorted((self.root / "rollouts").glob("*"), key=lambda p: -p.stat().st_mtime
                             if p.exists() else 0):
            if folder.is_dir() and (uploads := self._uploads(folder)):
                runs = earlier_runs(folder, 1)
                found.append({"name": uploads[0].name, "key": folder.name,
                              "results": runs[0] if runs else None})
            if len(found) == RECENT_SHOWN:
                break
        return found

    def reopen(self, key: str) -> Document:
        for item in self.recent():
            if item["key"] == key:
                folder = self.root / "rollouts" / key
                return self.open(self._uploads(folder)[0], item["name"])
        raise KeyError(key)

    def run_ended(self, ran: Document) -> None:
        """Every other copy of the rollout open here (a second upload, "Carry on") reads the
        journal again: opened during the run, it would still offer what the run bought."""
        with self.lock:
            others = [d for d in self.documents.values() if d is not ran
                      and d.folder == ran.folder]
        for other in others:
            other.journal_changed()

    def get(self, doc_id: str) -> Document:
        document = self.documents[doc_id]
        document.used = time.monotonic()
        self._evict(document)
        return document

    def _evict(self, keep: Document) -> None:
        """Rows of documents not in use leave memory: all but the most recent few, and any
        untouched for a while."""
        now_ = time.monotonic()
        others = sorted((d for d in list(self.documents.values()) if d is not keep
                         and d.loaded), key=lambda d: -d.used)
        gone = [d for n, d in enumerate(others, 2)
                if n > KEEP_LOADED or now_ - d.used > IDLE_SECONDS]
        for document in gone:
            document.unload()
        if gone:
            _give_back()

    def sweep(self) -> None:
        """Let go of documents untouched for a while (the page asks every few minutes), and
        of uploads left waiting for a mapping for an hour (their tab was closed)."""
        newest = max(self.documents.values(), key=lambda d: d.used, default=None)
        if newest is not None:
            self._evict(newest)
        stale = [p.id for p in list(self.pending.values())
                 if time.monotonic() - p.made > STALE_SECONDS]
        for pending_id in stale:
            self.drop_pending(pending_id)


def _as_read(document: Document, what: str) -> None:
    """Reading a document another way: refused while it runs, or once it has changes made in
    the page (they are of the file as it is read now)."""
    if document.busy:
        raise Busy(f"the file is being run; change {what} when it has finished")
    if document.history:
        raise ValueError("The changes made in this page are of the file as it is read now: "
                         "download it (Download as .xlsx) and upload that file to read it "
                         "another way.")


def _give_back() -> None:
    """Return freed rows to the system, not only to the allocator: pandas keeps text in
    Arrow, whose memory pool holds on to freed memory for reuse."""
    gc.collect()
    with contextlib.suppress(ImportError):
        import pyarrow
        pyarrow.default_memory_pool().release_unused()
