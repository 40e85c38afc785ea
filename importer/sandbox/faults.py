"""Fault knobs and the state behind them (random stream, token bucket).

Knobs are a plain mutable dataclass so a test can change them on a running server; the
injector notices a changed ``seed`` or ``throttle_rps`` and resets its state accordingly.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass


@dataclass
class Knobs:
    """Ways the sandbox misbehaves on purpose (all off by default)."""

    latency_ms: float = 0.0
    fail_rate: float = 0.0
    drop_rate: float = 0.0
    throttle_rps: float | None = None
    seed: int = 0


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
