"""One run per rollout, one buyer per account: real processes started at the same moment."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import requests

from importer.sandbox import SandboxServer
from tests.test_reliability import _env, _start, _wait_for_journal, configures, purchases
from tests.util import sheet_rows


def _purchases_received(server: SandboxServer) -> int:
    return requests.get(f"{server.base_url}/_sandbox/stats", timeout=5).json()[
        "Requests"]["purchase"]


def _wait_for(predicate, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_second_run_on_the_same_rollout_is_refused_at_once(tmp_path: Path,
                                                            sandbox: SandboxServer) -> None:
    # The first run outlasts the second's start (imports included, on a busy machine).
    sandbox.knobs.latency_ms = 1500
    source = purchases(tmp_path / "p.xlsx", range(100000, 100006))
    first = _start(["run", str(source), "--yes", "--json"], _env(sandbox))
    _wait_for(lambda: _purchases_received(sandbox) >= 1)
    started = time.monotonic()
    second = subprocess.run([sys.executable, "-m", "importer", "run", str(source), "--yes",
                             "--json"], env=_env(sandbox), capture_output=True, text=True,
                            timeout=60, check=False)
    assert second.returncode == 2 and time.monotonic() - started < 10
    error = json.loads(second.stdout)["error"]
    assert "another run is already using this rollout" in error
    assert f"process {first.pid}" in error and "p.xlsx" in error
    assert len(second.stderr.strip().splitlines()) == 1 and "--wait" in second.stderr
    out, err = first.communicate(timeout=60)
    assert first.returncode == 0, err
    assert sandbox.purchase_counts() == {f"NB{b}": 1 for b in range(100000, 100006)}
    assert _purchases_received(sandbox) == 6
    assert not (tmp_path / "p.results-2.xlsx").exists()  # the refused run wrote nothing


def test_two_runs_started_together_with_wait_buy_each_block_once(
        tmp_path: Path, sandbox: SandboxServer) -> None:
    sandbox.knobs.latency_ms = 50
    source = purchases(tmp_path / "p.xlsx", range(100000, 100010))
    runs = [_start(["run", str(source), "--yes", "--json", "--wait"], _env(sandbox))
            for _ in range(2)]
    results = [json.loads(p.communicate(timeout=120)[0]) for p in runs]
    assert sorted(r["exit_code"] for r in results) == [0, 0]
    assert sandbox.purchase_counts() == {f"NB{b}": 1 for b in range(100000, 100010)}
    assert _purchases_received(sandbox) == 10  # never a second request for any block
    by_path = {Path(r["results_path"]).name: r for r in results}
    assert set(by_path) == {"p.results.xlsx", "p.results-2.xlsx"}
    counts = sorted((r["counts"]["OK"], r["counts"]["SKIPPED"]) for r in results)
    assert counts == [(0, 10), (10, 0)]
    for name in by_path:
        assert len(sheet_rows(tmp_path / name, "Purchase")) == 10


def test_two_files_buying_for_one_account_never_both_send(tmp_path: Path,
                                                          sandbox: SandboxServer) -> None:
    # The first run outlasts the second's start (imports included, on a busy machine).
    sandbox.knobs.latency_ms = 1500
    first_file = purchases(tmp_path / "a.xlsx", range(100000, 100005))
    second_file = purchases(tmp_path / "b.xlsx", range(100000, 100005), prop="PRDEMO0001")
    first = _start(["run", str(first_file), "--yes", "--json"], _env(sandbox))
    _wait_for(lambda: _purchases_received(sandbox) >= 1)
    refused = subprocess.run([sys.executable, "-m", "importer", "run", str(second_file),
                              "--yes", "--json"], env=_env(sandbox), capture_output=True,
                             text=True, timeout=60, check=False)
    assert refused.returncode == 2
    assert "this API account for purchases" in json.loads(refused.stdout)["error"]
    waiting = _start(["run", str(second_file), "--yes", "--json", "--wait"], _env(sandbox))
    assert first.wait(timeout=60) == 0
    out, err = waiting.communicate(timeout=120)
    assert waiting.returncode == 0, err
    rows = sheet_rows(Path(json.loads(out)["results_path"]), "Purchase")
    assert all(r["Status"] == "SKIPPED" and "Already bought on" in r["Message"]
               and "a.xlsx" in r["Message"] for r in rows)  # this machine saw them bought
    assert _purchases_received(sandbox) == 5


def test_configure_only_runs_do_not_wait_for_each_other(tmp_path: Path,
                                                        sandbox: SandboxServer) -> None:
    """b starts while a is sending and finishes first: it never waited for a's account lock."""
    # a: 10 rows, at least 10 s (b's own start, imports included, takes a few seconds on a
    # busy machine: 5 rows were not always enough); b: 1 row.
    sandbox.knobs.latency_ms = 1000
    a = _start(["run", str(configures(tmp_path / "a.xlsx", range(90000, 90010))), "--json"],
               _env(sandbox))
    _wait_for_journal(tmp_path / "a.journal.sqlite", 1)  # a is sending its first row
    b = _start(["run", str(configures(tmp_path / "b.xlsx", range(90010, 90011))), "--json"],
               _env(sandbox))
    assert b.wait(timeout=60) == 0
    assert a.poll() is None, "b finished only after a: the runs did not overlap"
    assert a.wait(timeout=60) == 0


def test_two_spellings_of_one_api_share_the_account_lock(tmp_path: Path,
                                                         sandbox: SandboxServer) -> None:
    # The first run outlasts the second's start (imports included, on a busy machine).
    sandbox.knobs.latency_ms = 1500
    port = sandbox.base_url.rsplit(":", 1)[1]
    first = _start(["run", str(purchases(tmp_path / "a.xlsx", range(100000, 100005))), "--yes",
                    "--json"], {**_env(sandbox), "IMPORTER_BASE_URL": f"http://localhost:{port}"})
    _wait_for(lambda: _purchases_received(sandbox) >= 1)
    refused = subprocess.run([sys.executable, "-m", "importer", "run",
                              str(purchases(tmp_path / "b.xlsx", range(100000, 100005))),
                              "--yes", "--json", "--base-url", f"http://127.0.0.1:{port}/"],
                             env=_env(sandbox), capture_output=True, text=True, timeout=60,
                             check=False)
    assert refused.returncode == 2, refused.stdout
    assert "this API account for purchases" in json.loads(refused.stdout)["error"]
    assert first.wait(timeout=60) == 0
    assert _purchases_received(sandbox) == 5
