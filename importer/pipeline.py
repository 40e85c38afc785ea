"""Plan and submit: load -> validate -> plan (skip what is done) -> send row by row -> results.

The core of the tool. It knows nothing of the command line: progress goes to a callback and an
interruption is a `should_stop` callable polled between rows, so the row in flight always ends.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pandas as pd

from importer import __version__
from importer.client import ApiClient, Reply
from importer.errors import ImporterError, UsageError
from importer.journal import Entry, Journal, fingerprint
from importer.loading import load
from importer.operations import Operation
from importer.reconcile import Owned, confirm_purchase
from importer.report import Outcome, RunReport, Severity, SheetResult, Status
from importer.rules import normalise
from importer.schemas import Checked, check
from importer.workbook import write_results

Progress = Callable[[int, int, Outcome], None]


def now() -> str:
    """Local time with its offset (ISO 8601), as users read it in the Submitted At column.

    time.strftime follows daylight saving and costs a fraction of datetime.astimezone()."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    return f"{stamp[:-2]}:{stamp[-2:]}"


@dataclass
class Options:
    operation: str | None = None
    sheets: tuple[str, ...] = ()
    allowed_prefixes: tuple[str, ...] = ()
    out: Path | None = None
    journal: Path | None = None
    force: bool = False
    max_consecutive_failures: int = 10
    purchase_attempts: int = 3


@dataclass
class Prepared:
    """A file loaded and checked: everything needed to decide what to send, before any network."""

    path: Path
    sha256: str
    started_at: str
    checked: list[Checked]
    options: Options
    results_path: Path = field(init=False)
    journal_path: Path = field(init=False)

    def __post_init__(self) -> None:
        self.results_path, self.journal_path = output_paths(
            self.path, self.options.out, self.options.journal)

    def valid_rows(self, operation: str) -> int:
        return sum(len(c.sheet.data) - len(c.invalid) for c in self.checked
                   if c.sheet.operation.name == operation)


def output_paths(path: Path, out: Path | None, journal: Path | None) -> tuple[Path, Path]:
    """`x.xlsx` -> `x.results.xlsx` + `x.journal.sqlite`; re-running `x.results.xlsx` shares both
    stems, but never overwrites the input."""
    base = re.sub(r"\.results(-\d+)?$", "", path.stem)
    results = out
    if results is None:
        candidates = (path.with_name(f"{base}.results{s}.xlsx") for s in ["", *
                      (f"-{n}" for n in range(2, 1000))])
        results = next(c for c in candidates if c.resolve() != path.resolve())
    if not results.parent.is_dir():
        raise UsageError(f"{results}: the folder {results.parent} does not exist")
    if results.resolve() == path.resolve():
        raise UsageError(f"{results}: the results workbook would overwrite the input; "
                         "choose another --out")
    return results, journal or results.with_name(f"{base}.journal.sqlite")


def prepare(path: Path, options: Options) -> Prepared:
    """Load and validate every sheet; no network. Raises InputError for unusable input."""
    started = now()
    sheets = load(path, options.operation, options.sheets)
    with path.open("rb") as f:  # streamed: a big input is not held twice in memory
        digest = hashlib.file_digest(f, "sha256").hexdigest()
    return Prepared(path, digest, started,
                    [check(s, options.allowed_prefixes) for s in sheets], options)


def _report(prepared: Prepared, mode: str, base_url: str = "") -> RunReport:
    return RunReport(
        input_path=str(prepared.path), input_sha256=prepared.sha256,
        started_at=prepared.started_at, base_url=base_url, mode=mode,
        results_path=str(prepared.results_path), tool_version=__version__,
        issues=[i for c in prepared.checked for i in c.issues])


def _first_outcomes(checked: Checked) -> tuple[list[Outcome | None], dict[int, list[str]]]:
    """INVALID (with every error message) for rows with errors, None for the rest; and the
    warning messages per row."""
    errors: dict[int, list[str]] = {}
    warnings: dict[int, list[str]] = {}
    for issue in checked.issues:
        if issue.row is not None:
            notes = errors if issue.severity is Severity.ERROR else warnings
            notes.setdefault(issue.row, []).append(issue.message)
    outcomes = [Outcome(Status.INVALID, " ".join(errors[row])) if row in errors else None
                for row in checked.sheet.data.index]
    return outcomes, warnings


def _with_notes(outcome: Outcome, warnings: list[str]) -> Outcome:
    if warnings:
        outcome.message = " ".join([outcome.message, "Note:", *warnings]).strip()
    return outcome


def validate(prepared: Prepared) -> RunReport:
    """`importer validate`: VALID or INVALID per row, written to the results workbook."""
    report = _report(prepared, "validate")
    for checked in prepared.checked:
        outcomes, warnings = _first_outcomes(checked)
        rows = checked.sheet.data.index
        report.sheets.append(SheetResult(checked.sheet.name, checked.sheet.operation.name, [
            o or _with_notes(Outcome(Status.VALID, "Valid."), warnings.get(row, []))
            for o, row in zip(outcomes, rows, strict=True)]))
    return _finish(report, prepared)


def _finish(report: RunReport, prepared: Prepared) -> RunReport:
    """Write the results workbook. If its file cannot be written (on Windows: it is open in
    Excel) the results go beside it under a timestamped name rather than being lost."""
    report.finished_at = now()
    report.count()
    path = prepared.results_path
    try:
        write_results(path, report, prepared.checked)
    except ImporterError:
        path = path.with_name(f"{path.stem}-{datetime.now():%Y%m%d-%H%M%S}{path.suffix}")
        report.results_path = str(path)
        write_results(path, report, prepared.checked)
    return report


@dataclass
class Task:
    """One valid row, ready to send."""

    sheet: int
    position: int  # index into that sheet's outcomes
    row: int  # Excel row
    op: Operation
    block: str
    target: tuple[str, str]  # (AccountSid|PropertySid, sid): where its purchase is listed
    path: str
    body: dict
    fp: str
    warnings: list[str]


def _tasks(prepared: Prepared, outcomes: list[list[Outcome | None]], scope: str) -> list[Task]:
    """The valid rows as requests; `outcomes` gets the INVALID ones."""
    tasks: list[Task] = []
    for s, checked in enumerate(prepared.checked):
        op, data = checked.sheet.operation, checked.sheet.data
        outcomes[s], warnings = _first_outcomes(checked)
        positions = {row: i for i, row in enumerate(data.index)}
        valid = data[[o is None for o in outcomes[s]]]
        values = pd.DataFrame({f.name: normalise(f, valid[f.name]) for f in op.fields},
                              index=valid.index)
        for row, rec in zip(values.index, values.to_dict("records"), strict=True):
            present = {k: v for k, v in rec.items() if v is not None}
            target = "PropertySid" if present.get("PropertySid") else "AccountSid"
            path, body = op.path_for(present), op.body_for(present)
            tasks.append(Task(s, positions[row], int(row), op, present[op.unique],
                              (target, present[target]), path, body,
                              fingerprint(scope, op.name, path, body), warnings.get(row, [])))
    return tasks


def run(prepared: Prepared, client: ApiClient, *, scope: str, progress: Progress | None = None,
        should_stop: Callable[[], bool] = lambda: False, dry_run: bool = False) -> RunReport:
    """Send every valid row once; whatever happens, every row ends with a truthful Status.

    `scope` identifies the API and account in the journal (what "already applied" refers to).
    """
    report = _report(prepared, "dry-run" if dry_run else "run", client.base_url)
    report.journal_path = str(prepared.journal_path)
    outcomes: list[list[Outcome | None]] = [[None] * len(c.sheet.data) for c in prepared.checked]
    tasks = _tasks(prepared, outcomes, scope)
    journal = Journal(prepared.journal_path)
    try:
        _Submitter(prepared, client, journal, outcomes, report, progress, should_stop,
                   dry_run).run(tasks)
    finally:
        journal.close()
        for s, checked in enumerate(prepared.checked):
            report.sheets.append(SheetResult(
                checked.sheet.name, checked.sheet.operation.name,
                [o or Outcome(Status.SKIPPED, "Not sent: the run stopped before this row.")
                 for o in outcomes[s]]))
        _finish(report, prepared)
    return report


class _Submitter:
    """The submit loop and its bookkeeping (consecutive failures, abort, purchases this run)."""

    def __init__(self, prepared: Prepared, client: ApiClient, journal: Journal,
                 outcomes: list[list[Outcome | None]], report: RunReport,
                 progress: Progress | None, should_stop: Callable[[], bool],
                 dry_run: bool) -> None:
        self.options = prepared.options
        self.prepared, self.client, self.journal = prepared, client, journal
        self.outcomes, self.report = outcomes, report
        self.progress, self.should_stop, self.dry_run = progress, should_stop, dry_run
        self.failures_in_a_row = 0
        self.bought: dict[str, tuple[Outcome, str]] = {}  # block -> this run's purchase, where
        self.owned = Owned(client)

    def run(self, tasks: list[Task]) -> None:
        entries = self.journal.entries([t.fp for t in tasks])
        self._note_invalid_purchases()
        pending = [t for t in tasks
                   if t.op.name == "purchase" and not self._applied(entries.get(t.fp))]
        if reply := self.owned.prefetch({t.target for t in pending}, self.should_stop):
            self._abort(reply)
        total = len(tasks)
        for done, task in enumerate(tasks, 1):
            if self.report.aborted:
                outcome = Outcome(Status.SKIPPED, f"Not sent: run aborted ({self.report.aborted})")
            elif self.should_stop():
                self.report.interrupted = True
                outcome = Outcome(Status.SKIPPED, "Not sent: the run was interrupted.")
            else:
                outcome = self._one(task, entries.get(task.fp))
            self._settle(task, _with_notes(outcome, task.warnings))
            if self.progress:
                self.progress(done, total, outcome)

    def _note_invalid_purchases(self) -> None:
        for checked in self.prepared.checked:
            if checked.sheet.operation.name == "purchase":
                blocks = checked.sheet.data[checked.sheet.operation.unique]
                for row in checked.invalid:
                    if isinstance(blocks[row], str):
                        self.bought.setdefault(blocks[row], (
                            Outcome(Status.INVALID), f"sheet {checked.sheet.name!r} row {row}"))

    def _settle(self, task: Task, outcome: Outcome) -> None:
        self.outcomes[task.sheet][task.position] = outcome
        if task.op.name == "purchase":
            if outcome.status is Status.OK:
                self.owned.add(task.target, task.block)
            name = self.prepared.checked[task.sheet].sheet.name
            self.bought[task.block] = (outcome, f"sheet {name!r} row {task.row}")

    def _applied(self, entry: Entry | None) -> bool:
        """The journal says this very row went through earlier (and --force is not given)."""
        return bool(entry and entry.status == Status.OK and not self.options.force)

    def _one(self, task: Task, entry: Entry | None) -> Outcome:
        if self._applied(entry):
            return Outcome(Status.SKIPPED, f"Already applied on {entry.finished_at}; not sent "
                           "again (use --force to resend).", done=True)
        if task.op.name == "purchase":
            mine = self.owned.get(task.target)
            # An earlier run was cut off mid-request, or could not tell: maybe it was bought.
            doubtful = entry is not None and (entry.state == "sending"
                                              or entry.status == Status.UNKNOWN)
            if mine is not None and task.block in mine:
                if doubtful:
                    return Outcome(Status.OK, "Bought: an earlier run's request went through "
                                   "(confirmed by look-up).", submitted_at=entry.sent_at)
                return Outcome(Status.SKIPPED, f"Already owned by {task.target[1]}; not bought "
                               "again.", done=True)
            if doubtful and mine is None:
                return Outcome(Status.UNKNOWN, "An earlier run may have bought this block and "
                               "the owned-blocks list could not be read to check, so it was not "
                               "sent. Check it in the portal; a re-run checks again.")
        else:
            bought = self.bought.get(task.block)
            if bought and not (bought[0].settled or bought[0].status is Status.VALID):
                return Outcome(Status.SKIPPED, f"Not sent: its purchase ({bought[1]}) did not "
                               f"go through in this run ({bought[0].status}).")
        if self.dry_run:
            return Outcome(Status.VALID, "Would be sent.")
        outcome = self._send(task)
        transient = outcome.status in (Status.FAILED, Status.UNKNOWN)
        self.failures_in_a_row = self.failures_in_a_row + 1 if transient else 0
        if self.failures_in_a_row >= self.options.max_consecutive_failures:
            self.report.aborted = (f"{self.failures_in_a_row} rows in a row failed; the API "
                                   "seems unavailable")
        return outcome

    def _send(self, task: Task) -> Outcome:
        if task.op.idempotent:
            at = now()
            self.journal.sending(task.fp, task.op.name, task.block, task.path, at)
            reply = self.client.post(task.path, task.body)
            outcome = self._outcome(reply, at)
        else:
            outcome = confirm_purchase(task, self.client, self.journal, self.owned,
                                       self.options.purchase_attempts, self._outcome, now)
        self.journal.finished(task.fp, outcome, now())
        return outcome

    def _outcome(self, reply: Reply, at: str) -> Outcome:
        """An API answer (or its absence) as a row Status; credentials refused abort the run."""
        if reply.ok:
            return Outcome(Status.OK, "Accepted.", reply.status, "", at)
        if reply.fatal:
            self._abort(reply)
        status = Status.FAILED if reply.transient else Status.REJECTED
        message = reply.message or "No answer."
        if reply.transient:
            message = f"{message} (still failing after retries)"
        return Outcome(status, message, reply.status, reply.error_code, at)

    def _abort(self, reply: Reply) -> None:
        self.report.aborted = (f"the API refused the credentials ({reply.status} "
                               f"{reply.error_code}: {reply.message}); check "
                               "IMPORTER_ACCOUNT_SID and IMPORTER_AUTH_TOKEN")
