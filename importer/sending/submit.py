"""Send one row and settle it: the journal protocol and the purchase look-ups, for both kinds.

A purchase costs money and the API has no idempotency key, so it is sent at most once per run
and only when a complete listing says the block is not owned. Any doubt about a purchase that
was sent (no answer, a dropped connection, any 5xx, a 2xx that is not the documented OK) is
settled by looking the block up over a settle window, because the API may commit slowly and
list late: owned -> OK; still not owned -> UNKNOWN, never resent in this run. A later run
resends it only when a complete listing taken after the window shows it not owned.

Every row is written to the journal before it is sent and again with its answer. Between the
two, `in_flight` names the row, so whoever catches an escape can say it may have been sent.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from importer.report import Outcome, Status, readable_time
from importer.sending.client import ApiClient, Listing, Reply
from importer.sending.journal import Entry, Journal
from importer.sending.ledger import Ledger
from importer.spec.operations import Operation

Target = tuple[str, str]  # ("PropertySid" | "AccountSid", sid): where a purchase is listed
Notify = Callable[[str], None]
MAX_LOOKUP_GAP = 10.0


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
    scope: str  # the API and account: what "already done" refers to
    settle_window: float = 60.0
    dry_run: bool = False
    force: bool = False


class Submitter:
    """Decides and sends one row at a time; the pipeline owns the loop and the stopping."""

    def __init__(self, client: ApiClient, journal: Journal, settings: Settings,
                 should_stop: Callable[[], bool] = lambda: False,
                 notify: Notify | None = None, sleep: Callable[[float], None] = time.sleep,
                 ledger: Ledger | None = None) -> None:
        self.client, self.journal, self.settings = client, journal, settings
        self.ledger = ledger
        self.recent: dict[str, float] = {}  # block key -> another rollout's purchase, when
        self.should_stop, self.notify, self._sleep = should_stop, notify, sleep
        self.listings: dict[Target, Listing] = {}
        self.bought: dict[str, tuple[Outcome, str]] = {}  # block key -> this run's purchase
        self.mine: dict[Target, set[str]] = {}  # blocks bought in this run, per target
        self.in_flight: Task | None = None  # sent (or being sent), answer not yet recorded
        self.answer: Outcome | None = None  # its answer, once known
        self.unauthorized: Reply | None = None

    # --- listings ----------------------------------------------------------------------------

    def list_owned(self, target: Target) -> Listing:
        """A fresh listing of what `target` owns (blocks bought in this run kept in it)."""
        listing = self.client.owned(*target)
        if listing.reply is not None and listing.reply.unauthorized:
            self.unauthorized = listing.reply
        if listing.complete:  # a listing may lag our own purchases
            listing.sids |= self.mine.get(target, set())
        self.listings[target] = listing
        return listing

    def _listing(self, target: Target) -> Listing:
        return self.listings.get(target) or self.list_owned(target)

    def prefetch(self, tasks: list[Task]) -> None:
        """List every purchase target once, and learn which of the blocks other rollouts on
        this machine sent for purchase within the settle window."""
        buying = [t for t in tasks if t.buys]
        if self.ledger is not None and buying:
            rollout = str(self.journal.path.resolve())  # the same rollout from any folder
            self.recent = self.ledger.recent(
                self.settings.scope, sorted({t.key for t in buying}), rollout,
                time.time() - self.settings.settle_window)
        for target in sorted({t.target for t in buying}):
            if self.should_stop() or self.unauthorized:
                return
            self.list_owned(target)

    # --- one row -----------------------------------------------------------------------------

    def submit(self, task: Task, entry: Entry | None) -> Outcome:
        """The row's outcome; sends it when that is right. Never raises for API trouble."""
        if task.buys:
            return self._purchase(task, entry)
        return self._configure(task, entry)

    def note_not_bought(self, key: str, outcome: Outcome, where: str) -> None:
        """A purchase row that will not be sent (invalid): its configure rows are skipped."""
        self.bought.setdefault(key, (outcome, where))

    def _purchase(self, task: Task, entry: Entry | None) -> Outcome:
        earlier = self.bought.get(task.key)
        if earlier and earlier[0].status is not Status.INVALID:
            return Outcome(Status.SKIPPED, f"Not sent: the same block is bought by "
                           f"{earlier[1]} in this run.", done=earlier[0].settled)
        if entry and entry.status == Status.OK and not self.settings.force:
            return self._record(task, _done(f"Already bought by an earlier run "
                                            f"({readable_time(entry.finished_at or '')}); "
                                            "not sent again."))
        listing = self._listing(task.target)
        doubt = entry if entry and entry.doubtful else None
        since = _epoch(doubt) if doubt else self.recent.get(task.key)
        if since is not None and listing.complete and task.key not in listing.sids:
            listing = self._after_window(task, since, listing)
        if not listing.complete:
            refusal = listing.reply
            if refusal is not None and refusal.refused and not refusal.unauthorized:
                return self._record(task, Outcome(
                    Status.REJECTED, f"Not sent: the API refused access to {task.target[1]} "
                    f"when listing the blocks it owns ({refusal.message}).", refusal.status,
                    refusal.error_code))
            if doubt:
                return self._record(task, Outcome(
                    Status.UNKNOWN, "May have been bought by an earlier run, and the blocks "
                    f"{task.target[1]} owns could not be listed to check ({listing.reason}). "
                    "It was not sent again; the next run checks again."))
            return self._record(task, Outcome(
                Status.FAILED, f"Not sent: the blocks {task.target[1]} owns could not be "
                f"listed ({listing.reason}), and nothing is bought for it until they can be. "
                "It is safe to run again.", error_code="LISTING_FAILED"))
        if task.key in listing.sids:
            if doubt:
                return self._record(task, Outcome(
                    Status.OK, "Bought by an earlier run (confirmed by look-up).",
                    submitted_at=doubt.sent_at))
            return self._record(task, _done(f"Already owned by {task.target[1]}; not bought "
                                            "again."))
        if self.settings.dry_run:
            return Outcome(Status.VALID, "Would be bought.")
        return self._record(task, self._buy(task, after_doubt=doubt is not None))

    def _after_window(self, task: Task, since: float, listing: Listing) -> Listing:
        """A listing proves an earlier doubtful purchase (sent at `since`) failed only when taken
        after its settle window: wait for that (stopping early on request), then list again."""
        ready = since + self.settings.settle_window
        if listing.taken_at >= ready:
            return listing
        self._say(f"{task.block}: an earlier purchase may still be going through; checking at "
                  f"{time.strftime('%H:%M:%S', time.localtime(ready))}")
        if not self._wait_until(ready):
            return Listing(False, reason="the run was stopped before it could be checked")
        return self.list_owned(task.target)

    def _buy(self, task: Task, after_doubt: bool) -> Outcome:
        at, epoch = now(), time.time()
        self.journal.sending(task.fp, task.op.name, task.block, task.path, at, epoch)
        self.in_flight = task
        if self.ledger is not None:
            self.ledger.note(self.settings.scope, task.key, epoch, str(self.journal.path.resolve()))
        reply = self.client.post(task.path, task.body, task.query)
        if reply.accepted:
            outcome = Outcome(Status.OK, "Bought.", reply.status, "", at)
        elif reply.unauthorized:
            self.unauthorized = reply
            outcome = _refused(reply, at)
        elif reply.refused and not after_doubt:
            outcome = _refused(reply, at)
        elif reply.refused or reply.doubtful:
            outcome = self._settle(task, reply, at, epoch)
        else:  # never reached the API, or throttled (429) until the retries ran out
            outcome = Outcome(Status.FAILED, f"Not bought: {_what(reply)}. It is safe to run "
                              "again.", reply.status, reply.error_code, at)
        return self._answered(task, outcome)

    def _settle(self, task: Task, reply: Reply, at: str, epoch: float) -> Outcome:
        """Look the block up until it shows or the settle window is over."""
        doubt = _what(reply)
        if reply.refused:  # after an earlier doubt, whose window has passed: one look decides
            listing = self.list_owned(task.target)
            if listing.complete and task.key in listing.sids:
                return Outcome(Status.OK, "Bought (confirmed by look-up: an earlier attempt "
                               "went through).", reply.status, "", at)
            if listing.complete:
                return _refused(reply, at)
        else:
            deadline, gap = epoch + self.settings.settle_window, 1.0
            while True:
                listing = self.list_owned(task.target)
                if listing.complete and task.key in listing.sids:
                    return Outcome(Status.OK, f"Bought (confirmed by look-up after: {doubt}).",
                                   reply.status, "", at)
                left = deadline - time.time()
                if left <= 0 or self.unauthorized or self.should_stop():
                    break
                self._say(f"{task.block}: {doubt}; looking it up for {left:.0f} s more")
                if not self._wait_until(time.time() + min(gap, left)):
                    break
                gap = min(gap * 2, MAX_LOOKUP_GAP)
        checked = ("a look-up could not be made" if not listing.complete else
                   f"look-ups for {self.settings.settle_window:g} s did not show it")
        return Outcome(Status.UNKNOWN, f"May have been bought: {doubt}, and {checked}. It was "
                       "not sent again; the next run checks again.", reply.status,
                       reply.error_code, at)

    def _configure(self, task: Task, entry: Entry | None) -> Outcome:
        if entry and entry.status == Status.OK and not self.settings.force:
            return _done(f"Already applied by an earlier run "
                         f"({readable_time(entry.finished_at or '')}); not sent again.")
        bought = self.bought.get(task.key)
        if bought and not (bought[0].settled or bought[0].status is Status.VALID):
            return Outcome(Status.SKIPPED, f"Not sent: its purchase ({bought[1]}) did not go "
                           f"through in this run ({bought[0].status}).")
        if self.settings.dry_run:
            return Outcome(Status.VALID, "Would be sent.")
        at = now()
        self.journal.sending(task.fp, task.op.name, task.block, task.path, at, time.time())
        self.in_flight = task
        reply = self.client.post(task.path, task.body, task.query)
        if reply.accepted:
            outcome = Outcome(Status.OK, "Applied.", reply.status, "", at)
        elif reply.refused:
            if reply.unauthorized:
                self.unauthorized = reply
            outcome = _refused(reply, at)
        elif not reply.reached:
            outcome = Outcome(Status.FAILED, f"Not sent: {_what(reply)}.", None,
                              reply.error_code, at)
        else:
            outcome = Outcome(Status.FAILED, f"Not confirmed: {_what(reply)}, still after "
                              "retrying. It may have been applied; it is safe to send again.",
                              reply.status, reply.error_code, at)
        return self._answered(task, outcome)

    # --- bookkeeping -------------------------------------------------------------------------

    def _answered(self, task: Task, outcome: Outcome) -> Outcome:
        """Record the answer; until that is done, `answer` holds it for whoever catches an
        escape (e.g. the disk filling up under the journal)."""
        self.answer = outcome
        self.journal.finished(task.fp, outcome, now())
        self.in_flight = self.answer = None
        return outcome

    def _record(self, task: Task, outcome: Outcome) -> Outcome:
        """Remember what happened to a purchase, for later rows of the same block."""
        if task.buys:
            self.bought[task.key] = (outcome, task.where)
            if outcome.status is Status.OK:
                self.mine.setdefault(task.target, set()).add(task.key)
                listing = self.listings.get(task.target)
                if listing is not None and listing.complete:
                    listing.sids.add(task.key)
        return outcome

    def escaped(self) -> Outcome | None:
        """The truthful outcome of the row in flight when something escaped (or None)."""
        task = self.in_flight
        if task is None:
            return None
        if self.answer is not None:
            answer = self.answer
            answer.message = (f"{answer.message} (The journal could not record this answer; "
                              "the next run checks the row again.)")
            return answer
        if task.buys:
            return Outcome(Status.UNKNOWN, "May have been bought: the run stopped while its "
                           "request was on its way. It was not sent again; the next run checks "
                           "before buying.", submitted_at=now())
        return Outcome(Status.FAILED, "May have been applied: the run stopped while its request "
                       "was on its way; it is safe to send again.", submitted_at=now())

    def _say(self, text: str) -> None:
        if self.notify:
            self.notify(text)

    def _wait_until(self, when: float) -> bool:
        """Sleep until `when`; False when asked to stop first."""
        while (left := when - time.time()) > 0:
            if self.should_stop():
                return False
            self._sleep(min(left, 0.2))
        return True


def _done(message: str) -> Outcome:
    return Outcome(Status.SKIPPED, message, done=True)


def _refused(reply: Reply, at: str) -> Outcome:
    return Outcome(Status.REJECTED, reply.message or "The API refused it.", reply.status,
                   reply.error_code, at)


def _what(reply: Reply) -> str:
    """What an answer (or its absence) was, in words, without a trailing full stop."""
    text = reply.message.rstrip(". ")
    if reply.status is None or reply.status < 300:
        return text
    return f"the API answered {reply.status} ({text})" if text else (
        f"the API answered {reply.status}")


def _epoch(entry: Entry) -> float:
    """When an earlier attempt was sent (journals from older versions only have sent_at)."""
    if entry.sent_epoch is not None:
        return entry.sent_epoch
    try:
        return datetime.fromisoformat(entry.sent_at).timestamp()
    except (TypeError, ValueError):
        return time.time()  # unknown: count the window from now (the safe side)
