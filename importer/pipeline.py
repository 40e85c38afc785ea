"""Plan and run: load -> validate -> plan (skip what is done) -> send row by row -> results.

The core of the tool, shared by the command line and the web app. It knows nothing of either:
progress and notices go to callbacks, and an interruption is a `should_stop` callable polled
between rows (and during waits), so the row in flight always ends with a true Status.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from importer import __version__
from importer.checking.rules import normalise
from importer.checking.schemas import Checked, check
from importer.errors import ImporterError, UsageError
from importer.reading import exported, undone
from importer.reading.loading import ReadOptions, load_input
from importer.reading.mapping import ColumnMap
from importer.report import Outcome, RunReport, Severity, SheetResult, Status, with_notes
from importer.results import files
from importer.results.undo import About, Change, undo_path, write_undo
from importer.results.workbook import write_results
from importer.sending import locks, state
from importer.sending.client import ApiClient, item_text
from importer.sending.journal import Before, JournalError, fingerprint, purchase_fingerprint
from importer.sending.loop import Confirming, Loop, Progress
from importer.sending.state import Rollout
from importer.sending.submit import Submitter
from importer.sending.tasks import Settings, Task, check_settle_window, done_before, now
from importer.spec import contract
from importer.text import shown

Notify = Callable[[str], None]


@dataclass
class Options:
    operation: str | None = None
    sheets: tuple[str, ...] = ()
    allowed_prefixes: tuple[str, ...] = ()
    out: Path | None = None
    overwrite: bool = False  # let an explicit `out` replace an existing file
    journal: Path | None = None
    force: bool = False
    wait: bool = False  # wait for another run holding the rollout (or account) instead of stopping
    max_consecutive_failures: int = 10
    settle_window: float = 60.0  # seconds a doubtful purchase is looked up for
    encoding: str | None = None  # a CSV's encoding (None: guessed)
    delimiter: str | None = None  # a CSV's delimiter (None: guessed)
    header_row: int | None = None  # the header's row number as Excel shows it (None: found)
    # What the person said a sheet's columns are (sheet name -> mapping), see reading.mapping.
    mapping: dict[str, ColumnMap] = field(default_factory=dict)
    state_url: str = ""  # where locks, ledger and journals live ("": this computer), see state


@dataclass
class Prepared:
    """A file loaded and checked: everything needed to decide what to send, before any network."""

    path: Path
    sha256: str
    started_at: str
    checked: list[Checked]
    options: Options
    results_path: Path
    journal_path: Path
    name: str = ""  # what the results call the file ("" : its path), e.g. the name uploaded

    def valid_rows(self, operation: str) -> int:
        return sum(exported.to_send(c.sheet, c.invalid) - len(
            undone.nothing_to_send(c.sheet) - c.invalid) for c in self.checked
                   if c.sheet.operation.name == operation)


def output_paths(path: Path, options: Options) -> tuple[Path, Path]:
    """The results workbook (never over the input or an existing file unless asked) and the
    journal (`x.journal.sqlite`, shared by `x.xlsx` and its results workbooks)."""
    stem = files.rollout_stem(path)
    results = options.out
    if results is None:
        results = files.next_free(path.with_name(f"{stem}.results.xlsx"))
    elif files.same_file(results, path):
        raise UsageError(f"{shown(results)}: the results workbook would replace the input; "
                         "choose another name")
    elif results.is_dir():
        raise UsageError(f"{shown(results)} is a folder; give the results workbook a file name")
    elif results.exists() and not options.overwrite:
        raise UsageError(f"{shown(results)} already exists and was not replaced; choose another "
                         "name, or allow replacing it (--overwrite)")
    if not results.parent.is_dir():
        raise UsageError(f"{shown(results)}: the folder {shown(results.parent)} does not exist")
    journal = options.journal or results.with_name(f"{stem}.journal.sqlite")
    if files.same_file(journal, path):
        raise UsageError(f"{shown(journal)}: the journal would overwrite the input; choose "
                         "another --journal")
    if files.same_file(journal, results):
        raise UsageError(f"{shown(journal)}: the journal and the results workbook cannot be "
                         "one file")
    return results, journal


def prepare(path: Path, options: Options) -> Prepared:
    """Load and validate every sheet; no network. Raises InputError / UsageError (exit 2)."""
    started = now()
    # Read first: an odd path (a folder, ".") is then told as such, not as an output name.
    loaded = load_input(path, options.operation, options.sheets, given=ReadOptions(
        options.encoding, options.delimiter, options.header_row, options.mapping))
    results, journal = output_paths(path, options)
    checked = [check(s, options.allowed_prefixes) for s in loaded.sheets]
    return Prepared(path, loaded.sha256, started, checked, options, results, journal)


def _report(prepared: Prepared, mode: str, base_url: str = "") -> RunReport:
    return RunReport(
        input_path=prepared.name or str(prepared.path), input_sha256=prepared.sha256,
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
    nothing = undone.nothing_to_send(checked.sheet)
    outcomes = [Outcome(Status.INVALID, " ".join(errors[row])) if row in errors else
                with_notes(Outcome(Status.SKIPPED, undone.NOTHING, done=True),
                           list(warnings.get(row, []))) if row in nothing else None
                for row in checked.sheet.data.index]
    return exported.skip_unchanged(checked.sheet, outcomes), warnings


def validate(prepared: Prepared, scope: str = "") -> RunReport:
    """`importer validate`: VALID or INVALID per row, written to the results workbook; with the
    `scope` a run would use, rows its journal holds as done say that a run skips them."""
    files.probe(prepared.results_path.parent, "results workbook")
    report = _report(prepared, "validate")
    earlier = done_earlier(prepared, scope, report.notes)
    for s, checked in enumerate(prepared.checked):
        outcomes, warnings = _first_outcomes(checked)
        rows = checked.sheet.data.index
        report.sheets.append(SheetResult(checked.sheet.name, checked.sheet.operation.name, [
            o or earlier.get((s, i)) or with_notes(Outcome(Status.VALID, "Valid."),
                                                    warnings.get(row, []))
            for i, (o, row) in enumerate(zip(outcomes, rows, strict=True))],
            [int(r) for r in rows]))
    return finish(report, prepared)


def rollout_of(prepared: Prepared, scope: str) -> Rollout:
    """The rollout as the state store keys it: `x` for `x.xlsx` and every results workbook or
    download of it, for the account `scope`."""
    return Rollout(files.rollout_stem(prepared.path), scope, prepared.journal_path)


def done_earlier(prepared: Prepared, scope: str, notes: list[str] | None = None
                 ) -> dict[tuple[int, int], Outcome]:
    """(sheet index, row position) -> SKIPPED for each valid row the rollout's journal holds as
    done for `scope`: what a run would say of it. The CLI's validate and the web grid show it;
    where a shared store cannot be read, `notes` hears so."""
    if not scope:
        return {}
    rollout = rollout_of(prepared, scope)
    try:
        with state.opened(prepared.options.state_url) as store:
            if not store.has_journal(rollout):
                return {}
            outcomes: list[list[Outcome | None]] = [[None] * len(c.sheet.data)
                                                    for c in prepared.checked]
            tasks = _tasks(prepared, outcomes, scope)
            journal = store.journal(rollout)
            try:
                entries = journal.entries([t.fp for t in tasks])
            finally:
                journal.close()
    except ImporterError as exc:  # a damaged journal file: the run says so
        if notes is not None and prepared.options.state_url:
            notes.append(f"Rows done by earlier runs could not be looked up ({exc}); a run "
                         "still skips them.")
        return {}
    return {(t.sheet, t.position): done_before(t, e, "a run skips it.") for t in tasks
            if (e := entries.get(t.fp)) is not None and e.status == Status.OK}


def skipped_before(prepared: Prepared, scope: str) -> dict[tuple[int, int], Outcome]:
    """(sheet index, row position) -> SKIPPED for each row a run would not send although it
    has been read: unchanged since the export, or done by an earlier run for `scope`. What the
    web grid shows before a run, as `validate` writes it."""
    skips = {(s, i): o for s, checked in enumerate(prepared.checked)
             for i, o in enumerate(_first_outcomes(checked)[0])
             if o is not None and o.status is Status.SKIPPED}
    return {**skips, **done_earlier(prepared, scope)}


def finish(report: RunReport, prepared: Prepared) -> RunReport:
    """Write the results workbook, whole or not at all. Where it cannot be written (the disk
    filled up, the folder became read-only, the file is open in Excel on Windows), the
    results go somewhere that exists and the report says where: the facts of money spent are
    never only in the journal."""
    report.finished_at = now()
    report.count()
    target = prepared.results_path
    options = prepared.options

    def write(tmp: Path) -> None:
        write_results(tmp, report, prepared.checked)

    try:
        written = files.write_atomically(target, write, overwrite=options.overwrite,
                                         renumber=options.out is None)
    except (OSError, ImporterError) as exc:
        cause = files.os_error_in(exc)
        reason = files.why_not_writable(cause) if cause else str(exc)
        for folder in _fallback_folders(target):
            candidate = folder / f"{target.stem}-{time.strftime('%Y%m%d-%H%M%S')}.xlsx"
            with contextlib.suppress(OSError, ImporterError):
                written = files.write_atomically(files.next_free(candidate), write,
                                                 renumber=True)
                report.notes.append(f"The results could not be written to {target} "
                                    f"({reason}); they were written to {written} instead.")
                break
        else:
            report.results_path = ""
            report.results_failed = (f"the results workbook could not be written to {target} "
                                     f"({reason}) nor anywhere else")
            return report
        report.results_failed = f"the results were not written where asked ({reason})"
    report.results_path = str(written)
    return report


def _fallback_folders(target: Path) -> list[Path]:
    folders = [target.parent, locks.state_dir() / "results", Path(tempfile.gettempdir())]
    for folder in folders[1:]:
        with contextlib.suppress(OSError):
            folder.mkdir(parents=True, exist_ok=True)
    return folders


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
            block = present[op.unique]
            key = contract.sid_key(block)
            path, body = op.path_for(present), op.body_for(present)
            query = op.query_for(present)
            fp = (fingerprint(scope, op.name, path, body) if op.idempotent
                  else purchase_fingerprint(scope, key))
            tasks.append(Task(s, positions[row], int(row), op, block, key,
                              (target, present[target]), path, query, body, fp,
                              f"sheet {checked.sheet.name!r} row {row}", warnings.get(row, [])))
    return tasks


def run(prepared: Prepared, client: ApiClient, *, scope: str, progress: Progress | None = None,
        should_stop: Callable[[], bool] = lambda: False, notify: Notify | None = None,
        dry_run: bool = False, confirming: Confirming | None = None,
        sandbox: bool = False) -> RunReport:
    """Send every valid row once; whatever happens, every row ends with a truthful Status.

    `scope` identifies the account on the API (config.scope_of): what "already applied"
    refers to in the journal, the ledger and the account lock. `confirming` hears how many
    purchases are being confirmed by look-up while the run goes on; `sandbox` says the client
    talks to the built-in sandbox, so the Summary can say so. Raises Busy (nothing done)
    when another run holds the rollout or, for purchases, the account; otherwise always writes
    the results workbook, interrupted or not."""
    options = prepared.options
    files.probe(prepared.results_path.parent, "results workbook")
    report = _report(prepared, "dry-run" if dry_run else "run", client.base_url)
    report.sandbox = sandbox
    outcomes: list[list[Outcome | None]] = [[None] * len(c.sheet.data) for c in prepared.checked]
    tasks = _tasks(prepared, outcomes, scope)
    waiting = {"wait": options.wait, "should_stop": should_stop, "notify": notify}
    buying = not dry_run and any(t.buys for t in tasks)
    if buying:  # whoever built the options (the page too): never a window a listing outlasts
        check_settle_window(options.settle_window, client.timeout[1])
    rollout = rollout_of(prepared, scope)
    with contextlib.ExitStack() as held:
        store = state.open_store(options.state_url)  # unreachable: stops before anything
        held.callback(store.close)
        if not store.shared:
            files.probe(prepared.journal_path.parent, "journal")
        report.journal_path = store.journal_label(rollout)
        held.enter_context(store.hold_rollout(rollout, str(prepared.path), **waiting))
        if buying:
            held.enter_context(store.hold_account(scope, str(prepared.path), **waiting))
        journal = store.journal(rollout)
        held.callback(journal.close)
        configuring = not dry_run and any(not t.buys for t in tasks)
        ledger = store.ledger() if buying or configuring else None
        if ledger is not None:
            held.callback(ledger.close)
        settings = Settings(scope, options.settle_window, dry_run, options.force,
                            str(prepared.path))
        submitter = Submitter(client, journal, settings, should_stop, ledger=ledger)
        loop = Loop(submitter, outcomes, report, progress, should_stop, confirming,
                    options.max_consecutive_failures)
        undo = _Undo(prepared, report, submitter) if configuring else None
        try:
            loop.run(tasks, _invalid_purchases(prepared), undo.first if undo else None)
        except KeyboardInterrupt:
            report.interrupted = True
        except JournalError as exc:
            report.aborted = str(exc)
        finally:
            if (escaped := submitter.escaped()) is not None and loop.current is not None:
                loop.place(loop.current, escaped)
            if loop.current is not None and report.aborted and loop.unplaced(loop.current):
                loop.place(loop.current, Outcome(Status.FAILED, "Not sent: the journal could "
                                                 "not record it, so it was not sent."))
            for task, outcome in submitter.give_up("the run stopped before a look-up showed "
                                                   "it"):
                loop.place(task, outcome)
            try:
                submitter.flush()
            except ImporterError as exc:  # only a later rollback's fallback is lost
                report.notes.append(f"What this run applied could not be kept for a later "
                                    f"rollback ({exc}).")
            _confirmations(report, submitter)
            for s, checked in enumerate(prepared.checked):
                report.sheets.append(SheetResult(
                    checked.sheet.name, checked.sheet.operation.name,
                    [o or Outcome(Status.SKIPPED, "Not sent: the run stopped before this row.")
                     for o in outcomes[s]], [int(r) for r in checked.sheet.data.index]))
            if undo is not None:
                undo.last(outcomes)
            finish(report, prepared)
    return report


class _Undo:
    """The run's undo workbook (results.undo): written before its first row is sent, from
    the settings the journal recorded, and rewritten at its end with the rows it sent."""

    def __init__(self, prepared: Prepared, report: RunReport, submitter: Submitter) -> None:
        self.prepared, self.report, self.submitter = prepared, report, submitter
        self.path = undo_path(prepared.results_path)
        self.changes: list[tuple[Task, Change]] = []

    def first(self, found: list[tuple[Task, Before]]) -> None:
        items = self.submitter.items
        self.changes = [(task, Change(
            {task.target[0]: task.target[1], task.op.unique: task.block},
            {k: str(v) for k, v in task.body.items() if k in contract.ITEM_SETTINGS},
            before.settings, before.unknown, {
                k: text for k in contract.ITEM_REFERENCE
                if (text := item_text(items.get(task.key, {}).get(k)))}))
            for task, before in found]
        try:
            write_undo(self.path, [c for _, c in self.changes], self._about(False))
        except ImporterError as exc:
            raise JournalError(f"the undo workbook could not be written ({exc}); the run "
                               "stopped before sending anything, so that what it changes "
                               "can be put back") from exc
        self.report.undo_path = str(self.path)

    def last(self, outcomes: list[list[Outcome | None]]) -> None:
        """Only the rows that were sent: OK, or sent without a sure answer (they may have been
        applied; putting such a row back sets what the block already has)."""
        if not self.report.undo_path:
            return
        sent = [change for task, change in self.changes
                if (o := outcomes[task.sheet][task.position]) is not None and (
                    o.status is Status.OK or (o.status is Status.FAILED and o.submitted_at))]
        try:
            if sent:
                write_undo(self.path, sent, self._about(True))
            else:
                self.path.unlink(missing_ok=True)
                self.report.undo_path = ""
        except (OSError, ImporterError) as exc:
            self.report.notes.append(f"The undo workbook could not be rewritten at the end "
                                     f"({exc}); {self.path.name} still holds every row the run "
                                     "meant to send.")

    def _about(self, final: bool) -> About:
        bought = sum(o.status is Status.OK for s in self.report.sheets for o in s.outcomes
                     if s.operation == "purchase") if final else 0
        return About(self.prepared.name or str(self.prepared.path),
                     self.prepared.results_path.name, self.prepared.started_at, bought, final)


def _invalid_purchases(prepared: Prepared) -> list[tuple[str, str]]:
    """(block key, where) of each purchase row that will not be sent: its configure rows are
    skipped, saying why."""
    found = []
    for checked in prepared.checked:
        op = checked.sheet.operation
        if op.idempotent:
            continue
        blocks = checked.sheet.data[op.unique]
        found += [(contract.sid_key(blocks[row]), f"sheet {checked.sheet.name!r} row {row}")
                  for row in checked.invalid if isinstance(blocks[row], str)]
    return found


def _confirmations(report: RunReport, submitter: Submitter) -> None:
    """The summary's word on look-ups: how many, and how long they took (the run went on)."""
    report.looked_up, report.settling_seconds = (submitter.looked_up,
                                                 round(submitter.settling_seconds, 1))
    report.sent = submitter.sent
    if submitter.looked_up:
        n = submitter.looked_up
        report.notes.append(f"{n} purchase{'s were' if n != 1 else ' was'} in doubt and looked "
                            f"up while the run went on; the confirmations took "
                            f"{submitter.settling_seconds:.0f} s.")
