"""The search: GET /v2/numberblocks/{Text} with AccountSid or PropertySid, paged like a listing."""

from __future__ import annotations

import pytest

from importer.sandbox import OTHER_ACCOUNT_SID, OTHER_AUTH_TOKEN, inventory_sid

from .helpers import OTHER_BLOCK, OWNED_BLOCK, assert_error, assert_ok, sids

PROP = {"PropertySid": "PRDEMO0001"}
ACC = {"AccountSid": "ACDEMO0001"}


def test_search_finds_a_block_by_its_campaign(api):
    nb = inventory_sid(4)
    assert_ok(api.purchase(nb, Campaign="Spring-Sale-2025"))
    body = assert_ok(api.search("spring-SALE", **PROP))
    assert [b["NumberBlockSid"] for b in body["NumberBlocks"]] == [nb]
    assert body["TotalCount"] == 1
    assert body["NumberBlocks"][0] == api.block(nb)


@pytest.mark.parametrize("tag", ["Source", "Medium", "Campaign", "Content"])
def test_search_matches_each_tag(api, tag):
    assert_ok(api.configure(OWNED_BLOCK, **ACC, **{tag: f"needle-{tag}"}))
    assert sids(api.search(f"needle-{tag.lower()}", **ACC)) == [OWNED_BLOCK]
    assert sids(api.search("needle", **PROP)) == [OWNED_BLOCK]


def test_search_matches_number_name_and_friendly_name(api):
    block = api.block(OWNED_BLOCK)
    pattern, name, friendly = block["NumberPattern"], block["Name"], block["FriendlyName"]
    national = "0" + pattern[3:]  # as dialled in Australia: +61 412 ... -> 0412 ...
    for text in (pattern, national[:8], name, friendly):
        assert OWNED_BLOCK in sids(api.search(text, **PROP, PageSize=1000)), text
    assert sids(api.search(name, **PROP)) == [OWNED_BLOCK]


def test_search_does_not_match_the_sid(api):
    body = assert_ok(api.search(OWNED_BLOCK, **PROP))
    assert body["NumberBlocks"] == [] and body["TotalCount"] == 0


def test_search_needs_account_or_property(api):
    response = api.search("Sydney")
    assert assert_error(response, 400, "PARAMETER_REQUIRED") == ["AccountSid", "PropertySid"]
    assert_error(api.search("Sydney", AccountSid=""), 400, "PARAMETER_REQUIRED")


def test_search_is_paged_like_a_listing(api):
    everything = assert_ok(api.search("Mobile", **ACC, PageSize=1000))
    total = everything["TotalCount"]
    assert total == len(everything["NumberBlocks"]) == 20  # every fifth demo block
    first = assert_ok(api.search("Mobile", **ACC))
    assert len(first["NumberBlocks"]) == 10 and first["TotalCount"] == total  # defaults
    pages = [b["Id"] for i in range(3)
             for b in assert_ok(api.search("Mobile", **ACC, PageIndex=i, PageSize=7))
             ["NumberBlocks"]]
    assert pages == sorted(b["Id"] for b in everything["NumberBlocks"])
    assert "TotalCount" not in assert_ok(api.search("Mobile", **ACC, IncludeTotalCount="false"))
    down = assert_ok(api.search("Mobile", **ACC, SortDir="desc", PageSize=1000))
    assert down["NumberBlocks"] == everything["NumberBlocks"][::-1]
    assert_error(api.search("Mobile", **ACC, PageSize=0), 400, "INVALID_PARAMETER")


def test_search_combines_with_filters_and_text(api):
    everything = assert_ok(api.search("Mobile", **ACC, PageSize=1000))["NumberBlocks"]
    assert sids(api.search("Mobile", **ACC, Sms="false")) == []
    one = everything[0]["Name"]
    assert sids(api.search("Mobile", **ACC, Text=one)) == [everything[0]["NumberBlockSid"]]


def test_search_sees_only_the_callers_blocks(api):
    other = api.as_account(OTHER_ACCOUNT_SID, OTHER_AUTH_TOKEN)
    assert_ok(other.configure(OTHER_BLOCK, AccountSid=OTHER_ACCOUNT_SID, Campaign="shared"))
    assert_ok(api.configure(OWNED_BLOCK, **ACC, Campaign="shared"))
    assert sids(api.search("shared", **ACC)) == [OWNED_BLOCK]
    assert sids(other.search("shared", AccountSid=OTHER_ACCOUNT_SID)) == [OTHER_BLOCK]


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"AccountSid": "ACNOPE"}, 400, "ACCOUNT_NOT_FOUND"),
        ({"PropertySid": "PRNOPE"}, 400, "PROPERTY_NOT_FOUND"),
        ({"AccountSid": OTHER_ACCOUNT_SID}, 403, "FORBIDDEN"),
        ({"PropertySid": "PROTHER0001"}, 403, "FORBIDDEN"),
        ({"AccountSid": "ACDEMO0001", "PropertySid": "PROTHER0001"}, 400,
         "CONFLICTING_PARAMETERS"),
    ],
)
def test_search_scope_checks(api, params, status, code):
    assert_error(api.search("Sydney", **params), status, code)


def test_search_by_account_and_property_together(api):
    assert_ok(api.purchase(inventory_sid(3), prop="PRDEMO0002", Source="both"))
    assert_ok(api.configure(OWNED_BLOCK, **ACC, Source="both"))
    assert sids(api.search("both", AccountSid="ACDEMO0001", PropertySid="PRDEMO0002")) == [
        inventory_sid(3)]
    assert len(sids(api.search("both", **ACC))) == 2
