"""Settings shared by both shells: the config file, the credentials, the spend question.

Flags (or what a person types in the web page) beat the environment, which beats the config
file. The config file lives where each system keeps such files (platformdirs); the path the
first version used is still read.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import platformdirs

from importer.errors import UsageError
from importer.sending.db import is_postgres
from importer.spec import contract
from importer.text import did_you_mean, redact_url, shorten, shown

if TYPE_CHECKING:  # the HTTP client (requests) only for the commands that send
    from importer.sending.client import Credentials

APP = "number-block-importer"
CONFIG_FILES = tuple(dict.fromkeys([
    platformdirs.user_config_path(APP, appauthor=False) / "config.toml",
    Path("~/.config/number-block-importer/config.toml").expanduser(),  # read by 0.1 too
]))


def load_config(path: Path | None = None) -> dict[str, Any]:
    """The TOML config: `path`, $IMPORTER_CONFIG, else this system's config folder."""
    named = path or (Path(os.environ["IMPORTER_CONFIG"]).expanduser()
                     if os.environ.get("IMPORTER_CONFIG") else None)
    if named is not None and not named.exists() and path is not None:
        raise UsageError(f"{shown(named)}: config file not found")
    found = named if named is not None else next((p for p in CONFIG_FILES if p.exists()), None)
    if found is None or not found.exists():
        return {}
    if found.is_dir():
        raise UsageError(f"{shown(found)}: is a folder, not a config file")
    try:
        data = tomllib.loads(found.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{shown(found)}: cannot read the config file", str(exc)) from exc
    check_config(data, found)
    return data


_PREFIX = re.compile(r"\d{1,6}")


def _prefix_list(value: Any) -> bool:
    items = value.split(",") if isinstance(value, str) else value
    return isinstance(items, list) and all(
        isinstance(i, str) and _PREFIX.fullmatch(i.strip()) for i in items if str(i).strip())


# Every key the config file may hold: how to tell a good value, and how to say what is expected.
KEYS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "base_url": (lambda v: isinstance(v, str) and bool(v.strip()),
                 "the API address as text, e.g. \"https://api.fonedynamics.com\""),
    "account_sid": (lambda v: isinstance(v, str) and bool(re.fullmatch(contract.SID_PATTERN, v)),
                    "an AccountSid in quotes (letters, digits, _ or -)"),
    "auth_token": (lambda v: isinstance(v, str) and bool(v) and v.isprintable(),
                   "the auth token in quotes"),
    "allowed_prefixes": (_prefix_list, 'prefixes in quotes, e.g. ["02", "03", "04"] or "02,03"'),
    "rate": (lambda v: isinstance(v, int | float) and not isinstance(v, bool) and v >= 0.1,
             "a number of requests a second, at least 0.1, e.g. 10"),
    "state_url": (lambda v: isinstance(v, str) and (not v.strip() or is_postgres(v)),
                  'a PostgreSQL address in quotes, e.g. "postgresql://importer@db.example/'
                  'importer" (or "" for this computer\'s state folder)'),
}


STATE_URL_ENV = "IMPORTER_STATE_URL"


def state_url(config: dict[str, Any], given: str | None = None) -> str:
    """Where the safety state lives: the flag, the environment, the config file ("": this
    computer's state folder). Checked here, before anything is read or sent."""
    url = (given if given is not None else os.environ.get(STATE_URL_ENV)
           or config.get("state_url") or "")
    if url.strip() and not is_postgres(url):
        raise UsageError("the state URL must be a PostgreSQL address, "
                         "postgresql://user@host/database (or empty for this computer's state "
                         f"folder), not {shorten(redact_url(url), 60)!r}")
    return url.strip()


def check_config(data: dict[str, Any], path: Path) -> None:
    """Known keys with values of the right kind, or one line naming the file, the key and what
    is expected (a token's value is never shown)."""
    for key, value in data.items():
        if key not in KEYS:
            near = did_you_mean(key.replace("-", "_"), list(KEYS))
            hint = f"did you mean {near}?" if near else f"the keys are {', '.join(KEYS)}"
            raise UsageError(f"{shown(path)}: unknown key {shorten(shown(key), 40)!r}; {hint}")
        good, expected = KEYS[key]
        if not good(value):
            secret = key in ("auth_token", "state_url")  # a URL may hold a password
            got = "" if secret else f", not {shorten(shown(repr(value)), 40)}"
            raise UsageError(f"{shown(path)}: {key} must be {expected}{got}")


def allowed_prefixes(config: dict[str, Any], given: str | None = None) -> tuple[str, ...]:
    """The flag's prefixes, else the config file's (checked there)."""
    if given and not _prefix_list(given):
        raise UsageError("--allowed-prefixes must be digits separated by commas, e.g. 02,03,04, "
                         f"not {shorten(shown(given), 40)!r}")
    prefixes = given.split(",") if given else config.get("allowed_prefixes", [])
    if isinstance(prefixes, str):
        prefixes = prefixes.split(",")
    return tuple(str(p).strip() for p in prefixes if str(p).strip())


def credentials(config: dict[str, Any], base_url: str | None = None,
                account_sid: str | None = None, auth_token: str | None = None
                ) -> Credentials | None:
    """Credentials from what was given, the environment, then the config file (None: none)."""
    url, sid = address_and_sid(config, base_url, account_sid)
    token = auth_token or os.environ.get("IMPORTER_AUTH_TOKEN") or config.get("auth_token")
    if not sid or not token:
        return None
    from importer.sending.client import Credentials

    return Credentials(url, sid, str(token))


def no_credentials(config: dict[str, Any], account_sid: str | None = None) -> UsageError:
    """What is missing, in words that fit what was given: the token alone when an AccountSid
    is known (from --account-sid, the environment or the file)."""
    _, sid = address_and_sid(config, account_sid=account_sid)
    if sid:
        return UsageError(f"no auth token for AccountSid {shown(sid, 40)}: set "
                          "IMPORTER_AUTH_TOKEN (or auth_token in the config file), or use "
                          "--sandbox")
    return UsageError("no credentials: set IMPORTER_ACCOUNT_SID and IMPORTER_AUTH_TOKEN (or "
                      "account_sid / auth_token in the config file), or use --sandbox")


def address_and_sid(config: dict[str, Any], base_url: str | None = None,
                    account_sid: str | None = None) -> tuple[str, str]:
    """The API address and AccountSid as `credentials` finds them ('' when no Sid is set):
    what the web page offers when the token is still to be typed."""
    env = os.environ
    url = base_url or env.get("IMPORTER_BASE_URL") or config.get("base_url") or contract.BASE_URL
    sid = account_sid or env.get("IMPORTER_ACCOUNT_SID") or config.get("account_sid") or ""
    return str(url), str(sid)


def scope_of(credentials: Credentials) -> str:
    """What "already done" refers to (journal, ledger, account lock): the account on the API's
    canonical origin, so two spellings of one address are one scope."""
    return scope_for(credentials.base_url, credentials.account_sid)


def scope_for(base_url: str, account_sid: str) -> str:
    return f"{canonical_origin(base_url)}:{account_sid}"


_DEFAULT_PORTS = {"http": 80, "https": 443}


def canonical_origin(url: str) -> str:
    """Scheme, lower-case host (every loopback name as one), port unless the default, path
    without dot or empty segments, lower case (paths are case-insensitive: contract "Paths").
    `https://API.fonedynamics.com:443/` and `https://api.fonedynamics.com` are one origin."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    try:
        host, port = (parts.hostname or "").rstrip("."), parts.port
    except ValueError:  # not a URL the client accepts anyway: the text itself, folded
        return url.strip().rstrip("/").lower()
    if host == "localhost" or _loopback_ip(host):
        host = "localhost"
    elif ":" in host:
        host = f"[{host}]"
    segments: list[str] = []
    for segment in parts.path.split("/"):
        if segment == "..":
            segments = segments[:-1]
        elif segment not in ("", "."):
            segments.append(segment)
    path = "".join(f"/{s}" for s in segments)
    shown_port = f":{port}" if port is not None and port != _DEFAULT_PORTS.get(scheme) else ""
    return f"{scheme}://{host}{shown_port}{path}".lower()


def _loopback_ip(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def settle_window(given: float | None, timeout: float) -> float:
    """The settle window a run uses: as given (never shorter than a listing can be trusted
    for: refused in one line), or twice the timeout."""
    if given is None:
        return max(2 * timeout, contract.settle_floor(timeout))
    from importer.sending.tasks import check_settle_window

    return check_settle_window(given, timeout)


def spend_question(purchases: int, credentials: Credentials) -> str:
    """The confirmation asked before buying, in the terminal and in the web page alike."""
    return (f"This will BUY up to {purchases} number block{'s' * (purchases != 1)} on "
            f"{redact_url(credentials.base_url)} as {shown(credentials.account_sid)}.")
