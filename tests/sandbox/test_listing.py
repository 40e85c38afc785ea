"""Owned-block listings: GET /v2/Properties|Accounts/{sid}/numberblocks, as documented."""

from __future__ import annotations

import pytest

from importer.sandbox import (
    OTHER_ACCOUNT_SID,
    PREOWNED_DEMO_BLOCKS,
    READONLY_ACCOUNT_SID,
    READONLY_AUTH_TOKEN,
    inventory_sid,
)

from .helpers import assert_error, assert_ok, ids, sids

DOCUMENTED = ("Id", "NumberBlockSid", "NumberPattern", "Name", "FriendlyName", "SipTrunkId",
              "SipTrunkName")


def _all(api, **params) -> list[dict]:
    return assert_ok(api.listing(PageSize=1000, **params))["NumberBlocks"]


def test_no_parameters_gives_the_documented_defaults(api):
    """PageIndex 0, PageSize 10, IncludeTotalCount true, SortBy Id, SortDir asc."""
    body = assert_ok(api.listing())
    assert list(body) == ["NumberBlocks", "TotalCount", "ResponseStatus"]
    assert body["TotalCount"] == len(PREOWNED_DEMO_BLOCKS) == 100
    items = body["NumberBlocks"]
    assert len(items) == 10
    every_id = sorted(b["Id"] for b in _all(api))
    assert [b["Id"] for b in items] == every_id[:10]
    served = [b["NumberBlockSid"] for b in items]
    assert served != sorted(served)  # Id order is not Sid order: a client must follow Id


def test_items_carry_the_documented_fields(api):
    for item in _all(api):
        assert list(item)[: len(DOCUMENTED)] == list(DOCUMENTED)
        assert isinstance(item["Id"], int) and not isinstance(item["Id"], bool)
        assert item["NumberPattern"].startswith("+61") and item["NumberPattern"].endswith("X")
        assert item["Name"] and item["FriendlyName"].startswith(("0", "(0"))
        assert item["SipTrunkId"] is None and item["SipTrunkName"] is None
        assert (item["AccountSid"], item["PropertySid"]) == ("ACDEMO0001", "PRDEMO0001")
        assert item["AnswerPoint"].startswith("+61")
    everything = _all(api)
    assert len({b["Id"] for b in everything}) == len({b["NumberPattern"] for b in everything})
    assert len({b["Id"] for b in everything}) == 100


def test_ids_are_stable(api, sandbox):
    first = {b["NumberBlockSid"]: b["Id"] for b in _all(api)}
    nb = inventory_sid(7)
    before = api.block(nb)["Id"]  # the inventory has Ids too
    assert_ok(api.purchase(nb))
    after = {b["NumberBlockSid"]: b["Id"] for b in _all(api)}
    assert after == {**first, nb: before}


def test_pages_cover_everything_once_in_id_order(api):
    bought = [inventory_sid(i) for i in (5, 2, 9)]
    for sid in bought:
        assert_ok(api.purchase(sid))
    seen: list[int] = []
    names: list[str] = []
    for index in range(12):
        body = assert_ok(api.listing(PageIndex=index, PageSize=9))
        assert body["TotalCount"] == 103
        seen += [b["Id"] for b in body["NumberBlocks"]]
        names += [b["NumberBlockSid"] for b in body["NumberBlocks"]]
    assert seen == sorted(seen) and len(set(seen)) == 103
    assert sorted(names) == sorted(PREOWNED_DEMO_BLOCKS + tuple(bought))
    assert sids(api.listing(PageIndex=12, PageSize=9)) == []  # past the end: empty page


def test_no_undocumented_page_size_maximum(api):
    for sid in (inventory_sid(i) for i in range(3)):
        assert_ok(api.purchase(sid))
    assert len(sids(api.listing(PageSize=5000))) == 103
    assert len(sids(api.listing(PageSize=1001))) == 103


@pytest.mark.parametrize(
    ("params", "key"),
    [
        ({"SortBy": "Id"}, lambda b: b["Id"]),
        ({"SortBy": "NumberBlockSid"}, lambda b: b["NumberBlockSid"]),
        ({"SortBy": "Name"}, lambda b: b["Name"]),
        ({"SortBy": "NumberPattern"}, lambda b: b["NumberPattern"]),
        ({"SortBy": "FriendlyName"}, lambda b: b["FriendlyName"]),
        ({"SortBy": "id", "SortDir": "ASC"}, lambda b: b["Id"]),  # names and values: any case
    ],
)
def test_sort_by(api, params, key):
    items = _all(api, **params)
    assert items == sorted(items, key=key)
    down = _all(api, **{**params, "SortDir": "desc"})
    assert [key(b) for b in down] == sorted((key(b) for b in items), reverse=True)


def test_sort_dir_desc_pages_from_the_top(api):
    every_id = sorted(b["Id"] for b in _all(api))
    assert ids(api.listing(SortDir="desc")) == every_id[::-1][:10]


@pytest.mark.parametrize("value", ["false", "False", "FALSE"])
def test_include_total_count_false_leaves_it_out(api, value):
    body = assert_ok(api.listing(IncludeTotalCount=value))
    assert "TotalCount" not in body and len(body["NumberBlocks"]) == 10
    assert assert_ok(api.listing(IncludeTotalCount="true"))["TotalCount"] == 100


def test_sms_and_voice_filters(api):
    every = _all(api)
    mobile = [b for b in every if b["NumberPattern"].startswith("+614")]
    assert 0 < len(mobile) < len(every)
    sms = assert_ok(api.listing(Sms="true", PageSize=1000))
    assert sms["NumberBlocks"] == mobile and sms["TotalCount"] == len(mobile)
    assert len(_all(api, Sms="false")) == len(every) - len(mobile)
    assert _all(api, Voice="true") == every  # every sandbox block carries voice
    assert _all(api, Voice="false") == []
    assert _all(api, Sms="true", Voice="true") == mobile


def test_active_filter(api):
    inactive, unset = inventory_sid(1), inventory_sid(2)
    assert_ok(api.purchase(inactive, Active=False))
    assert_ok(api.purchase(unset))  # not sent: active, as a bought block is
    assert sids(api.listing(Active="false")) == [inactive]
    active = {b["NumberBlockSid"] for b in _all(api, Active="true")}
    assert unset in active and inactive not in active and len(active) == 101
    assert len(_all(api)) == 102  # absent: all


def test_text_parameter_filters_a_listing(api):
    melbourne = _all(api, Text="melbourne")
    assert melbourne and all("Melbourne" in b["Name"] for b in melbourne)
    assert len(melbourne) == sum("Melbourne" in b["Name"] for b in _all(api))


@pytest.mark.parametrize("value", ["true", "false"])
def test_include_associations_is_accepted(api, value):
    """The sandbox has no related entities, so the items are the same either way."""
    assert _all(api, IncludeAssociations=value) == _all(api)


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        ({"PageIndex": -1}, ["PageIndex"]),
        ({"PageIndex": "x"}, ["PageIndex"]),
        ({"PageIndex": "1.5"}, ["PageIndex"]),
        ({"PageSize": 0}, ["PageSize"]),
        ({"PageSize": ""}, ["PageSize"]),
        ({"SortBy": "Colour"}, ["SortBy"]),
        ({"SortDir": "sideways"}, ["SortDir"]),
        ({"IncludeTotalCount": "yes"}, ["IncludeTotalCount"]),
        ({"Active": "1"}, ["Active"]),
        ({"Sms": ""}, ["Sms"]),
        ({"IncludeAssociations": "maybe"}, ["IncludeAssociations"]),
        ({"PageIndex": -2, "PageSize": 0}, ["PageIndex", "PageSize"]),
    ],
)
def test_bad_parameters(api, params, fields):
    assert assert_error(api.listing(**params), 400, "INVALID_PARAMETER") == fields


def test_property_and_account_scopes(api):
    assert_ok(
        api.post(
            "/v2/Accounts/ACDEMO0001/NumberBlocks",
            {"NumberBlockSid": inventory_sid(0), "AnswerPoint": "0412345678"},
        )
    )
    assert_ok(api.purchase(inventory_sid(1), prop="PRDEMO0002"))
    assert sids(api.listing(prop="PRDEMO0002")) == [inventory_sid(1)]
    assert sids(api.listing(prop="PRDEMO0005")) == []
    body = assert_ok(api.account_listing(PageSize=1000))
    assert body["TotalCount"] == 102
    listed = {b["NumberBlockSid"] for b in body["NumberBlocks"]}
    assert {inventory_sid(0), inventory_sid(1)} <= listed
    assert assert_ok(api.listing(PageSize=1000))["TotalCount"] == 100  # account-level not here


def test_listing_existence_and_ownership(api):
    assert_error(api.listing(prop="PRNOPE"), 400, "PROPERTY_NOT_FOUND")
    assert_error(api.listing(prop="PROTHER0001"), 403, "FORBIDDEN")
    assert_error(api.account_listing("ACNOPE"), 400, "ACCOUNT_NOT_FOUND")
    assert_error(api.account_listing(OTHER_ACCOUNT_SID), 403, "FORBIDDEN")


def test_readonly_account_can_list_its_nothing(api):
    readonly = api.as_account(READONLY_ACCOUNT_SID, READONLY_AUTH_TOKEN)
    body = assert_ok(readonly.account_listing(READONLY_ACCOUNT_SID))
    assert body["NumberBlocks"] == [] and body["TotalCount"] == 0


def test_far_past_the_end_is_an_empty_page(api):
    body = assert_ok(api.listing(PageIndex=999999999999, PageSize=999999999999))
    assert body["NumberBlocks"] == [] and body["TotalCount"] == 100
