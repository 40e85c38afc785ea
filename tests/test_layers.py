"""The package's layers hold: import-linter's contracts in pyproject.toml, and the layout's size
rules (a few modules at the top, none too long to read)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "importer"


def _lint(config: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = lint_imports(config_filename=str(config), no_cache=True, no_logo=True)
    return code, capsys.readouterr().out


def test_the_layers_contract_is_kept(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _lint(ROOT / "pyproject.toml", capsys)
    assert code == 0, out
    assert out.count("KEPT") == 2


def test_a_back_edge_breaks_the_contract(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """The same contract with reading put above checking must break: the check is live."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    swapped = re.sub(r'"importer\.checking",\n(\s*)"importer\.reading",',
                     r'"importer.reading",\n\1"importer.checking",', text)
    assert swapped != text
    config = tmp_path / "pyproject.toml"
    config.write_text(swapped, encoding="utf-8")
    code, out = _lint(config, capsys)
    assert code != 0 and "BROKEN" in out
    assert "importer.checking is not allowed to import importer.reading" in out


def test_every_subpackage_says_what_it_is_for() -> None:
    for init in PACKAGE.glob("*/__init__.py"):
        doc = init.read_text(encoding="utf-8").lstrip()
        assert doc.startswith('"""') and len(doc.split('"""')[1]) > 60, init


def test_few_modules_at_the_top_and_none_too_long() -> None:
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= 12, top
    ours = [*PACKAGE.rglob("*.py"), *(PACKAGE / "web" / "static").glob("*.js")]
    long = {str(p.relative_to(ROOT)): n for p in ours
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 450}
    assert not long, f"modules over 450 lines: {long}"
