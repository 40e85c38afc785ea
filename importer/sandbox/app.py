"""The Flask app emulating the Number Blocks REST API v2: routing, auth, faults, the pipeline.

Every /v2 request goes through one pipeline in a fixed order: route (404/405), auth (401),
throttle (429), latency, injected failure (500), junk success, read-only credentials (403),
then the operation's own checks (changes.py, listing.py), and finally how an accepted change
is answered (slow answer, dropped connection, a gateway's 503). A fixed order makes the answers
reproducible, so a client's handling of each one can be tested on its own. Paths, parameter
names, defaults and codes all come from ``importer.spec.contract``.
"""

from __future__ import annotations

import contextlib
import hmac
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from importer.spec import contract as c

from .changes import Changes, Outcome, named_blocks
from .commits import CommitScheduler
from .errors import ApiError, envelope, forbidden
from .faults import FaultInjector, Knobs
from .listing import HTML_PAGE, Listings, block_view
from .rules import PROPERTY_SID
from .store import Account, Store

DROP_ENVIRON_KEY = "sandbox.drop_connection"
REQUEST_KINDS = ("purchase", "configure", "list", "search")
GATEWAY_PAGE = ("<html><head><title>503 Service Temporarily Unavailable</title></head><body>"
                "<center><h1>503 Service Temporarily Unavailable</h1></center><hr>"
                "<center>nginx</center></body></html>\n")
# The first segment of each path template, lower-cased: how a /v2 path is recognised.
_SCOPES = {path.split("/")[2].lower(): key for key, path in c.LIST_PATHS.items()}
_LISTED = c.LIST_PATHS[PROPERTY_SID].split("/")[4].lower()  # also the purchase paths' end
_BLOCKS = c.CONFIGURE_PATH.split("/")[2].lower()  # also the search's first segment

ARRIVALS_KEPT = 10_000


@dataclass
class _Stats:
    """Requests received per kind, including rejected ones (proves what a run sent)."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(REQUEST_KINDS, 0))
    lock: threading.Lock = field(default_factory=threading.Lock)
    # When each of the last requests arrived, on the sandbox's own clock (a rate cap is judged
    # by what the server saw, not by the client's notes).
    arrivals: deque[float] = field(default_factory=lambda: deque(maxlen=ARRIVALS_KEPT))

    def count(self, kind: str) -> None:
        with self.lock:
            self.counts[kind] += 1
            self.arrivals.append(time.monotonic())

    def snapshot(self) -> dict[str, int]:
        with self.lock:
            return dict(self.counts)

    def arrived(self) -> list[float]:
        with self.lock:
            return list(self.arrivals)


def _path_segments(environ: dict[str, Any]) -> list[str]:
    """Decoded segments of the raw path, so a percent-encoded '/' stays inside its Sid."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        path = urlsplit(raw).path
    else:
        path = quote(environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace"))
    return [unquote(part) for part in path.split("/")[1:]]


def _match(segments: list[str], method: str, account_purchase: bool) -> tuple[str, str, str]:
    """(kind, scope, sid or search text) for a /v2 path, case-insensitively; 404/405 else."""
    low = [s.lower() for s in segments]
    allowed: dict[str, tuple[str, str]] = {}
    shown: list[str] = []
    sid = ""
    if len(low) == 3 and low[0] in _SCOPES and low[2] == _LISTED:
        scope = "property" if _SCOPES[low[0]] == PROPERTY_SID else "account"
        sid = segments[1]
        allowed = {"GET": ("list", scope), "POST": ("purchase", scope)}
        shown = ["GET", "POST"] if scope == "property" or account_purchase else ["GET"]
    elif len(low) == 2 and low[0] == _BLOCKS:
        sid = segments[1]
        allowed = {"GET": ("search", "block"), "POST": ("configure", "block")}
        shown = sorted(allowed)
    if not allowed or not sid:
        raise ApiError(404, c.NOT_FOUND, "No such resource.")
    if method not in allowed:
        raise ApiError(405, c.METHOD_NOT_ALLOWED, f"{method} is not supported on this resource.",
                       headers={"Allow": ", ".join(shown)})
    kind, scope = allowed[method]
    return kind, scope, sid


def _authenticate(store: Store) -> Account:
    auth = request.authorization
    if auth is not None and auth.type == "basic" and auth.username and auth.password:
        account = store.account(auth.username)
        if account is not None and hmac.compare_digest(
            account.token.encode(), auth.password.encode()
        ):
            return account
    raise ApiError(
        c.UNAUTHORIZED,
        c.UNAUTHORIZED_CODE,
        "Wrong or missing credentials.",  # the Error Codes page's words for a 401
        headers={"WWW-Authenticate": 'Basic realm="Fone Dynamics API"'},
    )


def _ok() -> Response:
    return jsonify({c.ENVELOPE: {c.MESSAGE: c.OK_MESSAGE}})


def _junk(kind: str) -> Response:
    """A 200 that is not the API's answer: an HTML page, or nothing at all."""
    if kind == "html":
        return Response(HTML_PAGE, 200, mimetype="text/html")
    return Response(b"", 200, mimetype="application/json")


def _drop() -> Response:
    """Close the connection without answering, as a flaky network would."""
    request.environ[DROP_ENVIRON_KEY] = True
    sock = request.environ.get("werkzeug.socket")
    if sock is not None:
        for action in (lambda: sock.shutdown(socket.SHUT_RDWR), sock.close):
            with contextlib.suppress(OSError):
                action()
    return Response(b"", 200)


def _answer(outcome: Outcome) -> Response:
    if outcome.drop:
        return _drop()
    if outcome.gateway_error:
        return Response(GATEWAY_PAGE, 503, mimetype="text/html")
    return _ok()


def _sleep_until(deadline: float) -> None:
    remaining = deadline - time.monotonic()
    if remaining > 0:
        time.sleep(remaining)


class _Api:
    """The /v2 pipeline of one app."""

    def __init__(self, store: Store, knobs: Knobs) -> None:
        self.store, self.knobs = store, knobs
        self.faults = FaultInjector(knobs)
        self.stats = _Stats()
        self.commits = CommitScheduler(store)
        self.changes = Changes(store, self.commits, self.faults)
        self.listings = Listings(store, knobs)

    def handle(self, segments: list[str]) -> Response:
        arrived = time.monotonic()
        kind, scope, sid = _match(segments, request.method, self.knobs.account_purchase_path)
        self.stats.count(kind)
        if kind == "purchase":
            self.store.count_purchase_request(named_blocks(request))
            if scope == "account" and not self.knobs.account_purchase_path:
                raise ApiError(404, c.NOT_FOUND, "No such resource.")
        try:
            result = self._process(kind, scope, sid, arrived)
        finally:
            if kind == "purchase":  # every purchase answer, refusals included, comes this late
                _sleep_until(arrived + self.knobs.answer_after_s)
        return _answer(result) if isinstance(result, Outcome) else result

    def _process(self, kind: str, scope: str, sid: str, arrived: float) -> Response | Outcome:
        caller = _authenticate(self.store)
        if self.faults.throttled():
            raise ApiError(429, c.TOO_MANY_REQUESTS, "Rate limit exceeded; retry later.",
                           headers={"Retry-After": "1"})
        self.faults.delay()
        if self.faults.should_fail():
            raise ApiError(c.SERVER_ERROR, c.INTERNAL_ERROR, "Internal server error (injected).")
        if request.method == "POST":
            junk = self.faults.junk()
            if junk is not None:
                return _junk(junk)
            if not caller.can_write:
                raise forbidden("These credentials are not allowed to make changes.")
        if kind == "purchase":
            return self.changes.purchase(request, caller, scope, sid, arrived)
        if kind == "configure":
            return self.changes.configure(request, caller, sid)
        if kind == "list":
            return self.listings.listing(caller.sid, scope, sid, request.args)
        return self.listings.search(caller.sid, sid, request.args)


def create_app(store: Store, knobs: Knobs) -> Flask:
    """The sandbox as a WSGI app; ``knobs`` may be changed while it serves."""
    app = Flask("importer.sandbox")
    app.json.sort_keys = False  # type: ignore[attr-defined]
    api = _Api(store, knobs)
    app.extensions["sandbox"] = {"store": store, "knobs": knobs, "stats": api.stats,
                                 "commits": api.commits}

    @app.before_request
    def _route_v2() -> Response | None:
        segments = _path_segments(request.environ)
        if segments and segments[0].lower() == "v2":
            return api.handle(segments[1:])
        return None

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> Response:
        response = jsonify(envelope(exc.code, exc.message, exc.errors))
        response.status_code = exc.status
        response.headers.update(exc.headers)
        return response

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        """werkzeug's own refusals, in the envelope and with the contract's codes only."""
        status = exc.code or c.SERVER_ERROR
        code = {404: c.NOT_FOUND, 405: c.METHOD_NOT_ALLOWED}.get(
            status, c.INTERNAL_ERROR if status >= c.SERVER_ERROR else c.INVALID_PARAMETER)
        response = jsonify(envelope(code, exc.description or exc.name or "Error"))
        response.status_code = status
        valid = getattr(exc, "valid_methods", None)
        if valid:
            response.headers["Allow"] = ", ".join(valid)
        return response

    @app.get("/_sandbox/purchases")
    def _purchases() -> Response:
        return jsonify({"Purchases": store.purchase_counts()})

    @app.get("/_sandbox/purchase-requests")
    def _purchase_requests() -> Response:
        return jsonify({"PurchaseRequests": store.purchase_requests()})

    @app.get("/_sandbox/stats")
    def _stats() -> Response:
        return jsonify({"Requests": api.stats.snapshot(), "Arrivals": api.stats.arrived()})

    @app.get("/_sandbox/blocks/<sid>")
    def _block(sid: str) -> Response:
        block = store.block(sid)
        if block is None:
            raise ApiError(404, c.NOT_FOUND, f"Number block '{sid}' does not exist.")
        return jsonify(block_view(block))

    return app
