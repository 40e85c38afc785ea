"""The files people upload, as the page shows them: sheets, rows page by page, cell edits, undo.

A document is a rollout kept in the tool's own workspace (the user's state folder), so its
journal survives the server: uploading the same file again, or reopening it from the list of
recent files after a crash, carries on where it stopped, as a CLI re-run does. All checking is
the core's (`pipeline.prepare`, `edits.set_cell`); this module only arranges it for the grid.
A document's rows may be let go while it is not in use (`unload`); they are read again from
the workspace copy, with the page's edits replayed, when next needed.
"""

from __future__ import annotations

import bisect
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from importer.checking import edits
from importer.checking.schemas import Checked
from importer.pipeline import Prepared, skipped_before
from importer.report import Issue, Outcome, RunReport, Severity, Status
from importer.results import files
from importer.results.edited import write_edited
from importer.sending.locks import Busy
from importer.sending.submit import now
from importer.web import finding
from importer.web.finding import Query
from importer.web.readas import columns_of, reading_of

UPLOAD_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".xls", ".ods")
NOT_DONE = frozenset({Status.INVALID, Status.REJECTED, Status.FAILED, Status.UNKNOWN})
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
    folder: Path  # the rollout's folder: its journal and results workbooks
    load: Callable[[], Prepared]  # reads and checks the workspace copy again
    history: list[list[Edit]] = field(default_factory=list)  # one list per undo step
    # Changes with every edit, undo and run's results: the buy question names the version it
    # was asked of, and a confirmation of another is refused (app.start_run).
    version: int = 0
    results: dict[int, dict[int, Outcome]] = field(default_factory=dict)  # after a run
    lock: threading.RLock = field(default_factory=threading.RLock)
    busy: bool = False  # a run of it is in progress: no change is accepted
    scope: str = ""  # the journal scope of the account runs go to: rows done for it show so
    used: float = field(default_factory=time.monotonic)
    _prepared: Prepared | None = None
    _summary: dict | None = None
    _issues: dict[int, dict[int, list[Issue]]] = field(default_factory=dict)
    _skips: dict[int, dict[int, Outcome]] | None = None  # rows a run would not send
    # The last sheet view and query answered: the grid asks page after page of the same one.
    # Kept with the checked sheet and results they were made from, so any change misses.
    _found: tuple | None = None

    @property
    def prepared(self) -> Prepared:
        """The checked rows, read again from disk (and the page's edits replayed) if they
        were let go."""
        with self.lock:
            self.used = time.monotonic()
            if self._prepared is None:
                prepared = self.load()
                for step in self.history:  # a step's cells are all in one sheet
                    sheet = step[0].sheet
                    prepared.checked[sheet] = edits.set_cells(
                        prepared.checked[sheet], [(e.row, e.column, e.after) for e in step],
                        prepared.options.allowed_prefixes)[0]
                self._prepared = prepared
                self._issues.clear()
                self._skips = None
            return self._prepared

    @property
    def loaded(self) -> bool:
        return self._prepared is not None

    def unload(self) -> None:
        """Let the rows go (they are on disk); what the page lists stays."""
        with self.lock:
            if self._prepared is not None:
                self.summary()
                self._prepared = None
                self._issues.clear()
                self._skips = None
                self._found = None

    def use_scope(self, scope: str) -> None:
        """Runs now go to `scope` (the sandbox, or the account given): rows its journal holds
        as done are shown as a run would treat them."""
        with self.lock:
            if scope != self.scope:
                self.scope, self._skips, self._summary = scope, None, None

    def _shown(self, index: int) -> dict[int, Outcome]:
        """Row -> the outcome the grid shows instead of the check's verdict: the last run's,
        else SKIPPED where a run would not send the row (unchanged since the export, or done
        by an earlier run), as `importer validate` says."""
        return {**self._skipped(index), **self.results.get(index, {})}

    def _skipped(self, index: int) -> dict[int, Outcome]:
        if self._skips is None:
            skips: dict[int, dict[int, Outcome]] = {}
            for (s, i), outcome in skipped_before(self.prepared, self.scope).items():
                skips.setdefault(s, {})[int(self.checked[s].sheet.data.index[i])] = outcome
            self._skips = skips
        return self._skips.get(index, {})

    @property
    def checked(self) -> list[Checked]:
        return self.prepared.checked

    def valid_rows(self, operation: str) -> int:
        """The rows of `operation` a run would send: not invalid, not done (by the last run
        or an earlier one)."""
        with self.lock:
            return sum(len(c.sheet.data) - len(c.invalid | {
                r for r, o in self._shown(i).items()
                if o.status is Status.OK or (o.status is Status.SKIPPED and o.done)})
                for i, c in enumerate(self.checked) if c.sheet.operation.name == operation)

    # --- what the page shows -------------------------------------------------------------

    def summary(self) -> dict:
        with self.lock:
            if self._summary is None:
                self._summary = {
                    "id": self.id, "name": self.name, "rollout": self.folder.name,
                    "sheets": [self._sheet_summary(i) for i in range(len(self.checked))],
                    "reading": reading_of(self.checked),
                    **self._totals(),
                }
            return self._summary

    def journal_changed(self) -> None:
        """A run of the same rollout (another copy of it, opened beside this one) has ended:
        what its journal holds as done is read again, so the rows it bought show as a run
        would skip them and are not offered for sending again."""
        with self.lock:
            self._skips = None
            self._summary = None
            self._found = None
            self.version += 1  # a buy question asked before is about the file as it was

    def _totals(self) -> dict:
        """What changes with every edit beyond its sheet: the rows a run would send."""
        return {"edits": len(self.history), "purchases": self.valid_rows("purchase"),
                "configures": self.valid_rows("configure")}

    def _sheet_summary(self, index: int) -> dict:
        checked = self.checked[index]
        sheet = checked.sheet
        return {"index": index, "name": sheet.name, "operation": sheet.operation.name,
                "rows": len(sheet.data), "columns": columns_of(sheet, self._positions(index)),
                "counts": self._counts(index),
                "problems": len(self._problem_rows(index)),
                "needing": len(self._needing_rows(index)),
                "groups": finding.groups(checked.issues, self._shown(index)),
                "sheet_issues": [i.message for i in checked.issues if i.row is None],
                "renamed": [[header, name] for header, name in sheet.renamed]}

    def rows(self, index: int, page: int, size: int, problems: bool = False,
             query: Query | None = None) -> dict:
        """One page of rows for the grid (Tabulator's remote pagination), of the rows the
        query finds in its order."""
        with self.lock:
            query = query or Query(problems=problems)
            rows = self._select(index, query)[1]
            size = max(1, min(size, 500))
            last = max(1, -(-len(rows) // size))
            page = max(1, min(page, last))
            chosen = rows[(page - 1) * size: page * size]
            return {"last_page": last, "last_row": len(rows),
                    "data": [self._row(index, int(r)) for r in chosen]}

    def _select(self, index: int, query: Query) -> tuple[finding.View, list[int]]:
        """The sheet's view and the rows the query finds, from the last answer when neither
        the sheet, its results nor the query changed since."""
        checked, shown = self.checked[index], self._shown(index)  # _skips is made by now
        key = (checked, self.results.get(index), self._skips, index)
        last = self._found
        if last is not None and all(a is b for a, b in zip(last[0], key, strict=True)):
            view, rows = last[1], (last[3] if last[2] == query else None)
        else:
            view, rows = finding.view_of(
                checked.sheet.raw, checked.sheet.data.index, self._positions(index),
                checked.invalid, shown, self._problem_rows(index), checked.issues), None
        rows = finding.select(view, query) if rows is None else rows
        self._found = (key, view, query, rows)
        return view, rows

    def next_problem(self, index: int, query: Query, after: int | None, size: int
                     ) -> dict | None:
        """The next row with a problem after `after` among the rows the query finds (from the
        top again past the last), its page and its worst cell: the grid scrolls to it."""
        with self.lock:
            view, rows = self._select(index, query)
            bad = set(view.problem_rows)
            if after in set(rows):
                start = rows.index(after) + 1
            else:  # a row the query no longer finds (just fixed): on from where it was
                start = bisect.bisect_right(rows, after or 0) if query.sort is None else 0
            size = max(1, min(size, 500))
            for pos in [*range(start, len(rows)), *range(start)]:
                if rows[pos] in bad:
                    data = self._row(index, rows[pos])
                    return {"row": rows[pos], "page": pos // size + 1, "data": data,
                            "field": finding.worst(data["_marks"], self._positions(index))}
            return None

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
        results = self._shown(index)
        counts = Counter(o.status.value for o in results.values())
        invalid = len(checked.invalid - results.keys())
        counts[Status.INVALID.value] += invalid
        counts[Status.VALID.value] += len(checked.sheet.data) - len(results) - invalid
        return {status: n for status, n in counts.items() if n}

    def _problem_rows(self, index: int) -> list[int]:
        """Rows with an issue, or that need the user."""
        return sorted(set(self._issues_by_row(index)) | self._needing_rows(index))

    def _needing_rows(self, index: int) -> set[int]:
        """Rows that need the user: invalid, refused, failed, unknown, or skipped for a
        reason a fix removes (an invalid row a run would skip as done does not)."""
        shown = self._shown(index)
        return {r for r, o in shown.items() if o.status in NOT_DONE or (
            o.status is Status.SKIPPED and not o.done)} | (self.checked[index].invalid
                                                           - shown.keys())

    def _row(self, index: int, row: int) -> dict:
        checked = self.checked[index]
        sheet = checked.sheet
        issues = self._issues_by_row(index).get(row, [])
        outcome = self.results.get(index, {}).get(row) or self._skipped(index).get(row)
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
            self._not_busy()
            pos = _position(column, self._positions(index))
            return self._apply_many(index, [(row, pos, value or None)], record=True)

    def undo(self) -> dict | None:
        with self.lock:
            self._not_busy()
            if not self.history:
                return None
            step = self.history.pop()
            return self._apply_many(step[0].sheet, [(e.row, e.column, e.before)
                                                    for e in reversed(step)], record=False)

    def bulk(self, index: int, cells: list[tuple[int, str, str]]) -> dict:
        """Change many cells as one step (a paste, a fill down): (Excel row, c<pos>, text)
        each, re-checked by the core like typed edits, and undone by one Undo."""
        with self.lock:
            self._not_busy()
            finding.check_size(len(cells))
            positions = self._positions(index)
            rows = self.checked[index].sheet.data.index
            changes: dict[tuple[int, int], str | None] = {}
            for row, column, value in cells:
                if row not in rows:
                    raise KeyError(row)
                changes[(row, _position(column, positions))] = value or None
            return self._apply_many(index, [(r, p, v) for (r, p), v in changes.items()],
                                    record=True)

    def replace(self, index: int, column: str, find: str, replace_with: str, whole: bool,
                query: Query) -> dict:
        """Find and replace in one column over every row the query finds (not only a page),
        as one step."""
        with self.lock:
            self._not_busy()
            pos = _position(column, self._positions(index))
            rows = self._select(index, query)[1]
            raw = self.checked[index].sheet.raw
            values = raw.iloc[[r - 1 for r in rows], pos].set_axis(pd.Index(rows))
            found = finding.replacements(values, find, replace_with, whole)
            finding.check_size(len(found))
            return self._apply_many(index, [(r, pos, v or None) for r, v in found],
                                    record=True)

    def _apply_many(self, index: int, changes: list[tuple[int, int, str | None]],
                    record: bool) -> dict:
        """Cells changed by the core in one pass (a typed cell, a paste, an undo); one undo
        step. Cells already holding their new text are left out; a change that changes nothing
        records no step. An edited row's old result no longer describes it."""
        raw = self.checked[index].sheet.raw
        asked = sorted({r for r, _, _ in changes})
        rows = self.checked[index].sheet.data.index
        if any(r not in rows for r in asked):  # never a row the sheet lacks (0 is the last)
            raise KeyError(asked[0])
        changes = [(r, p, v) for r, p, v in changes
                   if (None if pd.isna(now := raw.iat[r - 1, p]) else str(now)) != v]
        if not changes:  # the rows asked about, as they are
            return {"rows": [self._row(index, r) for r in asked[:500]],
                    "reload": len(asked) > 500, "count": 0,
                    "sheet": self._sheet_summary(index), **self._totals()}
        self._summary = None
        self.version += 1
        checked, befores, changed = edits.set_cells(
            self.checked[index], changes, self.prepared.options.allowed_prefixes)
        self.checked[index] = checked
        self._issues.pop(index, None)
        for r in changed:
            self.results.get(index, {}).pop(r, None)
            (self._skips or {}).get(index, {}).pop(r, None)
        if record:
            self.history.append([Edit(index, r, p, b, v)
                                 for (r, p, v), b in zip(changes, befores, strict=True)])
        many = len(changed) > 500  # the page reloads its rows rather than take them all
        return {"rows": [] if many else [self._row(index, r) for r in changed],
                "reload": many, "count": len(changes),
                "sheet": self._sheet_summary(index), **self._totals()}

    def _not_busy(self) -> None:
        """A run reads these very rows: a change now would not be what was sent."""
        if self.busy:
            raise Busy("the file is being run; wait until it has finished to change it")

    def take_results(self, report: RunReport) -> None:
        """The run's outcomes, shown in the grid until the rows are edited again."""
        with self.lock:
            self.results = {i: dict(zip(s.rows, s.outcomes, strict=False))
                            for i, s in enumerate(report.sheets)}
            self._summary = None
            self.version += 1

    def save_edited(self) -> Path:
        """The document as it is now, as an .xlsx beside the upload (every cell text)."""
        with self.lock:
            target = self.folder / f"{files.rollout_stem(Path(self.name))}.edited.xlsx"
            return files.write_atomically(target, lambda tmp: write_edited(
                tmp, self.checked), overwrite=True)

    def needing(self) -> list[dict[int, Outcome]]:
        """Per sheet, the rows that need the user (invalid, refused, failed, unknown, or
        skipped for a reason a fix removes) with what the page says of each."""
        with self.lock:
            found: list[dict[int, Outcome]] = []
            for index in range(len(self.checked)):
                shown = {r: self._row(index, r) for r in sorted(self._needing_rows(index))}
                found.append({r: Outcome(Status(d["_status"]), d["_message"])
                              for r, d in shown.items()})
            return found

    def save_needing(self) -> Path | None:
        """Only the rows that need the user, each with its status and message, as an .xlsx
        of this rollout (`x.to-fix.xlsx`: uploaded back, it carries on with the same journal);
        None when no row needs them."""
        with self.lock:
            only = self.needing()
            if not any(only):
                return None
            target = self.folder / f"{files.rollout_stem(Path(self.name))}.to-fix.xlsx"
            return files.write_atomically(target, lambda tmp: write_edited(
                tmp, self.checked, only), overwrite=True)

    def for_run(self) -> Prepared:
        """What a run sends: the document as edited, saved first so the Summary's file and
        SHA-256 describe exactly what was sent; results beside it, journal of the rollout."""
        with self.lock:
            # The upload as it was checked, unless edited here or replaced by a later upload
            # of the same name: then the sheets as this page holds them.
            same = not self.history and files.sha256(self.path) == self.prepared.sha256
            path = self.path if same else self.save_edited()
            results = files.next_free(
                self.folder / f"{files.rollout_stem(self.path)}.results.xlsx")
            sha = self.prepared.sha256 if same else files.sha256(path)
            shown_as = self.name if same else f"{self.name} (with the changes made in the page)"
            return replace(self.prepared, path=path, sha256=sha, name=shown_as,
                           started_at=now(), checked=list(self.checked), results_path=results)


def _position(column: str, positions: list[int]) -> int:
    if not re.fullmatch(r"c\d{1,5}", column) or int(column[1:]) not in positions:
        raise KeyError(column)
    return int(column[1:])


def without_paths(text: str, root: Path) -> str:
    """`text` with every path inside the workspace cut to its file name (the page never shows
    the server's folders)."""
    return re.sub(re.escape(str(root)) + r"[^\s'\",;:()]*", lambda m: Path(m[0]).name, text)
