"""Field validation for request bodies, as strict as the real API.

Independent of the importer's own rules on purpose: the sandbox must catch what the importer
gets wrong, so it never shares code with what it is testing. One issue per field, first wins.
An answer names one kind of problem, the first present of: missing (``PARAMETER_REQUIRED``),
invalid (``INVALID_PARAMETER``, inferred), conflicting (``CONFLICTING_PARAMETERS``), with an
``Errors`` item for every field of that kind.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from importer.spec import contract as c

from .errors import ApiError, field_error, item

ACCOUNT_SID, PROPERTY_SID = c.SCOPE_PARAMS
BLOCK_SID = c.PURCHASE_SID_FIELD
SHORT_MIN, SHORT_MAX = -32768, 32767

# kind -> how a present value is checked; ranges for ints are (low, high) inclusive
PURCHASE_FIELDS: dict[str, tuple[str, Any]] = {
    ACCOUNT_SID: ("sid", None),
    PROPERTY_SID: ("sid", None),
    "AnswerPoint": ("phone", None),
    **{
        name: ("bool", None)
        for name in (
            "CallRecordingEnabled",
            "CallWhisperEnabled",
            "CallWrapUpEnabled",
            "Active",
            "EnableRules",
            "PortInProgress",
            "Ported",
        )
    },
    **{
        name: ("str", None)
        for name in (
            "CallWhisperPath",
            "Campaign",
            "Content",
            "Medium",
            "Source",
            "Description",
            "GroupName",
            "ProgrammableVoiceUrl",
            "Diaplan",
        )
    },
    "GroupType": ("int", (0, 1)),
    "Preamble": ("int", (0, 2)),
    "RoutingAction": ("int", (0, 3)),
    "MasterMode": ("int", (SHORT_MIN, SHORT_MAX)),
}
PURCHASE_REQUIRED = ("AnswerPoint",)

ROUTING_METHODS = ("endpoint", "flow", "application")
RECORDING_VALUES = ("enabled", "disabled")
ROUTING_FIELDS = ("EndpointNumber", "Flow", "Application")
ROUTING_NEEDS: dict[str, tuple[str, ...]] = {
    "endpoint": ("EndpointNumber",),
    "flow": ("Flow", "EndpointNumber"),
    "application": ("Application",),
}

CONFIGURE_FIELDS: dict[str, tuple[str, Any]] = {
    ACCOUNT_SID: ("sid", None),
    PROPERTY_SID: ("sid", None),
    "RoutingMethod": ("enum", ROUTING_METHODS),
    "EndpointNumber": ("phone", None),
    "Flow": ("text", None),
    "Application": ("text", None),
    "Recording": ("enum", RECORDING_VALUES),
    **{name: ("str", None) for name in ("Source", "Medium", "Campaign", "Content")},
}

ROUTING_KEYS = ("RoutingMethod", *ROUTING_FIELDS)  # replaced as a whole by a configure
TAG_KEYS = ("Recording", "Source", "Medium", "Campaign", "Content")  # updated one by one
# A block's settings as purchase and configure set them (what a listing shows after the
# documented item fields)
SETTING_KEYS: tuple[str, ...] = tuple(dict.fromkeys(
    [k for k in PURCHASE_FIELDS if k not in c.SCOPE_PARAMS] + [*ROUTING_KEYS, *TAG_KEYS]))

_ALLOWED_PHONE_TYPES = frozenset(
    {
        PhoneNumberType.FIXED_LINE,
        PhoneNumberType.MOBILE,
        PhoneNumberType.FIXED_LINE_OR_MOBILE,
        PhoneNumberType.TOLL_FREE,
        PhoneNumberType.SHARED_COST,
    }
)
_E164_AU = re.compile(r"\+61\d{5,12}")
# national writing: 0412345678, 0412 345 678, (02) 9876 5432, 1300 123 456, 13 12 34
_NATIONAL_AU = re.compile(r"(?:\(0\d\) ?\d|[01])(?: ?\d){4,11}")
_KIND_ORDER = (c.PARAMETER_REQUIRED, c.INVALID_PARAMETER, c.CONFLICTING_PARAMETERS)


class Issues:
    """At most one problem per field, the first found; the answer names the first kind."""

    def __init__(self) -> None:
        self._items: dict[str, tuple[str, dict[str, str]]] = {}

    def add(self, kind: str, field: str, message: str) -> None:
        self._items.setdefault(field, (kind, item(field, message)))

    def required(self, field: str, message: str | None = None) -> None:
        self.add(c.PARAMETER_REQUIRED, field, message or f"{field} is required.")

    def invalid(self, field: str, message: str) -> None:
        self.add(c.INVALID_PARAMETER, field, message)

    def conflict(self, field: str, message: str) -> None:
        self.add(c.CONFLICTING_PARAMETERS, field, message)

    def error(self) -> ApiError | None:
        for kind in _KIND_ORDER:
            items = [entry for k, entry in self._items.values() if k == kind]
            if items:
                return field_error(kind, items)
        return None


def present(body: Mapping[str, Any], name: str) -> bool:
    """A JSON null is treated as "not sent", like an omitted field."""
    return body.get(name) is not None


def normalise_phone(value: str) -> tuple[str, str] | None:
    """(E.164, national digits) for a valid Australian answering point, else None."""
    if not (_E164_AU.fullmatch(value) or _NATIONAL_AU.fullmatch(value)):
        return None
    try:
        number = phonenumbers.parse(value, "AU")
    except phonenumbers.NumberParseException:
        return None
    if number.country_code != 61 or not phonenumbers.is_valid_number_for_region(number, "AU"):
        return None
    if phonenumbers.number_type(number) not in _ALLOWED_PHONE_TYPES:
        return None
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    national = re.sub(r"\D", "", phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL))
    return e164, national


def _check_phone(name: str, value: str, prefixes: tuple[str, ...] | None,
                 issues: Issues) -> str | None:
    parsed = normalise_phone(value)
    if parsed is None:
        issues.invalid(name, f"{name} '{value}' is not a valid Australian answering point"
                       " (landline, mobile, 13, 1300 or 1800 number in E.164 or national format).")
        return None
    e164, national = parsed
    if prefixes is not None and not national.startswith(prefixes):
        issues.invalid(name, f"{name} '{value}' is not allowed for this account"
                       f" (allowed prefixes: {', '.join(prefixes)}).")
        return None
    return e164


def _check_value(name: str, kind: str, arg: Any, value: Any,
                 prefixes: tuple[str, ...] | None, issues: Issues) -> Any:
    """The cleaned value, or None after recording why it is unusable."""
    if kind == "bool":
        if isinstance(value, bool):
            return value
        issues.invalid(name, f"{name} must be a JSON boolean (true or false).")
        return None
    if kind == "int":
        low, high = arg
        if isinstance(value, bool) or not isinstance(value, int):
            issues.invalid(name, f"{name} must be a whole number.")
            return None
        if not low <= value <= high:
            issues.invalid(name, f"{name} must be between {low} and {high}.")
            return None
        return value
    if not isinstance(value, str):
        issues.invalid(name, f"{name} must be a string.")
        return None
    if kind == "str":
        return value
    if value == "":
        issues.invalid(name, f"{name} must not be empty.")
        return None
    if kind == "enum":
        if value in arg:
            return value
        issues.invalid(name, f"{name} must be one of: {', '.join(arg)}.")
        return None
    if kind == "phone":
        return _check_phone(name, value, prefixes, issues)
    return value  # "sid" and "text": any non-empty string


def _check_fields(body: Mapping[str, Any], spec: Mapping[str, tuple[str, Any]],
                  prefixes: tuple[str, ...] | None, issues: Issues,
                  ignored: tuple[str, ...] = ()) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for name, (kind, arg) in spec.items():
        if present(body, name):
            value = _check_value(name, kind, arg, body[name], prefixes, issues)
            if value is not None:
                clean[name] = value
    for name in body:
        if name not in spec and name not in ignored:
            issues.invalid(name, f"{name} is not a parameter of this request.")
    return clean


def _purchase_sid(body: Mapping[str, Any], query: Mapping[str, str], sid_from: str,
                  issues: Issues) -> str | None:
    """NumberBlockSid from where this API reads it (``Knobs.purchase_sid_from``)."""
    found: list[str] = []
    if sid_from in ("body", "either") and present(body, BLOCK_SID) and body[BLOCK_SID] != "":
        value = body[BLOCK_SID]
        if isinstance(value, str):
            found.append(value)
        else:
            issues.invalid(BLOCK_SID, f"{BLOCK_SID} must be a string.")
            return None
    if sid_from in ("query", "either") and query.get(BLOCK_SID):
        found.append(query[BLOCK_SID])
    if not found:
        where = {"body": "in the JSON body", "query": "as a query parameter"}.get(
            sid_from, "in the JSON body or as a query parameter")
        issues.required(BLOCK_SID, f"{BLOCK_SID} is required ({where}).")
        return None
    if len(set(found)) > 1:
        issues.conflict(BLOCK_SID, f"{BLOCK_SID} in the body ('{found[0]}') differs from the"
                        f" one in the query ('{found[1]}').")
        return None
    return found[0]


def validate_purchase(
    body: Mapping[str, Any], query: Mapping[str, str], prefixes: tuple[str, ...] | None,
    sid_from: str,
) -> tuple[str, dict[str, Any]]:
    """(NumberBlockSid, cleaned body fields with phones in E.164), or raises the 400."""
    issues = Issues()
    for name in PURCHASE_REQUIRED:
        if body.get(name) is None or body.get(name) == "":
            issues.required(name)
    sid = _purchase_sid(body, query, sid_from, issues)
    clean = _check_fields(body, PURCHASE_FIELDS, prefixes, issues, ignored=(BLOCK_SID,))
    error = issues.error()
    if error is not None:
        raise error
    assert sid is not None
    return sid, clean


def validate_configure(body: Mapping[str, Any],
                       prefixes: tuple[str, ...] | None) -> dict[str, Any]:
    """Cleaned configure fields, or raises the 400 (routing conditions included)."""
    issues = Issues()
    if not present(body, ACCOUNT_SID) and not present(body, PROPERTY_SID):
        for name in (ACCOUNT_SID, PROPERTY_SID):
            issues.required(name, f"At least one of {ACCOUNT_SID} or {PROPERTY_SID} must be"
                            " provided.")
    clean = _check_fields(body, CONFIGURE_FIELDS, prefixes, issues)
    given = [name for name in ROUTING_FIELDS if present(body, name)]
    if not present(body, "RoutingMethod"):
        if given:
            issues.required("RoutingMethod",
                            f"RoutingMethod is required when {' and '.join(given)} is given.")
    elif (method := clean.get("RoutingMethod")) is not None:
        needs = ROUTING_NEEDS[method]
        for name in needs:
            if not present(body, name):
                issues.required(name, f"{name} is required when RoutingMethod is {method}.")
        for name in given:
            if name not in needs:
                issues.conflict(name, f"{name} must not be sent when RoutingMethod is {method}.")
    error = issues.error()
    if error is not None:
        raise error
    return clean
