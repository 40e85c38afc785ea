"""Shared fixtures: a real sandbox over HTTP on port 0, real files, the real CLI entry point."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from importer.sandbox import SandboxServer


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
