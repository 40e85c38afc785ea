"""A fresh `importer validate` of a one-row CSV against `python -c "import pandas"`.

Both are new processes (Python's own start-up counted on both sides), alternating, medians;
`importer --help` is timed too. What a command imports is the cost here: pandas, pyarrow and
pandera are needed to check a row, the web app, Flask, the sandbox and openpyxl are not.

    python bench/startup.py --repeat 9
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from common import alternate, arguments, environment, ratio_line

TARGET = 1.5
CSV = "PropertySid,NumberBlockSid,AnswerPoint\nPRDEMO0001,NB2000001,0412 345 678\n"


def main() -> int:
    args = arguments(__doc__, rows=1).parse_args()
    print(environment())
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        source = Path(tmp) / "one.csv"
        source.write_text(CSV, encoding="utf-8")
        out = Path(tmp) / "one.results.xlsx"

        def run(*command: str) -> None:
            subprocess.run([sys.executable, *command], check=False, capture_output=True)

        def validate() -> None:
            out.unlink(missing_ok=True)
            run("-m", "importer", "validate", str(source), "--out", str(out))
            if not out.exists():
                raise SystemExit("importer validate wrote no results workbook")

        timings = alternate(args.repeat, ours=validate, pandas=lambda: run("-c", "import pandas"),
                            help=lambda: run("-m", "importer", "--help"))
    for name, timing in timings.items():
        print(f"{name}: {timing}")
    print(ratio_line("startup validate 1-row CSV", timings["ours"].median, "import pandas",
                     timings["pandas"].median, TARGET))
    return 0


if __name__ == "__main__":
    sys.exit(main())
