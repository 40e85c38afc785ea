"""Purchase knobs: slow answers and commits, listing lag, gateway 503s, junk 200s, rebuy,
the account purchase path and where NumberBlockSid is read from."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from importer.sandbox import (
    DEMO_ACCOUNT_SID,
    DEMO_AUTH_TOKEN,
    OTHER_ACCOUNT_SID,
    OTHER_AUTH_TOKEN,
    Knobs,
    SandboxServer,
    inventory_sid,
)

from .helpers import (
    OWNED_BLOCK,
    Api,
    assert_error,
    assert_field_error,
    assert_ok,
    eventually,
    sids,
)

NB, NB2 = inventory_sid(0), inventory_sid(1)
PATH = "/v2/Properties/PRDEMO0001/NumberBlocks"
ACC = {"AccountSid": DEMO_ACCOUNT_SID}


def _listed(api: Api, sid: str) -> bool:
    return sid in sids(api.listing(PageSize=1000))


def _in_thread(call):
    """Run ``call`` in a thread; returns (thread, result list)."""
    result: list = []
    thread = threading.Thread(target=lambda: result.append(call()))
    thread.start()
    return thread, result


def test_answer_after_delays_every_purchase_answer_not_the_commit(api, sandbox):
    sandbox.knobs.answer_after_s = 0.3
    other = api.as_account(DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN)
    start = time.monotonic()
    thread, result = _in_thread(lambda: api.purchase(NB))
    eventually(lambda: other.sales() == {NB: 1})
    assert thread.is_alive() and _listed(other, NB)  # committed at once, answered later
    thread.join()
    assert_ok(result[0])
    assert time.monotonic() - start >= 0.3
    start = time.monotonic()
    assert_field_error(api.purchase(NB2, answer_point=None), "AnswerPoint", "PARAMETER_REQUIRED")
    assert time.monotonic() - start >= 0.3  # refusals come as late
    start = time.monotonic()
    assert_ok(api.listing())
    assert time.monotonic() - start < 0.2  # only purchases


def test_commit_after_the_answer_reserves_then_lands(api, sandbox):
    sandbox.knobs.commit_after_s = 0.4
    assert_ok(api.purchase(NB))
    assert api.sales() == {} and not _listed(api, NB)  # answered before the commit
    assert api.block(NB)["AccountSid"] is None
    assert_error(api.purchase(NB), 403, "NUMBER_BLOCK_NOT_AVAILABLE")  # reserved: refused now
    assert_error(api.configure(NB, **ACC, Source="x"), 403, "FORBIDDEN")  # not owned yet
    eventually(lambda: api.sales() == {NB: 1})
    assert _listed(api, NB) and api.requests_named() == {NB: 2}
    assert_ok(api.configure(NB, **ACC, Source="x"))


def test_commit_lands_after_the_client_gave_up(api, sandbox):
    sandbox.knobs.answer_after_s = 0.8
    sandbox.knobs.commit_after_s = 0.4
    body = {"NumberBlockSid": NB, "AnswerPoint": "0412345678"}
    with pytest.raises(requests.exceptions.ReadTimeout):
        api.session.post(api.url(PATH), json=body, timeout=0.1)
    checker = Api(sandbox, DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN)
    try:
        assert checker.sales() == {} and not _listed(checker, NB)  # looked up too early
        assert eventually(lambda: _listed(checker, NB)) < 0.6  # before any answer would come
        assert checker.sales() == {NB: 1}
    finally:
        checker.close()


def test_pending_commits_land_when_the_server_stops():
    server = SandboxServer(knobs=Knobs(commit_after_s=30)).start()
    client = Api(server, DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN)
    try:
        assert_ok(client.purchase(NB))
        assert client.sales() == {}
    finally:
        client.close()
        start = time.monotonic()
        server.stop()
    assert time.monotonic() - start < 3
    assert server.purchase_counts() == {NB: 1} and server.purchase_requests() == {NB: 1}


def test_listing_lag_hides_a_sold_block_for_a_while(api, sandbox):
    sandbox.knobs.listing_lag_s = 0.4
    assert_ok(api.purchase(NB, Campaign="lagging"))
    assert api.sales() == {NB: 1}
    assert not _listed(api, NB)
    assert sids(api.search("lagging", PropertySid="PRDEMO0001")) == []
    assert NB not in sids(api.account_listing(PageSize=1000))
    assert _listed(api, OWNED_BLOCK)  # old sales are not hidden
    assert_error(api.purchase(NB), 403, "NUMBER_BLOCK_NOT_AVAILABLE")  # owned all the same
    assert_ok(api.configure(NB, **ACC, Source="during-lag"))
    assert eventually(lambda: _listed(api, NB)) > 0
    assert sids(api.search("lagging", PropertySid="PRDEMO0001")) == [NB]


def test_slow_commit_then_lag(api, sandbox):
    sandbox.knobs.commit_after_s = 0.2
    sandbox.knobs.listing_lag_s = 0.3
    assert_ok(api.purchase(NB))
    eventually(lambda: api.sales() == {NB: 1})
    assert not _listed(api, NB)  # committed, not yet listed
    eventually(lambda: _listed(api, NB))


def test_fail_after_commit_sells_then_answers_a_gateway_503(api, sandbox):
    sandbox.knobs.fail_after_commit_rate = 1.0
    response = api.purchase(NB)
    assert response.status_code == 503
    assert response.headers["Content-Type"].startswith("text/html")
    assert "<html>" in response.text and "Retry-After" not in response.headers
    assert api.sales() == {NB: 1} and _listed(api, NB)
    assert_error(api.purchase(NB2, answer_point="x"), 400, "INVALID_PARAMETER")  # refusals: JSON
    assert_ok(api.configure(OWNED_BLOCK, **ACC, Source="x"))  # a purchase-only fault


def test_fail_after_commit_with_a_slow_commit(api, sandbox):
    sandbox.knobs.fail_after_commit_rate = 1.0
    sandbox.knobs.commit_after_s = 0.2
    assert api.purchase(NB).status_code == 503
    assert api.sales() == {}
    eventually(lambda: api.sales() == {NB: 1})


def test_junk_success_does_nothing(api, sandbox):
    sandbox.knobs.junk_success_rate = 1.0
    before = api.block(OWNED_BLOCK)
    kinds = set()
    for i in range(8):
        for response in (api.purchase(inventory_sid(i)),
                         api.configure(OWNED_BLOCK, **ACC, Source="junk")):
            assert response.status_code == 200
            if response.content:
                assert response.headers["Content-Type"].startswith("text/html")
                assert "<html>" in response.text
                kinds.add("html")
            else:
                kinds.add("empty")
    assert kinds == {"html", "empty"}
    assert api.sales() == {} and api.block(OWNED_BLOCK) == before
    assert assert_ok(api.listing())["TotalCount"] == 100  # reads are not affected


def _junk_pattern(seed: int) -> list[int]:
    with SandboxServer(knobs=Knobs(junk_success_rate=0.5, seed=seed)) as server:
        client = Api(server, DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN)
        try:
            return [len(client.configure(OWNED_BLOCK, **ACC).content) for _ in range(30)]
        finally:
            client.close()


def test_junk_is_deterministic_under_seed():
    first = _junk_pattern(5)
    assert len(set(first)) == 3  # OK envelope, HTML page, empty body
    assert _junk_pattern(5) == first
    assert _junk_pattern(6) != first


def test_rebuy_sells_again_and_counts_every_sale(api, sandbox):
    sandbox.knobs.rebuy = True
    assert_ok(api.purchase(NB))
    assert_ok(api.purchase(NB))  # to its owner, again
    assert_ok(api.purchase(OWNED_BLOCK))  # a pre-owned block
    other = api.as_account(OTHER_ACCOUNT_SID, OTHER_AUTH_TOKEN)
    assert_ok(other.purchase(NB, prop="PROTHER0001"))
    assert api.sales() == {NB: 3, OWNED_BLOCK: 1}
    assert api.block(NB)["AccountSid"] == OTHER_ACCOUNT_SID and not _listed(api, NB)
    sandbox.knobs.rebuy = False
    assert_error(api.purchase(OWNED_BLOCK), 403, "NUMBER_BLOCK_NOT_AVAILABLE")


def test_rebuy_during_a_slow_commit_counts_both(api, sandbox):
    sandbox.knobs.rebuy = True
    sandbox.knobs.commit_after_s = 0.2
    assert_ok(api.purchase(NB))
    assert_ok(api.purchase(NB))
    assert api.sales() == {}
    eventually(lambda: api.sales() == {NB: 2})


def test_account_purchase_path_can_be_missing(api, sandbox):
    sandbox.knobs.account_purchase_path = False
    body = {"NumberBlockSid": NB, "AnswerPoint": "0412345678"}
    assert_error(api.post("/v2/Accounts/ACDEMO0001/NumberBlocks", body), 404, "NOT_FOUND")
    assert api.sales() == {} and api.requests_named() == {NB: 1}  # received, all the same
    assert_ok(api.account_listing())  # the listing on that path still exists
    response = api.session.delete(api.url("/v2/Accounts/ACDEMO0001/NumberBlocks"))
    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["Allow"] == "GET"
    assert_ok(api.purchase(NB))  # the property path is unaffected
    sandbox.knobs.account_purchase_path = True
    assert_ok(api.post("/v2/Accounts/ACDEMO0001/NumberBlocks", {**body, "NumberBlockSid": NB2}))


def _buy(api: Api, body_sid: str | None, query_sid: str | None) -> requests.Response:
    body = {"AnswerPoint": "0412345678"}
    if body_sid is not None:
        body["NumberBlockSid"] = body_sid
    params = {"NumberBlockSid": query_sid} if query_sid is not None else None
    return api.post(PATH, body, params=params)


@pytest.mark.parametrize(
    ("source", "body_sid", "query_sid", "sold"),
    [
        ("body", NB, None, NB),
        ("body", None, NB, None),
        ("body", NB, NB2, NB),  # the query is not read
        ("query", None, NB, NB),
        ("query", NB, None, None),
        ("query", NB2, NB, NB),  # the body's Sid is not read
        ("either", NB, None, NB),
        ("either", None, NB, NB),
        ("either", NB, NB, NB),
        ("either", None, None, None),
    ],
)
def test_purchase_sid_from(api, sandbox, source, body_sid, query_sid, sold):
    sandbox.knobs.purchase_sid_from = source
    response = _buy(api, body_sid, query_sid)
    if sold is None:
        message = assert_field_error(response, "NumberBlockSid", "PARAMETER_REQUIRED")
        assert {"body": "JSON body", "query": "query parameter"}.get(source, "or") in message
        assert api.sales() == {}
    else:
        assert_ok(response)
        assert api.sales() == {sold: 1}


def test_purchase_sid_from_either_refuses_two_different_sids(api, sandbox):
    sandbox.knobs.purchase_sid_from = "either"
    response = _buy(api, NB, NB2)
    assert_field_error(response, "NumberBlockSid", "CONFLICTING_PARAMETERS")
    assert api.sales() == {} and api.requests_named() == {NB: 1, NB2: 1}


def test_purchase_requests_count_every_request_that_named_a_block(api, sandbox):
    anonymous = api.as_account("", None)
    assert_error(anonymous.purchase(NB), 401, "UNAUTHORIZED")
    sandbox.knobs.throttle_rps = 0.5
    api.purchase(NB)
    assert_error(api.purchase(NB), 429, "TOO_MANY_REQUESTS")
    sandbox.knobs.throttle_rps = None
    api.post(PATH, data="{broken", headers={"Content-Type": "application/json"})  # names none
    api.post(PATH, params={"NumberBlockSid": NB2})  # named in the query: counted, not read
    assert api.requests_named() == {NB: 3, NB2: 1}
    assert sandbox.purchase_requests() == {NB: 3, NB2: 1}
    assert api.sales() == {NB: 1}


def test_knob_values_are_checked():
    with pytest.raises(ValueError, match="listing_fault"):
        Knobs(listing_fault="sometimes")
    knobs = Knobs()
    with pytest.raises(ValueError, match="purchase_sid_from"):
        knobs.purchase_sid_from = "header"
    with pytest.raises(ValueError, match="page_size_cap"):
        knobs.page_size_cap = 0
    knobs.listing_fault = "shift"
    knobs.listing_fault = None
