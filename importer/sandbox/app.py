"""The Flask app emulating the Number Blocks REST API v2: routing, auth, faults and rules.

Every /v2 request goes through one pipeline in a fixed order: auth (401), throttle (429),
latency, injected failure (500), read-only credentials (403), body/query validation (400),
existence (400), then consistency (400) and ownership (403), state, commit, and finally the
injected connection drop. A fixed order makes the answers reproducible, so a client's handling
of each one can be tested on its own.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from .faults import FaultInjector, Knobs
from .rules import PURCHASE_FIELDS, validate_configure, validate_paging, validate_purchase
from .store import Account, Block, Store

DROP_ENVIRON_KEY = "sandbox.drop_connection"
REQUEST_KINDS = ("purchase", "configure", "list")
ROUTING_KEYS = ("RoutingMethod", "EndpointNumber", "Flow", "Application")
TAG_KEYS = ("Recording", "Source", "Medium", "Campaign", "Content")
_SID_KEYS = ("AccountSid", "PropertySid", "NumberBlockSid")
BLOCK_KEYS: tuple[str, ...] = tuple(
    dict.fromkeys(
        [k for k in PURCHASE_FIELDS if k not in _SID_KEYS] + list(ROUTING_KEYS) + list(TAG_KEYS)
    )
)


class ApiError(Exception):
    """An error answer in the API's envelope."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.errors = errors or []
        self.headers = headers or {}


def envelope(code: str, message: str, errors: list[dict[str, str]] | None = None) -> dict:
    return {"ResponseStatus": {"ErrorCode": code, "Message": message, "Errors": errors or []}}


def _ok(extra: dict[str, Any] | None = None) -> Response:
    return jsonify({**(extra or {}), "ResponseStatus": {"Message": "OK"}})


def block_view(block: Block) -> dict[str, Any]:
    """A block as listings and /_sandbox/blocks show it: every key, null when unset."""
    view: dict[str, Any] = {
        "NumberBlockSid": block.sid,
        "AccountSid": block.account_sid,
        "PropertySid": block.property_sid,
    }
    view.update({key: block.data.get(key) for key in BLOCK_KEYS})
    return view


@dataclass
class _Stats:
    """Requests received per kind, including rejected ones (proves what a run sent)."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(REQUEST_KINDS, 0))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, kind: str) -> None:
        with self.lock:
            self.counts[kind] += 1

    def snapshot(self) -> dict[str, int]:
        with self.lock:
            return dict(self.counts)


def _path_segments(environ: dict[str, Any]) -> list[str]:
    """Decoded segments of the raw path, so a percent-encoded '/' stays inside its Sid."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        path = urlsplit(raw).path
    else:
        path = quote(environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace"))
    return [unquote(part) for part in path.split("/")[1:]]


def _match(segments: list[str], method: str) -> tuple[str, str, str]:
    """(kind, scope, sid) for a /v2 path, matched case-insensitively; 404/405 otherwise."""
    low = [s.lower() for s in segments]
    allowed: dict[str, tuple[str, str]] = {}
    sid = ""
    if len(low) == 3 and low[0] in ("properties", "accounts") and low[2] == "numberblocks":
        scope = "property" if low[0] == "properties" else "account"
        sid = segments[1]
        allowed = {"GET": ("list", scope), "POST": ("purchase", scope)}
    elif len(low) == 2 and low[0] == "numberblocks":
        sid = segments[1]
        allowed = {"POST": ("configure", "block")}
    if not allowed or not sid:
        raise ApiError(404, "NOT_FOUND", "No such resource.")
    if method not in allowed:
        raise ApiError(
            405,
            "METHOD_NOT_ALLOWED",
            f"{method} is not supported on this resource.",
            headers={"Allow": ", ".join(sorted(allowed))},
        )
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
        401,
        "UNAUTHORIZED",
        "Missing or invalid credentials (HTTP Basic: AccountSid, auth token).",
        headers={"WWW-Authenticate": 'Basic realm="Fone Dynamics API"'},
    )


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _json_object() -> dict[str, Any]:
    if request.mimetype != "application/json":
        raise ApiError(
            400,
            "VALIDATION_ERROR",
            "The request body must be JSON (Content-Type: application/json).",
        )
    try:
        body = json.loads(request.get_data(cache=True), parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise ApiError(400, "VALIDATION_ERROR", "The request body is not valid JSON.") from exc
    if not isinstance(body, dict):
        raise ApiError(400, "VALIDATION_ERROR", "The request body must be a JSON object.")
    return body


def _invalid(errors: list[dict[str, str]]) -> ApiError:
    names = ", ".join(e["FieldName"] for e in errors)
    return ApiError(400, "VALIDATION_ERROR", f"Validation failed: {names}.", errors)


def _conflict(field_name: str, message: str) -> ApiError:
    item = {"FieldName": field_name, "ErrorCode": "CONFLICTING_PARAMETERS", "Message": message}
    return ApiError(400, "CONFLICTING_PARAMETERS", message, [item])


def _forbidden(what: str) -> ApiError:
    return ApiError(403, "FORBIDDEN", f"You do not have permission to use {what}.")


class _Api:
    """Handlers for the three /v2 operations, sharing the store and fault state."""

    def __init__(self, store: Store, faults: FaultInjector) -> None:
        self.store = store
        self.faults = faults

    def _existing(
        self, account_sid: str | None, property_sid: str | None
    ) -> tuple[str | None, str | None]:
        """Owners of the named account/property (existence first); raises *_NOT_FOUND."""
        if account_sid is not None and self.store.account(account_sid) is None:
            raise ApiError(400, "ACCOUNT_NOT_FOUND", f"Account '{account_sid}' does not exist.")
        prop_owner = None
        if property_sid is not None:
            prop = self.store.property(property_sid)
            if prop is None:
                raise ApiError(
                    400, "PROPERTY_NOT_FOUND", f"Property '{property_sid}' does not exist."
                )
            prop_owner = prop.account_sid
        return account_sid, prop_owner

    def _block(self, sid: str) -> Block:
        block = self.store.block(sid)
        if block is None:
            raise ApiError(400, "NUMBER_BLOCK_NOT_FOUND", f"Number block '{sid}' does not exist.")
        return block

    def _maybe_drop(self) -> None:
        """After a commit: close the connection without answering, as a flaky network would."""
        if not self.faults.should_drop():
            return
        request.environ[DROP_ENVIRON_KEY] = True
        sock = request.environ.get("werkzeug.socket")
        if sock is not None:
            for action in (lambda: sock.shutdown(socket.SHUT_RDWR), sock.close):
                with contextlib.suppress(OSError):
                    action()

    def purchase(self, caller: Account, scope: str, path_sid: str) -> Response:
        body = _json_object()
        clean, errors = validate_purchase(body, caller.prefixes)
        if errors:
            raise _invalid(errors)
        key = "PropertySid" if scope == "property" else "AccountSid"
        if key in clean and clean[key] != path_sid:
            raise _conflict(
                key,
                f"{key} in the body ('{clean[key]}') differs from the one in"
                f" the path ('{path_sid}').",
            )
        account_sid = path_sid if scope == "account" else clean.get("AccountSid")
        property_sid = path_sid if scope == "property" else clean.get("PropertySid")
        sid = clean["NumberBlockSid"]
        with self.store.lock:
            account_sid, prop_owner = self._existing(account_sid, property_sid)
            block = self._block(sid)
            if account_sid is not None and prop_owner is not None and prop_owner != account_sid:
                raise _conflict(
                    "AccountSid",
                    f"Property '{property_sid}' does not belong to account '{account_sid}'.",
                )
            owner = account_sid or prop_owner
            if owner != caller.sid:
                raise _forbidden(
                    f"property '{property_sid}'"
                    if scope == "property"
                    else f"account '{account_sid}'"
                )
            if block.account_sid is not None:
                raise ApiError(
                    403,
                    "NUMBER_BLOCK_NOT_AVAILABLE",
                    f"Number block '{sid}' is not available for purchase.",
                )
            data = {k: v for k, v in clean.items() if k not in _SID_KEYS}
            self.store.record_purchase(sid, caller.sid, property_sid, data)
        self._maybe_drop()
        return _ok()

    def configure(self, caller: Account, sid: str) -> Response:
        body = _json_object()
        clean, errors = validate_configure(body, caller.prefixes)
        if errors:
            raise _invalid(errors)
        account_sid, property_sid = clean.get("AccountSid"), clean.get("PropertySid")
        with self.store.lock:
            block = self._block(sid)
            self._existing(account_sid, property_sid)
            if block.account_sid != caller.sid:  # unsold, or another customer's
                raise _forbidden(f"number block '{sid}'")
            if account_sid is not None and account_sid != block.account_sid:
                raise _conflict(
                    "AccountSid",
                    f"Number block '{sid}' does not belong to account '{account_sid}'.",
                )
            if property_sid is not None and property_sid != block.property_sid:
                raise _conflict(
                    "PropertySid",
                    f"Number block '{sid}' does not belong to property '{property_sid}'.",
                )
            data = dict(block.data)
            if "RoutingMethod" in clean:  # routing is replaced as a whole
                data.update({k: clean.get(k) for k in ROUTING_KEYS})
            data.update({k: clean[k] for k in TAG_KEYS if k in clean})
            self.store.update_block(sid, data)
        self._maybe_drop()
        return _ok()

    def list_blocks(self, caller: Account, scope: str, sid: str) -> Response:
        page_index, page_size, errors = validate_paging(request.args)
        if errors:
            raise _invalid(errors)
        with self.store.lock:
            if scope == "account":
                self._existing(sid, None)
                if sid != caller.sid:
                    raise _forbidden(f"account '{sid}'")
                where = {"account_sid": sid}
            else:
                _, owner = self._existing(None, sid)
                if owner != caller.sid:
                    raise _forbidden(f"property '{sid}'")
                where = {"property_sid": sid}
            blocks, total = self.store.owned_blocks(
                **where, offset=page_index * page_size, limit=page_size
            )
        return _ok({"NumberBlocks": [block_view(b) for b in blocks], "TotalCount": total})


def create_app(store: Store, knobs: Knobs) -> Flask:
    """The sandbox as a WSGI app; ``knobs`` may be changed while it serves."""
    app = Flask("importer.sandbox")
    app.json.sort_keys = False  # type: ignore[attr-defined]
    faults = FaultInjector(knobs)
    stats = _Stats()
    api = _Api(store, faults)
    app.extensions["sandbox"] = {"store": store, "knobs": knobs, "stats": stats}

    def handle_v2(segments: list[str]) -> Response:
        kind, scope, sid = _match(segments, request.method)
        stats.count(kind)
        caller = _authenticate(store)
        if faults.throttled():
            raise ApiError(
                429,
                "TOO_MANY_REQUESTS",
                "Rate limit exceeded; retry later.",
                headers={"Retry-After": "1"},
            )
        faults.delay()
        if faults.should_fail():
            raise ApiError(500, "INTERNAL_ERROR", "Internal server error (injected).")
        if request.method == "POST" and not caller.can_write:
            raise ApiError(
                403, "PERMISSION_DENIED", "These credentials are not allowed to make changes."
            )
        handlers: dict[str, Callable[[], Response]] = {
            "purchase": lambda: api.purchase(caller, scope, sid),
            "configure": lambda: api.configure(caller, sid),
            "list": lambda: api.list_blocks(caller, scope, sid),
        }
        return handlers[kind]()

    @app.before_request
    def _route_v2() -> Response | None:
        segments = _path_segments(request.environ)
        if segments and segments[0].lower() == "v2":
            return handle_v2(segments[1:])
        return None

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> Response:
        response = jsonify(envelope(exc.code, exc.message, exc.errors))
        response.status_code = exc.status
        response.headers.update(exc.headers)
        return response

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        name = exc.name or "Error"
        code = "INTERNAL_ERROR" if status == 500 else name.upper().replace(" ", "_")
        response = jsonify(envelope(code, exc.description or name))
        response.status_code = status
        valid = getattr(exc, "valid_methods", None)
        if valid:
            response.headers["Allow"] = ", ".join(valid)
        return response

    @app.get("/_sandbox/purchases")
    def _purchases() -> Response:
        return jsonify({"Purchases": store.purchase_counts()})

    @app.get("/_sandbox/stats")
    def _stats() -> Response:
        return jsonify({"Requests": stats.snapshot()})

    @app.get("/_sandbox/blocks/<sid>")
    def _block(sid: str) -> Response:
        block = store.block(sid)
        if block is None:
            raise ApiError(404, "NOT_FOUND", f"Number block '{sid}' does not exist.")
        return jsonify(block_view(block))

    return app
