"""Doubtful purchases waiting to be settled while the run goes on with other rows.

A purchase whose answer is in doubt is not waited for: it is noted here with its own settle
window (from when it was sent), and the loop sends the next rows. One complete listing of a
property/account answers every pending block in it; listings are repeated with backoff while
any is pending, and each block's window ends with a look taken after it. So N doubts cost
about one window, not N. Which outcome a settled doubt gets is `submit`'s business.
"""

from __future__ import annotations

from dataclasses import dataclass

from importer.report import Outcome, Status
from importer.sending.client import Listing
from importer.sending.journal import Entry
from importer.sending.ledger import Known
from importer.sending.locks import who
from importer.sending.tasks import Settings, Target, Task, file_name, sent_epoch

FIRST_GAP = 1.0  # seconds to the first look: most commits and listings catch up by then
MAX_GAP = 10.0


@dataclass
class Doubt:
    """A purchase that may have gone through. `earlier` names who sent it when that was not
    this run ("an earlier run", or another file); it is then bought once a listing taken after
    its window shows it not owned."""

    task: Task
    since: float  # time.time() when the purchase was sent
    deadline: float  # since + the settle window
    what: str = ""  # what made it doubtful, in words (this run's purchases)
    at: str = ""  # when it was sent (ISO 8601), for Submitted At
    http_status: int | None = None
    error_code: str = ""
    earlier: str = ""
    resent: bool = False  # this run sent it after an earlier attempt a listing did not show


class Doubts:
    """The pending doubts, and when each property/account is to be listed next."""

    def __init__(self) -> None:
        self.by_key: dict[str, Doubt] = {}
        self._next: dict[Target, float] = {}
        self._gap: dict[Target, float] = {}

    def __len__(self) -> int:
        return len(self.by_key)

    def __contains__(self, key: str) -> bool:
        return key in self.by_key

    def add(self, doubt: Doubt, now: float) -> None:
        """A doubt joins its target's looks already planned (listing for each new doubt would
        slow the run), or starts them; its window's end is always looked at."""
        self.by_key[doubt.task.key] = doubt
        target = doubt.task.target
        self._gap.setdefault(target, FIRST_GAP)
        self._next[target] = min(self._next.get(target, now + FIRST_GAP), doubt.deadline)

    def next_at(self) -> float:
        return min(self._next.values(), default=0.0)

    def due(self, now: float) -> list[Target]:
        return sorted(t for t, at in self._next.items() if at <= now)

    def answered(self, target: Target, listing: Listing, now: float) -> list[tuple[Doubt, bool]]:
        """The doubts of `target` this listing settles: (doubt, shown). Not shown settles one
        only once its window is over (a complete listing taken after it, or none possible)."""
        found = []
        for doubt in self.by_key.values():
            if doubt.task.target != target:
                continue
            if listing.complete and doubt.task.key in listing.sids:
                found.append((doubt, True))
            elif (listing.taken_at if listing.complete else now) >= doubt.deadline:
                found.append((doubt, False))
        return found

    def remove(self, key: str) -> None:
        self.by_key.pop(key, None)

    def looked(self, target: Target, now: float) -> None:
        """Schedule `target`'s next look: backoff, but never past a pending block's window."""
        left = [d.deadline for d in self.by_key.values() if d.task.target == target]
        if not left:
            self._next.pop(target, None)
            self._gap.pop(target, None)
            return
        gap = min(self._gap.get(target, FIRST_GAP) * 2, MAX_GAP)
        self._gap[target] = gap
        self._next[target] = max(now, min(now + gap, min(left)))


def earlier_doubt(task: Task, entry: Entry | None, other: Known | None,
                   settings: Settings) -> Doubt | None:
    """A purchase of this block an earlier run of this rollout, or another rollout on this
    machine, may have made: it is settled before this run may buy the block."""
    if entry is not None and entry.doubtful:
        since = sent_epoch(entry)
        return Doubt(task, since, _deadline(since, entry.settle_by, settings),
                     at=entry.sent_at, earlier="an earlier run")
    if other is not None:
        return Doubt(task, other.epoch, _deadline(other.epoch, other.settle_by, settings),
                     earlier=sender(other))
    return None


def _deadline(since: float, settle_by: float | None, settings: Settings) -> float:
    """No listing is believed before this run's window, nor before the sender's own."""
    return max(since + settings.settle_window, settle_by or 0.0)


def sender(other: Known) -> str:
    """`p.xlsx`, or `p.xlsx (alice on LAPTOP-7)` when another computer sent it (a shared
    store's ledger says)."""
    elsewhere = other.host and other.host != who()[0]
    return file_name(other.file) + (f" ({other.user} on {other.host})" if elsewhere else "")


def unknown(doubt: Doubt, why: str) -> Outcome:
    """UNKNOWN, saying who sent it and why it could not be confirmed."""
    if doubt.earlier:
        return Outcome(Status.UNKNOWN, f"May have been bought by {doubt.earlier}, and {why}. "
                       "It was not sent again; the next run checks again.",
                       submitted_at=doubt.at)
    sent = (f"This run sent it again, because {RESENT}, and not a third time" if doubt.resent
            else "This run sent it once and not again")
    return Outcome(Status.UNKNOWN, f"May have been bought: {doubt.what}, and {why}. {sent}; "
                   "the next run checks before buying.", doubt.http_status, doubt.error_code,
                   doubt.at)


# Why a purchase an earlier attempt may have made was sent again: the only case it is.
RESENT = ("an earlier attempt did not show in a complete listing taken after its settle "
          "window")
