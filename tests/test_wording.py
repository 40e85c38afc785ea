"""Issue 19's wording bullet: an unreachable API said once in plain words, long messages cut at
a word, the Summary naming the sandbox when the run went there (CLI and web), and `importer`
alone showing its help laid out, not as one long error line."""

from __future__ import annotations

import io
import re
import socket
import time
from pathlib import Path

import openpyxl
import pytest

from importer.pipeline import Options
from importer.sandbox import SandboxServer
from importer.sending.client import Credentials, _reply
from importer.text import clip
from importer.web import Settings, create_app
from importer.web.account import check
from importer.web.app import sandbox_target
from tests.util import cli, page_secret

pytestmark = pytest.mark.usefixtures("fast_settling")  # conftest: the floor scaled to these lags

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "test-token-0123456789"


def summary_of(path: Path) -> dict[str, object]:
    book = openpyxl.load_workbook(path)
    return {r[0]: r[1] if r[1] is not None else r[2]
            for r in book["Summary"].iter_rows(values_only=True) if r[0]}


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_clip_cuts_at_a_word_and_says_so() -> None:
    text = "the property named in this row belongs to another account of the customer " * 8
    cut = clip(text, 100)
    assert len(cut) <= 100 and cut.endswith("…")
    assert text.startswith(cut[:-1]) and text[len(cut) - 1] == " "  # a whole word before it
    assert clip("short enough", 100) == "short enough"
    assert clip("x" * 300, 50) == "x" * 49 + "…"  # one long word: cut where it must be


def test_a_long_api_message_is_cut_at_a_word() -> None:
    words = " ".join(f"word{i}" for i in range(200))
    reply = _reply(400, {"ResponseStatus": {"ErrorCode": "BAD", "Message": words, "Errors": [
        {"FieldName": "Flow", "Message": words}]}}, "Bad Request")
    message, detail = reply.message.split(" (Flow: ")
    assert len(message) <= 300 and message.endswith("…")
    assert re.fullmatch(r"(word\d+ )*word\d+…", message)
    assert re.fullmatch(r"(word\d+ )*word\d+…\)", detail) and len(detail) <= 201


def test_an_unreachable_api_is_said_once_in_plain_words() -> None:
    port = closed_port()
    why = check(Credentials(f"http://127.0.0.1:{port}", "ACDEMO0001", "token"), 3.0)
    assert why == ("The API at 127.0.0.1 could not be reached: the connection was refused; "
                   "check the API address and that the service is up.")
    assert why.count("reach") == 1 and "(" not in why


def test_the_summary_names_the_sandbox_of_a_cli_run(capsys: pytest.CaptureFixture[str],
                                                    tmp_path: Path) -> None:
    source = tmp_path / "purchase.csv"
    source.write_text("PropertySid,NumberBlockSid,AnswerPoint\nPRDEMO0001,NB100700,0412345678\n")
    code, report, _ = cli(capsys, "run", source, "--sandbox", "--json")
    assert code == 0 and isinstance(report, dict) and report["sandbox"] is True
    api = str(summary_of(Path(report["results_path"]))["API"])
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+ \(the built-in sandbox: nothing real was "
                        r"bought or changed\)", api), api


def test_the_summary_of_a_real_api_run_does_not_say_sandbox(
        capsys: pytest.CaptureFixture[str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "purchase.csv"
    source.write_text("PropertySid,NumberBlockSid,AnswerPoint\nPRDEMO0001,NB100700,0412345678\n")
    with SandboxServer(db_path=str(tmp_path / "api.sqlite")) as api:
        monkeypatch.setenv("IMPORTER_AUTH_TOKEN", api.auth_token)
        monkeypatch.setenv("IMPORTER_CONFIG", str(tmp_path / "none.toml"))
        code, report, _ = cli(capsys, "run", source, "--base-url", api.base_url,
                              "--account-sid", api.account_sid, "--yes", "--json")
    assert code == 0 and isinstance(report, dict) and report["sandbox"] is False
    assert summary_of(Path(report["results_path"]))["API"] == api.base_url


def test_the_summary_names_the_sandbox_of_a_web_run(tmp_path: Path) -> None:
    source = tmp_path / "purchase.csv"
    source.write_text("PropertySid,NumberBlockSid,AnswerPoint\nPRDEMO0001,NB100700,0412345678\n")
    with SandboxServer(db_path=str(tmp_path / "sandbox.sqlite")) as server:
        target = sandbox_target(server.base_url, server.account_sid, server.auth_token,
                                tmp_path / "sandbox.sqlite", 5.0, 2)
        app = create_app(Settings(tmp_path / "workspace", target, Options(settle_window=1.0)),
                         TOKEN)
        c = app.test_client()
        login = c.get(f"/?token={TOKEN}")
        assert login.status_code == 303
        c.environ_base["HTTP_X_IMPORTER_PAGE"] = page_secret(login.headers["Location"])
        same = {"Sec-Fetch-Site": "same-origin"}
        doc = c.post("/api/documents", headers=same, data={
            "file": (io.BytesIO(source.read_bytes()), source.name)}).json
        run = c.post(f"/api/documents/{doc['id']}/runs", headers=same,
                     json={"dry_run": False}).json
        deadline = time.monotonic() + 60
        while c.get(f"/api/runs/{run['id']}").json["state"] not in ("done", "failed"):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        report = app.extensions["importer"]["runs"].get(run["id"]).report
        assert report.sandbox
        assert "(the built-in sandbox" in str(summary_of(Path(report.results_path))["API"])


def test_importer_alone_shows_its_help_laid_out(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys)
    assert code == 2
    assert err.startswith("Usage: importer [OPTIONS] COMMAND [ARGS]...\n")
    assert "\n  template " in err and "error:" not in err
