"""Slow commits (Knobs.commit_after_s): sales accepted now and committed later, on timers.

A real API may commit a purchase after its answer, or after the client has given up waiting,
and a client must survive that. So a slow sale is really slow on the server: its own timer
thread commits it, whatever became of the request. Until then the block is *reserved*, which
refuses another purchase at once (Knobs.rebuy aside): the refusal is deterministic, never a
race between two requests.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from collections.abc import Callable

from .store import Store

_JOIN_SECONDS = 2.0


class CommitScheduler:
    """Pending commits of one server; ``flush()`` commits them all at once (at stop)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._pending: dict[int, tuple[str, Callable[[], None]]] = {}
        self._timers: dict[int, threading.Timer] = {}
        self._reserved: Counter[str] = Counter()
        self._tokens = itertools.count()
        self._flushed = False  # after flush() (the server stopping) nothing waits any more

    def reserved(self, sid: str) -> bool:
        """True while a sale of ``sid`` waits for its commit (read under ``store.lock``)."""
        with self._lock:
            return self._reserved[sid] > 0

    def schedule(self, sid: str, due: float, commit: Callable[[], None]) -> None:
        """Run ``commit`` at monotonic time ``due`` (now, if that has passed or the server is
        stopping)."""
        with self._lock:
            wait = due - time.monotonic()
            if wait > 0 and not self._flushed:
                token = next(self._tokens)
                self._pending[token] = (sid, commit)
                self._reserved[sid] += 1
                timer = threading.Timer(wait, self._run, args=(token,))
                timer.daemon = True
                self._timers[token] = timer
                timer.start()
                return
        with self._store.lock:
            commit()

    def _run(self, token: int) -> None:
        with self._store.lock:  # commit and release the reservation as one step
            with self._lock:
                entry = self._pending.pop(token, None)
                self._timers.pop(token, None)
            if entry is None:  # flushed already
                return
            sid, commit = entry
            try:
                commit()
            finally:
                with self._lock:
                    self._reserved[sid] -= 1

    def flush(self) -> None:
        """Commit every pending sale now: an accepted sale outlives the server's shutdown."""
        with self._lock:
            self._flushed = True
            timers = list(self._timers.values())
        for timer in timers:
            timer.cancel()
        with self._lock:
            tokens = list(self._pending)
        for token in tokens:
            self._run(token)
        for timer in timers:
            if timer is not threading.current_thread():
                timer.join(_JOIN_SECONDS)
