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

from importer import excel
from importer.reading.spreadsheets import CONTROL, ERROR_VALUES
from importer.spec.contract import SID_PATTERN
from importer.spec.operations import Field, Kind
from importer.text import describe_character, describe_invisible, did_you_mean, shorten, shown

SCIENTIFIC = r"[+-]?\d+(?:[.,]\d*)?[eE][+-]?\d+"  # European Excel writes 4,12E+08
TRAILING_ZERO = r"[+-]?\d+[.,]0+"
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
    message: str  # str.format with {value}, {column} and {why}
    why: Callable[[str], str] | None = None  # the reason one value fails, in plain words
    distinct: bool = True  # run once per distinct value (see on_distinct); False: vectorised

    def explain(self, value: str, column: str) -> str:
        """The message for one failing value: shown escaped and shortened, with its reason."""
        reason = self.why(value) if self.why else ""
        return self.message.format(value=shown(shorten(value)), column=column, why=reason)


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
ANSWERING_POINT = ("a landline (02, 03, 07 or 08), a mobile (04), or a 1300, 1800 or 13 "
                   "number")
_OTHER_TYPES = {
    PhoneNumberType.PREMIUM_RATE: "a premium-rate (190x) number",
    PhoneNumberType.VOIP: "an internet phone (VoIP) number",
    PhoneNumberType.PAGER: "a pager number",
    PhoneNumberType.PERSONAL_NUMBER: "a personal (0500) number",
    PhoneNumberType.UAN: "a company-wide number",
    PhoneNumberType.VOICEMAIL: "a voicemail number",
}


def _sid_character(ch: str) -> bool:
    return ch.isascii() and (ch.isalnum() or ch in "_-")


def _phone_character(ch: str) -> bool:
    return ch.isascii() and (ch.isdigit() or ch in " ()+.-")


@lru_cache(maxsize=20_000)
def sid_problem(value: str) -> str:
    """Why `value` is not a usable Sid, and what to do."""
    rule = "use only letters, digits, _ and -"
    if len(value) > 64:
        return f"it is {len(value):,} characters long; {rule}, at most 64"
    found = describe_character(value, _sid_character)
    return f"{found}; {rule}" if found else f"{rule} (at most 64 characters)"


# What a number starting like this is trying to be, and how many digits it needs.
_EXPECTED = (("04", "a mobile number", 10, "0412 345 678"),
             ("1300", "a 1300 number", 10, "1300 123 456"),
             ("1800", "an 1800 number", 10, "1800 123 456"),
             ("13", "a 13 number", 6, "13 12 34"),
             ("02", "a landline number", 10, "02 9876 5432"),
             ("03", "a landline number", 10, "03 9876 5432"),
             ("07", "a landline number", 10, "07 3123 4567"),
             ("08", "a landline number", 10, "08 9123 4567"))


@lru_cache(maxsize=20_000)
def phone_problem(value: str) -> str:
    """Why `value` is not an Australian answering point: a character, the length, the kind of
    number, or a range no Australian number is in (phonenumbers tells a possible but
    unallocated number, such as 0445 746 282, from a malformed one)."""
    letter = next((i for i, ch in enumerate(value, 1) if ch.isascii() and ch.isalpha()), 0)
    if letter:
        return (f"it contains a letter ('{shown(value[letter - 1])}' at position {letter}); "
                "write the number in digits")
    if found := describe_character(value, _phone_character):
        return found
    try:
        number = phonenumbers.parse(phone_key(value), "AU")
    except phonenumbers.NumberParseException:
        return f"it is not a phone number; use {ANSWERING_POINT}"
    if number.country_code != 61:
        return f"it is a number outside Australia (+{number.country_code})"
    if phonenumbers.region_code_for_number(number) in ("CX", "CC"):
        return "it is a Christmas Island or Cocos Islands number, not an Australian one"
    significant = phonenumbers.national_significant_number(number)
    national = significant if significant.startswith("1") else "0" + significant
    for prefix, kind, length, example in _EXPECTED:
        if national.startswith(prefix) and len(national) != length:
            return (f"it has {len(national)} digits; {kind} has {length}, such as {example}")
    if phonenumbers.is_valid_number(number):
        kind = _OTHER_TYPES.get(phonenumbers.number_type(number),
                                "not a number that answers calls")
        return f"it is {kind}; use {ANSWERING_POINT}"
    if not phonenumbers.is_possible_number(number):
        return f"no Australian number is written like that; use {ANSWERING_POINT}"
    return f"no Australian number starts with {national[:4]} (that range is not allocated)"


def _suggest(choices: tuple[str, ...], shown_as: Callable[[str], str] = str
             ) -> Callable[[str], str]:
    """' Did you mean X?' for a near miss among `choices`, else ''."""
    @lru_cache(maxsize=10_000)
    def why(value: str) -> str:
        near = did_you_mean(value, choices)
        return f" Did you mean {shown_as(near)}?" if near else ""

    return why


def _fits_a_cell(s: pd.Series) -> pd.Series:
    return ~(s.str.len() > excel.CELL_CHARS)


def _length(value: str) -> str:
    return f"{len(value):,}"


# Longer values than an Excel cell holds would be cut in the results workbook: an error, tried
# first in every column.
TOO_LONG = Rule("too_long", _fits_a_cell,
                "{column} holds {why} characters; an Excel cell holds at most "
                f"{excel.CELL_CHARS:,}, so the results workbook could not keep it whole. "
                "Shorten it.", _length, distinct=False)


# An Excel error value saved as a formula's result (read as its text): not a value to send.
EXCEL_ERROR = Rule("excel_error", lambda s: ~s.str.upper().isin(ERROR_VALUES),
                   "{column} holds the error {value} (the formula's result), not a value.",
                   distinct=False)
# A control character (a bell, an escape) nobody can see, in free text (the other kinds' own
# rules name it); tab and line breaks are text.
CONTROL_CHARACTER = Rule("control_character", lambda s: ~s.str.contains(CONTROL, regex=True),
                         "{column} {why}; delete it.",
                         lambda v: describe_invisible(v).removeprefix("it "), distinct=False)


def rules_for(field: Field, allowed_prefixes: tuple[str, ...] = ()) -> list[Rule]:
    """The value checks of one column, in the order they are tried (first failure wins)."""
    return [TOO_LONG, EXCEL_ERROR, *(_value_rules(field, allowed_prefixes)
                                     or [CONTROL_CHARACTER])]


def _value_rules(field: Field, allowed_prefixes: tuple[str, ...]) -> list[Rule]:
    match field.kind:
        case Kind.SID:
            return [*_DAMAGE, Rule(
                "invalid_id", _matches(SID_PATTERN),
                "'{value}' is not a valid {column}: {why}.", sid_problem)]
        case Kind.PHONE:
            rules = [
                *_DAMAGE,
                Rule("invalid_phone",
                     lambda s: s.str.fullmatch(PHONE_CHARS).astype(bool) & _phones(s).notna(),
                     "'{value}' is not a valid Australian "
                     f"{'answering point' if field.name == 'AnswerPoint' else 'phone number'}"
                     ": {why}.", phone_problem),
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
                         "(yes/no, y/n and 1/0 work too).{why}",
                         _suggest(("true", "false", "yes", "no"), str.upper))]
        case Kind.ENUM:
            return [Rule("not_allowed_value", _in_lower(field.choices),
                         "'{value}' is not allowed in {column}: use one of "
                         + ", ".join(field.choices) + ".{why}", _suggest(field.choices))]
        case Kind.SHORT:
            low, high = field.bounds or (-32768, 32767)
            return [
                Rule("invalid_number", _matches(INTEGER), "'{value}' is not a whole number."),
                Rule("not_allowed_value", _in_bounds(low, high),
                     "'{value}' is out of range for {column}: use "
                     + (f"{low} or {high}." if high == low + 1 else
                        f"a whole number from {low} to {high}.")),
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
