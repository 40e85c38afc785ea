"""The interface of a state store (the account lock, the ledger, the rollout journals): see
`state` for the two there are and how one is chosen."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

from importer.sending.journal import Journal
from importer.sending.ledger import Ledger


@dataclass(frozen=True)
class Rollout:
    """One rollout as the stores key it: `name` (the input's rollout stem: `x` for `x.xlsx`,
    its results and downloads) and the account `scope` in a shared store; its journal file in
    the embedded one."""

    name: str
    scope: str
    journal_path: Path


class StateStore:
    """The interface; see the module's docstring."""

    shared = False
    label = ""

    def hold_rollout(self, rollout: Rollout, what: str, **waiting: object
                     ) -> contextlib.AbstractContextManager[None]:
        raise NotImplementedError

    def hold_account(self, scope: str, what: str, **waiting: object
                     ) -> contextlib.AbstractContextManager[None]:
        raise NotImplementedError

    def journal(self, rollout: Rollout) -> Journal:
        raise NotImplementedError

    def has_journal(self, rollout: Rollout) -> bool:
        raise NotImplementedError

    def journal_label(self, rollout: Rollout) -> str:
        """What the Summary's Journal line says (never a password)."""
        raise NotImplementedError

    def ledger(self) -> Ledger:
        raise NotImplementedError

    def close(self) -> None:
        """Release everything (a shared store's locks go with its connection)."""
