"""What the sender works on: one valid row as a request (Task), the run's settings, and the
plain outcomes and wording shared by submitting and settling.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from importer.errors import UsageError
from importer.report import Outcome, Status, readable_time
from importer.sending.client import Reply
from importer.sending.journal import Entry
from importer.spec import contract
from importer.spec.operations import Operation
from importer.text import shorten

Target = tuple[str, str]  # ("PropertySid" | "AccountSid", sid): where a purchase is listed


def now() -> str:
    """Local time with its offset (ISO 8601), as the journal keeps it.

    time.strftime follows daylight saving and costs a fraction of datetime.astimezone()."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    return f"{stamp[:-2]}:{stamp[-2:]}"


@dataclass
class Task:
    """One valid row, ready to send."""

    sheet: int
    position: int  # index into that sheet's outcomes
    row: int  # Excel row
    op: Operation
    block: str  # as the user wrote it
    key: str  # contract.sid_key(block): the one form blocks are compared in
    target: Target
    path: str
    query: dict[str, str]
    body: dict
    fp: str
    where: str  # "sheet 'Purchase' row 4", for other rows' messages
    warnings: list[str] = field(default_factory=list)

    @property
    def buys(self) -> bool:
        return not self.op.idempotent


@dataclass(frozen=True)
class Settings:
    scope: str  # the account on a canonical API origin: what "already done" refers to
    settle_window: float = 60.0
    dry_run: bool = False
    force: bool = False  # configure rows only: a purchase the journal holds as OK is never sent
    source: str = ""  # the input file, for the ledger's "bought by <file>"


def check_settle_window(window: float, timeout: float) -> float:
    """A settle window a run may use, or UsageError: shorter than a listing can be trusted
    for, a purchase that lists late would be called not bought and bought again."""
    floor = contract.settle_floor(timeout)
    if window < floor:
        raise UsageError(f"--settle-window {window:g} is too short: a purchase can show in the "
                         "API's listings some seconds after it went through, and a shorter "
                         "window would buy such a block again; give at least "
                         f"{floor:g} s ({contract.LISTING_TRUSTED_AFTER:g} s, and never less "
                         "than --timeout)")
    return window


def done_before(task: Task, entry: Entry, tail: str = "not sent again.") -> Outcome:
    """A row the journal holds as OK: what a run does with it (and `validate` says it will)."""
    did = "bought" if task.buys else "applied"
    return done(f"Already {did} by an earlier run ({readable_time(entry.finished_at or '')}); "
                 f"{tail}")



def done(message: str) -> Outcome:
    return Outcome(Status.SKIPPED, message, done=True)


def refused(reply: Reply, at: str) -> Outcome:
    return Outcome(Status.REJECTED, reply.message or "The API refused it.", reply.status,
                   reply.error_code, at)


def what(reply: Reply) -> str:
    """What an answer (or its absence) was, in words, without a trailing full stop."""
    text = reply.message.rstrip(". ")
    if reply.status is None or reply.status < 300:
        return text
    return f"the API answered {reply.status} ({text})" if text else (
        f"the API answered {reply.status}")


def file_name(file: str) -> str:
    return Path(file).name if file else "another file"


def iso_time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch).astimezone().isoformat(timespec="seconds")


def sent_epoch(entry: Entry) -> float:
    """When an earlier attempt was sent (journals from older versions only have sent_at)."""
    if entry.sent_epoch is not None:
        return entry.sent_epoch
    try:
        return datetime.fromisoformat(entry.sent_at).timestamp()
    except (TypeError, ValueError):
        return time.time()  # unknown: count the window from now (the safe side)


def waiting_for(bought: tuple[Outcome, str] | None) -> Outcome | None:
    """A configure row's answer while the purchase of its block in this run (its outcome,
    where it is) did not go through: not sent, saying what to do (None: it may be sent)."""
    if bought is None or bought[0].settled or bought[0].status is Status.VALID:
        return None
    outcome, where = bought
    if outcome.status is Status.UNKNOWN:
        return Outcome(Status.SKIPPED, f"Not sent: its purchase ({where}) may or may not have "
                       "gone through (UNKNOWN); the next run checks it, then sends this row.")
    if outcome.status is Status.REJECTED:  # sending again changes nothing until it is fixed
        return Outcome(Status.SKIPPED, f"Not sent: its purchase ({where}) was refused by the "
                       f"API ({shorten(outcome.message, 120)}); fix that row, then send again.",
                       blocked_by=where)
    return Outcome(Status.SKIPPED, f"Not sent: its purchase ({where}) did not go through in "
                   f"this run ({outcome.status}); send again.")
