"""Doubtful purchases waiting to be settled while the run goes on with other rows.

A purchase whose answer is in doubt is not waited for: it is noted here with its own settle
window (from when it was sent), and the loop sends the next rows. One complete listing of a
property/account answers every pending block in it; listings are repeated with backoff while
any is pending, and each block's window ends with a look taken after it. So N doubts cost
about one window, not N. Which outcome a settled doubt gets is `submit`'s business.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from importer.sending.client import Listing

if TYPE_CHECKING:
    from importer.sending.submit import Target, Task

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
        """A new doubt makes its target's next look come soon again."""
        self.by_key[doubt.task.key] = doubt
        target = doubt.task.target
        self._gap[target] = FIRST_GAP
        self._next[target] = min(self._next.get(target, float("inf")), now + FIRST_GAP,
                                 doubt.deadline)

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
