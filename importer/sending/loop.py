"""The row loop and its bookkeeping: doubts settled between rows, configure rows of a pending
purchase held until it settles, consecutive failures, stopping, progress. The pipeline gives it
the tasks and reads the outcomes; it never decides what a row's Status is (`submit` does).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from importer.report import Outcome, RunReport, Status, with_notes
from importer.sending.client import Reply
from importer.sending.journal import Before
from importer.sending.submit import Submitter
from importer.sending.tasks import Task, now

Progress = Callable[[int, int, Outcome], None]
Confirming = Callable[[int], None]  # how many purchases are being confirmed, when that changes
BeforeSending = Callable[[list[tuple[Task, Before]]], None]


class Loop:
    """The row loop and its bookkeeping: doubts settled between rows, configure rows of a
    pending purchase held until it settles, consecutive failures, stopping, progress."""

    def __init__(self, submitter: Submitter, outcomes: list[list[Outcome | None]],
                 report: RunReport, progress: Progress | None, should_stop: Callable[[], bool],
                 confirming: Confirming | None = None, max_failures: int = 10) -> None:
        self.submitter, self.outcomes, self.report = submitter, outcomes, report
        self.max_failures = max_failures
        self.progress, self.should_stop, self.confirming = progress, should_stop, confirming
        self.current: Task | None = None
        self.failures_in_a_row = 0
        self.done, self.total, self.pending = 0, 0, 0

    def run(self, tasks: list[Task], invalid_purchases: list[tuple[str, str]],
            before_sending: BeforeSending | None = None) -> None:
        """Every task to an outcome; `invalid_purchases` (block key, where) are purchase rows
        that will not be sent, whose configure rows are skipped. `before_sending` hears, before
        the first row goes, the configure rows to send with their blocks' settings now (the
        journal has recorded them): the undo workbook is written from it."""
        sub = self.submitter
        entries = sub.journal.entries([t.fp for t in tasks])
        for key, where in invalid_purchases:
            sub.note_not_bought(key, Outcome(Status.INVALID), where)
        done = {t.fp for t in tasks if (e := entries.get(t.fp)) and e.status == Status.OK
                and (t.buys or not sub.settings.force)}
        configuring = ([t for t in tasks if not t.buys and t.fp not in done]
                       if before_sending is not None and not sub.settings.dry_run else [])
        sub.prefetch([t for t in tasks if not (t.buys and t.fp in done)], configuring)
        if configuring and not self._stopped():
            sub.journal.record_before(sub.settings_before(configuring), now())
            recorded = sub.journal.before([t.fp for t in configuring])
            before_sending([(t, recorded[t.fp]) for t in configuring if t.fp in recorded])
        self.total = len(tasks)
        queue = deque(tasks)
        held: dict[str, list[Task]] = {}  # block key -> configure rows waiting for its purchase
        while (queue or sub.doubts) and not self._stopped():
            for task, outcome in sub.settle(wait=not queue):
                self._finish(task, outcome)
                queue.extendleft(reversed(held.pop(task.key, [])))
            for task in reversed(sub.take_cleared()):  # bought now, then its configure rows
                queue.extendleft([task, *held.pop(task.key, [])][::-1])
            if not queue or self._stopped():
                continue
            task = queue.popleft()
            if not task.buys and task.key in sub.doubts:
                held.setdefault(task.key, []).append(task)
                continue
            self.current = task
            outcome = sub.submit(task, entries.get(task.fp))
            self.current = None
            if outcome is None:  # pending; counts as a failure when this run's request did
                if sub.doubts.by_key[task.key].what:
                    self._count(Outcome(Status.UNKNOWN))
                self._tell()
            else:
                self._count(outcome)
                self._finish(task, outcome)
        why = (f"the run stopped ({self.report.aborted})" if self.report.aborted
               else "the run was interrupted")
        for task, outcome in sub.give_up(f"{why} before a look-up showed it"):
            self._finish(task, outcome)
        for task in [*queue, *(t for waiting in held.values() for t in waiting)]:
            self._finish(task, Outcome(Status.SKIPPED, f"Not sent: {why}."))

    def _stopped(self) -> bool:
        if self.submitter.unauthorized and not self.report.aborted:
            self.report.aborted = _credentials_refused(self.submitter.unauthorized)
        if not self.report.aborted and self.should_stop():
            self.report.interrupted = True
        return bool(self.report.aborted or self.report.interrupted)

    def _finish(self, task: Task, outcome: Outcome) -> None:
        self.place(task, with_notes(outcome, task.warnings))
        self.done += 1
        if self.progress:
            self.progress(self.done, self.total, outcome)
        self._tell()

    def _tell(self) -> None:
        pending = len(self.submitter.doubts)
        if pending != self.pending:
            self.pending = pending
            if self.confirming:
                self.confirming(pending)

    def place(self, task: Task, outcome: Outcome) -> None:
        self.outcomes[task.sheet][task.position] = outcome

    def unplaced(self, task: Task) -> bool:
        return self.outcomes[task.sheet][task.position] is None

    def _count(self, outcome: Outcome) -> None:
        """A wall of failures (transient, doubtful, or 403: perhaps permission) stops the run."""
        bad = outcome.status in (Status.FAILED, Status.UNKNOWN) or (
            outcome.status is Status.REJECTED and outcome.http_status == 403)
        self.failures_in_a_row = self.failures_in_a_row + 1 if bad else 0
        if self.failures_in_a_row >= self.max_failures:
            self.report.aborted = (f"{self.failures_in_a_row} rows in a row failed or were "
                                   "refused; the API seems unavailable or these credentials "
                                   "may not make these changes")


def _credentials_refused(reply: Reply) -> str:
    said = reply.message.rstrip(". ")
    return f"the API refused the credentials (401: {said}); check the AccountSid and auth token"

