"""Documents generated from the code so they cannot drift: the README's column reference (from
the operation specs) and `docs/api-contract.md` (from `importer.spec.contract`).

`python -m importer.spec.docs` rewrites both; a test fails when a committed copy differs.
"""

from __future__ import annotations

import sys
from pathlib import Path

from importer.spec import contract
from importer.spec.operations import OPERATIONS, Operation

START, END = "<!-- columns:start -->", "<!-- columns:end -->"


def _table(op: Operation) -> list[str]:
    paths = " or ".join(f"`POST {template}`" for _, template in op.paths)
    lines = [f"### {op.title}", "", f"{op.summary} Sent as {paths}.", "",
             "| Column | Kind | Required | Allowed values | Meaning |",
             "|---|---|---|---|---|"]
    lines += [f"| {' | '.join(row)} |" for row in op.reference()]
    if op.routing:
        lines += ["", "Conditional routing:", "",
                  "| RoutingMethod | Needs | Not used (warning, not sent) |", "|---|---|---|"]
        lines += [f"| {' | '.join(row)} |" for row in op.routing_table()]
        lines += ["", f"{', '.join(op.routing_fields)} without a RoutingMethod is an error."]
    return [*lines, ""]


def column_reference() -> str:
    lines = [START, ""]
    for op in OPERATIONS.values():
        lines += _table(op)
    return "\n".join([*lines, END])


def update(readme: Path) -> bool:
    """Rewrite the generated part of `readme`; True when it changed."""
    text = readme.read_text(encoding="utf-8")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    new = head + column_reference() + tail
    if new != text:
        readme.write_text(new, encoding="utf-8")
    return new != text


def contract_page() -> str:
    """docs/api-contract.md: every behaviour the tool or the sandbox relies on, and its basis."""
    lines = [
        "# The API contract",
        "",
        "<!-- Generated from importer/spec/contract.py by `python -m importer.spec.docs`; "
        "edit that. -->",
        "",
        "Everything the importer and its sandbox rely on about the Fone Dynamics REST API v2. "
        "**Documented** rows quote the API's public pages "
        f"(<{contract.DOCS}>: {contract.ERRORS_PAGE}, {contract.LIST_PAGE}, "
        f"{contract.PURCHASE_PAGE}, {contract.CONFIGURE_PAGE}); **inferred** rows are our "
        "decisions where the pages are silent, each with its reason. The code reads every path, "
        "parameter, code and default below from `importer/spec/contract.py`, so a fact learnt "
        "later changes one line there.",
        "",
        "No safety or stop decision rests on an inferred error code: whether a purchase went "
        "through is settled by looking the block up, and only a 401 is taken to be about the "
        "credentials.",
        "",
        "| Topic | What the tool relies on | Basis | Page, or why |",
        "|---|---|---|---|",
    ]
    for term in contract.TERMS:
        basis = "documented" if term.documented else "**inferred**"
        lines.append(f"| {term.topic} | {term.text} | {basis} | {term.source} |")
    return "\n".join([*lines, ""])


def update_contract(path: Path) -> bool:
    """Rewrite docs/api-contract.md; True when it changed."""
    new = contract_page()
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    if new != old:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(new, encoding="utf-8")
    return new != old


if __name__ == "__main__":
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(".")
    readme = update(root / "README.md")
    page = update_contract(root / "docs" / "api-contract.md")
    print("updated" if readme or page else "up to date")
