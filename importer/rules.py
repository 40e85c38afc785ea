"""Value rules per column kind: vectorised checks (with user-facing messages) and normalisers.

Every check takes a Series of trimmed, non-empty text and returns True where the value passes.
Where a library call per value is unavoidable (phonenumbers) it runs once per distinct value.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
import phonenumbers
from phonenumbers import PhoneNumberType

from importer.operations import Field, Kind

SCIENTIFIC = r"[+-]?\d+(?:[.,]\d*)?[eE][+-]?\d+"  # European Excel writes 4,12E+08
TRAILING_ZERO = r"[+-]?\d+[.,]0+"
SID_PATTERN = r"[A-Za-z0-9_-]{1,64}"
PHONE_CHARS = r"[\d\s()+.\-]{3,30}"
INTEGER = r"[+-]?\d{1,6}"

TRUE_WORDS = frozenset({"true", "yes", "y", "1"})
FALSE_WORDS = frozenset({"false", "no", "n", "0"})

ANSWERING_TYPES = frozenset({
    PhoneNumberType.FIXED_LINE,
    PhoneNumberType.MOBILE,
    PhoneNumberType.FIXED_LINE_OR_MOBILE,
    PhoneNumberType.TOLL_FREE,
    PhoneNumberType.SHARED_COST,
})

Test = Callable[[pd.Series], pd.Series]


@dataclass(frozen=True)
class Rule:
    """A named check; its code becomes the Issue code and its message the cell comment."""

    code: str
    test: Test
    message: str  # str.format with {value} and {column}


@lru_cache(maxsize=200_000)
def _parse_key(key: str) -> tuple[str, str] | None:
    try:
        number = phonenumbers.parse(key, "AU")
    except phonenumbers.NumberParseException:
        return None
    # number_type is UNKNOWN for an invalid number, so it answers "valid?" too; +61 is shared
    # with Christmas Island and Cocos, hence the region check.
    if (
        number.country_code != 61
        or phonenumbers.number_type(number) not in ANSWERING_TYPES
        or phonenumbers.region_code_for_number(number) != "AU"
    ):
        return None
    significant = phonenumbers.national_significant_number(number)
    # Australian numbers are dialled with a leading 0, except the 13/1300/1800 ranges.
    return f"+61{significant}", significant if significant.startswith("1") else "0" + significant


_SEPARATORS = re.compile(r"[\s().\-]")


def phone_key(text: str) -> str:
    """One spelling per number (`+61 412 345 678`, `61412345678`, `412345678` -> `0412345678`),
    so phonenumbers (~30 us a call) runs once per number, not once per way of writing it."""
    compact = _SEPARATORS.sub("", text)
    if compact.startswith("+61") and compact[3:4] not in ("", "0"):
        return "0" + compact[3:]
    if compact.isdigit():
        if len(compact) == 11 and compact.startswith("61") and compact[2] != "0":
            return "0" + compact[2:]
        if len(compact) == 9 and compact[0] in "23478":
            return "0" + compact
    return compact


def parse_phone(text: str) -> tuple[str, str] | None:
    """(E.164, national digits) for a valid Australian answering point, else None."""
    return _parse_key(phone_key(text))


def clear_phone_cache() -> None:
    """Forget parsed numbers (benchmarks start cold, as a fresh process does)."""
    _parse_key.cache_clear()


def _phones(values: pd.Series) -> pd.Series:
    """parse_phone over a Series, called once per distinct value."""
    distinct = values.unique()
    return values.map(dict(zip(distinct, map(parse_phone, distinct), strict=True)))


def on_distinct(test: Test) -> Test:
    """Run `test` once per distinct value and spread the answer back; empty cells pass.

    Most columns repeat a handful of values (yes/no, choices, a property), so this turns
    100k regex or dictionary look-ups into a few.
    """
    def run(s: pd.Series) -> pd.Series:
        codes, uniques = pd.factorize(s, use_na_sentinel=True)
        if len(uniques) == 0:
            return pd.Series(True, index=s.index)
        answers = np.append(test(pd.Series(uniques, dtype=s.dtype)).to_numpy(dtype=bool), True)
        return pd.Series(answers[codes], index=s.index)  # code -1 (empty) takes the last: True

    return run


def _matches(pattern: str) -> Test:
    return lambda s: s.str.fullmatch(pattern).astype(bool)


def _not_matching(pattern: str) -> Test:
    return lambda s: ~s.str.fullmatch(pattern).astype(bool)


def _in_lower(words: Iterable[str]) -> Test:
    allowed = list(words)
    return lambda s: s.str.lower().isin(allowed)


def _in_bounds(low: int, high: int) -> Test:
    def test(s: pd.Series) -> pd.Series:
        numbers = pd.to_numeric(s.where(s.str.fullmatch(INTEGER).astype(bool)), errors="coerce")
        return numbers.between(low, high).fillna(True).astype(bool)

    return test


def _has_prefix(prefixes: tuple[str, ...]) -> Test:
    def test(s: pd.Series) -> pd.Series:
        parsed = _phones(s)
        return parsed.map(lambda p: p is None or p[1].startswith(prefixes)).astype(bool)

    return test


_DAMAGE = (
    Rule("excel_scientific", _not_matching(SCIENTIFIC),
         "Excel turned this into scientific notation ({value}), which loses digits. Format the "
         "column as Text and type the value again."),
    Rule("excel_damaged", _not_matching(TRAILING_ZERO),
         "{value} looks like a number Excel changed (it has a trailing .0). Format the column as "
         "Text and type the value again."),
)


def rules_for(field: Field, allowed_prefixes: tuple[str, ...] = ()) -> list[Rule]:
    """The value checks of one column, in the order they are tried (first failure wins)."""
    match field.kind:
        case Kind.SID:
            return [*_DAMAGE, Rule(
                "invalid_id", _matches(SID_PATTERN),
                "'{value}' is not a valid {column}: use only letters, digits, _ and - "
                "(at most 64 characters).")]
        case Kind.PHONE:
            rules = [
                *_DAMAGE,
                Rule("invalid_phone",
                     lambda s: s.str.fullmatch(PHONE_CHARS).astype(bool) & _phones(s).notna(),
                     "'{value}' is not a valid Australian answering point (a landline 02/03/07/08, "
                     "a mobile 04, or a 1300, 1800 or 13 number)."),
            ]
            if allowed_prefixes:
                rules.append(Rule(
                    "prefix_not_allowed", _has_prefix(allowed_prefixes),
                    "'{value}' starts with a prefix this account may not use (allowed: "
                    + ", ".join(allowed_prefixes) + ")."))
            return rules
        case Kind.BOOL:
            return [Rule("not_allowed_value", _in_lower(TRUE_WORDS | FALSE_WORDS),
                         "'{value}' is not a yes/no value: use TRUE or FALSE "
                         "(yes/no, y/n and 1/0 work too).")]
        case Kind.ENUM:
            return [Rule("not_allowed_value", _in_lower(field.choices),
                         "'{value}' is not allowed in {column}: use one of "
                         + ", ".join(field.choices) + ".")]
        case Kind.SHORT:
            low, high = field.bounds or (-32768, 32767)
            return [
                Rule("invalid_number", _matches(INTEGER), "'{value}' is not a whole number."),
                Rule("not_allowed_value", _in_bounds(low, high),
                     f"'{{value}}' is out of range for {{column}}: use {low} to {high}."),
            ]
    return []


def normalise(field: Field, values: pd.Series) -> pd.Series:
    """Valid text -> the JSON value sent (E.164 phones, booleans, lower-case choices, ints)."""
    present = values.dropna()
    match field.kind:
        case Kind.PHONE:
            out = _phones(present).map(lambda p: p[0] if p else None)
        case Kind.BOOL:
            out = present.str.lower().map(lambda v: v in TRUE_WORDS)
        case Kind.ENUM:
            out = present.str.lower()
        case Kind.SHORT:
            out = present.map(lambda v: int(v) if v.lstrip("+-").isdigit() else None)
        case _:
            out = present
    out = out.astype(object).reindex(values.index)
    return out.where(out.notna(), None)
