"""The API client: one requests.Session, HTTP Basic, urllib3 Retry policies, the error envelope.

Retrying is the adapters' job, never a loop here. Reads (GET) and configure (idempotent) retry
connection failures, timeouts, 429 and 5xx. A purchase is retried only when it cannot have
reached the server: the connection was never made, or 429. Every other doubt (a timeout, a
dropped connection, any 5xx, a 2xx without the documented envelope) comes back as a doubtful
Reply for `submit` to settle by looking the block up. Listings are believed only when complete.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import InvalidHeader, NameResolutionError, NewConnectionError
from urllib3.util.retry import Retry

from importer import __version__, excel
from importer.errors import UsageError
from importer.spec import contract
from importer.text import clip, redact_url, shown

SERVER_ERRORS = frozenset({500, 502, 503, 504})
RETRY_STATUSES = contract.THROTTLE_STATUSES | SERVER_ERRORS
MAX_RETRY_AFTER = 60.0
MAX_LIST_PAGES = 100_000
LIST_ATTEMPTS = 3  # a listing that comes back inconsistent (items moving) is taken again


@dataclass(frozen=True)
class Credentials:
    base_url: str
    account_sid: str
    auth_token: str

    def __repr__(self) -> str:  # never show the token, even in a debugger or a traceback
        url = redact_url(self.base_url)
        return f"Credentials(base_url={url!r}, account_sid={self.account_sid!r})"


@dataclass(frozen=True)
class Reply:
    """One request's end: an HTTP answer, or none (status None) with what happened."""

    status: int | None
    error_code: str = ""
    message: str = ""
    accepted: bool = False  # the documented success envelope: certainly done
    reached: bool = True  # False: the request certainly never reached the API

    @property
    def unauthorized(self) -> bool:
        """401 "Wrong or missing credentials": every further row would fail the same way."""
        return self.status == contract.UNAUTHORIZED

    @property
    def refused(self) -> bool:
        """A 4xx refusal (not throttling): the API looked at the request and said no."""
        return (self.status is not None and 400 <= self.status < 500
                and self.status not in contract.THROTTLE_STATUSES)

    @property
    def doubtful(self) -> bool:
        """It may have been carried out: anything but the documented success, a refusal
        (4xx; 429 was refused before anything happened) or a request that never left: no
        answer after sending, a 5xx, a 2xx that is not the documented success, a redirect."""
        return not (self.accepted or self.refused or not self.reached or self.status == 429)


@dataclass
class Listing:
    """The blocks a property/account owns, and whether that list can be believed."""

    complete: bool
    sids: set[str] = field(default_factory=set)  # contract.sid_key form
    reason: str = ""  # why it is not complete, in words
    reply: Reply | None = None  # the failing answer, when there was one (401/403 decide things)
    taken_at: float = 0.0  # time.time() when the listing started: newer than what it shows
    places: dict[str, str] = field(default_factory=dict)  # key -> PropertySid, where an item says


def item_text(value: object) -> str | None:
    """A listing item's value as a cell holds it: text, or a number as text, trimmed and cut to
    what a cell holds (the reader trims too); anything else, and nothing, is None."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    text = str(value).strip()[:excel.CELL_CHARS].strip()
    return text or None


class _Retry(Retry):
    """Retry's rules, plus: 429 was refused before anything happened, so any method may retry;
    a Retry-After that is junk or negative falls back to the normal backoff."""

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if status_code == 429 and self.total:
            return True
        return super().is_retry(method, status_code, has_retry_after)

    def parse_retry_after(self, retry_after: str) -> float:
        try:
            return super().parse_retry_after(retry_after)
        except InvalidHeader:
            return 0.0  # falsy: urllib3 then sleeps its own backoff


def retry_policy(idempotent_post: bool, attempts: int = 5, backoff: float = 0.5) -> Retry:
    """Bounded attempts, exponential backoff with jitter, Retry-After honoured (capped).

    Reads (timeouts, dropped connections, 5xx) are retried for GET always and for POST only
    when it is idempotent; connection failures (nothing sent) and 429 for every method."""
    methods = {"GET", "POST"} if idempotent_post else {"GET"}
    return _Retry(
        total=attempts, connect=attempts, read=attempts, status=attempts, other=0,
        allowed_methods=frozenset(methods), status_forcelist=RETRY_STATUSES,
        backoff_factor=backoff, backoff_max=10.0, backoff_jitter=backoff,
        respect_retry_after_header=True, retry_after_max=MAX_RETRY_AFTER,
        raise_on_status=False, raise_on_redirect=True,
    )


def check_base_url(url: str) -> str:
    """Refuse URLs that would leak credentials: plain http off loopback, or user:pass@ in URL.

    Every message shows the URL without its user-info."""
    shown_url = redact_url(url)
    try:
        parts = urlsplit(url.strip().rstrip("/"))
        host = parts.hostname
    except ValueError:
        raise UsageError(f"API address {shown_url} is not a valid URL") from None
    if parts.username or parts.password or "@" in parts.netloc:
        raise UsageError("the API address must not contain credentials; put them in "
                         "IMPORTER_ACCOUNT_SID / IMPORTER_AUTH_TOKEN")
    if parts.scheme not in ("http", "https") or not host:
        raise UsageError(f"API address {shown_url} is not an http(s) URL")
    if parts.scheme == "http" and not _is_loopback(host):
        raise UsageError(f"refusing to send credentials over plain http to {shown(host)}; "
                         "use https")
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class ApiClient:
    """Sends requests one at a time; returns Replies, never raises for HTTP or network trouble."""

    def __init__(self, credentials: Credentials, *, timeout: tuple[float, float] = (5.0, 30.0),
                 attempts: int = 5, backoff: float = 0.5, rate: float | None = None) -> None:
        self.base_url = check_base_url(credentials.base_url)
        self.account_sid = credentials.account_sid
        self.host = urlsplit(self.base_url).hostname or self.base_url
        self.timeout = timeout
        self.session = requests.Session()
        self.session.auth = (credentials.account_sid, credentials.auth_token)
        self.session.headers.update({"Accept": "application/json",
                                     "User-Agent": f"number-block-importer/{__version__}"})
        self.session.mount(self.base_url + "/", HTTPAdapter(
            max_retries=retry_policy(False, attempts, backoff)))
        configure_prefix = contract.CONFIGURE_PATH.split("{", 1)[0]
        self.session.mount(self.base_url + configure_prefix, HTTPAdapter(
            max_retries=retry_policy(True, attempts, backoff)))
        # Resolve proxies and CA settings from the environment once: requests would otherwise
        # re-read the environment on every request (~0.2 ms, a sixth of a loopback POST).
        settings = self.session.merge_environment_settings(self.base_url, {}, None, None, None)
        self.session.proxies.update(settings["proxies"])
        self.session.verify = settings["verify"]
        self.session.trust_env = False
        self._interval = 1.0 / rate if rate else 0.0
        self._next_at = 0.0

    def close(self) -> None:
        self.session.close()

    def _pace(self) -> None:
        if self._interval:
            now = time.monotonic()
            if now < self._next_at:
                time.sleep(self._next_at - now)
            self._next_at = max(now, self._next_at) + self._interval

    def request(self, method: str, path: str, body: dict | None = None,
                query: Mapping[str, object] | None = None) -> tuple[Reply, object]:
        """One call through the retry policy; the parsed JSON (or None) comes back too."""
        self._pace()
        url = self.base_url + path + (f"?{urlencode(query)}" if query else "")
        try:
            response = self.session.request(method, url, json=body, timeout=self.timeout,
                                            allow_redirects=False)
        except requests.RequestException as exc:
            return self._no_answer(exc), None
        try:
            payload = response.json()
        except ValueError:
            payload = None
        return _reply(response.status_code, payload, response.reason or ""), payload

    def post(self, path: str, body: dict, query: Mapping[str, object] | None = None) -> Reply:
        return self.request("POST", path, body, query)[0]

    def owned(self, sid_field: str, sid: str, *, query: Mapping[str, object] | None = None,
              keep: list[dict] | None = None) -> Listing:
        """Every block a property/account owns, believed only when complete (contract.TERMS:
        "Listing completeness"); an inconsistent listing (items moving) is taken again.
        `query` adds documented filters (never the sort: completeness needs Id order); `keep`
        receives the raw items of the last attempt (the export reads their fields)."""
        listing = Listing(False)
        for _ in range(LIST_ATTEMPTS):
            listing = self._list_once(sid_field, sid, query or {}, keep)
            if listing.complete or listing.reply is not None:
                return listing
        return listing

    def _list_once(self, sid_field: str, sid: str, query: Mapping[str, object],
                   keep: list[dict] | None) -> Listing:
        path = contract.LIST_PATHS[sid_field].format(**{sid_field: quote(sid, safe="")})
        started = time.time()
        if keep is not None:
            keep.clear()
        size, index = contract.LIST_PAGE_SIZE, 0
        sids: set[str] = set()
        places: dict[str, str] = {}
        total: int | None = None
        last_id: int | None = None
        while index < MAX_LIST_PAGES:
            reply, payload = self.request("GET", path, query={
                contract.PAGE_INDEX: index, contract.PAGE_SIZE: size, **query,
                **contract.LIST_QUERY})
            if not (reply.accepted or _listing_page(reply, payload)):
                why = (f"the API answered {reply.status}: {reply.message}" if reply.status
                       and not reply.message.startswith("the API") else reply.message)
                return Listing(False, reason=why, reply=reply if reply.status else None)
            page = _page(payload)
            if isinstance(page, str):
                return Listing(False, reason=page)
            items, page_total = page
            if keep is not None:
                keep.extend(payload[contract.LIST_KEY])  # type: ignore[index]  (checked by _page)
            if index > 0 and page_total != total:
                return Listing(False, reason="the total changed while it was being read")
            total = page_total
            for block_id, block_sid, place in items:
                key = contract.sid_key(block_sid)
                if place:
                    places[key] = place
                if key in sids:
                    return Listing(False, reason=f"block {shown(block_sid, 40)} came twice "
                                   "(items moved between pages)")
                if block_id is not None:
                    if last_id is not None and block_id <= last_id:
                        return Listing(False, reason="the blocks did not come in Id order")
                    last_id = block_id
                sids.add(key)
            if len(items) > size:
                return Listing(False, reason=f"a page held {len(items)} blocks, more than the "
                               f"{size} asked for")
            if index == 0 and 0 < len(items) < size and (total is None or total > len(items)):
                # The server caps pages below what we asked: read on at its size, from page 1.
                size = len(items)
            elif len(items) < size or (total is not None and len(sids) >= total):
                break
            index += 1
        if total is not None and len(sids) != total:
            return Listing(False, reason=f"the pages held {len(sids)} blocks, not the "
                           f"{total} the API counted")
        return Listing(True, sids, taken_at=started, places=places)

    def _no_answer(self, exc: requests.RequestException) -> Reply:
        """No HTTP answer: say what happened; `reached` is False only when nothing was sent."""
        host = shown(self.host)
        cause = _root(exc)
        if isinstance(exc, requests.exceptions.ProxyError):
            return Reply(None, "CONNECTION_FAILED", "could not reach the API through the proxy "
                         "(it refused the connection); check the proxy settings", reached=False)
        if _chain_has(exc, ssl.SSLCertVerificationError):  # refused before anything was sent
            return Reply(None, "CONNECTION_FAILED", f"could not open a secure connection to "
                         f"{host} (its certificate was not accepted)", reached=False)
        if isinstance(exc, requests.ConnectTimeout):
            return Reply(None, "CONNECTION_FAILED", f"could not reach {host}: it did not answer "
                         "the connection in time; check the internet connection", reached=False)
        if _chain_has(exc, NameResolutionError) or isinstance(cause, socket.gaierror):
            return Reply(None, "CONNECTION_FAILED", f"could not reach {host}: the address could "
                         "not be found; check the internet connection and the API address",
                         reached=False)
        if _chain_has(exc, NewConnectionError):
            what = ("the connection was refused" if isinstance(cause, ConnectionRefusedError)
                    else "no connection could be made")
            return Reply(None, "CONNECTION_FAILED", f"could not reach {host}: {what}; check "
                         "the API address and that the service is up", reached=False)
        if isinstance(exc, requests.ReadTimeout):
            return Reply(None, "TIMEOUT", f"no answer from {host} within {self.timeout[1]:g} "
                         "seconds")
        return Reply(None, "CONNECTION_LOST", f"the connection to {host} was lost before an "
                     "answer came")


def _chain_has(exc: BaseException, kind: type[BaseException]) -> bool:
    seen: BaseException | None = exc
    for _ in range(20):
        if seen is None:
            return False
        if isinstance(seen, kind):
            return True
        reason = getattr(seen, "reason", None)
        seen = reason if isinstance(reason, BaseException) else (
            seen.__cause__ or seen.__context__ or (seen.args[0] if seen.args and isinstance(
                seen.args[0], BaseException) else None))
    return False


def _root(exc: BaseException) -> BaseException:
    """The innermost cause (e.g. ConnectionRefusedError under requests' and urllib3's)."""
    seen = exc
    for _ in range(20):
        reason = getattr(seen, "reason", None)
        nxt = reason if isinstance(reason, BaseException) else (
            seen.__cause__ or seen.__context__ or (seen.args[0] if seen.args and isinstance(
                seen.args[0], BaseException) else None))
        if nxt is None:
            return seen
        seen = nxt
    return seen


def _listing_page(reply: Reply, payload: object) -> bool:
    """A 2xx listing page without an error code: read it (the pages document no envelope for
    listings; see the contract's "Listing envelope"), `_page` checks its shape."""
    envelope = payload.get(contract.ENVELOPE) if isinstance(payload, dict) else None
    return (reply.status is not None and 200 <= reply.status < 300
            and not (isinstance(envelope, dict) and envelope.get(contract.ERROR_CODE)))


def _page(payload: object) -> tuple[list[tuple[int | None, str, str]], int | None] | str:
    """(items as (Id, NumberBlockSid, PropertySid or ''), TotalCount) of one listing page, or
    why it is unusable. The PropertySid only names an owner in messages (contract: "Listing
    item's property")."""
    if not isinstance(payload, dict):
        return "a page was not JSON (the API may be down or behind a login page)"
    items = payload.get(contract.LIST_KEY)
    if not isinstance(items, list):
        return f"a page had no {contract.LIST_KEY} list"
    total = payload.get(contract.TOTAL_KEY)
    if total is not None and (isinstance(total, bool) or not isinstance(total, int)
                              or total < 0):
        return f"a page's {contract.TOTAL_KEY} was not a count"
    out: list[tuple[int | None, str, str]] = []
    for item in items:
        sid = item.get(contract.ITEM_SID) if isinstance(item, dict) else None
        if not isinstance(sid, str) or not sid.strip():
            return f"a listed block had no {contract.ITEM_SID}"
        block_id = item.get(contract.ITEM_ID)
        if block_id is not None and (isinstance(block_id, bool) or not isinstance(block_id, int)):
            return f"a listed block's {contract.ITEM_ID} was not a whole number"
        place = item.get(contract.ITEM_PROPERTY)
        out.append((block_id, sid, shown(place, 64) if isinstance(place, str) else ""))
    return out, total


def _reply(status: int, payload: object, reason: str) -> Reply:
    """Parse the documented envelope; per-field Errors are folded into the message (a FieldName
    alone is enough: it is all the pages document)."""
    envelope = payload.get(contract.ENVELOPE) if isinstance(payload, dict) else None
    envelope = envelope if isinstance(envelope, dict) else {}
    code = str(envelope.get(contract.ERROR_CODE) or "")
    message = str(envelope.get(contract.MESSAGE) or "")
    if 200 <= status < 300:
        if not code and message.strip().upper() == contract.OK_MESSAGE:
            return Reply(status, "", message, accepted=True)
        what = ("an answer that is not JSON (empty, or a web page)" if payload is None else
                "an answer that is not the API's usual OK")
        return Reply(status, "UNEXPECTED_ANSWER", f"the API answered {status} with {what}")
    details = []
    for item in envelope.get(contract.ERRORS) or []:
        if isinstance(item, dict) and item.get(contract.FIELD_NAME):
            name = shown(item[contract.FIELD_NAME], 60)
            text = clip(shown(item.get(contract.MESSAGE) or ""), 200)
            details.append(f"{name}: {text}" if text else name)
    if not message:
        message = (f"the API refused it ({status} {reason})" if status < 500 else
                   f"the API had a problem ({status} {reason})")
        if payload is None:
            message += " and its answer was not JSON"
    message = clip(shown(message), 300)
    if details:
        message = f"{message} ({'; '.join(details)})"
    return Reply(status, shown(code, 60) or f"HTTP_{status}", message)
