"""Settings shared by both shells: the config file, the credentials, the spend question.

Flags (or what a person types in the web page) beat the environment, which beats the config
file. The config file lives where each system keeps such files (platformdirs); the path the
first version used is still read.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

import platformdirs

from importer.errors import UsageError
from importer.sending.client import Credentials
from importer.spec import contract
from importer.text import redact_url, shown

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
    try:
        return tomllib.loads(found.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{shown(found)}: cannot read the config file", str(exc)) from exc


def allowed_prefixes(config: dict[str, Any], given: str | None = None) -> tuple[str, ...]:
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
    return Credentials(url, sid, str(token))


def address_and_sid(config: dict[str, Any], base_url: str | None = None,
                    account_sid: str | None = None) -> tuple[str, str]:
    """The API address and AccountSid as `credentials` finds them ('' when no Sid is set):
    what the web page offers when the token is still to be typed."""
    env = os.environ
    url = base_url or env.get("IMPORTER_BASE_URL") or config.get("base_url") or contract.BASE_URL
    sid = account_sid or env.get("IMPORTER_ACCOUNT_SID") or config.get("account_sid") or ""
    return str(url), str(sid)


def scope_of(credentials: Credentials) -> str:
    """What "already done" refers to in the journal: the API and the account."""
    return f"{credentials.base_url.rstrip('/').lower()}:{credentials.account_sid}"


def spend_question(purchases: int, credentials: Credentials) -> str:
    """The confirmation asked before buying, in the terminal and in the web page alike."""
    return (f"This will BUY up to {purchases} number block{'s' * (purchases != 1)} on "
            f"{redact_url(credentials.base_url)} as {shown(credentials.account_sid)}.")
