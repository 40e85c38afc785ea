"""Where the safety state lives: the account lock, the purchase ledger, the rollout journals.

Two stores behind one interface, chosen by one setting (`state_url`):
- empty: the embedded default, on this computer only: OS file locks and the ledger in the
  state folder, each rollout's journal in a file beside its results (`LocalStore`);
- `postgresql://...`: the team's shared store, so that many computers on one account keep the
  one-computer promises: session advisory locks, the ledger and the journals in tables
  (`postgres.SharedStore`).
A run opens the store first (an unreachable database stops it before anything is sent), holds
the rollout (and, to buy, the account) for its whole length, and closes it at the end.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from importer.sending.db import StateUnavailable, is_postgres
from importer.sending.local import LocalStore
from importer.sending.store import Rollout, StateStore

__all__ = ["Rollout", "StateStore", "open_store", "opened"]


def open_store(state_url: str = "") -> StateStore:
    """The store `state_url` names: empty for this computer's, `postgresql://...` for a
    team's. Raises StateUnavailable (exit 2, nothing sent) when it cannot be used."""
    url = (state_url or "").strip()
    if not url:
        return LocalStore()
    if not is_postgres(url):
        raise StateUnavailable("the state URL must be empty (this computer's state folder) or "
                               "a PostgreSQL address, postgresql://user@host/database")
    from importer.sending.postgres import SharedStore

    return SharedStore(url)


@contextlib.contextmanager
def opened(state_url: str = "") -> Iterator[StateStore]:
    store = open_store(state_url)
    try:
        yield store
    finally:
        store.close()

