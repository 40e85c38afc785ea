"""Field validation for request bodies and query strings, as strict as the real API.

Independent of the importer's own rules on purpose: the sandbox must catch what the importer
gets wrong, so it never shares code with what it is testing. One issue per field, first wins.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

REQUIRED = "REQUIRED"
INVALID_TYPE = "INVALID_TYPE"
INVALID_VALUE = "INVALID_VALUE"
INVALID_PHONE_NUMBER = "INVALID_PHONE_NUMBER"
PREFIX_NOT_ALLOWED = "PREFIX_NOT_ALLOWED"
NOT_APPLICABLE = "NOT_APPLICABLE"
UNKNOWN_FIELD = "UNKNOWN_FIELD"
AT_LEAST_ONE_REQUIRED = "AT_LEAST_ONE_REQUIRED"

SHORT_MIN, SHORT_MAX = -32768, 32767

# kind -> how a present value is checked; ranges for ints are (low, high) inclusive
PURCHASE_FIELDS: dict[str, tuple[str, Any]] = {
    "AccountSid": ("sid", None),
    "PropertySid": ("sid", None),
    "NumberBlockSid": ("sid", None),
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
PURCHASE_REQUIRED = ("NumberBlockSid", "AnswerPoint")

ROUTING_METHODS = ("endpoint", "flow", "application")
RECORDING_VALUES = ("enabled", "disabled")
ROUTING_FIELDS = ("EndpointNumber", "Flow", "Application")
ROUTING_NEEDS: dict[str, tuple[str, ...]] = {
    "endpoint": ("EndpointNumber",),
    "flow": ("Flow", "EndpointNumber"),
    "application": ("Application",),
}

CONFIGURE_FIELDS: dict[str, tuple[str, Any]] = {
    "AccountSid": ("sid", None),
    "PropertySid": ("sid", None),
    "RoutingMethod": ("enum", ROUTING_METHODS),
    "EndpointNumber": ("phone", None),
    "Flow": ("text", None),
    "Application": ("text", None),
    "Recording": ("enum", RECORDING_VALUES),
    **{name: ("str", None) for name in ("Source", "Medium", "Campaign", "Content")},
}

SIDS = ("AccountSid", "PropertySid", "NumberBlockSid")

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

PAGE_SIZE_DEFAULT = 50
PAGE_SIZE_MAX = 1000


class Issues:
    """Collects at most one ``Errors`` item per field, keeping the first problem found."""

    def __init__(self) -> None:
        self._items: dict[str, dict[str, str]] = {}

    def add(self, field: str, code: str, message: str) -> None:
        self._items.setdefault(field, {"FieldName": field, "ErrorCode": code, "Message": message})

    def has(self, field: str) -> bool:
        return field in self._items

    def items(self) -> list[dict[str, str]]:
        return list(self._items.values())

    def __bool__(self) -> bool:
        return bool(self._items)


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


def _check_value(
    name: str,
    kind: str,
    arg: Any,
    value: Any,
    prefixes: tuple[str, ...] | None,
    issues: Issues,
) -> Any:
    """The cleaned value, or None after recording why it is unusable."""
    if kind == "bool":
        if isinstance(value, bool):
            return value
        issues.add(name, INVALID_TYPE, f"{name} must be a JSON boolean (true or false).")
        return None
    if kind == "int":
        low, high = arg
        if isinstance(value, bool) or not isinstance(value, int):
            issues.add(name, INVALID_TYPE, f"{name} must be a whole number.")
            return None
        if not low <= value <= high:
            issues.add(name, INVALID_VALUE, f"{name} must be between {low} and {high}.")
            return None
        return value
    if not isinstance(value, str):
        issues.add(name, INVALID_TYPE, f"{name} must be a string.")
        return None
    if kind == "str":
        return value
    if value == "":
        issues.add(name, INVALID_VALUE, f"{name} must not be empty.")
        return None
    if kind == "enum":
        if value in arg:
            return value
        issues.add(name, INVALID_VALUE, f"{name} must be one of: {', '.join(arg)}.")
        return None
    if kind == "phone":
        parsed = normalise_phone(value)
        if parsed is None:
            issues.add(
                name,
                INVALID_PHONE_NUMBER,
                f"{name} '{value}' is not a valid Australian answering point"
                " (landline, mobile, 13, 1300 or 1800 number in E.164 or national format).",
            )
            return None
        e164, national = parsed
        if prefixes is not None and not national.startswith(prefixes):
            issues.add(
                name,
                PREFIX_NOT_ALLOWED,
                f"{name} '{value}' is not allowed for this account"
                f" (allowed prefixes: {', '.join(prefixes)}).",
            )
            return None
        return e164
    return value  # "sid" and "text": any non-empty string


def _check_fields(
    body: Mapping[str, Any],
    spec: Mapping[str, tuple[str, Any]],
    prefixes: tuple[str, ...] | None,
    issues: Issues,
) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for name, (kind, arg) in spec.items():
        if present(body, name):
            value = _check_value(name, kind, arg, body[name], prefixes, issues)
            if value is not None:
                clean[name] = value
    for name in body:
        if name not in spec:
            issues.add(name, UNKNOWN_FIELD, f"{name} is not a field of this request.")
    return clean


def validate_purchase(
    body: Mapping[str, Any], prefixes: tuple[str, ...] | None
) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """Cleaned purchase fields (phones in E.164) and the ``Errors`` items."""
    issues = Issues()
    for name in PURCHASE_REQUIRED:
        value = body.get(name)
        if value is None or value == "":
            issues.add(name, REQUIRED, f"{name} is required.")
    clean = _check_fields(body, PURCHASE_FIELDS, prefixes, issues)
    return clean, issues.items()


def validate_configure(
    body: Mapping[str, Any], prefixes: tuple[str, ...] | None
) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """Cleaned configure fields and ``Errors`` items, including the routing conditions."""
    issues = Issues()
    if not present(body, "AccountSid") and not present(body, "PropertySid"):
        issues.add(
            "AccountSid",
            AT_LEAST_ONE_REQUIRED,
            "At least one of AccountSid or PropertySid must be provided.",
        )
    clean = _check_fields(body, CONFIGURE_FIELDS, prefixes, issues)
    given = [name for name in ROUTING_FIELDS if present(body, name)]
    if not present(body, "RoutingMethod"):
        if given:
            issues.add(
                "RoutingMethod",
                REQUIRED,
                f"RoutingMethod is required when {' and '.join(given)} is given.",
            )
    elif (method := clean.get("RoutingMethod")) is not None:
        needs = ROUTING_NEEDS[method]
        for name in needs:
            if not present(body, name):
                issues.add(name, REQUIRED, f"{name} is required when RoutingMethod is {method}.")
        for name in given:
            if name not in needs:
                issues.add(
                    name,
                    NOT_APPLICABLE,
                    f"{name} must not be sent when RoutingMethod is {method}.",
                )
    return clean, issues.items()


def validate_paging(args: Mapping[str, str]) -> tuple[int, int, list[dict[str, str]]]:
    """PageIndex (from 0) and PageSize (1..1000) from a query string."""
    issues = Issues()
    values = {"PageIndex": 0, "PageSize": PAGE_SIZE_DEFAULT}
    limits = {"PageIndex": (0, None), "PageSize": (1, PAGE_SIZE_MAX)}
    for name, (low, high) in limits.items():
        raw = args.get(name)
        if raw is None:
            continue
        if not re.fullmatch(r"[+-]?\d{1,12}", raw):
            issues.add(name, INVALID_TYPE, f"{name} must be a whole number.")
            continue
        value = int(raw)
        if value < low or (high is not None and value > high):
            upper = f" and at most {high}" if high is not None else ""
            issues.add(name, INVALID_VALUE, f"{name} must be at least {low}{upper}.")
            continue
        values[name] = value
    return values["PageIndex"], values["PageSize"], issues.items()
