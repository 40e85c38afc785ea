"""The README's column reference is generated from the specs; it must match them."""

from __future__ import annotations

from pathlib import Path

from importer.docs import END, START, column_reference
from importer.operations import OPERATIONS

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_column_reference_is_current() -> None:
    text = README.read_text(encoding="utf-8")
    current = START + text.split(START, 1)[1].split(END, 1)[0] + END
    assert current == column_reference(), "run: python -m importer.docs README.md"


def test_every_field_is_documented() -> None:
    reference = column_reference()
    for op in OPERATIONS.values():
        for f in op.fields:
            assert f"| {f.name} |" in reference
