"""Owned-block listings: GET /v2/Properties|Accounts/{sid}/numberblocks with paging."""

from __future__ import annotations

import pytest

from importer.sandbox import (
    OTHER_ACCOUNT_SID,
    PREOWNED_DEMO_BLOCKS,
    READONLY_ACCOUNT_SID,
    READONLY_AUTH_TOKEN,
    inventory_sid,
)

from .helpers import assert_error, assert_ok


def _sids(response) -> list[str]:
    return [b["NumberBlockSid"] for b in assert_ok(response)["NumberBlocks"]]


def test_default_page(api):
    body = assert_ok(api.listing())
    assert body["TotalCount"] == len(PREOWNED_DEMO_BLOCKS) == 100
    assert [b["NumberBlockSid"] for b in body["NumberBlocks"]] == list(PREOWNED_DEMO_BLOCKS[:50])
    first = body["NumberBlocks"][0]
    assert (first["AccountSid"], first["PropertySid"]) == ("ACDEMO0001", "PRDEMO0001")
    assert first["AnswerPoint"].startswith("+61")


def test_pages_cover_everything_once_sorted(api):
    bought = [inventory_sid(i) for i in (5, 2, 9)]
    for sid in bought:
        assert_ok(api.purchase(sid))
    seen: list[str] = []
    for index in range(12):
        body = assert_ok(api.listing(PageIndex=index, PageSize=9))
        assert body["TotalCount"] == 103
        seen += [b["NumberBlockSid"] for b in body["NumberBlocks"]]
    assert seen == sorted(PREOWNED_DEMO_BLOCKS + tuple(bought))
    assert _sids(api.listing(PageIndex=12, PageSize=9)) == []  # past the end: empty page
    assert len(_sids(api.listing(PageSize=1000))) == 103


def test_property_and_account_scopes(api):
    assert_ok(
        api.post(
            "/v2/Accounts/ACDEMO0001/NumberBlocks",
            {"NumberBlockSid": inventory_sid(0), "AnswerPoint": "0412345678"},
        )
    )
    assert_ok(api.purchase(inventory_sid(1), prop="PRDEMO0002"))
    assert _sids(api.listing(prop="PRDEMO0002")) == [inventory_sid(1)]
    assert _sids(api.listing(prop="PRDEMO0005")) == []
    body = assert_ok(api.get("/v2/Accounts/ACDEMO0001/numberblocks", params={"PageSize": 1000}))
    assert body["TotalCount"] == 102
    listed = {b["NumberBlockSid"] for b in body["NumberBlocks"]}
    assert {inventory_sid(0), inventory_sid(1)} <= listed
    assert assert_ok(api.listing(PageSize=1000))["TotalCount"] == 100  # account-level not here


@pytest.mark.parametrize(
    ("params", "items"),
    [
        ({"PageIndex": -1}, {"PageIndex": "INVALID_VALUE"}),
        ({"PageIndex": "x"}, {"PageIndex": "INVALID_TYPE"}),
        ({"PageIndex": "1.5"}, {"PageIndex": "INVALID_TYPE"}),
        ({"PageSize": 0}, {"PageSize": "INVALID_VALUE"}),
        ({"PageSize": 1001}, {"PageSize": "INVALID_VALUE"}),
        ({"PageSize": ""}, {"PageSize": "INVALID_TYPE"}),
        (
            {"PageIndex": -2, "PageSize": 5000},
            {"PageIndex": "INVALID_VALUE", "PageSize": "INVALID_VALUE"},
        ),
    ],
)
def test_bad_paging(api, params, items):
    assert assert_error(api.listing(**params), 400, "VALIDATION_ERROR") == items


def test_listing_existence_and_ownership(api):
    assert_error(api.listing(prop="PRNOPE"), 400, "PROPERTY_NOT_FOUND")
    assert_error(api.listing(prop="PROTHER0001"), 403, "FORBIDDEN")
    assert_error(api.get("/v2/Accounts/ACNOPE/numberblocks"), 400, "ACCOUNT_NOT_FOUND")
    assert_error(api.get(f"/v2/Accounts/{OTHER_ACCOUNT_SID}/numberblocks"), 403, "FORBIDDEN")


def test_readonly_account_can_list_its_nothing(api):
    readonly = api.as_account(READONLY_ACCOUNT_SID, READONLY_AUTH_TOKEN)
    body = assert_ok(readonly.get(f"/v2/Accounts/{READONLY_ACCOUNT_SID}/numberblocks"))
    assert body["NumberBlocks"] == [] and body["TotalCount"] == 0
