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
        ({"RoutingMethod": "endpoint"}, "EndpointNumber", "REQUIRED"),
        ({"RoutingMethod": "flow", "Flow": "F"}, "EndpointNumber", "REQUIRED"),
        ({"RoutingMethod": "flow", "EndpointNumber": "0412345678"}, "Flow", "REQUIRED"),
        ({"RoutingMethod": "application"}, "Application", "REQUIRED"),
        ({"RoutingMethod": "application", "Application": ""}, "Application", "INVALID_VALUE"),
        ({"EndpointNumber": "0412345678"}, "RoutingMethod", "REQUIRED"),
        ({"Flow": "F"}, "RoutingMethod", "REQUIRED"),
        ({"Application": "A"}, "RoutingMethod", "REQUIRED"),
        (
            {"RoutingMethod": "endpoint", "EndpointNumber": "0412345678", "Flow": "F"},
            "Flow",
            "NOT_APPLICABLE",
        ),
        (
            {"RoutingMethod": "endpoint", "EndpointNumber": "0412345678", "Application": "A"},
            "Application",
            "NOT_APPLICABLE",
        ),
        (
            {
                "RoutingMethod": "flow",
                "Flow": "F",
                "EndpointNumber": "0412345678",
                "Application": "A",
            },
            "Application",
            "NOT_APPLICABLE",
        ),
        (
            {"RoutingMethod": "application", "Application": "A", "EndpointNumber": "0412345678"},
            "EndpointNumber",
            "NOT_APPLICABLE",
        ),
        (
            {"RoutingMethod": "application", "Application": "A", "Flow": "F"},
            "Flow",
            "NOT_APPLICABLE",
        ),
        (
            {"RoutingMethod": "Endpoint", "EndpointNumber": "0412345678"},
            "RoutingMethod",
            "INVALID_VALUE",
        ),
        ({"RoutingMethod": "sip"}, "RoutingMethod", "INVALID_VALUE"),
        ({"RoutingMethod": 1}, "RoutingMethod", "INVALID_TYPE"),
        (
            {"RoutingMethod": "endpoint", "EndpointNumber": "12345"},
            "EndpointNumber",
            "INVALID_PHONE_NUMBER",
        ),
        (
            {"RoutingMethod": "endpoint", "EndpointNumber": 412345678},
            "EndpointNumber",
            "INVALID_TYPE",
        ),
        ({"Recording": "Enabled"}, "Recording", "INVALID_VALUE"),
        ({"Recording": "on"}, "Recording", "INVALID_VALUE"),
        ({"Recording": True}, "Recording", "INVALID_TYPE"),
        ({"Source": 3}, "Source", "INVALID_TYPE"),
        ({"NumberBlockSid": OWNED_BLOCK}, "NumberBlockSid", "UNKNOWN_FIELD"),  # URL only
        ({"AnswerPoint": "0412345678"}, "AnswerPoint", "UNKNOWN_FIELD"),
    ],
)
def test_field_validation(api, fields, field, code):
    before = api.block(OWNED_BLOCK)
    assert_field_error(api.configure(OWNED_BLOCK, **ACC, **fields), field, code)
    assert api.block(OWNED_BLOCK) == before


def test_at_least_one_of_account_or_property(api):
    response = api.configure(OWNED_BLOCK, Source="x")
    assert_field_error(response, "AccountSid", "AT_LEAST_ONE_REQUIRED")
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
    listed = api.listing(PageSize=1).json()["NumberBlocks"][0]
    assert listed["NumberBlockSid"] == OWNED_BLOCK
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
    ("block", "fields", "status", "code"),
    [
        ("NB999999", ACC, 400, "NUMBER_BLOCK_NOT_FOUND"),
        (OWNED_BLOCK, {"AccountSid": "ACNOPE"}, 400, "ACCOUNT_NOT_FOUND"),
        (OWNED_BLOCK, {"PropertySid": "PRNOPE"}, 400, "PROPERTY_NOT_FOUND"),
        ("NB999999", {"AccountSid": "ACNOPE"}, 400, "NUMBER_BLOCK_NOT_FOUND"),
        (OTHER_BLOCK, ACC, 403, "FORBIDDEN"),
        (OTHER_BLOCK, {"AccountSid": OTHER_ACCOUNT_SID}, 403, "FORBIDDEN"),
        (OTHER_BLOCK, {"PropertySid": "PROTHER0001"}, 403, "FORBIDDEN"),
        (inventory_sid(3), ACC, 403, "FORBIDDEN"),
        (OWNED_BLOCK, {"PropertySid": "PRDEMO0002"}, 400, "CONFLICTING_PARAMETERS"),
        (OWNED_BLOCK, {"AccountSid": OTHER_ACCOUNT_SID}, 400, "CONFLICTING_PARAMETERS"),
        (
            OWNED_BLOCK,
            {"AccountSid": "ACDEMO0001", "PropertySid": "PROTHER0001"},
            400,
            "CONFLICTING_PARAMETERS",
        ),
    ],
)
def test_existence_ownership_and_conflicts(api, block, fields, status, code):
    assert_error(api.configure(block, **fields, Source="x"), status, code)


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
        assert_field_error(response, "EndpointNumber", "PREFIX_NOT_ALLOWED")
    assert_ok(
        restricted.configure(
            nb, **acc, RoutingMethod="flow", Flow="F", EndpointNumber="+61412345678"
        )
    )
