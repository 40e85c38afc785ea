"""`importer export` of a property owning 20,000 blocks, from the sandbox over HTTP.

Before timing, the sandbox's state file gets `--rows` owned blocks (written through its own
store, with routing and tags, as a busy account would have them). Then, `--repeat` times:

  export: importer.cli.main(["export", "--property", P, "-o", fresh file]): every listing page
          (200 a page, each checked), the rows, the workbook (drop-downs, help, the record);
  run:    importer.cli.main(["run", that file]) unchanged: load, check, every row SKIPPED as
          unchanged since the export, no request, results workbook.

The sandbox runs in this process (its threads share the GIL with the client), so the figures
are on the slow side of what a remote API gives. Peak RSS is printed too: the rows are held,
never the pages.

    python bench/export.py --rows 20000 --repeat 3
"""

from __future__ import annotations

import contextlib
import io
import os
import statistics
import tempfile
import time
from pathlib import Path

from common import arguments, environment, peak_rss_self

TARGET_S = 30.0
PROPERTY = "PRDEMO0002"


def seed(db: Path, rows: int) -> None:
    from importer.sandbox.seed import DEMO_ACCOUNT_SID, inventory_sid
    from importer.sandbox.store import Store

    store = Store(str(db))
    methods = ("endpoint", "flow", "application")
    for i in range(rows):
        method = methods[i % 10 // 7 + (i % 10 == 9)]  # 70% endpoint, 20% flow, 10% app
        data = {"AnswerPoint": "+61298765432", "RoutingMethod": method,
                "EndpointNumber": None if method == "application" else f"+614123{i % 100000:05d}",
                "Flow": f"FL{i % 97}" if method == "flow" else None,
                "Application": f"APP{i % 13}" if method == "application" else None,
                "Source": ("google", "bing", "radio")[i % 3], "Medium": "cpc",
                "Campaign": f"Campaign {i % 40}", "Content": None, "Recording": "enabled"}
        store.record_purchase(inventory_sid(i), DEMO_ACCOUNT_SID, PROPERTY, data)
    store.close()


def main() -> None:
    parser = arguments(__doc__ or "", 20_000)
    args = parser.parse_args()
    from importer.cli import main as importer
    from importer.sandbox import SandboxServer

    work = Path(tempfile.mkdtemp(prefix="bench-export-"))
    db = work / "sandbox.sqlite"
    seed(db, args.rows)
    exports, runs = [], []
    with SandboxServer(db_path=str(db)) as server:
        os.environ.update({"IMPORTER_BASE_URL": server.base_url,
                           "IMPORTER_ACCOUNT_SID": server.account_sid,
                           "IMPORTER_AUTH_TOKEN": server.auth_token,
                           "IMPORTER_STATE_DIR": str(work / "state"),
                           "IMPORTER_CONFIG": str(work / "none.toml")})
        for n in range(args.repeat):
            out = work / f"round{n}" / "blocks.xlsx"
            out.parent.mkdir()
            quiet = io.StringIO()
            with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
                start = time.perf_counter()
                code = importer(["export", "--property", PROPERTY, "-o", str(out)])
                exports.append(time.perf_counter() - start)
                if code != 0:
                    raise SystemExit(f"export failed ({code}): {quiet.getvalue()[-2000:]}")
                start = time.perf_counter()
                code = importer(["run", str(out)])
                runs.append(time.perf_counter() - start)
            if code != 0:
                raise SystemExit(f"run of the export failed ({code}): {quiet.getvalue()[-2000:]}")
            if "SKIPPED" not in quiet.getvalue() or "OK" in quiet.getvalue().split("run:")[-1]:
                raise SystemExit(f"the unchanged export sent rows: {quiet.getvalue()[-2000:]}")
    export_s, run_s = statistics.median(exports), statistics.median(runs)
    print(environment())
    print(f"run of the unchanged export: {run_s:.2f} s, every row SKIPPED, no request")
    print(f"peak RSS of this process: {peak_rss_self() / 2**20:.0f} MiB")
    print(f"export {args.rows:,} blocks: {export_s:.2f} s (target < {TARGET_S:g} s)")


if __name__ == "__main__":
    main()
