"""`importer run` of configure rows against the sandbox, against a bare requests.Session loop.

One in-process sandbox (no latency) serves both. Before timing, the demo account buys the blocks
through the API (configure needs owned blocks) and ours is planned once to get the exact paths
and JSON bodies it sends. Then, alternating, `--repeat` rounds of:

  bare: requests.Session with basic auth, POST each body to its path, check for 200;
  ours: importer.cli.main(["run", FILE, "--out", fresh dir]): load, validate, plan, journal
        (SQLite, two commits a row), progress callback (tqdm draws only on a terminal),
        retrying adapters, results workbook.

The sandbox runs in this process, so its threads share the GIL with the client in both cases;
the server's share of the time is the same on both sides, which keeps the ratio fair (and makes
it stricter than against a remote API, where only our side would be left in the process).

    python bench/run_configure.py --rows 5000 --repeat 3
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile
from pathlib import Path

import requests
from common import alternate, arguments, configure_rows, environment, ratio_line, write_xlsx

TARGET = 1.05  # issue 28 (was 1.15)


def buy(base_url: str, auth: tuple[str, str], blocks: list[str]) -> None:
    from importer.sandbox import DEMO_PROPERTY_SIDS

    prop = DEMO_PROPERTY_SIDS[0]
    with requests.Session() as session:
        session.auth = auth
        for sid in blocks:
            reply = session.post(f"{base_url}/v2/Properties/{prop}/NumberBlocks",
                                 json={"NumberBlockSid": sid, "AnswerPoint": "+61412345678",
                                       "PropertySid": prop})
            if reply.status_code != 200:
                raise SystemExit(f"buying {sid} failed: {reply.status_code} {reply.text}")


def planned(path: Path, out: Path, scope: str) -> list[tuple[str, dict]]:
    """The (path, body) pairs ours sends, from its own planning code."""
    from importer.pipeline import Options, _tasks, prepare

    prepared = prepare(path, Options(out=out))
    outcomes = [[None] * len(c.sheet.data) for c in prepared.checked]
    tasks = _tasks(prepared, outcomes, scope)  # type: ignore[arg-type]
    assert len(tasks) == sum(len(c.sheet.data) for c in prepared.checked), "some rows invalid"
    return [(t.path, t.body) for t in tasks]


def bare(base_url: str, auth: tuple[str, str], requests_: list[tuple[str, dict]]) -> None:
    with requests.Session() as session:
        session.auth = auth
        for path, body in requests_:
            reply = session.post(base_url + path, json=body)
            if reply.status_code != 200:
                raise SystemExit(f"{path}: {reply.status_code} {reply.text}")


def ours(path: Path, out_dir: Path) -> None:
    from importer.cli import main as importer_main

    out_dir.mkdir()
    with contextlib.redirect_stdout(io.StringIO()) as text:
        code = importer_main(["run", str(path), "--out", str(out_dir / "results.xlsx")])
    if code != 0:
        raise SystemExit(f"importer run exited {code}: {text.getvalue()}")


def main() -> int:
    parser = arguments(__doc__, 5000)
    args = parser.parse_args()

    from importer.sandbox import INVENTORY_SIZE, SandboxServer, inventory_sid

    if not 1 <= args.rows <= INVENTORY_SIZE:
        parser.error(f"--rows must be 1..{INVENTORY_SIZE} (the sandbox's inventory)")
    print(environment())
    blocks = [inventory_sid(i) for i in range(args.rows)]
    with tempfile.TemporaryDirectory(prefix="bench-run-") as tmp, SandboxServer() as server:
        tmp_path = Path(tmp)
        auth = (server.account_sid, server.auth_token)
        buy(server.base_url, auth, blocks)
        path = write_xlsx(tmp_path / "configure.xlsx", configure_rows(blocks), "Configure")
        scope = f"{server.base_url.lower()}:{server.account_sid}"
        bodies = planned(path, tmp_path / "plan.results.xlsx", scope)
        print(f"{len(bodies):,} configure rows, {len(blocks):,} blocks bought; progress bar "
              f"{'drawn' if sys.stderr.isatty() else 'not drawn (stderr is not a terminal)'}")
        env = {"IMPORTER_BASE_URL": server.base_url, "IMPORTER_ACCOUNT_SID": server.account_sid,
               "IMPORTER_AUTH_TOKEN": server.auth_token,
               "IMPORTER_CONFIG": str(tmp_path / "no-config.toml")}
        os.environ.update(env)
        Path(env["IMPORTER_CONFIG"]).write_text("")
        n = iter(range(10**6))
        timings = alternate(
            args.repeat,
            bare=lambda: bare(server.base_url, auth, bodies),
            ours=lambda: ours(path, tmp_path / f"run-{next(n)}"),
        )
    per_row = (timings["ours"].median - timings["bare"].median) / len(bodies) * 1e3
    print(f"bare: {timings['bare']}")
    print(f"ours: {timings['ours']} ({per_row:+.3f} ms a row over bare)")
    print(ratio_line(f"run {len(bodies)} configure", timings["ours"].median, "bare loop",
                     timings["bare"].median, TARGET))
    return 0


if __name__ == "__main__":
    sys.exit(main())
