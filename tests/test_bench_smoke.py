"""The benchmark scripts still run: each on a tiny size, checking only that it reports.

No timing is asserted here: figures on a busy CI machine mean nothing, and the targets are
checked by running bench/ at full size (see bench/README.md).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"

CASES = [
    ("validate_e2e.py", ["--rows", "300", "--repeat", "1"],
     r"validate e2e: ours [\d.]+ s, floor [\d.]+ s, ratio [\d.]+ \(target <= 0\.5\)"),
    ("validate_rate.py", ["--rows", "300", "--repeat", "1"],
     r"validation: [\d,]+ rows/s \(target >= 150,000\)"),
    ("run_configure.py", ["--rows", "50", "--repeat", "1"],
     r"run 50 configure: ours [\d.]+ s, bare loop [\d.]+ s, ratio [\d.]+ \(target <= 1\.05\)"),
    ("web_upload.py", ["--rows", "300", "--repeat", "1", "--edits", "2"],
     r"web upload 300 rows to grid: ours [\d.]+ s, pandas\+calamine read [\d.]+ s, ratio "
     r"[\d.]+ \(target <= 1\.5\)"),
    ("memory.py", ["--rows", "2000"],
     r"memory 2000 rows: peak RSS [\d.]+ GiB \(target <= 2 GiB\)"),
    ("export.py", ["--rows", "300", "--repeat", "1"],
     r"export 300 blocks: [\d.]+ s \(target < 30 s\)"),
    ("startup.py", ["--repeat", "1"],
     r"startup validate 1-row CSV: ours [\d.]+ s, import pandas [\d.]+ s, ratio [\d.]+ "
     r"\(target <= 1\.5\)"),
    ("web_find.py", ["--rows", "300", "--repeat", "1"],
     r"web find 300 rows: worst page [\d.]+ ms \(target < 200 ms\)"),
]


@pytest.mark.parametrize(("script", "args", "line"), CASES, ids=[c[0] for c in CASES])
def test_bench_script_runs(script: str, args: list[str], line: str, tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, str(BENCH / script), *args], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert re.search(line, done.stdout), done.stdout[-3000:]
