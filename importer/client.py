"""The API client: one requests.Session, HTTP Basic, urllib3 Retry policies, the error envelope.

Retrying is the adapters' job, never a loop here. Two policies share the session, chosen by path:
configure (`/v2/numberblocks/...`) is idempotent, so read timeouts and 500/502/504 are retried;
everything else retries only what cannot have reached the server's logic (connection failures,
429/503 throttling). A purchase whose fate is unknown comes back as an ambiguous Reply for the
pipeline to settle by looking the block up.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import NewConnectionError
from urllib3.util.retry import Retry

from importer import __version__
from importer.errors import UsageError
from importer.operations import LIST_PATHS

THROTTLED = frozenset({429, 503})
SERVER_ERRORS = frozenset({500, 502, 504})
TRANSIENT = THROTTLED | SERVER_ERRORS
# 403 codes that are about the credentials themselves, not about the row: every row would fail.
CREDENTIAL_CODES = frozenset({"PERMISSION_DENIED", "UNAUTHORIZED", "ACCOUNT_DISABLED",
                              "ACCOUNT_SUSPENDED", "INSUFFICIENT_PERMISSIONS"})
MAX_RETRY_AFTER = 60.0
LIST_PAGE_SIZE = 500


@dataclass(frozen=True)
class Credentials:
    base_url: str
    account_sid: str
    auth_token: str

    def __repr__(self) -> str:  # never show the token, even in a debugger or a traceback
        return f"Credentials(base_url={self.base_url!r}, account_sid={self.account_sid!r})"


@dataclass(frozen=True)
class Reply:
    """One request's end: an HTTP answer, or none (status None) with the reason."""

    status: int | None
    error_code: str = ""
    message: str = ""
    ambiguous: bool = False  # it may have reached the server: the outcome is not known

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def fatal(self) -> bool:
        """The credentials are refused: stop, every further row would fail the same way."""
        return self.status == 401 or (self.status == 403 and self.error_code in CREDENTIAL_CODES)

    @property
    def transient(self) -> bool:
        return self.status is None or self.status in TRANSIENT


class _Retry(Retry):
    """Retry's rules, plus: a throttled request (429/503) was refused, so any method may retry."""

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if status_code in THROTTLED and self.total:
            return True
        return super().is_retry(method, status_code, has_retry_after)

    def get_retry_after(self, response) -> float | None:  # type: ignore[no-untyped-def]
        seconds = super().get_retry_after(response)
        return None if seconds is None else min(seconds, MAX_RETRY_AFTER)


def retry_policy(idempotent_post: bool, attempts: int = 5, backoff: float = 0.5) -> Retry:
    """Bounded attempts, exponential backoff with jitter, Retry-After honoured (capped)."""
    methods = {"GET", "POST"} if idempotent_post else {"GET"}
    return _Retry(
        total=attempts, connect=attempts, read=attempts, status=attempts, other=0,
        allowed_methods=frozenset(methods),
        status_forcelist=TRANSIENT,
        backoff_factor=backoff, backoff_max=10.0, backoff_jitter=backoff,
        respect_retry_after_header=True, raise_on_status=False, raise_on_redirect=True,
    )


def check_base_url(url: str) -> str:
    """Refuse URLs that would leak credentials: plain http off loopback, or user:pass@ in URL."""
    parts = urlsplit(url.strip().rstrip("/"))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"API base URL {url!r} is not an http(s) URL")
    if parts.username or parts.password:
        raise UsageError("put credentials in IMPORTER_ACCOUNT_SID / IMPORTER_AUTH_TOKEN, "
                         "not in the base URL")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise UsageError(f"refusing to send credentials over plain http to {parts.hostname}; "
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
        self.timeout = timeout
        self.session = requests.Session()
        self.session.auth = (credentials.account_sid, credentials.auth_token)
        self.session.headers.update({"Accept": "application/json",
                                     "User-Agent": f"number-block-importer/{__version__}"})
        self.session.mount(self.base_url + "/", HTTPAdapter(
            max_retries=retry_policy(False, attempts, backoff)))
        self.session.mount(self.base_url + "/v2/numberblocks/", HTTPAdapter(
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

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[Reply, dict]:
        """One call through the retry policy; the parsed JSON body comes back for listings."""
        self._pace()
        try:
            response = self.session.request(method, self.base_url + path, json=body,
                                            timeout=self.timeout, allow_redirects=False)
        except requests.RequestException as exc:
            return _no_answer(exc), {}
        try:
            payload = response.json()
        except ValueError:
            payload = {}
        if not isinstance(payload, dict):
            payload = {}
        return _reply(response.status_code, payload, response.reason), payload

    def post(self, path: str, body: dict) -> Reply:
        return self.request("POST", path, body)[0]

    def owned_pages(self, sid_field: str, sid: str) -> Iterator[tuple[Reply, list[str]]]:
        """The Sids of the blocks a property/account owns, page by page (stop early at will)."""
        path = LIST_PATHS[sid_field].format(sid=quote(sid, safe=""))
        index, seen = 0, 0
        while True:
            reply, payload = self.request(
                "GET", f"{path}?PageIndex={index}&PageSize={LIST_PAGE_SIZE}")
            if not reply.ok:
                yield reply, []
                return
            blocks = payload.get("NumberBlocks") or []
            sids = [str(b.get("NumberBlockSid")) for b in blocks if isinstance(b, dict)]
            yield reply, sids
            seen += len(sids)
            if not sids or seen >= int(payload.get("TotalCount") or 0):
                return
            index += 1


def _no_answer(exc: requests.RequestException) -> Reply:
    """No HTTP answer. It is ambiguous unless the connection was never made."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, NewConnectionError | requests.ConnectTimeout):
            return Reply(None, "CONNECTION_FAILED", f"could not connect to the API ({_short(exc)})")
        reason = getattr(cause, "reason", None)
        cause = reason if isinstance(reason, BaseException) else cause.__context__
    if isinstance(exc, requests.ReadTimeout):
        return Reply(None, "TIMEOUT", "no answer from the API in time", ambiguous=True)
    return Reply(None, "CONNECTION_LOST",
                 f"the connection was lost before an answer came ({_short(exc)})", ambiguous=True)


def _short(exc: BaseException) -> str:
    text = str(exc)
    return text if len(text) < 160 else text[:157] + "..."


def _reply(status: int, payload: dict, reason: str) -> Reply:
    """Parse the documented envelope; per-field Errors are folded into the message."""
    envelope = payload.get("ResponseStatus") if isinstance(payload, dict) else None
    envelope = envelope if isinstance(envelope, dict) else {}
    code = str(envelope.get("ErrorCode") or "")
    message = str(envelope.get("Message") or reason or "")
    details = [
        ": ".join(str(e.get(k)) for k in ("FieldName", "Message") if e.get(k))
        for e in envelope.get("Errors") or [] if isinstance(e, dict)
    ]
    if details:
        message = f"{message} ({'; '.join(d for d in details if d)})"
    if not code and status >= 400:
        code = f"HTTP_{status}"
    return Reply(status, code, message, ambiguous=status in SERVER_ERRORS)
