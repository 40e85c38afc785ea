"""Send one row and settle it: the journal protocol and the purchase look-ups, for both kinds.

A purchase costs money and the API has no idempotency key, so it is sent at most once per run
and only when complete listings (the row's property or account, and the whole account) say the
block is not owned, and this machine has not seen it bought. Any doubt about a purchase that
was sent (no answer, a dropped connection, any 5xx, a 2xx that is not the documented OK) is
noted as pending and settled in the background (`settling`): owned -> OK; still not owned when
its settle window is over -> UNKNOWN, never resent in this run. A later run resends it only when
a complete listing taken after the window shows it not owned.

Every row is written to the journal before it is sent and again with its answer (a doubt: as
pending, then with what the look-ups found). Between the two, `in_flight` names the row, so
whoever catches an escape can say it may have been sent.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from importer.report import Outcome, Status, readable_time
from importer.sending.before import settings_before
from importer.sending.client import ApiClient, Listing, Reply
from importer.sending.journal import Before, Entry, Journal
from importer.sending.ledger import Known, Ledger
from importer.sending.settling import RESENT, Doubt, Doubts, earlier_doubt, sender, unknown
from importer.sending.tasks import (
    Settings,
    Target,
    Task,
    done,
    done_before,
    iso_time,
    now,
    refused,
    waiting_for,
    what,
)
from importer.spec import contract

__all__ = ["Settings", "Submitter", "Target", "Task", "done_before", "now"]

APPLIED_BATCH = 200  # configures written to the ledger together (one commit, not 200)


class Submitter:
    """Decides and sends one row at a time, and settles doubts between rows; the pipeline owns
    the loop and the stopping."""

    def __init__(self, client: ApiClient, journal: Journal, settings: Settings,
                 should_stop: Callable[[], bool] = lambda: False,
                 sleep: Callable[[float], None] = time.sleep,
                 ledger: Ledger | None = None) -> None:
        self.client, self.journal, self.settings = client, journal, settings
        self.ledger = ledger
        self.rollout = journal.identity  # the same rollout from any folder (or computer)
        self.known: dict[str, Known] = {}  # block key -> another rollout's purchase
        self.should_stop, self._sleep = should_stop, sleep
        self.listings: dict[Target, Listing] = {}
        self.bought: dict[str, tuple[Outcome, str]] = {}  # block key -> this run's purchase
        self.mine: dict[Target, set[str]] = {}  # blocks bought in this run, per target
        self.doubts = Doubts()
        self.cleared: list[Task] = []  # earlier doubts a listing after the window cleared
        # Earlier runs' doubts a complete listing after their window did not show: bought now,
        # but still doubts if the block cannot be listed again (a late commit may land).
        self._cleared: dict[str, Doubt] = {}
        self.looked_up = 0  # doubts settled by look-up in this run
        self.settling_seconds = 0.0  # time with at least one doubt pending
        self._busy_since: float | None = None
        self.in_flight: Task | None = None  # sent (or being sent), answer not yet recorded
        self.answer: Outcome | None = None  # its answer, once known
        self.unauthorized: Reply | None = None
        self.items: dict[str, dict] = {}  # block key -> listing item (configure rows' blocks)
        self._applied_batch: list[tuple[str, dict, float]] = []  # configures gone through
        self.sent = 0  # rows whose request was sent in this run (the Summary's "Sent")

    # --- listings ----------------------------------------------------------------------------

    @property
    def account(self) -> Target:
        return ("AccountSid", self.client.account_sid)

    def list_owned(self, target: Target, items: bool = False) -> Listing:
        """A fresh listing of what `target` owns (blocks bought in this run kept in it); with
        `items`, its items are kept too (block key -> item: the settings before a configure)."""
        kept: list[dict] | None = [] if items else None
        listing = self.client.owned(*target, keep=kept)
        if kept is not None and listing.complete:
            for item in kept:
                if isinstance(sid := item.get(contract.ITEM_SID), str):
                    self.items.setdefault(contract.sid_key(sid), item)
        if listing.reply is not None and listing.reply.unauthorized:
            self.unauthorized = listing.reply
        if listing.complete:  # a listing may lag our own purchases
            listing.sids |= self.mine.get(target, set())
        self.listings[target] = listing
        return listing

    def _listing(self, target: Target) -> Listing:
        return self.listings.get(target) or self.list_owned(target)

    def prefetch(self, tasks: list[Task], configuring: list[Task] = ()) -> None:  # type: ignore[assignment]
        """List every purchase target and the whole account once, and learn which blocks other
        rollouts on this machine bought, or sent within the settle window; with configure
        rows to send, keep the account's items (or, where the API will not list the account,
        their properties'), for what the blocks are set to before."""
        if configuring:
            whole = self.list_owned(self.account, items=True)
            if not whole.complete and not self.unauthorized:
                for target in sorted({t.target for t in configuring} - {self.account}):
                    if self.should_stop():
                        return
                    self.list_owned(target, items=True)
        buying = [t for t in tasks if t.buys]
        if self.ledger is not None and buying:
            self.known = self.ledger.known(
                self.settings.scope, sorted({t.key for t in buying}), self.rollout,
                time.time() - self.settings.settle_window, time.time())
        targets = {t.target for t in buying} | ({self.account} if buying else set())
        for target in sorted(targets - set(self.listings)):
            if self.should_stop() or self.unauthorized:
                return
            self.list_owned(target)

    def settings_before(self, configuring: list[Task]) -> list[Before]:
        """Each configure row's block as the listings (else the ledger) say it is now; what a
        rollback of this run puts back (`before`)."""
        last = (self.ledger.last_configured(self.settings.scope,
                                            sorted({t.key for t in configuring}))
                if self.ledger is not None and configuring else {})
        return settings_before(configuring, self.items, last)

    def _account_listing(self, task: Task) -> Listing | None:
        """The whole account's listing, unless it is the row's own or the API refused it (then
        only the properties' listings are checked: contract "Account-wide ownership")."""
        if task.target == self.account:
            return None
        listing = self._listing(self.account)
        refusal = listing.reply
        if not listing.complete and refusal is not None and refusal.refused:
            return None
        return listing

    # --- one row -----------------------------------------------------------------------------

    def submit(self, task: Task, entry: Entry | None) -> Outcome | None:
        """The row's outcome; sends it when that is right. None: a purchase in doubt, pending
        (its outcome comes from `settle`). Never raises for API trouble."""
        if task.buys:
            outcome = self._purchase(task, entry)
            return None if outcome is None else self._record(task, outcome)
        return self._configure(task, entry)

    def note_not_bought(self, key: str, outcome: Outcome, where: str) -> None:
        """A purchase row that will not be sent (invalid): its configure rows are skipped."""
        self.bought.setdefault(key, (outcome, where))

    def _purchase(self, task: Task, entry: Entry | None) -> Outcome | None:
        earlier = self.bought.get(task.key)
        if earlier and earlier[0].status is not Status.INVALID:
            return Outcome(Status.SKIPPED, f"Not sent: the same block is bought by "
                           f"{earlier[1]} in this run.", done=earlier[0].settled)
        if (pending := self.doubts.by_key.get(task.key)) is not None:
            return Outcome(Status.SKIPPED, f"Not sent: the same block is bought by "
                           f"{pending.task.where} in this run (its purchase was being "
                           "confirmed).")
        if entry and entry.status == Status.OK:  # whatever --force says
            return done_before(task, entry)
        other = self.known.get(task.key)
        if other and other.bought:  # seen bought: owned, whatever a listing shows
            return done(f"Already bought on {readable_time(iso_time(other.epoch))} by "
                         f"{sender(other)}; not bought again.")
        cleared = self._cleared.get(task.key)
        doubt = None if cleared else earlier_doubt(task, entry, other, self.settings)
        listing, whole = self._listing(task.target), self._account_listing(task)
        broken = listing if not listing.complete else (
            whole if whole is not None and not whole.complete else None)
        if broken is not None:
            return self._unlisted(task, broken, doubt or cleared)
        if task.key in listing.sids:
            if (doubt or cleared) is not None:
                return self._confirmed(doubt or cleared)
            return done(f"Already owned by {task.target[1]}; not bought again.")
        if whole is not None and task.key in whole.sids:
            return Outcome(Status.SKIPPED, f"Not bought: the account already owns it, under "
                           f"{self._owner(task)}; nothing was sent. Change the row's "
                           "PropertySid, or move the block in the portal.")
        if doubt is not None and listing.taken_at < doubt.deadline:
            if self.settings.dry_run:
                return Outcome(Status.VALID, f"Would be bought unless {doubt.earlier}'s "
                               "purchase of it shows up first (it may still be going through).")
            self._pend(doubt)
            return None
        if self.settings.dry_run:
            return Outcome(Status.VALID, "Would be bought.")
        return self._buy(task, after_doubt=doubt is not None or cleared is not None)

    def _unlisted(self, task: Task, listing: Listing, doubt: Doubt | None) -> Outcome:
        owner = "the account" if listing is self.listings.get(self.account) else task.target[1]
        refusal = listing.reply
        if refusal is not None and refusal.refused and not refusal.unauthorized:
            return Outcome(Status.REJECTED, f"Not sent: the API refused access to {owner} when "
                           f"listing the blocks it owns ({refusal.message}).", refusal.status,
                           refusal.error_code)
        if doubt is not None:
            return Outcome(Status.UNKNOWN, f"May have been bought by {doubt.earlier}, and the "
                           f"blocks {owner} owns could not be listed to check ({listing.reason})"
                           ". It was not sent again; the next run checks again.")
        return Outcome(Status.FAILED, f"Not sent: the blocks {owner} owns could not be listed "
                       f"({listing.reason}), and nothing is bought for it until they can be. "
                       "It is safe to run again.", error_code="LISTING_FAILED")

    def _owner(self, task: Task) -> str:
        """Where in the account a block is owned, in words (the listings' say, else vaguely)."""
        whole = self.listings.get(self.account)
        place = whole.places.get(task.key) if whole else None
        if not place:
            place = next((t[1] for t, found in self.listings.items() if t[0] == "PropertySid"
                          and found.complete and task.key in found.sids), None)
        return f"property {place}" if place else "another of its properties"

    def _buy(self, task: Task, after_doubt: bool) -> Outcome | None:
        at, epoch = now(), time.time()
        settle_by = epoch + self.settings.settle_window
        self.journal.sending(task.fp, task.op.name, task.block, task.path, at, epoch, settle_by)
        self.in_flight = task
        if self.ledger is not None:
            self.ledger.note(self.settings.scope, task.key, epoch, settle_by, self.rollout,
                             self.settings.source)
        reply = self._post(task)
        if reply.accepted:
            outcome = Outcome(Status.OK, f"Bought (sent again: {RESENT})." if after_doubt
                              else "Bought.", reply.status, "", at)
        elif reply.unauthorized:
            self.unauthorized = reply
            outcome = refused(reply, at)
        elif reply.refused and not after_doubt:
            outcome = refused(reply, at)
        elif reply.refused and (found := self.list_owned(task.target)).complete:
            # after an earlier doubt, whose window has passed: one look decides
            outcome = (Outcome(Status.OK, "Bought (confirmed by look-up: an earlier attempt "
                               "went through).", reply.status, "", at)
                       if task.key in found.sids else refused(reply, at))
        elif reply.refused or reply.doubtful:
            doubt = Doubt(task, epoch, epoch + self.settings.settle_window, what(reply), at,
                          reply.status, reply.error_code, resent=after_doubt)
            self.answer = unknown(doubt, "the run stopped before a look-up could show it")
            self.journal.pending(task.fp, self.answer)
            self.in_flight = self.answer = None
            self._pend(doubt)
            return None
        else:  # never reached the API, or throttled (429) until the retries ran out
            outcome = Outcome(Status.FAILED, f"Not bought: {what(reply)}. It is safe to run "
                              "again.", reply.status, reply.error_code, at)
        return self._answered(task, outcome)

    def _configure(self, task: Task, entry: Entry | None) -> Outcome:
        if entry and entry.status == Status.OK and not self.settings.force:
            return done_before(task, entry)
        if (waiting := waiting_for(self.bought.get(task.key))) is not None:
            return waiting
        if self.settings.dry_run:
            return Outcome(Status.VALID, "Would be sent.")
        at = now()
        self.journal.sending(task.fp, task.op.name, task.block, task.path, at, time.time())
        self.in_flight = task
        reply = self._post(task)
        if reply.accepted:
            outcome = Outcome(Status.OK, "Applied.", reply.status, "", at)
            self._applied(task)
        elif reply.refused:
            if reply.unauthorized:
                self.unauthorized = reply
            outcome = refused(reply, at)
        elif not reply.reached:
            outcome = Outcome(Status.FAILED, f"Not sent: {what(reply)}.", None,
                              reply.error_code, at)
        else:
            outcome = Outcome(Status.FAILED, f"Not confirmed: {what(reply)}, still after "
                              "retrying. It may have been applied; it is safe to send again.",
                              reply.status, reply.error_code, at)
        return self._answered(task, outcome)

    def _post(self, task: Task) -> Reply:
        self.sent += 1  # counted before: a request cut off on its way may have arrived
        return self.client.post(task.path, task.body, task.query)

    # --- settling doubts (between rows) ------------------------------------------------------

    def _pend(self, doubt: Doubt) -> None:
        if self._busy_since is None:
            self._busy_since = time.monotonic()
        self.doubts.add(doubt, time.time())

    def settle(self, wait: bool = False) -> list[tuple[Task, Outcome]]:
        """Look up the targets whose next look is due (with `wait`, sleep until one is), and
        return the rows that look settled. Earlier runs' doubts a listing cleared go to
        `cleared`, to be bought now."""
        if not self.doubts:
            return []
        if wait and not self._wait_until(self.doubts.next_at()):
            return []
        settled: list[tuple[Task, Outcome]] = []
        for target in self.doubts.due(time.time()):
            if self.should_stop() or self.unauthorized:
                break
            listing = self.list_owned(target)
            for doubt, shown in self.doubts.answered(target, listing, time.time()):
                outcome = self._settled(doubt, shown, listing)
                self.doubts.remove(doubt.task.key)  # only once recorded (a journal may fail)
                if outcome is None:
                    self.cleared.append(doubt.task)
                    self._cleared[doubt.task.key] = doubt
                else:
                    settled.append((doubt.task, self._record(doubt.task, outcome)))
            self.doubts.looked(target, time.time())
        self._tally()
        return settled

    def take_cleared(self) -> list[Task]:
        found, self.cleared = self.cleared, []
        return found

    def _settled(self, doubt: Doubt, shown: bool, listing: Listing) -> Outcome | None:
        if shown:
            return self._confirmed(doubt)
        if doubt.earlier:
            if listing.complete:
                return None  # a complete listing after its window: not bought, buy it now
            return self._unlisted(doubt.task, listing, doubt)
        self.looked_up += 1
        checked = (f"a look-up could not be made ({listing.reason})" if not listing.complete
                   else f"look-ups for {self.settings.settle_window:g} s did not show it")
        outcome = unknown(doubt, checked)
        self.journal.finished(doubt.task.fp, outcome, now())
        self._ledger_says(doubt.task, outcome)
        return outcome

    def _confirmed(self, doubt: Doubt) -> Outcome:
        """A look-up shows the doubtful purchase: bought. The journal and the ledger learn it,
        so no later run depends on a listing for it again."""
        task = doubt.task
        if doubt.earlier and not doubt.at:  # another rollout's purchase
            outcome = done(f"Already bought on {readable_time(iso_time(doubt.since))} by "
                            f"{doubt.earlier} (confirmed by look-up); not bought again.")
        else:
            if doubt.earlier:
                outcome = Outcome(Status.OK, "Bought by an earlier run (confirmed by look-up).",
                                  submitted_at=doubt.at)
            else:
                self.looked_up += 1
                outcome = Outcome(Status.OK, f"Bought (confirmed by look-up after: "
                                  f"{doubt.what}).", doubt.http_status, "", doubt.at)
            self.journal.finished(task.fp, outcome, now())
        if self.ledger is not None:
            self.ledger.bought(self.settings.scope, task.key, doubt.since, self.rollout,
                               self.settings.source)
        return outcome

    def give_up(self, why: str) -> list[tuple[Task, Outcome]]:
        """The run is stopping: every pending doubt is UNKNOWN (the journal keeps it pending
        or sent, so the next run settles it)."""
        found = [(d.task, self._record(d.task, unknown(d, why))) for d in
                 list(self.doubts.by_key.values())]
        self.doubts = Doubts()
        self._tally()
        return found

    def _tally(self) -> None:
        if self._busy_since is not None and not self.doubts:
            self.settling_seconds += time.monotonic() - self._busy_since
            self._busy_since = None

    # --- bookkeeping -------------------------------------------------------------------------

    def _answered(self, task: Task, outcome: Outcome) -> Outcome:
        """Record the answer; until that is done, `answer` holds it for whoever catches an
        escape (e.g. the disk filling up under the journal)."""
        self.answer = outcome
        self.journal.finished(task.fp, outcome, now())
        if task.buys:
            self._ledger_says(task, outcome)
        self.in_flight = self.answer = None
        return outcome

    def _applied(self, task: Task) -> None:
        """A configure went through: the ledger learns what the block is set to (for a later
        run's rollback), in batches: a lost batch only costs that fallback, never a Status."""
        if self.ledger is None:
            return
        self._applied_batch.append((task.key, task.body, time.time()))
        if len(self._applied_batch) >= APPLIED_BATCH:
            self.flush()

    def flush(self) -> None:
        """Write down what configures went through (at the end of a run, and in batches)."""
        if self.ledger is not None and self._applied_batch:
            batch, self._applied_batch = self._applied_batch, []
            self.ledger.applied(self.settings.scope, batch, self.rollout, self.settings.source)

    def _ledger_says(self, task: Task, outcome: Outcome) -> None:
        """What became of a purchase this run sent, for every later run (on any computer,
        with a shared store): OK, UNKNOWN, or certainly not bought (refused, never arrived)."""
        if self.ledger is not None:
            self.ledger.outcome(self.settings.scope, task.key, time.time(),
                                outcome.status.value, self.rollout, self.settings.source)

    def _record(self, task: Task, outcome: Outcome) -> Outcome:
        """Remember what happened to a purchase, for later rows of the same block."""
        if task.buys:
            self.bought[task.key] = (outcome, task.where)
            if outcome.status is Status.OK:
                self.mine.setdefault(task.target, set()).add(task.key)
                for target in (task.target, self.account):
                    listing = self.listings.get(target)
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

    def _wait_until(self, when: float) -> bool:
        """Sleep until `when`; False when asked to stop first."""
        while (left := when - time.time()) > 0:
            if self.should_stop():
                return False
            self._sleep(min(left, 0.2))
        return True
