"""Purchase: POST /v2/Properties/{sid}/NumberBlocks and /v2/Accounts/{sid}/NumberBlocks."""

from __future__ import annotations

import pytest

from importer.sandbox import (
    OTHER_ACCOUNT_SID,
    RESTRICTED_ACCOUNT_SID,
    RESTRICTED_AUTH_TOKEN,
    inventory_sid,
)

from .helpers import OTHER_BLOCK, OWNED_BLOCK, assert_error, assert_field_error, assert_ok

NB = inventory_sid(0)


def test_purchase_then_not_available(api):
    assert_ok(api.purchase(NB, CallRecordingEnabled=True, GroupType=1, Source="google"))
    state = api.block(NB)
    assert state["AccountSid"] == "ACDEMO0001"
    assert state["PropertySid"] == "PRDEMO0001"
    assert state["AnswerPoint"] == "+61412345678"  # stored in E.164
    assert state["CallRecordingEnabled"] is True
    assert state["GroupType"] == 1
    assert state["Source"] == "google"
    assert_error(api.purchase(NB), 403, "NUMBER_BLOCK_NOT_AVAILABLE")
    assert api.inspect("/_sandbox/purchases") == {"Purchases": {NB: 1}}


def test_preowned_blocks_are_not_available(api):
    assert_error(api.purchase(OWNED_BLOCK), 403, "NUMBER_BLOCK_NOT_AVAILABLE")
    assert_error(api.purchase(OTHER_BLOCK), 403, "NUMBER_BLOCK_NOT_AVAILABLE")


def test_purchase_every_documented_field(api):
    body = {
        "AccountSid": "ACDEMO0001",
        "PropertySid": "PRDEMO0001",
        "CallRecordingEnabled": False,
        "CallWhisperEnabled": True,
        "CallWrapUpEnabled": True,
        "Active": True,
        "EnableRules": False,
        "PortInProgress": False,
        "Ported": True,
        "CallWhisperPath": "/w.wav",
        "Campaign": "c",
        "Content": "ct",
        "Medium": "m",
        "Source": "s",
        "Description": "d",
        "GroupName": "g",
        "ProgrammableVoiceUrl": "https://x",
        "Diaplan": "dp",
        "GroupType": 0,
        "Preamble": 2,
        "RoutingAction": 3,
        "MasterMode": -32768,
    }
    assert_ok(api.purchase(NB, **body))
    state = api.block(NB)
    for key, value in body.items():
        assert state[key] == value, key


def test_purchase_via_account_path(api):
    assert_ok(
        api.post(
            "/v2/Accounts/ACDEMO0001/NumberBlocks",
            {"NumberBlockSid": NB, "AnswerPoint": "+61298765432"},
        )
    )
    state = api.block(NB)
    assert (state["AccountSid"], state["PropertySid"]) == ("ACDEMO0001", None)
    nb2 = inventory_sid(1)
    assert_ok(
        api.post(
            "/v2/Accounts/ACDEMO0001/NumberBlocks",
            {"NumberBlockSid": nb2, "AnswerPoint": "0298765432", "PropertySid": "PRDEMO0003"},
        )
    )
    assert api.block(nb2)["PropertySid"] == "PRDEMO0003"


@pytest.mark.parametrize(
    ("path", "extra", "field"),
    [
        ("/v2/Properties/PRDEMO0001/NumberBlocks", {"PropertySid": "PRDEMO0002"}, "PropertySid"),
        ("/v2/Accounts/ACDEMO0001/NumberBlocks", {"AccountSid": "ACDEMO0002"}, "AccountSid"),
        # body AccountSid is not the owner of the PropertySid
        ("/v2/Properties/PRDEMO0001/NumberBlocks", {"AccountSid": OTHER_ACCOUNT_SID}, "AccountSid"),
        ("/v2/Properties/PROTHER0001/NumberBlocks", {"AccountSid": "ACDEMO0001"}, "AccountSid"),
        ("/v2/Accounts/ACDEMO0001/NumberBlocks", {"PropertySid": "PROTHER0001"}, "AccountSid"),
    ],
)
def test_conflicting_parameters(api, path, extra, field):
    response = api.post(path, {"NumberBlockSid": NB, "AnswerPoint": "0412345678", **extra})
    assert assert_error(response, 400, "CONFLICTING_PARAMETERS") == {
        field: "CONFLICTING_PARAMETERS"
    }
    assert api.inspect("/_sandbox/purchases") == {"Purchases": {}}


def test_matching_body_sids_are_fine(api):
    assert_ok(api.purchase(NB, AccountSid="ACDEMO0001", PropertySid="PRDEMO0001"))


@pytest.mark.parametrize(
    ("prop", "block", "status", "code"),
    [
        ("PRNOPE", NB, 400, "PROPERTY_NOT_FOUND"),
        ("prdemo0001", NB, 400, "PROPERTY_NOT_FOUND"),  # Sids are case-sensitive values
        ("PRDEMO0001", "NB999999", 400, "NUMBER_BLOCK_NOT_FOUND"),
        ("PRDEMO0001", "nb100000", 400, "NUMBER_BLOCK_NOT_FOUND"),
        ("PROTHER0001", NB, 403, "FORBIDDEN"),
        ("PROTHER0001", "NB999999", 400, "NUMBER_BLOCK_NOT_FOUND"),  # existence first
    ],
)
def test_existence_and_ownership(api, prop, block, status, code):
    assert_error(api.purchase(block, prop=prop), status, code)


def test_account_path_existence_and_ownership(api):
    body = {"NumberBlockSid": NB, "AnswerPoint": "0412345678"}
    assert_error(api.post("/v2/Accounts/ACNOPE/NumberBlocks", body), 400, "ACCOUNT_NOT_FOUND")
    assert_error(api.post(f"/v2/Accounts/{OTHER_ACCOUNT_SID}/NumberBlocks", body), 403, "FORBIDDEN")
    assert_error(api.purchase(NB, AccountSid="ACNOPE"), 400, "ACCOUNT_NOT_FOUND")
    assert_error(
        api.post("/v2/Accounts/ACDEMO0001/NumberBlocks", {**body, "PropertySid": "PRX"}),
        400,
        "PROPERTY_NOT_FOUND",
    )


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"NumberBlockSid": None}, "NumberBlockSid", "REQUIRED"),
        ({"NumberBlockSid": ""}, "NumberBlockSid", "REQUIRED"),
        ({"NumberBlockSid": 100000}, "NumberBlockSid", "INVALID_TYPE"),
        ({"AnswerPoint": None}, "AnswerPoint", "REQUIRED"),
        ({"AnswerPoint": ""}, "AnswerPoint", "REQUIRED"),
        ({"AnswerPoint": 412345678}, "AnswerPoint", "INVALID_TYPE"),
        ({"AccountSid": 5}, "AccountSid", "INVALID_TYPE"),
        ({"AccountSid": ""}, "AccountSid", "INVALID_VALUE"),
        ({"Campaign": 5}, "Campaign", "INVALID_TYPE"),
        ({"Description": ["x"]}, "Description", "INVALID_TYPE"),
        ({"Active": "true"}, "Active", "INVALID_TYPE"),
        ({"Ported": 1}, "Ported", "INVALID_TYPE"),
        ({"CallWhisperEnabled": "yes"}, "CallWhisperEnabled", "INVALID_TYPE"),
        ({"GroupType": 2}, "GroupType", "INVALID_VALUE"),
        ({"GroupType": -1}, "GroupType", "INVALID_VALUE"),
        ({"GroupType": "1"}, "GroupType", "INVALID_TYPE"),
        ({"GroupType": True}, "GroupType", "INVALID_TYPE"),
        ({"GroupType": 1.0}, "GroupType", "INVALID_TYPE"),
        ({"Preamble": 3}, "Preamble", "INVALID_VALUE"),
        ({"RoutingAction": 4}, "RoutingAction", "INVALID_VALUE"),
        ({"MasterMode": 32768}, "MasterMode", "INVALID_VALUE"),
        ({"MasterMode": -32769}, "MasterMode", "INVALID_VALUE"),
        ({"Bogus": 1}, "Bogus", "UNKNOWN_FIELD"),
        ({"answerPoint": "0412345678"}, "answerPoint", "UNKNOWN_FIELD"),  # names are exact
        ({"RoutingMethod": "endpoint"}, "RoutingMethod", "UNKNOWN_FIELD"),  # configure-only
    ],
)
def test_field_validation(api, fields, field, code):
    body = {"NumberBlockSid": NB, "AnswerPoint": "0412345678", **fields}
    assert_field_error(api.post("/v2/Properties/PRDEMO0001/NumberBlocks", body), field, code)
    assert api.inspect("/_sandbox/purchases") == {"Purchases": {}}


@pytest.mark.parametrize(
    ("field", "value"),
    [("GroupType", 1), ("Preamble", 0), ("RoutingAction", 2), ("MasterMode", 32767)],
)
def test_enum_range_edges_accepted(api, field, value):
    assert_ok(api.purchase(NB, **{field: value}))


def test_one_item_per_bad_field(api):
    response = api.post(
        "/v2/Properties/PRDEMO0001/NumberBlocks",
        {"AnswerPoint": "12", "GroupType": 9, "Active": "no", "X": 1},
    )
    assert assert_error(response, 400, "VALIDATION_ERROR") == {
        "NumberBlockSid": "REQUIRED",
        "AnswerPoint": "INVALID_PHONE_NUMBER",
        "GroupType": "INVALID_VALUE",
        "Active": "INVALID_TYPE",
        "X": "UNKNOWN_FIELD",
    }


def test_null_counts_as_not_sent(api):
    assert_ok(api.purchase(NB, Campaign=None, Active=None))
    assert api.block(NB)["Campaign"] is None


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("+61412345678", "+61412345678"),
        ("0412345678", "+61412345678"),
        ("0412 345 678", "+61412345678"),
        ("02 9876 5432", "+61298765432"),
        ("(02) 9876 5432", "+61298765432"),
        ("0731234567", "+61731234567"),
        ("08 9123 4567", "+61891234567"),
        ("1300 123 456", "+611300123456"),
        ("1800123456", "+611800123456"),
        ("131234", "+61131234"),
    ],
)
def test_phone_formats_accepted(api, raw, e164):
    assert_ok(api.purchase(NB, answer_point=raw))
    assert api.block(NB)["AnswerPoint"] == e164


@pytest.mark.parametrize(
    "raw",
    [
        "61412345678",  # neither E.164 nor national
        "412345678",  # Excel-dropped leading zero: the client must fix it
        "+61 412 345 678",  # E.164 has no spaces
        "0441 234 567",  # unallocated mobile range
        "1900 123 456",  # premium rate is not an answering point
        "+6421123456",  # not Australian
        "04123456789",
        "0412-345-678",
        " 0412345678",
        "hello",
    ],
)
def test_phone_formats_rejected(api, raw):
    assert_field_error(api.purchase(NB, answer_point=raw), "AnswerPoint", "INVALID_PHONE_NUMBER")


@pytest.mark.parametrize(
    ("raw", "ok"),
    [
        ("0412345678", True),
        ("+61298765432", True),
        ("03 9123 4567", True),
        ("0731234567", False),
        ("08 9123 4567", False),
        ("1300123456", False),
        ("1800 123 456", False),
        ("131234", False),
    ],
)
def test_restricted_account_prefixes(api, raw, ok):
    restricted = api.as_account(RESTRICTED_ACCOUNT_SID, RESTRICTED_AUTH_TOKEN)
    response = restricted.purchase(NB, prop="PRDEMO0101", answer_point=raw)
    if ok:
        assert_ok(response)
    else:
        assert_field_error(response, "AnswerPoint", "PREFIX_NOT_ALLOWED")


def test_unrestricted_account_has_no_prefix_rule(api):
    assert_ok(api.purchase(NB, answer_point="1300123456"))


@pytest.mark.parametrize(
    ("data", "headers"),
    [
        ("{not json", {"Content-Type": "application/json"}),
        ("[1, 2]", {"Content-Type": "application/json"}),
        ('"text"', {"Content-Type": "application/json"}),
        ("", {"Content-Type": "application/json"}),
        ('{"AnswerPoint": NaN}', {"Content-Type": "application/json"}),
        ('{"NumberBlockSid": "NB100000"}', {"Content-Type": "text/plain"}),
        ("NumberBlockSid=NB100000", {"Content-Type": "application/x-www-form-urlencoded"}),
    ],
)
def test_malformed_bodies(api, data, headers):
    response = api.post("/v2/Properties/PRDEMO0001/NumberBlocks", data=data, headers=headers)
    assert assert_error(response, 400, "VALIDATION_ERROR") == {}
