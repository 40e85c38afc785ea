"""One run per rollout, and one buyer per account on this machine (OS file locks via filelock).

A rollout's journal is locked for the whole run: a second run on it (a double-click, an
overlapping schedule) is told at once who holds it, or waits. Purchases also take a lock per API
account in the user's state folder, so two different files cannot buy for one account at the
same moment; a ledger there remembers which blocks were sent for purchase and when, so a run
that starts right after another one bought a block does not trust a listing that may not show it
yet. The OS releases a lock when its process dies, so a killed run never leaves a stale one.
"""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import platformdirs
from filelock import FileLock, Timeout

from importer.errors import ImporterError
from importer.report import readable_time
from importer.text import shown

STATE_ENV = "IMPORTER_STATE_DIR"
POLL_SECONDS = 0.2


class Busy(ImporterError):
    """Someone else holds the lock (exit 2: nothing was done)."""


def state_dir() -> Path:
    """The user's state folder (platform convention), or $IMPORTER_STATE_DIR."""
    configured = os.environ.get(STATE_ENV)
    return Path(configured) if configured else platformdirs.user_state_path(
        "number-block-importer", appauthor=False)


def who() -> tuple[str, str]:
    """This computer and user, as the ledger and the locks name them."""
    try:
        user = getpass.getuser()
    except (OSError, KeyError):  # no login name (a container, a service)
        user = "?"
    return socket.gethostname(), user


def sandbox_state() -> Path:
    """The built-in sandbox's state: one per state folder, shared by `run --sandbox`, `export
    --sandbox` and `serve --sandbox`, so a rehearsal remembers (`importer sandbox --reset`)."""
    return state_dir() / "sandbox.sqlite"


def _info_path(lock_path: Path) -> Path:
    return lock_path.with_name(lock_path.name + ".json")


def _holder(lock_path: Path) -> str:
    """Who holds the lock, in words (best effort: the holder writes it after locking)."""
    try:
        info = json.loads(_info_path(lock_path).read_text(encoding="utf-8"))
        when = readable_time(str(info.get("started", "")))
        user = f"{shown(info['user'], 40)}'s " if info.get("user") else ""
        return (f"{user}process {int(info['pid'])} on {shown(info.get('host', '?'), 40)}, "
                f"started {when}, for {shown(info.get('what', '?'), 120)}")
    except (OSError, ValueError, KeyError, TypeError):
        return "a process that has just started or is ending"


@contextlib.contextmanager
def hold(lock_path: Path, what: str, busy: str, *, wait: bool = False,
         should_stop: Callable[[], bool] = lambda: False,
         notify: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold `lock_path` for the block. Busy (naming the holder) at once, or wait with `wait`.

    `busy` says what is locked ("this rollout"); `what` says who we are, for the next one."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(lock_path, thread_local=False)
    if not _acquire(lock, lock_path, 0):
        holder = _holder(lock_path)
        if not wait:
            raise Busy(f"another run is already using {busy} ({holder})")
        if notify:
            notify(f"waiting for another run using {busy} to finish ({holder})")
        while not _acquire(lock, lock_path, POLL_SECONDS):
            if should_stop():
                raise KeyboardInterrupt
    info = _info_path(lock_path)
    try:
        host, user = who()
        _write_json(info, {"pid": os.getpid(), "host": host, "user": user,
                           "started": time.strftime("%Y-%m-%dT%H:%M:%S"), "what": what})
        yield
    finally:
        with contextlib.suppress(OSError):
            info.unlink()
        lock.release()


def _acquire(lock: FileLock, path: Path, timeout: float) -> bool:
    try:
        lock.acquire(timeout=timeout)
    except Timeout:
        return False
    except OSError as exc:
        raise ImporterError(f"{shown(path)}: cannot create the lock file ({exc.strerror})",
                            str(exc)) from exc
    return True


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    os.replace(tmp, path)


def account_lock_path(scope: str) -> Path:
    """The lock of one API account on this machine (the scope names the API and the account)."""
    digest = hashlib.sha256(scope.encode()).hexdigest()[:24]
    return state_dir() / "accounts" / f"{digest}.lock"
