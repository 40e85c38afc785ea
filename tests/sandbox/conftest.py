"""Fixtures: a fresh sandbox per test on port 0 (cheap), and a demo-account client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from importer.sandbox import DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, SandboxServer

from .helpers import Api


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    server = SandboxServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def api(sandbox: SandboxServer) -> Iterator[Api]:
    client = Api(sandbox, DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN)
    try:
        yield client
    finally:
        client.close()
