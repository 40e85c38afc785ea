"""Never buy twice: the owned-blocks listings, and settling a purchase whose fate is unknown.

A purchase is not idempotent and the API has no idempotency key, so a purchase that may have
reached the server (timeout, dropped connection, 5xx) is never simply resent: the block is looked
up in the owned-blocks list first. Owned -> it was bought; not owned -> it may be sent again;
the look-up failing too -> UNKNOWN.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from importer.client import ApiClient, Reply
from importer.journal import Journal
from importer.report import Outcome, Status

if TYPE_CHECKING:
    from importer.pipeline import Task

Target = tuple[str, str]  # ("PropertySid" | "AccountSid", sid)
NOT_AVAILABLE = "NUMBER_BLOCK_NOT_AVAILABLE"


class Owned:
    """What each property/account owns, listed once per run (all pages) and on demand."""

    def __init__(self, client: ApiClient) -> None:
        self.client = client
        self.sets: dict[Target, set[str] | None] = {}

    def prefetch(self, targets: set[Target],
                 should_stop: Callable[[], bool] = lambda: False) -> Reply | None:
        """List every target once; returns the reply if the credentials were refused."""
        for target in sorted(targets):
            if should_stop():  # Ctrl-C: nothing will be bought, so the rest need no listing
                return None
            owned: set[str] | None = set()
            for reply, sids in self.client.owned_pages(*target):
                if not reply.ok:
                    if reply.fatal:
                        return reply
                    owned = None
                    break
                owned.update(sids)  # type: ignore[union-attr]
            self.sets[target] = owned
        return None

    def get(self, target: Target) -> set[str] | None:
        """The blocks listed for target; None when it was not (or could not be) listed."""
        return self.sets.get(target)

    def add(self, target: Target, block: str) -> None:
        """Record a block bought in this run (so a second row for it is not sent)."""
        known = self.sets.get(target)
        if known is not None:
            known.add(block)

    def lookup(self, target: Target, block: str) -> bool | None:
        """A fresh look: is `block` owned by `target` now? None when the list cannot be read."""
        for reply, sids in self.client.owned_pages(*target):
            if not reply.ok:
                return None
            if block in sids:
                self.add(target, block)
                return True
        return False


def confirm_purchase(task: Task, client: ApiClient, journal: Journal, owned: Owned,
                     attempts: int, outcome_of: Callable[[Reply, str], Outcome],
                     now: Callable[[], str]) -> Outcome:
    """Send a purchase; settle any doubt by look-up; resend only when it is certainly not owned."""
    doubts: list[str] = []
    for _ in range(max(1, attempts)):
        at = now()
        journal.sending(task.fp, task.op.name, task.block, task.path, at)
        reply = client.post(task.path, task.body)
        refused_after_doubt = bool(doubts) and reply.error_code == NOT_AVAILABLE
        if not reply.ambiguous and not refused_after_doubt:
            return outcome_of(reply, at)
        doubts.append(reply.message or reply.error_code)
        found = owned.lookup(task.target, task.block)
        if found:
            return Outcome(Status.OK, f"Bought (confirmed by look-up after: {doubts[0]}).",
                           reply.status, "", at)
        if refused_after_doubt:
            return outcome_of(reply, at)
        if found is None:
            return Outcome(
                Status.UNKNOWN,
                f"Not known whether it was bought: {doubts[-1]}, and the owned-blocks look-up "
                "failed too. It was not sent again; check the portal. A re-run looks it up "
                "before buying.", reply.status, reply.error_code, at)
    return Outcome(Status.FAILED, f"Not bought: {len(doubts)} tries ended in doubt "
                   f"({doubts[-1]}) and a look-up shows the block is not owned.",
                   None, "NOT_CONFIRMED", now())
