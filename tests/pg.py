"""A real PostgreSQL server for the shared-store tests, started by the tests themselves.

`pg_ctl` on a temporary folder, one server per test process (pytest-xdist worker), listening on
127.0.0.1 with password authentication (so a wrong password is a real refusal) and a database of
its own for every test. As root (CI), the server runs as the `postgres` user: initdb refuses
root. Where PostgreSQL is not installed the tests that need it skip, saying so.
"""

from __future__ import annotations

import contextlib
import getpass
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

USER, PASSWORD = "importer", "s3cret-Pw-7731"


def _binaries() -> Path | None:
    found = shutil.which("initdb")
    if found:  # Debian links some of them into /usr/local/bin: their own folder has them all
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                      key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    return Path(versions[-1]).parent if versions else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PgServer:
    port: int
    folder: Path
    bin: Path
    as_user: list[str]

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run SQL as the superuser over the server's own socket (trusted)."""
        done = subprocess.run([*self.as_user, str(self.bin / "psql"), "-h", str(self.folder),
                               "-p", str(self.port), "-d", database, "-v", "ON_ERROR_STOP=1",
                               "-At", "-c", sql], capture_output=True, text=True, check=False)
        if done.returncode:
            raise RuntimeError(done.stderr)
        return done.stdout.strip()

    def url(self, database: str, password: str = PASSWORD, port: int | None = None) -> str:
        return (f"postgresql://{USER}:{password}@127.0.0.1:{port or self.port}/{database}")

    def new_database(self) -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"
        self.psql(f"CREATE DATABASE {name} OWNER {USER}")
        return name


@contextlib.contextmanager
def running_server() -> Iterator[PgServer]:
    bin_ = _binaries()
    if bin_ is None:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql); .ci/run installs "
                    "it")
    as_user: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="importer-pg-"))
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            pytest.skip("running as root without runuser: cannot start PostgreSQL as postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
        shutil.chown(folder, "postgres")
    data = folder / "data"
    pwfile = folder / "pw"
    pwfile.write_text(PASSWORD)
    if as_user:
        shutil.chown(pwfile, "postgres")
    owner = "postgres" if as_user else getpass.getuser()
    subprocess.run([*as_user, str(bin_ / "initdb"), "-D", str(data), "-U", owner,
                    "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8"],
                   check=True, capture_output=True)
    port = _free_port()
    server = PgServer(port, folder, bin_, as_user)
    started = subprocess.run(
        [*as_user, str(bin_ / "pg_ctl"), "-D", str(data), "-w", "-t", "60", "-l",
         str(folder / "log"), "-o", f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} "
         "-c fsync=off -c max_connections=60", "start"], capture_output=True, text=True,
        check=False)
    if started.returncode:
        log = (folder / "log").read_text(errors="replace") if (folder / "log").exists() else ""
        raise RuntimeError(f"PostgreSQL did not start: {started.stderr}\n{log[-2000:]}")
    try:
        server.psql(f"CREATE ROLE {USER} LOGIN PASSWORD '{PASSWORD}'")
        yield server
    finally:
        subprocess.run([*as_user, str(bin_ / "pg_ctl"), "-D", str(data), "-m", "immediate",
                        "stop"], capture_output=True, check=False)
        shutil.rmtree(folder, ignore_errors=True)
