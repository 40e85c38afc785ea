"""Fault knobs and the state behind them (random stream, token bucket).

Knobs are a plain mutable dataclass so a test can change them on a running server; the
injector notices a changed ``seed`` or ``throttle_rps`` and resets its state accordingly.
Every random fault draws from one stream seeded by ``seed``, and a knob at 0 draws nothing,
so the same requests under the same knobs always meet the same faults.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass
from typing import Any

LISTING_FAULTS = ("html", "no_list", "bad_item", "shift")
SID_SOURCES = ("body", "query", "either")


@dataclass
class Knobs:
    """Ways the sandbox departs from the documented API on purpose (all off by default)."""

    latency_ms: float = 0.0
    """Every /v2 request is answered this much later (after auth and throttling)."""
    fail_rate: float = 0.0
    """Share of /v2 requests answered 500 before anything is looked at or changed."""
    drop_rate: float = 0.0
    """Share of accepted purchases/configures whose change is made (or, for a slow commit,
    scheduled) and whose connection is then closed without an answer."""
    throttle_rps: float | None = None
    """Above this many requests a second (burst ``max(1, rps)``), answer 429 with Retry-After."""
    seed: int = 0
    """Seed of the one random stream behind every ``*_rate`` knob."""

    answer_after_s: float = 0.0
    """Purchases: the answer (any answer) is sent this long after the request arrived."""
    commit_after_s: float = 0.0
    """Purchases: an accepted sale is committed this long after the request arrived, on a timer
    of its own: possibly after the answer, or after the client gave up. Until then the block is
    reserved: another purchase of it is refused at once (unless ``rebuy``). Sales still pending
    when the server stops are committed then, so counts read after ``stop()`` include them."""
    listing_lag_s: float = 0.0
    """A sold block shows in listings and the search only this long after its commit (it is
    owned at once: it cannot be bought again and can be configured)."""
    fail_after_commit_rate: float = 0.0
    """Purchases: share of accepted sales that are committed (or scheduled) and then answered
    503 with an HTML page, as a gateway in front of the API would."""
    junk_success_rate: float = 0.0
    """Purchases and configures: share answered 200 with an HTML page or an empty body, with
    nothing done."""
    rebuy: bool = False
    """An owned (or reserved) block can be sold again, even to its owner; every sale counts."""
    page_size_cap: int | None = None
    """Listings and the search serve at most this many items a page, whatever PageSize asks
    (PageIndex then counts pages of this size)."""
    total_count: bool = True
    """False: listings and the search carry no TotalCount, even when asked."""
    listing_fault: str | None = None
    """Listings and the search: ``"html"`` 200 with an HTML page; ``"no_list"`` JSON without
    NumberBlocks; ``"bad_item"`` the middle item of every page lacks NumberBlockSid;
    ``"shift"`` pages after the first start one item off: odd PageIndex one early (the previous
    page's last item again), even PageIndex one late (an item skipped)."""
    listing_envelope: bool = True
    """False: listing pages carry no ResponseStatus (the pages document none for listings)."""
    listing_settings: bool = True
    """False: listing items carry none of the configure settings (contract.ITEM_SETTINGS, an
    inference): only the documented fields and the owner, as a stricter API might."""
    account_purchase_path: bool = True
    """False: POST /v2/Accounts/{sid}/NumberBlocks does not exist (404); its GET still does."""
    purchase_sid_from: str = "body"
    """Where a purchase takes NumberBlockSid: ``"body"`` (JSON), ``"query"`` (query string) or
    ``"either"`` (both may be given; if both are, they must agree). A Sid in the other place is
    ignored, as an API ignores what it does not read."""

    def __setattr__(self, name: str, value: Any) -> None:
        """Refuse an unknown fault name at once, not at the next request."""
        if name == "listing_fault" and value is not None and value not in LISTING_FAULTS:
            raise ValueError(f"listing_fault must be None or one of {LISTING_FAULTS}")
        if name == "purchase_sid_from" and value not in SID_SOURCES:
            raise ValueError(f"purchase_sid_from must be one of {SID_SOURCES}")
        if name == "page_size_cap" and value is not None and value < 1:
            raise ValueError("page_size_cap must be None or at least 1")
        super().__setattr__(name, value)


class FaultInjector:
    """Thread-safe decisions for one server: deterministic for the same request sequence."""

    def __init__(self, knobs: Knobs) -> None:
        self.knobs = knobs
        self._lock = threading.Lock()
        self._seed = knobs.seed
        self._rng = random.Random(knobs.seed)
        self._rps: float | None = None
        self._tokens = 0.0
        self._stamp = 0.0

    def _roll(self, rate: float) -> bool:
        if rate <= 0:
            return False
        with self._lock:
            if self.knobs.seed != self._seed:
                self._seed = self.knobs.seed
                self._rng = random.Random(self._seed)
            return self._rng.random() < rate

    def throttled(self) -> bool:
        """Token bucket, burst ``max(1, rps)``: True means answer 429."""
        rps = self.knobs.throttle_rps
        with self._lock:
            now = time.monotonic()
            if rps is None or rps <= 0:
                self._rps = None
                return False
            burst = max(1.0, rps)
            if rps != self._rps:
                self._rps, self._tokens, self._stamp = rps, burst, now
            self._tokens = min(burst, self._tokens + (now - self._stamp) * rps)
            self._stamp = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return False
            return True

    def delay(self) -> None:
        latency = self.knobs.latency_ms
        if latency > 0:
            time.sleep(latency / 1000.0)

    def should_fail(self) -> bool:
        return self._roll(self.knobs.fail_rate)

    def should_drop(self) -> bool:
        return self._roll(self.knobs.drop_rate)

    def should_fail_after_commit(self) -> bool:
        return self._roll(self.knobs.fail_after_commit_rate)

    def junk(self) -> str | None:
        """None, or which junk a 200 carries instead of the envelope: "html" or "empty"."""
        if not self._roll(self.knobs.junk_success_rate):
            return None
        return "html" if self._roll(0.5) else "empty"
