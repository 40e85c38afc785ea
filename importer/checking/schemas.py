"""pandera schemas built from the operation specs, and their failures turned into Issue records.

Column checks carry the value rules (one pandera Check per rule, named by its issue code);
DataFrame checks carry the cross-column rules (at-least-one-of, conditional routing), named
`code:Column` so each failure lands on the one cell it is about. Every check is about one row,
except "the same NumberBlockSid twice", which is judged on the whole column; so `check_rows`
can re-check just the rows a person edited (the web app) and still agree with `check`.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from importer.checking.rules import Rule, on_distinct, rules_for
from importer.reading.headers import header_hint
from importer.reading.loading import Sheet
from importer.report import Issue, Severity
from importer.spec.contract import sid_keys
from importer.spec.operations import OPERATIONS, Operation
from importer.text import shorten, shown

Message = Callable[[Callable[[str], str], str], str]  # (a row's cell by column, column) -> text

WARNING_CODES = frozenset({"not_used"})
_NO_FAILURES = pd.DataFrame(columns=["schema_context", "column", "check", "check_number",
                                     "failure_case", "index"])


@dataclass
class Checked:
    """A sheet after validation: its issues and the rows that may be sent."""

    sheet: Sheet
    issues: list[Issue]
    invalid: frozenset[int]  # Excel rows with at least one error
    # The unique column (NumberBlockSid) as compared (contract.sid_keys): `check_rows` needs
    # the values rows had before an edit to tell which other rows stop or start being duplicates.
    keys: pd.Series = field(default_factory=lambda: pd.Series(dtype="str"))


def _required(s: pd.Series) -> pd.Series:
    return s.notna()


def build_schema(op: Operation, allowed_prefixes: tuple[str, ...] = ()) -> tuple[
        pa.DataFrameSchema, dict[tuple[str, str], Rule], dict[str, Message]]:
    """The schema of every row-level rule, the rule behind each (column, check name), and each
    frame check's message. Duplicates are judged on the whole column, outside the schema."""
    rules: dict[tuple[str, str], Rule] = {}
    columns: dict[str, pa.Column] = {}
    for f in op.fields:
        checks = []
        if f.required:
            checks.append(pa.Check(_required, name="required", ignore_na=False))
        for rule in rules_for(f, allowed_prefixes):
            rules[(f.name, rule.code)] = rule
            test = on_distinct(rule.test) if rule.distinct else rule.test
            checks.append(pa.Check(test, name=rule.code, ignore_na=False))
        columns[f.name] = pa.Column(nullable=True, checks=checks, coerce=False)

    frame_checks, messages = _frame_checks(op)
    return pa.DataFrameSchema(columns, checks=frame_checks, strict=False), rules, messages


@lru_cache(maxsize=32)
def _schema(operation: str, allowed_prefixes: tuple[str, ...]) -> tuple[
        pa.DataFrameSchema, dict[tuple[str, str], Rule], dict[str, Message]]:
    return build_schema(OPERATIONS[operation], allowed_prefixes)


def _frame_checks(op: Operation) -> tuple[list[pa.Check], dict[str, Message]]:
    checks: list[pa.Check] = []
    messages: dict[str, Message] = {}

    def add(code: str, column: str, test: Callable[[pd.DataFrame], pd.Series],
            message: Message) -> None:
        name = f"{code}:{column}"
        checks.append(pa.Check(test, name=name, ignore_na=False))
        messages[name] = message

    group = list(op.one_of)
    add("at_least_one", group[0], lambda d: d[group].notna().any(axis=1),
        lambda cell, col: f"Give {' or '.join(group)}: at least one of them is needed.")

    rm = op.routing_field
    if rm:
        def method(d: pd.DataFrame) -> pd.Series:
            return d[rm].str.lower()

        for name in op.routing_fields:
            unused = [m for m in op.routing if name in op.unused_by(m)]
            needs = [m for m in op.routing if m not in unused]
            add("conditional_required", name,
                lambda d, name=name, needs=needs: ~(method(d).isin(needs) & d[name].isna()),
                lambda cell, col: f"RoutingMethod '{shown(cell(rm).lower())}' needs {col}; "
                                 f"fill it in (see the routing table).")
            add("routing_without_method", name,
                lambda d, name=name: ~(d[rm].isna() & d[name].notna()),
                lambda cell, col: f"{col} is filled in but RoutingMethod is empty; choose "
                                 f"{', '.join(op.routing)}.")
            add("not_used", name,
                lambda d, name=name, unused=unused: ~(method(d).isin(unused) & d[name].notna()),
                lambda cell, col: f"RoutingMethod '{shown(cell(rm).lower())}' does not use "
                                 f"{col}; it will not be sent.")
    return checks, messages


def check(sheet: Sheet, allowed_prefixes: tuple[str, ...] = ()) -> Checked:
    """Validate every row of a sheet (lazily: all problems at once) into Issue records."""
    op, data = sheet.operation, sheet.data
    keys = sid_keys(data[op.unique])
    issues = _sheet_issues(sheet) + _row_issues(sheet, data, keys, allowed_prefixes)
    return _checked(sheet, issues, keys)


def check_rows(checked: Checked, rows: Iterable[int], allowed_prefixes: tuple[str, ...] = ()
               ) -> Checked:
    """Re-check the given Excel rows of a checked sheet after their cells changed in
    `checked.sheet.data`; the issues of every other row are kept, except that rows sharing a
    NumberBlockSid with an edited row (before or after the edit) are judged again too. Gives
    what `check` would give on the edited sheet, in milliseconds: the kept issues are not
    sorted again, the new ones are put in their rows' places."""
    sheet = checked.sheet
    data, unique = sheet.data, sheet.operation.unique
    edited = data.index.intersection(pd.Index(list(rows)))
    keys = checked.keys.copy()  # only the edited rows' keys can have changed
    keys.loc[edited] = sid_keys(data.loc[edited, unique])
    touched = pd.concat([checked.keys.reindex(edited), keys.reindex(edited)]).dropna()
    affected = edited.union(keys.index[keys.isin(set(touched))])
    again = set(affected.tolist())
    fresh = _row_issues(sheet, data.loc[affected], keys, allowed_prefixes)
    fresh.sort(key=_order(sheet))
    issues = [i for i in checked.issues if i.row is None or i.row not in again]
    starts = [i.row or 0 for i in issues]
    by_row: dict[int, list[Issue]] = {}
    for issue in fresh:
        by_row.setdefault(issue.row or 0, []).append(issue)
    for row in sorted(again, reverse=True):  # from the bottom: earlier places do not move
        at = bisect.bisect_left(starts, row)
        issues[at:at] = by_row.get(row, [])
    errors = {i.row for i in fresh if i.severity is Severity.ERROR}
    return Checked(sheet, issues, frozenset((checked.invalid - again) | errors), keys)


def _order(sheet: Sheet) -> Callable[[Issue], tuple[int, int]]:
    """Issues in row order, then in the sheet's column order (sheet-wide ones first)."""
    order = {name: i for i, name in enumerate(sheet.data.columns)}
    return lambda i: (i.row or 0, order.get(i.column or "", -1))


def _checked(sheet: Sheet, issues: list[Issue], keys: pd.Series) -> Checked:
    issues.sort(key=_order(sheet))
    invalid = frozenset(i.row for i in issues if i.row is not None
                        and i.severity is Severity.ERROR)
    return Checked(sheet, issues, invalid, keys)


def _sheet_issues(sheet: Sheet) -> list[Issue]:
    """Issues about the sheet as a whole: the columns it ignores (with what they come near)."""
    op = sheet.operation
    return [Issue(sheet.name, None, header, None, "ignored_column",
                  f"Column '{shown(shorten(header))}' is not used by {op.name} and was "
                  f"ignored.{header_hint(header, op, set(sheet.columns))}", Severity.WARNING)
            for header in sheet.ignored]


def _row_issues(sheet: Sheet, data: pd.DataFrame, keys: pd.Series,
                allowed_prefixes: tuple[str, ...]) -> list[Issue]:
    """The issues of the rows in `data` (all of the sheet's, or some); `keys` is the whole
    unique column, against which duplicates are judged."""
    op = sheet.operation
    schema, rules, messages = _schema(op.name, allowed_prefixes)
    try:
        schema.validate(data, lazy=True)
        failures = _NO_FAILURES
    except SchemaErrors as err:
        failures = err.failure_cases
    issues: list[Issue] = []
    repeated = keys.notna() & keys.duplicated(keep="first")
    duplicates = repeated[repeated].index.intersection(data.index)
    firsts = _first_rows(keys) if len(duplicates) else {}

    cell_failures = failures[failures["schema_context"] == "Column"]
    cell_failures = cell_failures.sort_values("check_number", kind="stable").drop_duplicates(
        ["index", "column"], keep="first")
    for row, column, code, value in zip(cell_failures["index"], cell_failures["column"],
                                        cell_failures["check"], cell_failures["failure_case"],
                                        strict=True):
        if column == op.unique and row in duplicates:
            continue  # "already appears in row N" says more than any rule
        text = None if pd.isna(value) else str(value)
        if code == "required":
            message = f"{column} is empty; every row needs one."
        else:
            message = rules[(column, code)].explain(str(text), column)
        if code == "too_long" and text is not None:
            text = shorten(text)
        issues.append(Issue(sheet.name, int(row), column, text, code, message))
    for row in duplicates:
        text, first = str(data.at[row, op.unique]), firsts[keys.at[row]]
        spelt = str(sheet.data.at[first, op.unique])
        also = "" if spelt == text else f" as {shown(shorten(spelt))} (case does not matter)"
        issues.append(Issue(sheet.name, int(row), op.unique, text, "duplicate",
                            f"{op.unique} {shown(shorten(text))} already appears in row "
                            f"{first}{also}; each block may appear only once in a sheet."))

    frame_failures = failures[failures["schema_context"] == "DataFrameSchema"]
    frame_failures = frame_failures.drop_duplicates(["index", "check"])
    for row, name in zip(frame_failures["index"], frame_failures["check"], strict=True):
        code, column = name.split(":", 1)
        value = data.at[row, column]
        issues.append(Issue(
            sheet.name, int(row), column, None if pd.isna(value) else str(value), code,
            messages[name](lambda c, row=row: data.at[row, c], column),
            Severity.WARNING if code in WARNING_CODES else Severity.ERROR))
    return _with_reading_issues(sheet, data, issues)


def _with_reading_issues(sheet: Sheet, data: pd.DataFrame, issues: list[Issue]) -> list[Issue]:
    """Add what was found while reading these rows: a value too long for Excel (in a column
    the tool does not use, or read already cut), a formula whose result was never saved, a
    quote never closed. On an operation's cell such an issue stands in for any other; an edit
    of the cell takes it away (edits.set_cells)."""
    rows = set(data.index)
    fields = set(data.columns)
    found = [i for i in sheet.issues if i.row in rows]
    cells = {(i.row, i.column) for i in found if i.column in fields}
    return [i for i in issues if (i.row, i.column) not in cells] + found


def _first_rows(values: pd.Series) -> dict[str, int]:
    """Value -> the Excel row it first appears in, for the values that appear again."""
    repeated = values[values.duplicated(keep=False) & values.notna()]
    firsts = repeated[~repeated.duplicated(keep="first")]
    return dict(zip(firsts, firsts.index, strict=True))
