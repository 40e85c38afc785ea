"""Auth, routing (case-insensitive paths, percent-encoded Sids), 404/405 and the envelope."""

from __future__ import annotations

import base64
import http.client
import json
from urllib.parse import urlsplit

import pytest

from importer.sandbox import (
    DEMO_ACCOUNT_SID,
    DEMO_AUTH_TOKEN,
    OTHER_ACCOUNT_SID,
    OTHER_AUTH_TOKEN,
    READONLY_ACCOUNT_SID,
    READONLY_AUTH_TOKEN,
    inventory_sid,
)

from .helpers import OTHER_BLOCK, OWNED_BLOCK, assert_error, assert_ok

NB = inventory_sid(0)
PURCHASE = {"NumberBlockSid": NB, "AnswerPoint": "0412345678"}


def _raw(server, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
    """http.client keeps the path byte for byte (requests would re-quote %50 to 'P')."""
    parts = urlsplit(server.base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    token = base64.b64encode(f"{DEMO_ACCOUNT_SID}:{DEMO_AUTH_TOKEN}".encode()).decode()
    headers = {"Authorization": f"Basic {token}", "Content-Type": "application/json"}
    try:
        conn.request(method, path, json.dumps(body) if body is not None else None, headers)
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("sid", "token"),
    [
        (None, None),
        (DEMO_ACCOUNT_SID, "wrong"),
        ("ACNOPE", DEMO_AUTH_TOKEN),
        (DEMO_ACCOUNT_SID, ""),
        (OTHER_ACCOUNT_SID, DEMO_AUTH_TOKEN),
    ],
)
def test_unauthorized_on_every_route(api, sid, token):
    client = api.as_account(sid or "", token)
    if sid is None:
        client.session.auth = None
    for response in (
        client.purchase(NB),
        client.configure(OWNED_BLOCK, AccountSid=DEMO_ACCOUNT_SID),
        client.listing(),
        client.get(f"/v2/Accounts/{DEMO_ACCOUNT_SID}/numberblocks"),
        client.search("Sydney", AccountSid=DEMO_ACCOUNT_SID),
    ):
        assert_error(response, 401, "UNAUTHORIZED")
        assert response.headers["WWW-Authenticate"].startswith("Basic")
    assert api.inspect("/_sandbox/purchases") == {"Purchases": {}}


def test_bearer_scheme_is_not_basic(api):
    anonymous = api.as_account("", None)
    response = anonymous.get(
        "/v2/Properties/PRDEMO0001/numberblocks",
        headers={"Authorization": f"Bearer {DEMO_AUTH_TOKEN}"},
    )
    assert_error(response, 401, "UNAUTHORIZED")


def test_readonly_account_cannot_post(api):
    """Read-only credentials changing something: the documented FORBIDDEN, before validation."""
    readonly = api.as_account(READONLY_ACCOUNT_SID, READONLY_AUTH_TOKEN)
    for response in (
        readonly.purchase(NB),
        readonly.post(f"/v2/Accounts/{READONLY_ACCOUNT_SID}/NumberBlocks", PURCHASE),
        readonly.configure(OWNED_BLOCK, AccountSid=DEMO_ACCOUNT_SID),
        readonly.post("/v2/numberblocks/NB999999", {"garbage": True}),  # before validation
    ):
        assert assert_error(response, 403, "FORBIDDEN") == []
        assert "not allowed to make changes" in response.json()["ResponseStatus"]["Message"]
    assert api.sales() == {}


def test_other_customer_is_forbidden_both_ways(api):
    other = api.as_account(OTHER_ACCOUNT_SID, OTHER_AUTH_TOKEN)
    assert_error(other.purchase(NB, prop="PRDEMO0001"), 403, "FORBIDDEN")
    assert_error(other.configure(OWNED_BLOCK, AccountSid=OTHER_ACCOUNT_SID), 403, "FORBIDDEN")
    assert_error(api.configure(OTHER_BLOCK, AccountSid=DEMO_ACCOUNT_SID), 403, "FORBIDDEN")
    assert_ok(other.configure(OTHER_BLOCK, AccountSid=OTHER_ACCOUNT_SID, Source="x"))


@pytest.mark.parametrize(
    "path",
    [
        "/v2/Properties/PRDEMO0001/NumberBlocks",
        "/v2/properties/PRDEMO0001/numberblocks",
        "/V2/PROPERTIES/PRDEMO0001/NUMBERBLOCKS",
        "/v2/pRoPeRtIeS/PRDEMO0001/NumberBLOCKS",
    ],
)
def test_paths_are_case_insensitive(api, path):
    assert_ok(api.post(path, PURCHASE))
    assert assert_ok(api.get(path))["TotalCount"] == 101


def test_configure_and_account_paths_case_insensitive(api):
    assert_ok(api.post(f"/v2/NumberBlocks/{OWNED_BLOCK}", {"AccountSid": DEMO_ACCOUNT_SID}))
    assert_ok(api.post(f"/V2/NUMBERBLOCKS/{OWNED_BLOCK}", {"AccountSid": DEMO_ACCOUNT_SID}))
    assert_ok(api.get("/v2/ACCOUNTS/ACDEMO0001/NumberBlocks"))


def test_percent_encoded_sids_are_decoded(sandbox):
    status, body = _raw(sandbox, "POST", "/v2/Properties/%50RDEMO0001/NumberBlocks", PURCHASE)
    assert status == 200, body
    status, body = _raw(
        sandbox,
        "POST",
        "/v2/numberblocks/%4EB100000",
        {"AccountSid": DEMO_ACCOUNT_SID, "Source": "enc"},
    )
    assert status == 200, body
    status, body = _raw(sandbox, "GET", "/v2/Accounts/ACDEMO%30001/numberblocks?PageSize=1")
    assert status == 200 and body["TotalCount"] == 101


def test_encoded_slash_stays_inside_the_sid(sandbox):
    status, body = _raw(
        sandbox, "POST", "/v2/numberblocks/NB%2F100000", {"AccountSid": DEMO_ACCOUNT_SID}
    )
    assert (status, body["ResponseStatus"]["ErrorCode"]) == (400, "NUMBER_BLOCK_NOT_FOUND")
    assert "NB/100000" in body["ResponseStatus"]["Message"]


@pytest.mark.parametrize(
    "path",
    [
        "/v2/Properties/PRDEMO0001",
        "/v2/NumberBlocks",
        "/v2/numberblocks/",
        "/v2",
        "/v2/Properties//NumberBlocks",
        "/v1/numberblocks/NB090000",
        "/nothing",
        "/v2/numberblocks/NB090000/extra",
        "/_sandbox/nothing",
    ],
)
def test_unknown_routes_404_envelope(api, path):
    assert_error(api.post(path, {}), 404, "NOT_FOUND")
    assert_error(api.get(path), 404, "NOT_FOUND")


def test_wrong_method_405_envelope(api):
    response = api.session.put(api.url(f"/v2/numberblocks/{OWNED_BLOCK}"))
    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["Allow"] == "GET, POST"  # GET is the search
    response = api.session.delete(api.url("/v2/Properties/PRDEMO0001/NumberBlocks"))
    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["Allow"] == "GET, POST"
    assert_error(api.post("/_sandbox/purchases", {}), 405, "METHOD_NOT_ALLOWED")


def test_error_order_auth_before_route_details(api):
    # 401 comes before validation and existence
    anonymous = api.as_account("", None)
    assert_error(
        anonymous.purchase("NB999999", prop="PRNOPE", answer_point="x"), 401, "UNAUTHORIZED"
    )
    # validation (400) comes before existence/ownership
    response = api.purchase("NB999999", prop="PROTHER0001", answer_point="x")
    assert assert_error(response, 400, "INVALID_PARAMETER") == ["AnswerPoint"]
