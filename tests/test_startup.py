"""What a command imports before it does anything (issue 28): `importer --help` needs neither
pandas nor pandera, nor the HTTP client; validating a CSV needs no web app, sandbox or openpyxl.
Fresh processes, so nothing imported by the test run itself counts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HEAVY = ("pandas", "pandera", "pyarrow", "requests", "flask", "openpyxl", "importer.pipeline",
         "importer.web", "importer.sandbox")


def _imported(*argv: str) -> set[str]:
    code = ("import json, sys\nfrom importer.cli import main\nrc = main(sys.argv[1:])\n"
            f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))")
    done = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True,
                          timeout=120)
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_help_imports_neither_pandas_nor_pandera_nor_http() -> None:
    assert _imported("--help") == set()
    assert _imported("validate", "--help") == set()


def test_validating_a_csv_imports_no_web_app_sandbox_or_openpyxl(tmp_path: Path) -> None:
    source = tmp_path / "one.csv"
    source.write_text("PropertySid,NumberBlockSid,AnswerPoint\nPRDEMO0001,NB2000001,"
                      "0412 345 678\n", encoding="utf-8")
    got = _imported("validate", str(source), "--out", str(tmp_path / "r.xlsx"))
    assert (tmp_path / "r.xlsx").exists()
    assert {"pandas", "pandera", "importer.pipeline"} <= got  # the checks need them
    assert not got & {"flask", "openpyxl", "importer.web", "importer.sandbox"}
