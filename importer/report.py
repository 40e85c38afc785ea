"""Plain data passed between the pipeline stages and rendered by the CLI and the workbook."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from importer.errors import ExitCode


class Status(StrEnum):
    OK = "OK"
    INVALID = "INVALID"
    REJECTED = "REJECTED"
    FAILED = "FAILED"
    UNKNOWN = "UNKNOWN"
    SKIPPED = "SKIPPED"
    VALID = "VALID"


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem with one cell (or, with row/column None, with the sheet as a whole)."""

    sheet: str
    row: int | None
    column: str | None
    value: str | None
    code: str
    message: str
    severity: Severity = Severity.ERROR


@dataclass(slots=True)
class Outcome:
    """What happened to one row; `done` marks a skip that counts as success (already applied)."""

    status: Status
    message: str = ""
    http_status: int | None = None
    error_code: str = ""
    submitted_at: str = ""
    done: bool = False
    # A row not sent because another was refused (its purchase): sending again changes
    # nothing until that row is fixed; where it is ("Purchase row 4").
    blocked_by: str = ""

    @property
    def settled(self) -> bool:
        """True when the row needs nothing more: sent OK or already done before."""
        return self.status is Status.OK or (self.status is Status.SKIPPED and self.done)


@dataclass
class SheetResult:
    """The outcome of every data row of one input sheet, in sheet order."""

    name: str
    operation: str
    outcomes: list[Outcome]
    rows: list[int] = field(default_factory=list)  # the Excel row of each outcome


NOT_DONE = frozenset({Status.REJECTED, Status.FAILED, Status.UNKNOWN})


@dataclass(frozen=True, slots=True)
class Problem:
    """One line of the Errors sheet and of the terminal's list: a cell issue or an API outcome."""

    sheet: str
    row: int | None
    column: str
    value: str | None
    severity: str
    code: str
    message: str

    def line(self) -> str:
        """`Purchase row 9, AnswerPoint: ...` as the terminal shows it."""
        where = self.sheet if self.row is None else f"{self.sheet} row {self.row}"
        return f"{where}, {self.column}: {self.message}" if self.column else (
            f"{where}: {self.message}")


@dataclass
class RunReport:
    """The whole run, as shown in the Summary sheet and by `--json`."""

    input_path: str
    input_sha256: str
    started_at: str
    finished_at: str = ""
    base_url: str = ""
    sandbox: bool = False  # sent to the built-in sandbox (`--sandbox`, the page's sandbox)
    mode: str = "validate"  # validate | dry-run | run
    results_path: str = ""
    journal_path: str = ""
    tool_version: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    aborted: str = ""
    interrupted: bool = False
    notes: list[str] = field(default_factory=list)  # things the user must know about the run
    results_failed: str = ""  # the results workbook is not where it was asked for: why
    looked_up: int = 0  # purchases in doubt settled by look-up (confirmed or UNKNOWN)
    settling_seconds: float = 0.0  # how long at least one of them was pending
    sent: int = 0  # rows whose request this run sent (answered or not)
    undo_path: str = ""  # the undo workbook of a configure run (results.undo)
    issues: list[Issue] = field(default_factory=list)
    sheets: list[SheetResult] = field(default_factory=list)

    @property
    def outcomes(self) -> list[Outcome]:
        return [o for sheet in self.sheets for o in sheet.outcomes]

    def problems(self) -> list[Problem]:
        """Every issue and every row the API did not settle, sheet by sheet in row order
        (errors before warnings within a row)."""
        order = {s.name: i for i, s in enumerate(self.sheets)}
        found = [Problem(i.sheet, i.row, i.column or "", i.value, i.severity.value, i.code,
                         i.message) for i in self.issues]
        for sheet in self.sheets:
            found += [Problem(sheet.name, row, "", None, Severity.ERROR.value,
                              o.error_code or o.status.value, f"{o.status.value}: {o.message}")
                      for row, o in zip(sheet.rows, sheet.outcomes, strict=False)
                      if o.status in NOT_DONE]
        return sorted(found, key=lambda p: (order.get(p.sheet, -1), p.row or 0,
                                            p.severity != Severity.ERROR.value))

    def count(self) -> None:
        """Fill `counts` from the outcomes (every status present, zeros included)."""
        found = Counter(o.status.value for o in self.outcomes)
        self.counts = {s.value: found.get(s.value, 0) for s in Status}

    def to_dict(self) -> dict[str, object]:
        return {
            "input": self.input_path,
            "input_sha256": self.input_sha256,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "base_url": self.base_url,
            "sandbox": self.sandbox,
            "mode": self.mode,
            "results_path": self.results_path,
            "journal_path": self.journal_path,
            "tool_version": self.tool_version,
            "rows": len(self.outcomes),
            "counts": self.counts,
            "aborted": self.aborted or None,
            "interrupted": self.interrupted,
            "notes": self.notes,
            "sent": self.sent,
            "undo_path": self.undo_path or None,
            "looked_up": self.looked_up,
            "settling_seconds": self.settling_seconds,
            "results_failed": self.results_failed or None,
            "issues": len([i for i in self.issues if i.severity is Severity.ERROR]),
            "warnings": len([i for i in self.issues if i.severity is Severity.WARNING]),
            "exit_code": int(exit_code_for(self)),
        }


def with_notes(outcome: Outcome, warnings: list[str]) -> Outcome:
    """The row's warnings after its outcome's message (a routing column not sent, ...)."""
    if warnings:
        outcome.message = " ".join([outcome.message, "Note:", *warnings]).strip()
    return outcome


def exit_code_for(report: RunReport) -> ExitCode:
    """Design §8: interrupted beats aborted (or results not written where asked) beats any row
    not settled."""
    if report.interrupted:
        return ExitCode.INTERRUPTED
    if report.aborted or report.results_failed:
        return ExitCode.ABORTED
    if report.mode == "run":
        ok = all(o.settled for o in report.outcomes)
    else:
        ok = all(o.status is Status.VALID or o.settled for o in report.outcomes)
    return ExitCode.OK if ok else ExitCode.NOT_ALL_OK


def readable_time(iso: str, seconds: bool = False) -> str:
    """`2026-11-23T11:23:54+11:00` -> `23 Nov 2026 11:23`: the local time as it was written,
    in words people read (the ISO form stays in the journal and --json)."""
    try:
        when = datetime.fromisoformat(iso)
    except (TypeError, ValueError):
        return iso
    return f"{when.day} " + when.strftime("%b %Y %H:%M:%S" if seconds else "%b %Y %H:%M")
