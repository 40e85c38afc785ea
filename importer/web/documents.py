"""The files people upload, as the page shows them: sheets, rows page by page, cell edits, undo.

A document is a rollout kept in the tool's own workspace (the user's state folder), so its
journal survives the server: uploading the same file again, or reopening it from the list of
recent files after a crash, carries on where it stopped, as a CLI re-run does. All checking is
the core's (`pipeline.prepare`, `edits.set_cell`); this module only arranges it for the grid.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from importer.checking import edits
from importer.checking.schemas import Checked
from importer.pipeline import Options, Prepared, prepare
from importer.report import Issue, Outcome, RunReport, Severity, Status
from importer.results import files
from importer.sending.submit import now
from importer.text import column_letter, shown

UPLOAD_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".xls", ".ods")
NOT_DONE = frozenset({Status.INVALID, Status.REJECTED, Status.FAILED, Status.UNKNOWN})


def safe_name(name: str) -> str:
    """A file name for the workspace: no folders, no odd characters, the suffix kept."""
    base = Path(name.replace("\\", "/")).name
    stem, suffix = Path(base).stem, Path(base).suffix.lower()
    stem = re.sub(r"[^\w .()-]+", "_", stem).strip(" .") or "upload"
    return f"{stem[:80]}{suffix}"


@dataclass
class Edit:
    sheet: int
    row: int
    column: int
    before: str | None
    after: str | None


@dataclass
class Document:
    """One uploaded rollout and what the page did to it."""

    id: str
    name: str  # as the user named it
    path: Path  # the workspace copy
    prepared: Prepared
    history: list[Edit] = field(default_factory=list)
    results: dict[int, dict[int, Outcome]] = field(default_factory=dict)  # after a run
    lock: threading.RLock = field(default_factory=threading.RLock)
    _issues: dict[int, dict[int, list[Issue]]] = field(default_factory=dict)

    @property
    def checked(self) -> list[Checked]:
        return self.prepared.checked

    # --- what the page shows -------------------------------------------------------------

    def summary(self) -> dict:
        with self.lock:
            return {
                "id": self.id, "name": self.name,
                "sheets": [self._sheet_summary(i) for i in range(len(self.checked))],
                **self._totals(),
            }

    def _totals(self) -> dict:
        """What changes with every edit beyond its sheet: the rows a run would send."""
        return {"edits": len(self.history), "purchases": self.prepared.valid_rows("purchase"),
                "configures": self.prepared.valid_rows("configure")}

    def _sheet_summary(self, index: int) -> dict:
        checked = self.checked[index]
        sheet = checked.sheet
        counts = self._counts(index)
        columns = [{"field": f"c{pos}", "title": _title(sheet.raw, sheet.header_row, pos),
                    "name": _field_of(sheet.columns, pos)} for pos in self._positions(index)]
        return {"index": index, "name": sheet.name, "operation": sheet.operation.name,
                "rows": len(sheet.data), "columns": columns, "counts": counts,
                "problems": len(self._problem_rows(index)),
                "sheet_issues": [i.message for i in checked.issues if i.row is None]}

    def rows(self, index: int, page: int, size: int, problems: bool) -> dict:
        """One page of rows for the grid (Tabulator's remote pagination)."""
        with self.lock:
            rows = self._problem_rows(index) if problems else list(
                self.checked[index].sheet.data.index)
            size = max(1, min(size, 500))
            last = max(1, -(-len(rows) // size))
            page = max(1, min(page, last))
            chosen = rows[(page - 1) * size: page * size]
            return {"last_page": last, "last_row": len(rows),
                    "data": [self._row(index, int(r)) for r in chosen]}

    def _positions(self, index: int) -> list[int]:
        sheet = self.checked[index].sheet
        return [int(c) for c in sheet.raw.columns if c not in sheet.result_columns]

    def _issues_by_row(self, index: int) -> dict[int, list[Issue]]:
        if index not in self._issues:
            by_row: dict[int, list[Issue]] = {}
            for issue in self.checked[index].issues:
                if issue.row is not None:
                    by_row.setdefault(issue.row, []).append(issue)
            self._issues[index] = by_row
        return self._issues[index]

    def _counts(self, index: int) -> dict[str, int]:
        """Rows per status: a run's outcome where there is one, else the check's verdict
        (counted from sets: this runs after every edit, on sheets of 100,000 rows)."""
        checked = self.checked[index]
        results = self.results.get(index, {})
        counts = Counter(o.status.value for o in results.values())
        invalid = len(checked.invalid - results.keys())
        counts[Status.INVALID.value] += invalid
        counts[Status.VALID.value] += len(checked.sheet.data) - len(results) - invalid
        return {status: n for status, n in counts.items() if n}

    def _problem_rows(self, index: int) -> list[int]:
        """Rows with an issue, or whose run left them not done."""
        results = self.results.get(index, {})
        rows = set(self._issues_by_row(index)) | self.checked[index].invalid | {
            r for r, o in results.items()
            if o.status in NOT_DONE or (o.status is Status.SKIPPED and not o.done)}
        return sorted(rows)

    def _row(self, index: int, row: int) -> dict:
        checked = self.checked[index]
        sheet = checked.sheet
        issues = self._issues_by_row(index).get(row, [])
        outcome = self.results.get(index, {}).get(row)
        errors = [i.message for i in issues if i.severity is Severity.ERROR]
        warnings = [i.message for i in issues if i.severity is Severity.WARNING]
        if outcome is not None:
            status, message = outcome.status.value, outcome.message
        elif errors:
            status, message = Status.INVALID.value, " ".join(errors)
        else:
            status = Status.VALID.value
            message = " ".join(["Valid.", *(["Note:", *warnings] if warnings else [])])
        values = sheet.raw.iloc[row - 1]
        data: dict[str, object] = {"_row": row, "_status": status, "_message": message}
        for pos in self._positions(index):
            value = values.iat[pos]
            data[f"c{pos}"] = "" if pd.isna(value) else str(value)
        marks: dict[str, list[str]] = {}
        for issue in issues:
            pos = sheet.columns.get(issue.column or "")
            key = f"c{pos}" if pos is not None else "_status"
            level = "error" if issue.severity is Severity.ERROR else "warning"
            if key not in marks or level == "error":
                marks[key] = [level, issue.message]
        data["_marks"] = marks
        return data

    # --- changes ---------------------------------------------------------------------------

    def edit(self, index: int, row: int, column: str, value: str) -> dict:
        """Change one cell; the core re-checks what it affects. Returns the changed rows."""
        with self.lock:
            pos = _position(column, self._positions(index))
            return self._apply(index, row, pos, value, record=True)

    def undo(self) -> dict | None:
        with self.lock:
            if not self.history:
                return None
            last = self.history.pop()
            return self._apply(last.sheet, last.row, last.column, last.before, record=False)

    def _apply(self, index: int, row: int, pos: int, value: str | None, record: bool) -> dict:
        checked, before, changed = edits.set_cell(
            self.checked[index], row, pos, value, self.prepared.options.allowed_prefixes)
        self.checked[index] = checked
        self._issues.pop(index, None)
        for r in changed:  # an edited row's old result no longer describes it
            self.results.get(index, {}).pop(r, None)
        if record:
            self.history.append(Edit(index, row, pos, before, value))
        return {"rows": [self._row(index, r) for r in changed],
                "sheet": self._sheet_summary(index), **self._totals()}

    def take_results(self, report: RunReport) -> None:
        """The run's outcomes, shown in the grid until the rows are edited again."""
        with self.lock:
            self.results = {i: dict(zip(s.rows, s.outcomes, strict=False))
                            for i, s in enumerate(report.sheets)}

    def save_edited(self) -> Path:
        """The document as it is now, as an .xlsx beside the upload (every cell text)."""
        with self.lock:
            target = self.path.with_name(f"{Path(self.name).stem}.edited.xlsx")
            return files.write_atomically(target, lambda tmp: edits.write_sheets(
                tmp, self.checked), overwrite=True)

    def for_run(self) -> Prepared:
        """What a run sends: the document as edited, saved first so the Summary's file and
        SHA-256 describe exactly what was sent; results beside it, journal of the rollout."""
        with self.lock:
            # The upload as it was checked, unless edited here or replaced by a later upload
            # of the same name: then the sheets as this page holds them.
            same = not self.history and files.sha256(self.path) == self.prepared.sha256
            path = self.path if same else self.save_edited()
            results = files.next_free(self.path.with_name(
                f"{files.rollout_stem(self.path)}.results.xlsx"))
            sha = self.prepared.sha256 if same else files.sha256(path)
            return replace(self.prepared, path=path, sha256=sha,
                           started_at=now(), checked=list(self.checked), results_path=results)


def _title(raw: pd.DataFrame, header_row: int, pos: int) -> str:
    value = raw.iat[header_row, pos]
    return column_letter(pos) if pd.isna(value) or not str(value).strip() else str(value)


def _field_of(columns: dict[str, int], pos: int) -> str | None:
    return next((name for name, p in columns.items() if p == pos), None)


def _position(column: str, positions: list[int]) -> int:
    if not re.fullmatch(r"c\d{1,5}", column) or int(column[1:]) not in positions:
        raise KeyError(column)
    return int(column[1:])


class Workspace:
    """Every document of this server, in the user's state folder."""

    def __init__(self, root: Path, options: Options) -> None:
        self.root = root
        self.options = options
        self.documents: dict[str, Document] = {}
        self.lock = threading.Lock()

    def add(self, filename: str, data: bytes) -> Document:
        """Keep the upload in the rollout's folder (its journal lives there) and check it."""
        name = safe_name(filename)
        if Path(name).suffix not in UPLOAD_SUFFIXES:
            raise ValueError(f"{shown(filename)}: not a spreadsheet; upload a .csv, .xlsx, "
                             ".xls or .ods file")
        # One folder per rollout, as the CLI keeps one journal: x.xlsx and its results
        # workbooks (x.results-2.xlsx) uploaded later carry on together.
        folder = self.root / "rollouts" / files.rollout_stem(Path(name))
        folder.mkdir(parents=True, exist_ok=True)
        path = files.write_atomically(folder / name, lambda tmp: tmp.write_bytes(data),
                                      overwrite=True)
        return self.open(path, name)

    def open(self, path: Path, name: str) -> Document:
        prepared = prepare(path, self.options)
        document = Document(secrets.token_hex(8), name, path, prepared)
        with self.lock:
            self.documents[document.id] = document
        return document

    def recent(self) -> list[dict]:
        """Rollouts kept from earlier uploads (newest first), to reopen after a restart."""
        found = []
        for folder in sorted((self.root / "rollouts").glob("*"), key=lambda p: -p.stat().st_mtime
                             if p.exists() else 0):
            uploads = [p for p in folder.iterdir() if p.suffix.lower() in UPLOAD_SUFFIXES
                       and ".results" not in p.name and ".edited" not in p.name]
            if uploads:
                found.append({"name": uploads[0].name, "key": folder.name})
        return found[:10]

    def reopen(self, key: str) -> Document:
        for item in self.recent():
            if item["key"] == key:
                return self.open(self.root / "rollouts" / key / item["name"], item["name"])
        raise KeyError(key)

    def get(self, doc_id: str) -> Document:
        return self.documents[doc_id]
