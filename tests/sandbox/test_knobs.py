"""Fault knobs: latency, fail_rate, drop_rate, throttle_rps and seed determinism."""

from __future__ import annotations

import time

import pytest
import requests

from importer.sandbox import Knobs, SandboxServer, inventory_sid

from .helpers import OWNED_BLOCK, Api, assert_error, assert_ok


def test_latency_is_measurable(api, sandbox):
    sandbox.knobs.latency_ms = 120
    start = time.perf_counter()
    assert_ok(api.listing(PageSize=1))
    assert time.perf_counter() - start >= 0.12
    start = time.perf_counter()
    api.inspect("/_sandbox/stats")  # inspection is not subject to knobs
    assert time.perf_counter() - start < 0.1


def test_fail_rate_one_fails_everything_and_changes_nothing(api, sandbox):
    sandbox.knobs.fail_rate = 1.0
    before = api.block(OWNED_BLOCK)
    assert_error(api.purchase(inventory_sid(0)), 500, "INTERNAL_ERROR")
    assert_error(
        api.configure(OWNED_BLOCK, AccountSid="ACDEMO0001", Source="x"), 500, "INTERNAL_ERROR"
    )
    assert_error(api.listing(), 500, "INTERNAL_ERROR")
    assert_error(api.purchase(inventory_sid(0), answer_point="bad"), 500, "INTERNAL_ERROR")
    assert api.inspect("/_sandbox/purchases") == {"Purchases": {}}
    assert api.block(inventory_sid(0))["AccountSid"] is None
    assert api.block(OWNED_BLOCK) == before
    sandbox.knobs.fail_rate = 0.0
    assert_ok(api.purchase(inventory_sid(0)))


def test_fail_rate_comes_after_auth(api, sandbox):
    sandbox.knobs.fail_rate = 1.0
    assert_error(api.as_account("ACDEMO0001", "bad").listing(), 401, "UNAUTHORIZED")


def test_drop_rate_commits_then_closes_connection(api, sandbox):
    sandbox.knobs.drop_rate = 1.0
    nb = inventory_sid(0)
    with pytest.raises(requests.exceptions.ConnectionError):
        api.purchase(nb)
    assert api.inspect("/_sandbox/purchases") == {"Purchases": {nb: 1}}
    assert sandbox.purchase_counts() == {nb: 1}
    assert api.block(nb)["AccountSid"] == "ACDEMO0001"
    with pytest.raises(requests.exceptions.ConnectionError):
        api.configure(OWNED_BLOCK, AccountSid="ACDEMO0001", Source="dropped")
    assert api.block(OWNED_BLOCK)["Source"] == "dropped"
    # rejected and read-only requests still get an answer
    assert_error(api.purchase(nb), 403, "NUMBER_BLOCK_NOT_AVAILABLE")
    assert_ok(api.listing(PageSize=1))
    sandbox.knobs.drop_rate = 0.0
    assert_ok(api.purchase(inventory_sid(1)))  # the same Session recovers


def test_throttle_answers_429_with_retry_after(api, sandbox):
    sandbox.knobs.throttle_rps = 3
    codes = [api.listing(PageSize=1).status_code for _ in range(8)]
    assert codes[:3] == [200, 200, 200]
    assert 429 in codes
    response = api.listing(PageSize=1)
    assert_error(response, 429, "TOO_MANY_REQUESTS")
    assert response.headers["Retry-After"] == "1"
    assert_error(api.purchase(inventory_sid(0)), 429, "TOO_MANY_REQUESTS")  # POSTs too
    time.sleep(0.4)  # ~1.2 tokens back
    assert_ok(api.listing(PageSize=1))
    sandbox.knobs.throttle_rps = None
    assert all(api.listing(PageSize=1).status_code == 200 for _ in range(10))
    assert api.inspect("/_sandbox/purchases") == {"Purchases": {}}


def test_fractional_throttle_has_burst_of_one(api, sandbox):
    sandbox.knobs.throttle_rps = 0.5
    assert [api.listing(PageSize=1).status_code for _ in range(3)] == [200, 429, 429]


def _fail_pattern(knobs: Knobs, n: int = 40) -> list[int]:
    with SandboxServer(knobs=knobs) as server:
        client = Api(server, server.account_sid, server.auth_token)
        try:
            return [client.listing(PageSize=1).status_code for _ in range(n)]
        finally:
            client.close()


def test_seed_makes_failures_deterministic():
    first = _fail_pattern(Knobs(fail_rate=0.5, seed=7))
    assert set(first) == {200, 500}
    assert _fail_pattern(Knobs(fail_rate=0.5, seed=7)) == first
    assert _fail_pattern(Knobs(fail_rate=0.5, seed=8)) != first


def test_changing_seed_at_runtime_restarts_the_sequence(api, sandbox):
    sandbox.knobs.fail_rate = 0.5
    sandbox.knobs.seed = 3
    first = [api.listing(PageSize=1).status_code for _ in range(20)]
    sandbox.knobs.seed = 99
    second = [api.listing(PageSize=1).status_code for _ in range(20)]
    sandbox.knobs.seed = 3
    third = [api.listing(PageSize=1).status_code for _ in range(20)]
    assert third == first
    assert second != first


def test_drop_comes_when_the_slow_answer_would(api, sandbox):
    sandbox.knobs.drop_rate = 1.0
    sandbox.knobs.answer_after_s = 0.3
    start = time.perf_counter()
    with pytest.raises(requests.exceptions.ConnectionError):
        api.purchase(inventory_sid(0))
    assert time.perf_counter() - start >= 0.3
    assert api.inspect("/_sandbox/purchases") == {"Purchases": {inventory_sid(0): 1}}
