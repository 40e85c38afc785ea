"""Generated documents (the README's column reference, docs/api-contract.md) match their code."""

from __future__ import annotations

import re
from pathlib import Path

from importer.spec import contract
from importer.spec.docs import END, START, column_reference, contract_page
from importer.spec.operations import OPERATIONS

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def test_readme_column_reference_is_current() -> None:
    text = README.read_text(encoding="utf-8")
    current = START + text.split(START, 1)[1].split(END, 1)[0] + END
    assert current == column_reference(), "run: python -m importer.spec.docs"


def test_every_field_is_documented() -> None:
    reference = column_reference()
    for op in OPERATIONS.values():
        for f in op.fields:
            assert f"| {f.name} |" in reference


def test_the_api_contract_page_is_current_and_linked() -> None:
    page = ROOT / "docs" / "api-contract.md"
    assert page.read_text(encoding="utf-8") == contract_page(), "run: python -m importer.spec.docs"
    assert "docs/api-contract.md" in README.read_text(encoding="utf-8")


def test_decision_code_uses_no_undocumented_error_code() -> None:
    """Inferred codes are for the sandbox's answers only: the client's decision code never names
    one, neither as a string nor through importer.spec.contract."""
    inferred = set(contract.INFERRED_CODES)
    attributes = {name for name, value in vars(contract).items()
                  if isinstance(value, str) and value in inferred}
    decision_code = [*sorted((ROOT / "importer" / "sending").glob("*.py")),
                     ROOT / "importer" / "pipeline.py"]
    for path in decision_code:
        name, text = path.name, path.read_text(encoding="utf-8")
        literals = set(re.findall(r"[\"']([A-Z][A-Z_]+)[\"']", text))
        assert not literals & inferred, f"{name} names {literals & inferred}"
        used = set(re.findall(r"contract\.([A-Z_]+)\b", text))
        assert not used & attributes, f"{name} uses {used & attributes}"
