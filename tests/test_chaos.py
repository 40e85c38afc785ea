"""Chaos: every fault at once against a sandbox that would sell a block twice, two runs started
together, SIGKILLs mid-rollout; in the end every block bought exactly once by the server's own
count, and no run's results ever claimed something untrue.

Bounded: a few minutes on a 2-core machine. The random points are seeded (printed on failure).
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from importer.sandbox import Knobs, SandboxServer
from tests.test_reliability import _env, _start, _wait_for_journal
from tests.util import CONFIGURE_HEADER, PURCHASE_HEADER, sheet_rows, write_xlsx

ROWS = 300
SEED = 20261123
RUN = ["--yes", "--settle-window", "10", "--timeout", "5", "--wait"]


def _check_truth(results: Path, sold: dict[str, int]) -> None:
    """OK means the server sold it; FAILED, REJECTED or 'Not bought' means it did not."""
    for row in sheet_rows(results, "Purchase"):
        block, status, message = row["NumberBlockSid"], row["Status"], row["Message"] or ""
        if status == "OK":
            assert sold.get(block) == 1, (block, message)
        if status in ("FAILED", "REJECTED") or message.startswith("Not bought"):
            assert block not in sold, (block, status, message)


@pytest.mark.slow
def test_chaos_rollout_converges_exactly_once_and_never_lies(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    blocks = [f"NB{102000 + i}" for i in range(ROWS)]
    methods = ["endpoint", "flow", "application"]
    source = write_xlsx(tmp_path / "chaos.xlsx", {
        "Purchase": [PURCHASE_HEADER, *[[f"PRDEMO000{2 + i % 3}", b, "0412345678", f"C{i}"]
                                        for i, b in enumerate(blocks)]],
        "Configure": [CONFIGURE_HEADER, *[
            ["ACDEMO0001", b, m, "0298765432" if m != "application" else None,
             "FL1" if m == "flow" else None, "APP1" if m == "application" else None,
             "enabled", f"K{i}"] for i, (b, m) in enumerate(
                (b, methods[i % 3]) for i, b in enumerate(blocks))]],
    })
    journal = tmp_path / "chaos.journal.sqlite"
    knobs = Knobs(rebuy=True, fail_rate=0.03, drop_rate=0.03, fail_after_commit_rate=0.03,
                  junk_success_rate=0.02, commit_after_s=0.2, listing_lag_s=0.4,
                  throttle_rps=400, seed=SEED)
    with SandboxServer(knobs=knobs) as server:
        env = _env(server)
        # Two runs started at the same moment (one waits for the other); one is killed.
        pair = [_start(["run", str(source), *RUN], env) for _ in range(2)]
        _wait_for_journal(journal, rng.randrange(50, ROWS), timeout=120)
        pair[0].kill()
        for proc in pair:
            proc.communicate(timeout=300)
        # Each results workbook is true of the moment it was written: checked before later runs
        # buy what it truthfully says it did not.
        for results in tmp_path.glob("chaos.results*.xlsx"):
            _check_truth(results, server.purchase_counts())
        for kill_after in sorted(rng.sample(range(ROWS, 2 * ROWS - 50), 1)):
            proc = _start(["run", str(source), *RUN], env)
            try:
                _wait_for_journal(journal, kill_after, timeout=120)
            finally:
                proc.kill()
                proc.communicate(timeout=30)
        for _ in range(8):
            done = subprocess.run([sys.executable, "-m", "importer", "run", str(source), *RUN,
                                   "--json"], env=env, capture_output=True, text=True,
                                  timeout=600, check=False)
            summary = json.loads(done.stdout)
            _check_truth(Path(summary["results_path"]), server.purchase_counts())
            if done.returncode == 0:
                break
            assert done.returncode == 1, done.stderr
        else:
            pytest.fail(f"no clean run after 8 re-runs (seed {SEED})")

        sent = requests.get(f"{server.base_url}/_sandbox/stats", timeout=5).json()["Requests"]
        assert sent["purchase"] > ROWS and sent["configure"] > ROWS  # the faults did happen
        assert summary["rows"] == 2 * ROWS
        counts = server.purchase_counts()
        assert counts == dict.fromkeys(blocks, 1), f"double or missing purchase (seed {SEED})"
        for i, block in enumerate(blocks):
            state = requests.get(f"{server.base_url}/_sandbox/blocks/{block}", timeout=5).json()
            assert state["RoutingMethod"] == methods[i % 3] and state["Campaign"] == f"K{i}"

    results = Path(summary["results_path"])
    for sheet in ("Purchase", "Configure"):
        rows = sheet_rows(results, sheet)
        assert len(rows) == ROWS
        assert all(r["Status"] in ("OK", "SKIPPED") for r in rows), sheet
        assert all(r["Status"] == "OK" or "Already" in r["Message"] for r in rows)
