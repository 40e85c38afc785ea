"""Progress as Server-Sent Events, without taking the connections that Cancel needs.

A browser opens at most six connections to one server, and waitress serves each request on
one of a fixed set of threads; a stream holds one of each for as long as it lasts. So one
stream carries every run's progress (the page's tabs share it, see app.js), the server keeps
at most `MAX_STREAMS` open (more are refused at once, and the page polls instead), and a stream
ends after `IDLE_SECONDS` without news or `LIFETIME_SECONDS` in all (the browser reconnects).
A heartbeat every `HEARTBEAT_SECONDS` finds a reader that has gone away.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

from flask import Response, jsonify

from importer.web.runs import Runs

MAX_STREAMS = 3
HEARTBEAT_SECONDS = 5.0
IDLE_SECONDS = 60.0
LIFETIME_SECONDS = 600.0
RETRY_MS = 2000  # how soon the browser reconnects after a stream has ended


class Streams:
    """How many progress streams are open, against the cap."""

    def __init__(self, cap: int = MAX_STREAMS) -> None:
        self.cap = cap
        self.open = 0
        self.lock = threading.Lock()

    def enter(self) -> bool:
        with self.lock:
            if self.open >= self.cap:
                return False
            self.open += 1
            return True

    def leave(self) -> None:
        with self.lock:
            self.open -= 1


def events(runs: Runs, streams: Streams) -> Response:
    """Every run's snapshot when it changes; 429 when the streams are taken (poll instead)."""
    idle, lifetime, beat = IDLE_SECONDS, LIFETIME_SECONDS, HEARTBEAT_SECONDS
    if not streams.enter():
        response = jsonify({"error": "Too many progress streams; asking now and then instead."})
        response.status_code = 429
        return response

    def stream() -> Iterator[str]:
        seen: dict[str, int] = {}
        started = last_news = time.monotonic()
        yield f"retry: {RETRY_MS}\n\n"
        while (now := time.monotonic()) - last_news < idle and now - started < lifetime:
            changed = runs.changes(seen, beat)
            for snapshot in changed:
                yield f"data: {json.dumps(snapshot)}\n\n"
            if changed:
                last_news = time.monotonic()
            else:
                yield ": still here\n\n"

    response = Response(stream(), mimetype="text/event-stream",
                        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
    response.call_on_close(streams.leave)
    return response
