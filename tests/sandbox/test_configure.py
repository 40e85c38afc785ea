"""Configure: POST /v2/numberblocks/{sid} — routing branches, tags, ownership."""

from __future__ import annotations

import pytest

from importer.sandbox import (
    OTHER_ACCOUNT_SID,
    RESTRICTED_ACCOUNT_SID,
    RESTRICTED_AUTH_TOKEN,
    inventory_sid,
)

from .helpers import OTHER_BLOCK, OWNED_BLOCK, assert_error, assert_field_error, assert_ok

ACC = {"AccountSid": "ACDEMO0001"}
REQUIRED, INVALID, CONFLICT = "PARAMETER_REQUIRED", "INVALID_PARAMETER", "CONFLICTING_PARAMETERS"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"RoutingMethod": "endpoint", "EndpointNumber": "0412 345 678"},
            {"RoutingMethod": "endpoint", "EndpointNumber": "+61412345678"},
        ),
        (
            {"RoutingMethod": "flow", "Flow": "FL123", "EndpointNumber": "+61298765432"},
            {"RoutingMethod": "flow", "Flow": "FL123", "EndpointNumber": "+61298765432"},
        ),
        (
            {"RoutingMethod": "application", "Application": "AP9"},
            {"RoutingMethod": "application", "Application": "AP9", "EndpointNumber": None},
        ),
    ],
)
def test_routing_branches_valid(api, fields, expected):
    assert_ok(api.configure(OWNED_BLOCK, **ACC, **fields))
    state = api.block(OWNED_BLOCK)
    for key, value in expected.items():
        assert state[key] == value, key


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"RoutingMethod": "endpoint"}, "EndpointNumber", REQUIRED),
        ({"RoutingMethod": "flow", "Flow": "F"}, "EndpointNumber", REQUIRED),
        ({"RoutingMethod": "flow", "EndpointNumber": "0412345678"}, "Flow", REQUIRED),
        ({"RoutingMethod": "application"}, "Application", REQUIRED),
        ({"RoutingMethod": "application", "Application": ""}, "Application", INVALID),
        ({"EndpointNumber": "0412345678"}, "RoutingMethod", REQUIRED),
        ({"Flow": "F"}, "RoutingMethod", REQUIRED),
        ({"Application": "A"}, "RoutingMethod", REQUIRED),
        (
            {"RoutingMethod": "endpoint", "EndpointNumber": "0412345678", "Flow": "F"},
            "Flow",
            CONFLICT,
        ),
        (
            {"RoutingMethod": "endpoint", "EndpointNumber": "0412345678", "Application": "A"},
            "Application",
            CONFLICT,
        ),
        (
            {
                "RoutingMethod": "flow",
                "Flow": "F",
                "EndpointNumber": "0412345678",
                "Application": "A",
            },
            "Application",
            CONFLICT,
        ),
        (
            {"RoutingMethod": "application", "Application": "A", "EndpointNumber": "0412345678"},
            "EndpointNumber",
            CONFLICT,
        ),
        (
            {"RoutingMethod": "application", "Application": "A", "Flow": "F"},
            "Flow",
            CONFLICT,
        ),
        (
            {"RoutingMethod": "Endpoint", "EndpointNumber": "0412345678"},
            "RoutingMethod",
            INVALID,
        ),
        ({"RoutingMethod": "sip"}, "RoutingMethod", INVALID),
        ({"RoutingMethod": 1}, "RoutingMethod", INVALID),
        (
            {"RoutingMethod": "endpoint", "EndpointNumber": "12345"},
            "EndpointNumber",
            INVALID,
        ),
        (
            {"RoutingMethod": "endpoint", "EndpointNumber": 412345678},
            "EndpointNumber",
            INVALID,
        ),
        ({"Recording": "Enabled"}, "Recording", INVALID),
        ({"Recording": "on"}, "Recording", INVALID),
        ({"Recording": True}, "Recording", INVALID),
        ({"Source": 3}, "Source", INVALID),
        ({"NumberBlockSid": OWNED_BLOCK}, "NumberBlockSid", INVALID),  # URL only
        ({"AnswerPoint": "0412345678"}, "AnswerPoint", INVALID),
    ],
)
def test_field_validation(api, fields, field, code):
    before = api.block(OWNED_BLOCK)
    assert_field_error(api.configure(OWNED_BLOCK, **ACC, **fields), field, code)
    assert api.block(OWNED_BLOCK) == before


def test_missing_and_invalid_and_conflict_one_kind_at_a_time(api):
    """Missing first, then invalid, then conflicting: each answer names one kind."""
    body = {"RoutingMethod": "flow", "Flow": "F", "Application": "A", "Recording": "on"}
    assert assert_error(api.configure(OWNED_BLOCK, **ACC, **body), 400, REQUIRED) == [
        "EndpointNumber"]
    body["EndpointNumber"] = "0412345678"
    assert assert_error(api.configure(OWNED_BLOCK, **ACC, **body), 400, INVALID) == [
        "Recording"]
    body["Recording"] = "enabled"
    assert assert_error(api.configure(OWNED_BLOCK, **ACC, **body), 400, CONFLICT) == [
        "Application"]


def test_at_least_one_of_account_or_property(api):
    response = api.configure(OWNED_BLOCK, Source="x")
    assert assert_error(response, 400, REQUIRED) == ["AccountSid", "PropertySid"]
    assert_ok(api.configure(OWNED_BLOCK, PropertySid="PRDEMO0001", Source="x"))
    assert_ok(api.configure(OWNED_BLOCK, AccountSid="ACDEMO0001", PropertySid="PRDEMO0001"))


def test_recording_and_tags_update_and_unsent_fields_stay(api):
    assert_ok(
        api.configure(
            OWNED_BLOCK,
            **ACC,
            RoutingMethod="endpoint",
            EndpointNumber="0412345678",
            Recording="enabled",
            Source="google",
            Medium="cpc",
            Campaign="spring",
            Content="ad1",
        )
    )
    assert_ok(api.configure(OWNED_BLOCK, **ACC, Recording="disabled", Campaign="summer"))
    state = api.block(OWNED_BLOCK)
    assert state["Recording"] == "disabled"
    assert (state["Source"], state["Medium"], state["Campaign"], state["Content"]) == (
        "google",
        "cpc",
        "summer",
        "ad1",
    )
    assert (state["RoutingMethod"], state["EndpointNumber"]) == ("endpoint", "+61412345678")
    assert state["AnswerPoint"]  # purchase settings untouched


def test_routing_is_replaced_as_a_whole(api):
    assert_ok(
        api.configure(
            OWNED_BLOCK, **ACC, RoutingMethod="flow", Flow="F", EndpointNumber="0412345678"
        )
    )
    assert_ok(api.configure(OWNED_BLOCK, **ACC, RoutingMethod="application", Application="A"))
    state = api.block(OWNED_BLOCK)
    assert (state["RoutingMethod"], state["Application"]) == ("application", "A")
    assert state["Flow"] is None and state["EndpointNumber"] is None


def test_configure_state_visible_in_listing(api):
    assert_ok(
        api.configure(
            OWNED_BLOCK, **ACC, RoutingMethod="endpoint", EndpointNumber="1800123456", Source="bing"
        )
    )
    found = assert_ok(api.search("bing", PropertySid="PRDEMO0001"))["NumberBlocks"]
    assert [b["NumberBlockSid"] for b in found] == [OWNED_BLOCK]
    listed = found[0]
    assert listed["EndpointNumber"] == "+611800123456"
    assert listed["Source"] == "bing"
    assert listed == api.block(OWNED_BLOCK)


def test_configure_after_purchase(api):
    nb = inventory_sid(7)
    assert_error(api.configure(nb, **ACC, Source="x"), 403, "FORBIDDEN")  # not purchased
    assert_ok(api.purchase(nb))
    assert_ok(api.configure(nb, **ACC, Source="x"))
    assert api.block(nb)["Source"] == "x"


@pytest.mark.parametrize(
    ("block", "fields", "status", "code", "says"),
    [
        ("NB999999", ACC, 400, "NUMBER_BLOCK_NOT_FOUND", "does not exist"),
        (OWNED_BLOCK, {"AccountSid": "ACNOPE"}, 400, "ACCOUNT_NOT_FOUND", "ACNOPE"),
        (OWNED_BLOCK, {"PropertySid": "PRNOPE"}, 400, "PROPERTY_NOT_FOUND", "PRNOPE"),
        ("NB999999", {"AccountSid": "ACNOPE"}, 400, "NUMBER_BLOCK_NOT_FOUND", "NB999999"),
        (OTHER_BLOCK, ACC, 403, "FORBIDDEN", "not owned by this account"),
        (OTHER_BLOCK, {"AccountSid": OTHER_ACCOUNT_SID}, 403, "FORBIDDEN", "not owned"),
        (OTHER_BLOCK, {"PropertySid": "PROTHER0001"}, 403, "FORBIDDEN", "not owned"),
        (inventory_sid(3), ACC, 403, "FORBIDDEN", "not owned by this account"),
        (OWNED_BLOCK, {"AccountSid": OTHER_ACCOUNT_SID}, 403, "FORBIDDEN",
         f"account '{OTHER_ACCOUNT_SID}'"),
        (OWNED_BLOCK, {"PropertySid": "PROTHER0001"}, 403, "FORBIDDEN", "property 'PROTHER0001'"),
        (OWNED_BLOCK, {"PropertySid": "PRDEMO0002"}, 400, "NUMBER_BELONGS_TO_DIFFERENT_PROPERTY",
         "belongs to property 'PRDEMO0001', not 'PRDEMO0002'"),
        (OWNED_BLOCK, {"AccountSid": "ACDEMO0001", "PropertySid": "PROTHER0001"}, 400,
         CONFLICT, "does not belong to account"),
    ],
)
def test_existence_ownership_and_conflicts(api, block, fields, status, code, says):
    before = api.block(block) if block != "NB999999" else None
    response = api.configure(block, **fields, Source="x")
    assert_error(response, status, code)
    assert says in response.json()["ResponseStatus"]["Message"]
    if before is not None:
        assert api.block(block) == before


def test_not_owned_says_so_plainly(api):
    response = api.configure("NB101019", **ACC, Source="x")
    assert_error(response, 403, "FORBIDDEN")
    assert response.json()["ResponseStatus"]["Message"] == (
        "Number block 'NB101019' is not owned by this account.")


def test_restricted_account_endpoint_prefix(api):
    restricted = api.as_account(RESTRICTED_ACCOUNT_SID, RESTRICTED_AUTH_TOKEN)
    nb = inventory_sid(11)
    assert_ok(restricted.purchase(nb, prop="PRDEMO0101", answer_point="0298765432"))
    acc = {"AccountSid": RESTRICTED_ACCOUNT_SID}
    for method_fields in (
        {"RoutingMethod": "endpoint", "EndpointNumber": "1300123456"},
        {"RoutingMethod": "flow", "Flow": "F", "EndpointNumber": "0891234567"},
    ):
        response = restricted.configure(nb, **acc, **method_fields)
        assert "not allowed for this account" in assert_field_error(response, "EndpointNumber")
    assert_ok(
        restricted.configure(
            nb, **acc, RoutingMethod="flow", Flow="F", EndpointNumber="+61412345678"
        )
    )


def test_block_without_a_property(api):
    """Bought on the account path: no property, so naming one is the documented conflict."""
    nb = inventory_sid(8)
    assert_ok(api.post("/v2/Accounts/ACDEMO0001/NumberBlocks",
                       {"NumberBlockSid": nb, "AnswerPoint": "0412345678"}))
    response = api.configure(nb, PropertySid="PRDEMO0001", Source="x")
    assert_error(response, 400, "NUMBER_BELONGS_TO_DIFFERENT_PROPERTY")
    assert "belongs to no property" in response.json()["ResponseStatus"]["Message"]
    assert_ok(api.configure(nb, **ACC, Source="x"))
    assert_error(api.purchase(nb, prop="PRDEMO0001"), 403, "NUMBER_BLOCK_NOT_AVAILABLE")
