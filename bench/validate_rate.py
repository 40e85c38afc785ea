"""Validation alone: rows per second from a loaded sheet to its Issue records.

The sheet is loaded once (importer.reading.loading.load); then importer.checking.schemas.check
runs on it `--repeat` times. Each `importer validate` is a fresh process, so by default the phone
cache (parse_phone's lru_cache) is cleared before every run: the headline rate is the cold one a
user gets. The warm rate (cache kept) is printed too, for comparison.

    python bench/validate_rate.py --rows 100000 --repeat 3
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from common import arguments, environment, purchase_rows, write_xlsx

TARGET = 150_000


def main() -> int:
    parser = arguments(__doc__, 100_000)
    args = parser.parse_args()

    from importer.checking.rules import clear_phone_cache
    from importer.checking.schemas import check
    from importer.reading.loading import load

    print(environment())
    with tempfile.TemporaryDirectory(prefix="bench-rate-") as tmp:
        path = write_xlsx(Path(tmp) / "purchase.xlsx", purchase_rows(args.rows))
        (sheet,) = load(path)
    rows = len(sheet.data)

    def run(cold: bool) -> float:
        if cold:
            clear_phone_cache()
        start = time.perf_counter()
        checked = check(sheet)
        seconds = time.perf_counter() - start
        runs.append(checked)
        return seconds

    runs: list = []
    cold = [run(True) for _ in range(args.repeat)]
    warm = [run(False) for _ in range(args.repeat)]
    checked = runs[-1]
    codes = Counter(i.code for i in checked.issues)
    print(f"{rows:,} rows, {len(checked.invalid):,} invalid "
          f"({len(checked.invalid) / rows:.1%}), issues: "
          + ", ".join(f"{k} {v}" for k, v in codes.most_common()))
    print(f"cold runs: {', '.join(f'{s:.3f}' for s in cold)} s; "
          f"warm runs: {', '.join(f'{s:.3f}' for s in warm)} s")
    rate = rows / statistics.median(cold)
    warm_rate = rows / statistics.median(warm)
    print(f"warm phone cache (not what a user gets): {warm_rate:,.0f} rows/s")
    print(f"validation: {rate:,.0f} rows/s (target >= {TARGET:,})"
          f"{'' if rate >= TARGET else '  MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
