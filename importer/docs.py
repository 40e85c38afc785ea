"""The README's column reference, generated from the operation specs so it cannot drift.

`python -m importer.docs README.md` rewrites the part between the markers; a test fails when
the committed README differs from what this produces.
"""

from __future__ import annotations

import sys
from pathlib import Path

from importer.operations import OPERATIONS, Operation

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


if __name__ == "__main__":
    print("updated" if update(Path(sys.argv[1] if len(sys.argv) > 1 else "README.md"))
          else "up to date")
