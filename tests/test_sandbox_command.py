"""`importer sandbox`: the command a user runs, in its own process, over real HTTP."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import requests


def test_sandbox_command_serves_until_stopped() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "importer", "sandbox", "--json", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        info = json.loads(proc.stdout.readline())
        base, auth = info["base_url"], (info["account_sid"], info["auth_token"])
        url = f"{base}/v2/Properties/PRDEMO0001/NumberBlocks"
        body = {"NumberBlockSid": "NB100000", "AnswerPoint": "+61412345678"}
        first = requests.post(url, json=body, auth=auth, timeout=10)
        assert first.status_code == 200
        assert first.json() == {"ResponseStatus": {"Message": "OK"}}
        second = requests.post(url, json=body, auth=auth, timeout=10)
        assert second.status_code == 403
        assert second.json()["ResponseStatus"]["ErrorCode"] == "NUMBER_BLOCK_NOT_AVAILABLE"
        wrong = requests.post(url, json=body, auth=(auth[0], "nope"), timeout=10)
        assert wrong.status_code == 401
        assert wrong.json()["ResponseStatus"]["ErrorCode"] == "UNAUTHORIZED"
        counts = requests.get(f"{base}/_sandbox/purchases", timeout=10).json()
        assert counts == {"Purchases": {"NB100000": 1}}
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=20)
    assert proc.returncode == 0


def test_sandbox_command_reports_a_busy_port() -> None:
    first = subprocess.Popen([sys.executable, "-m", "importer", "sandbox", "--json", "--port",
                              "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        port = json.loads(first.stdout.readline())["base_url"].rsplit(":", 1)[1]
        done = subprocess.run([sys.executable, "-m", "importer", "sandbox", "--port", port],
                              capture_output=True, text=True, timeout=30, check=False)
        assert done.returncode == 2 and "cannot serve" in done.stderr
    finally:
        first.send_signal(signal.SIGINT)
        first.communicate(timeout=20)
