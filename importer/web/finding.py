"""Finding rows in a big sheet: search, sort and filters for the grid, problems grouped by
reason, and the cells a find and replace changes.

All of it reads what the core already decided (the checked issues, the run's outcomes); nothing
here judges a value. Answers come from the sheet's frame with pandas, so a page of a filtered,
sorted 20,000-row sheet is a few tens of milliseconds (bench/web_find.py).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from importer.errors import ImporterError
from importer.report import Issue, Outcome, Severity, Status

MAX_BULK = 50_000  # cells in one bulk change (a paste, a fill down, a find and replace)
MAX_FILTERS = 40
STATUS_ORDER = {s.value: i for i, s in enumerate((
    Status.INVALID, Status.REJECTED, Status.FAILED, Status.UNKNOWN, Status.SKIPPED,
    Status.VALID, Status.OK))}


class TooBig(ImporterError):
    """A bulk change larger than one step may be (it would hold the page for too long)."""


class NothingToFind(ImporterError):
    """A find and replace of nothing inside cells: it would change every cell."""


@dataclass(frozen=True)
class Query:
    """What the grid asks for: a search over every cell, filters, a problem group, a sort."""

    search: str = ""
    filters: tuple[tuple[str, str], ...] = ()  # (field, text): c<pos> contains, _status is
    problem: str = ""  # a group key from `groups`
    problems: bool = False  # only rows with a problem
    sort: tuple[str, bool] | None = None  # (field, descending)


def query_from(args: Mapping[str, str]) -> Query:
    """The query in Tabulator's remote parameters (`sort[0][field]`, `filter[0][value]`, ...)
    and ours (`search`, `problem`, `problems`)."""
    filters = []
    for i in range(MAX_FILTERS):
        name = args.get(f"filter[{i}][field]")
        if name is None:
            break
        value = str(args.get(f"filter[{i}][value]") or "")
        if value:
            filters.append((str(name), value))
    sort = None
    if name := args.get("sort[0][field]"):
        sort = (str(name), str(args.get("sort[0][dir]")) == "desc")
    return Query(search=str(args.get("search") or "").strip(), filters=tuple(filters),
                 problem=str(args.get("problem") or ""), problems=args.get("problems") == "1",
                 sort=sort)


@dataclass
class View:
    """One sheet as the finder reads it: the cells shown (Excel row index, c<pos> columns, taken
    from the raw cells only when a query needs them), each row's status, and which rows each
    problem group holds."""

    raw: pd.DataFrame
    rows: pd.Index
    positions: list[int]
    status: pd.Series
    problem_rows: list[int]
    groups: dict[str, set[int]] = field(default_factory=dict)
    _cells: pd.DataFrame | None = None

    @property
    def cells(self) -> pd.DataFrame:
        if self._cells is None:
            cells = self.raw.iloc[self.rows - 1, self.positions]
            self._cells = cells.set_axis(self.rows, axis=0).set_axis(
                [f"c{p}" for p in self.positions], axis=1)
        return self._cells

    @property
    def fields(self) -> set[str]:
        return {f"c{p}" for p in self.positions}


def view_of(raw: pd.DataFrame, rows: pd.Index, positions: list[int], invalid: frozenset[int],
            results: Mapping[int, Outcome], problem_rows: list[int],
            issues: list[Issue]) -> View:
    status = pd.Series(Status.VALID.value, index=rows, dtype=object)
    if invalid:
        status.loc[sorted(invalid)] = Status.INVALID.value
    if results:  # a run's outcomes, in one assignment (20,000 of them after a big run)
        status.loc[list(results)] = [o.status.value for o in results.values()]
    return View(raw, rows, positions, status, problem_rows,
                {k: g["rows"] for k, g in _grouped(issues, results).items()})


def select(view: View, query: Query) -> list[int]:
    """The Excel rows the query asks for, in its order."""
    index = view.rows
    keep = pd.Series(True, index=index)
    if query.problems:
        keep &= index.isin(view.problem_rows)
    if query.problem:
        keep &= index.isin(list(view.groups.get(query.problem, ())))
    if query.search:
        found = pd.Series(False, index=index)
        for name in view.cells.columns:
            found |= _contains(view.cells[name], query.search)
        keep &= found
    for name, text in query.filters:
        if name == "_status":
            keep &= view.status == text.upper()
        elif name == "_row":
            keep &= index.astype(str).str.startswith(text.strip())
        elif name in view.fields:
            keep &= _contains(view.cells[name], text)
    rows = index[keep.to_numpy()]
    if query.sort is None:
        return rows.tolist()
    name, descending = query.sort
    if name == "_status":
        key = view.status.loc[rows].map(STATUS_ORDER)
    elif name in view.fields:
        key = _sort_key(view.cells.loc[rows, name])
    else:  # the row number, or a column the sheet no longer has
        key = pd.Series(rows, index=rows)
    empty = key.isna()
    order = pd.DataFrame({"empty": empty.to_numpy(), "key": key.where(~empty, None).to_numpy(),
                          "row": rows.to_numpy()})
    # Empty cells last either way, as Excel's sort does; ties keep the rows' order.
    order = order.sort_values(["empty", "key", "row"], ascending=[True, not descending, True],
                              kind="stable", na_position="last")
    return order["row"].tolist()


def worst(marks: Mapping[str, list[str]], positions: list[int]) -> str:
    """The field to go to in a row's marks: its first error in column order, else its first
    warning, else the status (a row whose run refused it)."""
    order = [f"c{p}" for p in positions]
    ranked = sorted(marks, key=lambda k: (marks[k][0] != "error",
                                          order.index(k) if k in order else -1))
    return ranked[0] if ranked else "_status"


def _contains(column: pd.Series, text: str) -> pd.Series:
    return column.astype("str").str.contains(text, case=False, regex=False).fillna(
        False).astype(bool)


def _sort_key(column: pd.Series) -> pd.Series:
    """Numbers as numbers when every filled cell is one (row counts, ranges), else text
    without regard to case."""
    text = column.astype("str").where(column.notna())
    numbers = pd.to_numeric(text, errors="coerce")
    if numbers.notna().sum() == text.notna().sum():
        return numbers
    return text.str.casefold()


# --- problems grouped by reason -------------------------------------------------------------

def _grouped(issues: list[Issue], results: Mapping[int, Outcome]) -> dict[str, dict]:
    """Each reason a row is not right, with its rows: a check's (code, column), or a run's
    (status, API error code). A row a run has settled is grouped by its outcome only; one
    the run found INVALID keeps its check's reasons (the outcome only joins them)."""
    groups: dict[str, dict] = {}
    for issue in issues:
        outcome = results.get(issue.row) if issue.row is not None else None
        if issue.row is None or (outcome is not None and outcome.status is not Status.INVALID):
            continue
        key = f"check:{issue.code}:{issue.column or ''}"
        group = groups.setdefault(key, {
            "rows": set(), "messages": set(), "column": issue.column or "",
            "code": issue.code, "example": issue.message,
            "level": "error" if issue.severity is Severity.ERROR else "warning"})
        group["rows"].add(issue.row)
        if len(group["messages"]) < 2:
            group["messages"].add(issue.message)
    for row, outcome in results.items():
        if outcome.status in (Status.OK, Status.VALID, Status.INVALID) or outcome.done:
            continue
        key = f"run:{outcome.status.value}:{outcome.error_code}"
        group = groups.setdefault(key, {
            "rows": set(), "messages": set(), "column": "", "level": "error",
            "code": outcome.error_code or outcome.status.value, "example": outcome.message})
        group["rows"].add(row)
        if len(group["messages"]) < 2:
            group["messages"].add(outcome.message)
    return groups


def groups(issues: list[Issue], results: Mapping[int, Outcome]) -> list[dict]:
    """The problem groups of a sheet for the page, most rows first: when every row's message is
    the same it is the reason; otherwise the code (as words) with one row's message."""
    listed = []
    for key, group in _grouped(issues, results).items():
        same = len(group["messages"]) == 1
        words = re.sub(r"[_\s]+", " ", group["code"]).strip()
        if key.startswith("run:"):
            words = f"{key.split(':')[1]} {group['code']}" if group["code"] else words
        reason = group["example"] if same else (
            f"{group['column']}: {words}" if group["column"] else words)
        listed.append({"key": key, "count": len(group["rows"]), "reason": reason,
                       "example": "" if same else group["example"], "level": group["level"],
                       "column": group["column"], "code": group["code"]})
    listed.sort(key=lambda g: (g["level"] != "error", -g["count"], g["reason"]))
    return listed


# --- find and replace -----------------------------------------------------------------------

def replacements(column: pd.Series, find: str, replace: str, whole: bool,
                 case: bool = False) -> list[tuple[int, str]]:
    """(Excel row, new text) for every cell of the column that `find` changes: the whole cell
    (an empty `find` matches empty cells) or each occurrence in it, as Excel's Replace does."""
    text = column.astype("str")
    if whole:
        if find:
            hit = (text == find) if case else (text.str.casefold() == find.casefold())
        else:
            hit = column.isna() | (text.str.strip() == "")
        hit = hit.fillna(False).astype(bool)
        return [(int(r), replace) for r in column.index[hit.to_numpy()]]
    if not find:
        raise NothingToFind("Give the text to find (or tick 'Whole cell' to fill the empty "
                            "cells).")
    pattern = re.compile(re.escape(find), 0 if case else re.IGNORECASE)
    hit = text.str.contains(pattern, regex=True).fillna(False).astype(bool)
    found = text[hit.to_numpy()]
    return [(int(r), pattern.sub(lambda _m: replace, v)) for r, v in found.items()]


def check_size(count: int) -> None:
    if count > MAX_BULK:
        raise TooBig(f"That change would touch {count:,} cells; one change may touch at most "
                     f"{MAX_BULK:,}. Narrow it first (search or filter the rows), or make it "
                     "in Excel and upload the file again.")
