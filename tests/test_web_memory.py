"""Memory of `importer serve` under big uploads (issue 17, items 4 and 6), measured from the
outside: the server is a child process and /proc says what it holds (VmRSS) and held at most
(VmHWM). Documents not in use leave memory (they are on disk); files are checked two at a time."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.util import page_secret

ROWS = 200_000

pytestmark = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")


class Served:
    def __init__(self, proc: subprocess.Popen, base: str, session: requests.Session,
                 secret: str) -> None:
        self.proc, self.base, self.session, self.secret = proc, base, session, secret

    def mb(self, key: str) -> float:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        return int(re.search(rf"{key}:\s+(\d+)", status)[1]) / 1024

    def upload(self, path: Path, name: str) -> int:
        with path.open("rb") as f:
            return self.session.post(f"{self.base}/api/documents", files={"file": (name, f)},
                                     headers={"X-Importer-Page": self.secret},
                                     timeout=120).status_code


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    proc = subprocess.Popen([sys.executable, "-m", "importer", "serve", "--no-browser",
                             "--port", "0", "--workspace", str(tmp_path / "ws")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        match = re.search(r"(http://127\.0\.0\.1:\d+)/\?token=([\w-]+)", proc.stdout.readline())
        assert match
        with requests.Session() as s:
            login = s.get(f"{match[1]}/?token={match[2]}", timeout=10, allow_redirects=False)
            secret = page_secret(login.headers["Location"])
            yield Served(proc, match[1], s, secret)
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


@pytest.fixture
def big(tmp_path: Path) -> Path:
    path = tmp_path / "big.csv"
    with path.open("w") as f:
        f.write("PropertySid,NumberBlockSid,AnswerPoint,Campaign\n")
        for i in range(ROWS):
            f.write(f"PRDEMO0001,NB{1_000_000 + i},0412 345 678,spring sale {i % 97}\n")
    return path


def test_documents_not_in_use_leave_memory(served: Served, big: Path) -> None:
    base = served.mb("VmRSS")
    assert served.upload(big, "one.csv") == 200
    one = served.mb("VmRSS") - base
    for name in ("two.csv", "three.csv", "four.csv"):
        assert served.upload(big, name) == 200
    four = served.mb("VmRSS") - base
    # Two documents stay loaded (the one in use and the one before), not four.
    assert four < 2.5 * one, (one, four)


def test_many_uploads_at_once_are_checked_two_at_a_time(served: Served, big: Path) -> None:
    base = served.mb("VmHWM")
    assert served.upload(big, "first.csv") == 200
    single = served.mb("VmHWM") - base
    codes: list[int] = []
    threads = [threading.Thread(target=lambda i=i: codes.append(served.upload(big, f"{i}.csv")))
               for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    peak = served.mb("VmHWM") - base
    assert 200 in codes and set(codes) <= {200, 409}, codes
    assert peak < 3.5 * single, (single, peak)
