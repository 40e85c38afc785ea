"""Run `importer` in a child process and measure it: exit code, output, seconds, peak memory.

A hostile file must cost what its real cells cost, so the tests measure the real command: a
child process (the same entry point as the console script) that reports its own peak RSS on
exit, under an address-space limit so that a regression fails the test instead of the machine.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ADDRESS_SPACE = 6 << 30  # a child that tries to allocate more dies (and the test fails)
# The child's own peak: VmHWM belongs to the process image (ru_maxrss would carry the parent's
# peak across fork and exec on Linux); ru_maxrss where there is no /proc.
_CHILD = """
import resource, sys
from importer.cli import main
code = main(sys.argv[2:])
try:
    with open("/proc/self/status") as status:
        peak = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM"))
except OSError:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak *= 1 if sys.platform == "darwin" else 1024
with open(sys.argv[1], "w") as fh:
    fh.write(str(peak))
sys.exit(code)
"""


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    seconds: float
    peak_mb: float

    @property
    def report(self) -> dict:
        """The --json output: the run report, or {"error", "exit_code"}."""
        return json.loads(self.stdout)

    @property
    def error_lines(self) -> list[str]:
        return self.stderr.splitlines()


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def run(tmp_path: Path, *args: object, timeout: float = 120,
        pass_fds: tuple[int, ...] = ()) -> Run:
    """`importer <args>` in a child process; the peak RSS is the child's own."""
    peak_file = tmp_path / f".peak-{time.monotonic_ns()}"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(peak_file), *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, cwd=tmp_path,
                          env=env, preexec_fn=_limit, pass_fds=pass_fds, check=False)
    seconds = time.monotonic() - start
    peak = int(peak_file.read_text()) / 2**20 if peak_file.exists() else float("nan")
    return Run(proc.returncode, proc.stdout, proc.stderr, seconds, peak)
