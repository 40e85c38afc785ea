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
PATH = "/v2/Properties/PRDEMO0001/NumberBlocks"
REQUIRED, INVALID = "PARAMETER_REQUIRED", "INVALID_PARAMETER"


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
    assert api.sales() == {NB: 1}
    assert api.requests_named() == {NB: 2}  # the refused one was received all the same


def test_preowned_blocks_are_not_available(api):
    assert_error(api.purchase(OWNED_BLOCK), 403, "NUMBER_BLOCK_NOT_AVAILABLE")
    assert_error(api.purchase(OTHER_BLOCK), 403, "NUMBER_BLOCK_NOT_AVAILABLE")
    assert api.sales() == {}


def test_own_block_for_another_property_is_the_documented_code(api):
    """The caller's block named for another of its properties: documented code, nothing sold."""
    response = api.purchase(OWNED_BLOCK, prop="PRDEMO0002")
    assert assert_error(response, 400, "NUMBER_BELONGS_TO_DIFFERENT_PROPERTY") == []
    assert "PRDEMO0001" in response.json()["ResponseStatus"]["Message"]
    assert api.sales() == {} and api.block(OWNED_BLOCK)["PropertySid"] == "PRDEMO0001"


def test_missing_answer_point_is_parameter_required(api):
    response = api.purchase(NB, answer_point=None)
    message = assert_field_error(response, "AnswerPoint", REQUIRED)
    assert message == "AnswerPoint is required."
    both = api.post(PATH, {"Campaign": "c"})
    assert assert_error(both, 400, REQUIRED) == ["AnswerPoint", "NumberBlockSid"]
    assert api.sales() == {}


def test_missing_beats_invalid_and_invalid_names_every_field(api):
    """One kind of problem per answer: what is missing first, then every invalid field."""
    body = {"AnswerPoint": "12", "GroupType": 9, "Active": "no", "X": 1}
    assert assert_error(api.post(PATH, body), 400, REQUIRED) == ["NumberBlockSid"]
    fields = assert_error(api.post(PATH, {**body, "NumberBlockSid": NB}), 400, INVALID)
    assert sorted(fields) == ["Active", "AnswerPoint", "GroupType", "X"]


def test_no_idempotency_key(api):
    """The API has no idempotency keys, so the sandbox must not honour one either."""
    headers = {"Idempotency-Key": "same-key", "X-Idempotency-Key": "same-key"}
    body = {"NumberBlockSid": NB, "AnswerPoint": "0412345678"}
    assert_ok(api.post(PATH, body, headers=headers))
    assert_error(api.post(PATH, body, headers=headers), 403, "NUMBER_BLOCK_NOT_AVAILABLE")
    assert api.sales() == {NB: 1} and api.requests_named() == {NB: 2}


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
        (PATH, {"PropertySid": "PRDEMO0002"}, "PropertySid"),
        ("/v2/Accounts/ACDEMO0001/NumberBlocks", {"AccountSid": "ACDEMO0002"}, "AccountSid"),
        # body AccountSid is not the owner of the PropertySid
        (PATH, {"AccountSid": OTHER_ACCOUNT_SID}, "AccountSid"),
        ("/v2/Properties/PROTHER0001/NumberBlocks", {"AccountSid": "ACDEMO0001"}, "AccountSid"),
        ("/v2/Accounts/ACDEMO0001/NumberBlocks", {"PropertySid": "PROTHER0001"}, "AccountSid"),
    ],
)
def test_conflicting_parameters(api, path, extra, field):
    response = api.post(path, {"NumberBlockSid": NB, "AnswerPoint": "0412345678", **extra})
    assert assert_error(response, 400, "CONFLICTING_PARAMETERS") == [field]
    assert api.sales() == {}


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


def test_forbidden_says_what_is_not_permitted(api):
    response = api.purchase(NB, prop="PROTHER0001")
    assert "property 'PROTHER0001'" in response.json()["ResponseStatus"]["Message"]


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
    ("fields", "field", "code", "says"),
    [
        ({"NumberBlockSid": None}, "NumberBlockSid", REQUIRED, "required"),
        ({"NumberBlockSid": ""}, "NumberBlockSid", REQUIRED, "required"),
        ({"NumberBlockSid": 100000}, "NumberBlockSid", INVALID, "must be a string"),
        ({"AnswerPoint": None}, "AnswerPoint", REQUIRED, "required"),
        ({"AnswerPoint": ""}, "AnswerPoint", REQUIRED, "required"),
        ({"AnswerPoint": 412345678}, "AnswerPoint", INVALID, "must be a string"),
        ({"AccountSid": 5}, "AccountSid", INVALID, "must be a string"),
        ({"AccountSid": ""}, "AccountSid", INVALID, "must not be empty"),
        ({"Campaign": 5}, "Campaign", INVALID, "must be a string"),
        ({"Description": ["x"]}, "Description", INVALID, "must be a string"),
        ({"Active": "true"}, "Active", INVALID, "boolean"),
        ({"Ported": 1}, "Ported", INVALID, "boolean"),
        ({"CallWhisperEnabled": "yes"}, "CallWhisperEnabled", INVALID, "boolean"),
        ({"GroupType": 2}, "GroupType", INVALID, "between 0 and 1"),
        ({"GroupType": -1}, "GroupType", INVALID, "between 0 and 1"),
        ({"GroupType": "1"}, "GroupType", INVALID, "whole number"),
        ({"GroupType": True}, "GroupType", INVALID, "whole number"),
        ({"GroupType": 1.0}, "GroupType", INVALID, "whole number"),
        ({"Preamble": 3}, "Preamble", INVALID, "between 0 and 2"),
        ({"RoutingAction": 4}, "RoutingAction", INVALID, "between 0 and 3"),
        ({"MasterMode": 32768}, "MasterMode", INVALID, "between -32768 and 32767"),
        ({"MasterMode": -32769}, "MasterMode", INVALID, "between -32768 and 32767"),
        ({"Bogus": 1}, "Bogus", INVALID, "not a parameter"),
        ({"answerPoint": "0412345678"}, "answerPoint", INVALID, "not a parameter"),  # exact
        ({"RoutingMethod": "endpoint"}, "RoutingMethod", INVALID, "not a parameter"),
    ],
)
def test_field_validation(api, fields, field, code, says):
    body = {"NumberBlockSid": NB, "AnswerPoint": "0412345678", **fields}
    assert says in assert_field_error(api.post(PATH, body), field, code)
    assert api.sales() == {}


@pytest.mark.parametrize(
    ("field", "value"),
    [("GroupType", 1), ("Preamble", 0), ("RoutingAction", 2), ("MasterMode", 32767)],
)
def test_enum_range_edges_accepted(api, field, value):
    assert_ok(api.purchase(NB, **{field: value}))


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
    message = assert_field_error(api.purchase(NB, answer_point=raw), "AnswerPoint")
    assert "not a valid Australian answering point" in message


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
        assert "not allowed for this account" in assert_field_error(response, "AnswerPoint")


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
    response = api.post(PATH, data=data, headers=headers)
    assert assert_error(response, 400, INVALID) == []
    assert api.sales() == {}
