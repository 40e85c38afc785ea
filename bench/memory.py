"""Peak memory of `importer validate` on the largest sheet Excel can hold.

The sheet is written first (streamed, so this process stays small), then `python -m importer
validate` runs in a child process; its peak resident set comes from getrusage(RUSAGE_CHILDREN)
after it has been waited for, so nothing of this process is counted.

    python bench/memory.py                  # 1,048,576 sheet rows (header + 1,048,575), ~10 min
    python bench/memory.py --rows 2000      # a quick check
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import GIB, environment, peak_rss_children, purchase_rows, write_xlsx

EXCEL_MAX_ROWS = 1_048_576
TARGET_GIB = 2.0  # issue 28 (was 4)
TARGET_SECONDS = 120


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=EXCEL_MAX_ROWS,
                        help="sheet rows, header included (default: Excel's maximum)")
    parser.add_argument("--dir", type=Path, help="where to write the files (default: a temp dir)")
    args = parser.parse_args()
    if not 2 <= args.rows <= EXCEL_MAX_ROWS:
        parser.error(f"--rows must be 2..{EXCEL_MAX_ROWS}")
    print(environment())
    with tempfile.TemporaryDirectory(prefix="bench-memory-", dir=args.dir) as tmp:
        path = Path(tmp) / "purchase.xlsx"
        start = time.perf_counter()
        write_xlsx(path, purchase_rows(args.rows - 1))
        print(f"generated {args.rows - 1:,} data rows x 20 columns in "
              f"{time.perf_counter() - start:.1f} s ({path.stat().st_size / 2**20:.0f} MiB)")
        out = Path(tmp) / "purchase.results.xlsx"
        command = [sys.executable, "-m", "importer", "validate", str(path), "--out", str(out)]
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True)
        wall = time.perf_counter() - start
        peak = peak_rss_children() / GIB
    sys.stdout.write(done.stdout)
    if done.returncode not in (0, 1):  # 1 = some rows INVALID, as intended
        sys.stderr.write(done.stderr)
        print(f"importer validate failed with exit code {done.returncode}")
        return 1
    ok = peak <= TARGET_GIB
    print(f"validate wall time {wall:.1f} s (target <= {TARGET_SECONDS} s at full size)"
          f"{'' if wall <= TARGET_SECONDS else '  MISSED'}")
    print(f"memory {args.rows} rows: peak RSS {peak:.2f} GiB (target <= {TARGET_GIB:g} GiB)"
          f"{'' if ok else '  MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
