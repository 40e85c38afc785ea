"""pandera schemas built from the operation specs, and their failures turned into Issue records.

Column checks carry the value rules (one pandera Check per rule, named by its issue code);
DataFrame checks carry the cross-column rules (at-least-one-of, conditional routing), named
`code:Column` so each failure lands on the one cell it is about.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from importer.loading import Sheet
from importer.operations import Operation
from importer.report import Issue, Severity
from importer.rules import Rule, on_distinct, rules_for

Message = Callable[[Callable[[str], str], str], str]  # (a row's cell by column, column) -> text

WARNING_CODES = frozenset({"not_used"})


@dataclass
class Checked:
    """A sheet after validation: its issues and the rows that may be sent."""

    sheet: Sheet
    issues: list[Issue]
    invalid: frozenset[int]  # Excel rows with at least one error


def _required(s: pd.Series) -> pd.Series:
    return s.notna()


def _first_of_each(s: pd.Series) -> pd.Series:
    return ~s.duplicated(keep="first")


def build_schema(op: Operation, allowed_prefixes: tuple[str, ...] = ()) -> tuple[
        pa.DataFrameSchema, dict[tuple[str, str], Rule], dict[str, Message]]:
    """The schema, plus the rule behind each (column, check name) and each frame check's message."""
    rules: dict[tuple[str, str], Rule] = {}
    columns: dict[str, pa.Column] = {}
    for f in op.fields:
        checks = []
        if f.required:
            checks.append(pa.Check(_required, name="required", ignore_na=False))
        if f.name == op.unique:
            checks.append(pa.Check(_first_of_each, name="duplicate"))
        for rule in rules_for(f, allowed_prefixes):
            rules[(f.name, rule.code)] = rule
            checks.append(pa.Check(on_distinct(rule.test), name=rule.code, ignore_na=False))
        columns[f.name] = pa.Column(nullable=True, checks=checks, coerce=False)

    frame_checks, messages = _frame_checks(op)
    return pa.DataFrameSchema(columns, checks=frame_checks, strict=False), rules, messages


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
                lambda cell, col: f"RoutingMethod '{cell(rm).lower()}' needs {col}; fill it in "
                                 f"(see the routing table).")
            add("routing_without_method", name,
                lambda d, name=name: ~(d[rm].isna() & d[name].notna()),
                lambda cell, col: f"{col} is filled in but RoutingMethod is empty; choose "
                                 f"{', '.join(op.routing)}.")
            add("not_used", name,
                lambda d, name=name, unused=unused: ~(method(d).isin(unused) & d[name].notna()),
                lambda cell, col: f"RoutingMethod '{cell(rm).lower()}' does not use {col}; "
                                 f"it will not be sent.")
    return checks, messages


def check(sheet: Sheet, allowed_prefixes: tuple[str, ...] = ()) -> Checked:
    """Validate every row of a sheet (lazily: all problems at once) into Issue records."""
    op, data = sheet.operation, sheet.data
    issues = [Issue(sheet.name, None, header, None, "ignored_column",
                    f"Column '{header}' is not used by {op.name} and was ignored.",
                    Severity.WARNING) for header in sheet.ignored]
    schema, rules, messages = build_schema(op, allowed_prefixes)
    try:
        schema.validate(data, lazy=True)
        failures = pd.DataFrame(columns=["schema_context", "column", "check", "check_number",
                                         "failure_case", "index"])
    except SchemaErrors as err:
        failures = err.failure_cases

    cell_failures = failures[failures["schema_context"] == "Column"]
    cell_failures = cell_failures.sort_values("check_number").drop_duplicates(
        ["index", "column"], keep="first")
    first_row = _first_rows(data[op.unique]) if len(cell_failures) else {}
    for row, column, code, value in zip(cell_failures["index"], cell_failures["column"],
                                        cell_failures["check"], cell_failures["failure_case"],
                                        strict=True):
        text = None if pd.isna(value) else str(value)
        if code == "required":
            message = f"{column} is empty; every row needs one."
        elif code == "duplicate":
            message = (f"{column} {text} already appears in row {first_row[text]}; "
                       f"each block may appear only once in a sheet.")
        else:
            message = rules[(column, code)].message.format(value=text, column=column)
        issues.append(Issue(sheet.name, int(row), column, text, code, message))

    frame_failures = failures[failures["schema_context"] == "DataFrameSchema"]
    frame_failures = frame_failures.drop_duplicates(["index", "check"])
    for row, name in zip(frame_failures["index"], frame_failures["check"], strict=True):
        code, column = name.split(":", 1)
        value = data.at[row, column]
        issues.append(Issue(
            sheet.name, int(row), column, None if pd.isna(value) else str(value), code,
            messages[name](lambda c, row=row: data.at[row, c], column),
            Severity.WARNING if code in WARNING_CODES else Severity.ERROR))

    order = {name: i for i, name in enumerate(data.columns)}
    issues.sort(key=lambda i: (i.row or 0, order.get(i.column, -1)))
    invalid = frozenset(i.row for i in issues if i.row is not None
                        and i.severity is Severity.ERROR)
    return Checked(sheet, issues, invalid)


def _first_rows(values: pd.Series) -> dict[str, int]:
    """Value -> the Excel row it first appears in, for the values that appear again."""
    repeated = values[values.duplicated(keep=False) & values.notna()]
    firsts = repeated[~repeated.duplicated(keep="first")]
    return dict(zip(firsts, firsts.index, strict=True))
