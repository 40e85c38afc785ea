"""Shared fixtures: a real sandbox over HTTP on port 0, real files, the real CLI entry point."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from importer.sandbox import SandboxServer
from importer.spec import contract
from tests.pg import PgServer, running_server


@pytest.fixture(autouse=True)
def state_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Locks and the purchase ledger live in a folder of the test's own, never the user's."""
    path = tmp_path_factory.mktemp("state")
    monkeypatch.setenv("IMPORTER_STATE_DIR", str(path))
    return path


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer() as server:
        yield server


@pytest.fixture
def api_env(sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> SandboxServer:
    """Point the importer at the sandbox through the environment, as a user would."""
    monkeypatch.setenv("IMPORTER_BASE_URL", sandbox.base_url)
    monkeypatch.setenv("IMPORTER_ACCOUNT_SID", sandbox.account_sid)
    monkeypatch.setenv("IMPORTER_AUTH_TOKEN", sandbox.auth_token)
    monkeypatch.setenv("IMPORTER_CONFIG", "/nonexistent/importer-test-config.toml")
    return sandbox


@pytest.fixture
def fast_settling(monkeypatch: pytest.MonkeyPatch) -> None:
    """For tests of the settling logic, whose sandbox lags a listing by a second or two at
    most (its knobs say so): the settle window's floor is scaled down with those lags, so a
    window shorter than a lag can be rehearsed in seconds. tests/test_settle_floor.py runs the
    real floor (contract.settle_floor) against a sandbox lagging 5 s."""
    monkeypatch.setattr(contract, "settle_floor", lambda timeout: 0.25)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """One PostgreSQL server for this test process (see tests/pg.py)."""
    with running_server() as server:
        yield server


@pytest.fixture
def state_url(pg_server: PgServer) -> str:
    """A fresh shared store: a database of the test's own on the test process's server."""
    return pg_server.url(pg_server.new_database())
