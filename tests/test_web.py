"""`importer serve`: the routes and the security rules, with Flask's test client, and runs
against the real sandbox over HTTP (the web layer calls the same library as the CLI)."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from flask import Flask
from flask.testing import FlaskClient

from importer.pipeline import Options
from importer.sandbox import Knobs, SandboxServer
from importer.sending import locks
from importer.sending.client import Credentials
from importer.web import Settings, create_app
from importer.web.app import sandbox_target
from importer.web.runs import Target
from tests.util import page_secret, sheet_rows

pytestmark = pytest.mark.usefixtures("fast_settling")  # conftest: the floor scaled to these lags

ROOT = Path(__file__).resolve().parents[1]
MISTAKES = ROOT / "samples" / "mistakes.xlsx"
TOKEN = "test-token-0123456789"
SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin"}
Served = tuple[SandboxServer, Target]


def _settings(tmp_path: Path, target: Target | None) -> Settings:
    return Settings(tmp_path / "workspace", target, Options(settle_window=1.0))


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """The sandbox, and runs pointed at it as `importer serve --sandbox` points them."""
    with SandboxServer(db_path=str(tmp_path / "sandbox.sqlite")) as server:
        yield server, sandbox_target(server.base_url, server.account_sid, server.auth_token,
                                     tmp_path / "sandbox.sqlite", 5.0, 2)


@pytest.fixture
def target(served: Served) -> Target:
    return served[1]


def _logged_in(app: Flask) -> FlaskClient:
    """A client as the page is one: the cookie, and the page's secret on every request."""
    c = app.test_client()
    answer = c.get(f"/?token={TOKEN}")
    assert answer.status_code == 303
    c.environ_base["HTTP_X_IMPORTER_PAGE"] = page_secret(answer.headers["Location"])
    return c


def _cookie(c: FlaskClient) -> str:
    app = c.application
    name = app.extensions["importer"]["sessions"].cookie
    found = c.get_cookie(name)
    assert found is not None
    return f"{name}={found.value}"


@pytest.fixture
def client(tmp_path: Path, target: Target) -> FlaskClient:
    return _logged_in(create_app(_settings(tmp_path, target), TOKEN))


def _upload(client: FlaskClient, path: Path = MISTAKES) -> dict:
    response = client.post("/api/documents", headers=SAME_ORIGIN, data={
        "file": (io.BytesIO(path.read_bytes()), path.name)})
    assert response.status_code == 200, response.json
    return response.json


def _rows(client: FlaskClient, doc: dict, sheet: int = 0, problems: bool = False,
          size: int = 500) -> list[dict]:
    url = (f"/api/documents/{doc['id']}/sheets/{sheet}/rows?page=1&size={size}"
           f"&problems={'1' if problems else '0'}")
    return client.get(url).json["data"]


def _wait_done(client: FlaskClient, run_id: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        snapshot = client.get(f"/api/runs/{run_id}").json
        if snapshot["state"] in ("done", "failed"):
            return snapshot
        assert time.monotonic() < deadline, snapshot
        time.sleep(0.05)


# --- security -------------------------------------------------------------------------------

def test_the_token_becomes_an_httponly_strict_cookie_and_leaves_the_address_bar(
        tmp_path: Path) -> None:
    app = create_app(_settings(tmp_path, None), TOKEN)
    c = app.test_client()
    response = c.get(f"/?token={TOKEN}")
    # The page's secret rides in the fragment, which the browser keeps to itself.
    assert response.status_code == 303
    assert re.fullmatch(r"/#page=[\w-]{32}", response.headers["Location"])
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Max-Age=3600" in cookie
    assert TOKEN not in cookie  # a session value, never the launch's token
    page = c.get("/")
    assert page.status_code == 200 and b"Number Block Importer" in page.data
    assert TOKEN.encode() not in page.data
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("path", ["/", "/api/state", "/static/app.js",
                                  "/templates/purchase.xlsx", "/api/documents/x"])
def test_every_request_without_the_cookie_is_refused(tmp_path: Path, path: str) -> None:
    c = create_app(_settings(tmp_path, None), TOKEN).test_client()
    assert c.get(path).status_code == 403
    assert c.get(f"{path}?token=wrong-token").status_code == 403
    c.set_cookie(c.application.extensions["importer"]["sessions"].cookie, TOKEN)
    assert c.get(path).status_code == 403


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8765", "127.0.0.1.nip.io",
                                  "192.168.1.5:8765"])
def test_a_foreign_host_header_is_refused_even_with_the_cookie(tmp_path: Path,
                                                              host: str) -> None:
    """DNS rebinding: a page at evil.example made to resolve to 127.0.0.1 sends its own Host."""
    cookie = {"Cookie": _cookie(_logged_in(app := create_app(_settings(tmp_path, None),
                                                             TOKEN)))}
    c = app.test_client(use_cookies=False)
    assert c.get("/api/state", headers={"Host": host, **cookie}).status_code == 403
    assert c.get(f"/?token={TOKEN}", headers={"Host": host}).status_code == 403
    for good in ("127.0.0.1:8765", "localhost:8765", "[::1]:8765"):
        assert c.get("/api/state", headers={"Host": good, **cookie}).status_code == 200


@pytest.mark.parametrize("headers", [{"Sec-Fetch-Site": "same-site"},
                                     {"Sec-Fetch-Site": "cross-site"},
                                     {"Origin": "http://127.0.0.1:9999"},
                                     {"Sec-Fetch-Site": "same-origin", "Origin": "null"}])
def test_a_change_from_another_page_is_refused(client: FlaskClient, headers: dict) -> None:
    response = client.post("/api/documents", headers=headers, data={
        "file": (io.BytesIO(MISTAKES.read_bytes()), "mistakes.xlsx")})
    assert response.status_code == 403
    assert client.get("/api/state").json["documents"] == []


def test_uploads_are_capped(client: FlaskClient) -> None:
    """The app's own cap (not one the test sets): a body announced one byte over it is refused
    before it is read, and the message names the cap."""
    from importer.web.app import MAX_UPLOAD

    body = io.BytesIO(b"x" * 1000)
    response = client.post("/api/documents", headers={**SAME_ORIGIN,
                           "Content-Type": "multipart/form-data; boundary=b"}, input_stream=body,
                           environ_overrides={"CONTENT_LENGTH": str(MAX_UPLOAD + 1)})
    assert response.status_code == 413
    assert response.json["error"] == f"The file is larger than {MAX_UPLOAD // 2**20} MB."
    assert MAX_UPLOAD <= 256 * 2**20  # a bound that a laptop can hold


def test_nothing_outside_the_apps_own_files_is_served(client: FlaskClient) -> None:
    for path in ["/static/../app.py", "/static/..%2fapp.py", "/static/%2e%2e/security.py",
                 "/templates/../cli.xlsx", "/api/runs/../../etc/passwd"]:
        response = client.get(path)
        assert response.status_code in (400, 403, 404), path
        assert b"def " not in response.data and b"root:" not in response.data


def test_the_server_refuses_a_non_loopback_host() -> None:
    from importer.errors import UsageError
    from importer.web.server import loopback
    assert loopback("127.0.0.1") == "127.0.0.1" and loopback("::1") == "::1"
    for host in ("0.0.0.0", "192.168.1.5", "example.com"):
        with pytest.raises(UsageError):
            loopback(host)


# --- the loop -------------------------------------------------------------------------------

def test_upload_shows_every_sheet_as_text_with_its_problems(client: FlaskClient) -> None:
    doc = _upload(client)
    names = [s["name"] for s in doc["sheets"]]
    assert names == ["Purchase", "Configure"]
    purchase = doc["sheets"][0]
    assert purchase["counts"] == {"VALID": 6, "INVALID": 10}
    rows = {r["_row"]: r for r in _rows(client, doc)}
    titles = {c["title"]: c["field"] for c in purchase["columns"]}
    phone = titles["AnswerPoint *"] if "AnswerPoint *" in titles else titles["AnswerPoint"]
    assert rows[3][phone] == "412345678"  # a number cell, shown as the text it holds
    assert rows[8]["_status"] == "INVALID" and rows[8]["_marks"][phone][0] == "error"
    assert "scientific notation" in rows[8]["_marks"][phone][1]
    problems = _rows(client, doc, problems=True)
    assert {r["_row"] for r in problems} == set(range(4, 14))


def test_a_fixed_cell_turns_its_row_valid_and_undo_brings_it_back(client: FlaskClient) -> None:
    doc = _upload(client)
    titles = {c["title"]: c["field"] for c in doc["sheets"][0]["columns"]}
    phone = next(f for t, f in titles.items() if t.startswith("AnswerPoint"))
    response = client.patch(f"/api/documents/{doc['id']}/cells", headers=SAME_ORIGIN,
                            json={"sheet": 0, "row": 7, "column": phone, "value": "0412 345 777"})
    assert response.status_code == 200  # how fast: bench/web_upload.py
    changed = {r["_row"]: r for r in response.json["rows"]}
    assert changed[7]["_status"] == "VALID" and phone not in changed[7]["_marks"]
    assert response.json["sheet"]["counts"] == {"VALID": 7, "INVALID": 9}
    undone = client.post(f"/api/documents/{doc['id']}/undo", headers=SAME_ORIGIN, json={})
    assert {r["_row"]: r for r in undone.json["rows"]}[7]["_status"] == "INVALID"
    assert client.post(f"/api/documents/{doc['id']}/undo", headers=SAME_ORIGIN,
                       json={}).status_code == 409


def test_changing_a_block_rechecks_its_duplicates(client: FlaskClient) -> None:
    doc = _upload(client)
    titles = {c["title"]: c["field"] for c in doc["sheets"][0]["columns"]}
    block = next(f for t, f in titles.items() if t.startswith("NumberBlockSid"))
    before = {r["_row"]: r for r in _rows(client, doc)}
    assert before[13]["_status"] == "INVALID"  # NB100500 again: a duplicate of row 2
    response = client.patch(f"/api/documents/{doc['id']}/cells", headers=SAME_ORIGIN,
                            json={"sheet": 0, "row": 2, "column": block, "value": "NB100599"})
    changed = {r["_row"]: r for r in response.json["rows"]}
    assert changed[13]["_status"] == "VALID" and changed[2]["_status"] == "VALID"


def test_the_edited_file_downloads_with_text_cells(client: FlaskClient, tmp_path: Path) -> None:
    doc = _upload(client)
    phone = next(c["field"] for c in doc["sheets"][0]["columns"] if c["name"] == "AnswerPoint")
    client.patch(f"/api/documents/{doc['id']}/cells", headers=SAME_ORIGIN,
                 json={"sheet": 0, "row": 7, "column": phone, "value": "0412 345 777"})
    response = client.get(f"/api/documents/{doc['id']}/download")
    assert response.status_code == 200
    path = tmp_path / "edited.xlsx"
    path.write_bytes(response.data)
    sheet = openpyxl.load_workbook(path)["Purchase"]
    assert sheet["D3"].value == "412345678" and sheet["D3"].data_type == "s"
    assert sheet["D7"].value == "0412 345 777"  # the edit made in the page


def test_a_run_against_the_sandbox_and_its_results(client: FlaskClient) -> None:
    doc = _upload(client)
    response = client.post(f"/api/documents/{doc['id']}/runs", headers=SAME_ORIGIN,
                           json={"dry_run": False})
    assert response.status_code == 200
    run_id = response.json["id"]
    events = client.get("/api/events", buffered=False)
    snapshots = []
    for chunk in events.response:
        text = chunk.decode() if isinstance(chunk, bytes) else chunk
        snapshots += [json.loads(line[6:]) for line in text.splitlines()
                      if line.startswith("data: ")]
        if snapshots and snapshots[-1]["state"] in ("done", "failed"):
            break
    events.close()
    assert snapshots[-1]["id"] == run_id and snapshots[-1]["state"] == "done"
    assert snapshots[-1]["done"] == snapshots[-1]["total"]
    final = _wait_done(client, run_id)
    assert final["counts"]["OK"] == 5 and final["counts"]["INVALID"] == 14
    shown = {r["_row"]: r["_status"] for r in _rows(client, doc)}
    results = client.get(f"/api/runs/{run_id}/results")
    assert results.status_code == 200
    path = Path(client.application.extensions["importer"]["runs"].get(run_id)
                .report.results_path)
    written = {int(r["Row"]) if "Row" in r else i: r["Status"]
               for i, r in enumerate(sheet_rows(path, "Purchase"), 2)}
    assert written == shown


def test_purchases_against_a_real_api_ask_first(tmp_path: Path) -> None:
    live = Target(Credentials("https://api.example.invalid", "AC123", "secret-token-xyz"),
                  "x", False)
    c = _logged_in(create_app(_settings(tmp_path, live), TOKEN))
    doc = _upload(c)
    response = c.post(f"/api/documents/{doc['id']}/runs", headers=SAME_ORIGIN, json={})
    assert response.status_code == 409
    assert response.json["confirm"].startswith("This will BUY up to 6 number blocks on "
                                               "https://api.example.invalid as AC123")
    assert "secret-token-xyz" not in json.dumps(c.get("/api/state").json)


def test_a_yes_to_buy_holds_only_for_the_file_it_was_asked_of(tmp_path: Path,
                                                               served: Served) -> None:
    """Issue 29, item 2: tab 1 is asked about 2 purchases; tab 2 fixes 10 more rows; tab 1's
    yes names what it was asked of, so it is refused and the question asked again (12); a bare
    "confirmed": true buys nothing; the fresh yes buys the 12."""
    server, sandbox = served
    live = Target(sandbox.credentials, sandbox.scope, False, 5.0, 2)  # as a real API is run
    app = create_app(_settings(tmp_path, live), TOKEN)
    one = _logged_in(app)
    two = app.test_client(use_cookies=False)  # another tab: the same cookie and page secret
    two.environ_base.update(HTTP_COOKIE=_cookie(one),
                            HTTP_X_IMPORTER_PAGE=one.environ_base["HTTP_X_IMPORTER_PAGE"])
    rows = ["PropertySid,NumberBlockSid,AnswerPoint"] + [
        f"PRDEMO0001,NB{100900 + i},{'0412 345 678' if i < 2 else '0412 345'}"
        for i in range(12)]
    source = tmp_path / "twelve.csv"
    source.write_text("\n".join(rows) + "\n")
    doc = _upload(one, source)
    runs = f"/api/documents/{doc['id']}/runs"
    asked = one.post(runs, headers=SAME_ORIGIN, json={"dry_run": False})
    assert asked.status_code == 409 and "BUY up to 2 number blocks" in asked.json["confirm"]
    assert "error" not in asked.json
    fixed = two.post(f"/api/documents/{doc['id']}/sheets/0/bulk", headers=SAME_ORIGIN, json={
        "cells": [{"row": r, "column": "c2", "value": "0412 345 679"} for r in range(4, 14)]})
    assert fixed.status_code == 200 and fixed.json["count"] == 10

    stale = one.post(runs, headers=SAME_ORIGIN,
                     json={"dry_run": False, "confirmed": asked.json["asked"]})
    assert stale.status_code == 409
    assert stale.json["error"].startswith("The file changed since you were asked")
    assert "BUY up to 12 number blocks" in stale.json["confirm"]
    for bare in (True, "yes", {"count": 12}, {"version": stale.json["asked"]["version"]}):
        refused = one.post(runs, headers=SAME_ORIGIN, json={"dry_run": False, "confirmed": bare})
        assert refused.status_code == 409 and "BUY up to 12" in refused.json["confirm"]
    assert server.purchase_counts() == {}  # nothing was bought on a stale or a bare yes

    started = one.post(runs, headers=SAME_ORIGIN,
                       json={"dry_run": False, "confirmed": stale.json["asked"]})
    assert started.status_code == 200, started.json
    assert _wait_done(one, started.json["id"])["counts"]["OK"] == 12
    assert sum(server.purchase_counts().values()) == 12


def test_a_copy_opened_during_a_run_reads_the_journal_when_it_ends(tmp_path: Path) -> None:
    """Issue 29, item 5: the same file uploaded again while its run goes on is refused; carried
    on with ("Carry on with an earlier file"), it must not offer, after the run, the rows the
    run bought."""
    rows = ["PropertySid,NumberBlockSid,AnswerPoint"] + [
        f"PRDEMO0001,NB{100970 + i},0412 345 678" for i in range(12)]
    source = tmp_path / "copies.csv"
    source.write_text("\n".join(rows) + "\n")
    db = tmp_path / "sandbox.sqlite"
    with SandboxServer(db_path=str(db), knobs=Knobs(latency_ms=150)) as server:
        target = sandbox_target(server.base_url, server.account_sid, server.auth_token, db,
                                5.0, 2)
        c = _logged_in(create_app(_settings(tmp_path, target), TOKEN))
        first = _upload(c, source)
        run = c.post(f"/api/documents/{first['id']}/runs", headers=SAME_ORIGIN,
                     json={"dry_run": False}).json
        while c.get(f"/api/runs/{run['id']}").json["done"] < 1:
            time.sleep(0.05)
        again = c.post("/api/documents", headers=SAME_ORIGIN, data={
            "file": (io.BytesIO(source.read_bytes()), source.name)})
        assert again.status_code == 409 and "is being run" in again.json["error"]
        (key,) = [r["key"] for r in c.get("/api/state").json["recent"]]
        copies = [c.post(f"/api/recent/{key}", headers=SAME_ORIGIN, json={}).json]
        assert c.get(f"/api/runs/{run['id']}").json["state"] == "running"  # opened during it
        assert _wait_done(c, run["id"])["counts"]["OK"] == 12
        for copy in copies:
            assert copy["id"] != first["id"] and copy["name"] == source.name
            now = c.get(f"/api/documents/{copy['id']}").json
            assert now["purchases"] == 0, now
            assert {r["_status"] for r in _rows(c, copy)} == {"SKIPPED"}
            again = c.post(f"/api/documents/{copy['id']}/runs", headers=SAME_ORIGIN,
                           json={"dry_run": False}).json
            counts = _wait_done(c, again["id"])["counts"]
            assert counts["SKIPPED"] == 12 and counts["OK"] == 0
        assert set(server.purchase_counts().values()) == {1}


HUGE_NUMBERS = [10**20, -2**63, 2**63, 2**64 + 2, -(10**30)]


@pytest.mark.parametrize("number", HUGE_NUMBERS)
def test_a_row_or_number_out_of_any_range_is_a_400_not_a_500(client: FlaskClient,
                                                              number: int) -> None:
    """Issue 29, item 6: every route taking a row, a sheet, a page, a size or a header row
    answers a number no sheet has (too big for pandas or numpy) like any other bad one."""
    doc = _upload(client)["id"]
    base = f"/api/documents/{doc}"
    answers = {
        "edit row": client.patch(f"{base}/cells", headers=SAME_ORIGIN, json={
            "sheet": 0, "row": number, "column": "c2", "value": "x"}),
        "edit sheet": client.patch(f"{base}/cells", headers=SAME_ORIGIN, json={
            "sheet": number, "row": 2, "column": "c2", "value": "x"}),
        "bulk row": client.post(f"{base}/sheets/0/bulk", headers=SAME_ORIGIN, json={
            "cells": [{"row": number, "column": "c2", "value": "x"}]}),
        "rows page": client.get(f"{base}/sheets/0/rows?page={number}&size=10"),
        "rows size": client.get(f"{base}/sheets/0/rows?page=1&size={number}"),
        "rows sheet": client.get(f"{base}/sheets/{abs(number)}/rows?page=1&size=10"),
        "next after": client.get(f"{base}/sheets/0/next-problem?after={number}&size=10"),
        "next size": client.get(f"{base}/sheets/0/next-problem?size={number}"),
        "columns sheet": client.post(f"{base}/columns", headers=SAME_ORIGIN,
                                     json={"sheet": number}),
    }
    pending = client.post("/api/documents", headers=SAME_ORIGIN, data={"file": (
        io.BytesIO(b"Block,Phone number\nNB100001,0412345678\n"), "odd.csv")}).json
    answers["mapping header row"] = client.post(
        f"/api/pending/{pending['mapping']['id']}", headers=SAME_ORIGIN,
        json={"header_row": number})
    for what, answer in answers.items():
        assert answer.status_code in (200, 400, 404), (what, answer.status_code)
        if answer.status_code != 200:
            assert answer.is_json and "Traceback" not in answer.get_data(True), what
    assert client.get(f"{base}/sheets/0/rows?page=1&size=10").status_code == 200
    assert client.get(f"{base}").json["edits"] == 0  # nothing was changed by any of them


def test_typed_credentials_are_checked_and_stay_in_memory(tmp_path: Path) -> None:
    """"Use these" asks the API (one listing page): a wrong token is refused with what the API
    said, never echoed; the right one is kept in memory only."""
    c = _logged_in(create_app(_settings(tmp_path, None), TOKEN))
    assert c.get("/api/state").json["target"] == {"ready": False, "offered": {}}
    with SandboxServer() as server:
        typed = {"account_sid": server.account_sid, "base_url": server.base_url}
        wrong = c.post("/api/credentials", headers=SAME_ORIGIN,
                       json={**typed, "auth_token": "typed-secret-123"})
        assert wrong.status_code == 400 and "401" in wrong.json["error"]
        assert "typed-secret-123" not in wrong.get_data(True)
        assert c.get("/api/state").json["target"]["ready"] is False
        right = c.post("/api/credentials", headers=SAME_ORIGIN,
                       json={**typed, "auth_token": server.auth_token})
        assert right.status_code == 200 and server.auth_token not in right.get_data(True)
        assert c.get("/api/state").json["target"]["account_sid"] == server.account_sid
        token = server.auth_token
    bad = c.post("/api/credentials", headers=SAME_ORIGIN, json={
        "account_sid": "AC9", "auth_token": "typed-secret-123",
        "base_url": "https://u:typed-secret-123@evil.example"})
    assert bad.status_code == 400 and "typed-secret-123" not in bad.get_data(True)
    _upload(c)  # the workspace now holds the upload, its checks and the edited copy
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert written and not any(t.encode() in p.read_bytes() for p in written
                               for t in ("typed-secret-123", token))


def test_a_run_holds_the_rollouts_lock_like_the_cli(client: FlaskClient, tmp_path: Path) -> None:
    doc = _upload(client)
    journal = client.application.extensions["importer"]["workspace"].get(
        doc["id"]).prepared.journal_path
    lock = journal.with_name(journal.name + ".lock")
    with locks.hold(lock, "a CLI run", "this rollout"):
        response = client.post(f"/api/documents/{doc['id']}/runs", headers=SAME_ORIGIN,
                               json={"dry_run": True})
        final = _wait_done(client, response.json["id"])
    assert final["state"] == "failed" and "another run is already using" in final["error"]


def test_serve_prints_one_line_with_the_address(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "importer", "serve", "--sandbox",
                             "--no-browser", "--port", "0", "--workspace",
                             str(tmp_path / "ws")], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        match = re.search(r"(http://127\.0\.0\.1:\d+)/\?token=([\w-]+)", line)
        assert match, line
        import requests
        with requests.Session() as s:
            assert s.get(f"{match[1]}/api/state", timeout=10).status_code == 403
            assert s.get(f"{match[1]}/?token={match[2]}", timeout=10).status_code == 200
            assert s.get(f"{match[1]}/api/state", timeout=10).json()["target"]["sandbox"]
        # That address is spent (browsers keep it in their history): a fresh one is printed.
        fresh = re.search(r"(http://127\.0\.0\.1:\d+)/\?token=([\w-]+)", proc.stdout.readline())
        assert fresh and fresh[2] != match[2]
        with requests.Session() as s:
            assert s.get(f"{match[1]}/?token={match[2]}", timeout=10).status_code == 403
            assert s.get(f"{fresh[1]}/?token={fresh[2]}", timeout=10).status_code == 200
    finally:
        proc.terminate()  # SIGTERM: stops as Ctrl-C does, cleanly
        proc.communicate(timeout=30)
    assert proc.returncode == 0
    shutil.rmtree(tmp_path / "ws", ignore_errors=True)


def test_a_restarted_server_carries_on_through_the_journal(
        tmp_path: Path, served: Served) -> None:
    """The workspace outlives the server: after a restart (or a crash) the page lists the file,
    and running it again sends nothing twice, as a CLI re-run would not."""
    server, target = served
    first = _logged_in(create_app(_settings(tmp_path, target), TOKEN))
    doc = _upload(first)
    run = first.post(f"/api/documents/{doc['id']}/runs", headers=SAME_ORIGIN, json={})
    done = _wait_done(first, run.json["id"])["counts"]["OK"]
    assert done == 5
    bought = server.purchase_requests()

    again = _logged_in(create_app(_settings(tmp_path, target), TOKEN))
    recent = again.get("/api/state").json["recent"]
    assert [r["name"] for r in recent] == ["mistakes.xlsx"]
    reopened = again.post(f"/api/recent/{recent[0]['key']}", headers=SAME_ORIGIN, json={})
    assert reopened.status_code == 200
    run = again.post(f"/api/documents/{reopened.json['id']}/runs", headers=SAME_ORIGIN,
                     json={})
    final = _wait_done(again, run.json["id"])
    assert final["counts"].get("OK", 0) == 0 and final["counts"]["SKIPPED"] >= done
    # The blocks bought are not asked for again (refused ones may be: nothing was bought).
    requests = server.purchase_requests()
    assert requests["NB100500"] == requests["NB100501"] == 1 == bought["NB100500"]


def test_nothing_is_written_beside_the_upload_until_asked(client: FlaskClient) -> None:
    """The results workbook is written at the end of a run (or the edited file when asked),
    never on the way to the first screen."""
    doc = _upload(client)
    path = client.application.extensions["importer"]["workspace"].get(doc["id"]).path
    assert sorted(p.name for p in path.parent.iterdir()) == ["mistakes.xlsx"]


def test_a_configured_address_and_sid_are_offered_without_the_token(tmp_path: Path) -> None:
    settings = _settings(tmp_path, None)
    settings.offered = {"base_url": "https://api.example.invalid", "account_sid": "AC77"}
    c = _logged_in(create_app(settings, TOKEN))
    assert c.get("/api/state").json["target"] == {"ready": False, "offered": {
        "base_url": "https://api.example.invalid", "account_sid": "AC77"}}
    settings.offered["base_url"] = "https://u:sekrit-77@api.example.invalid"
    assert "sekrit-77" not in c.get("/api/state").get_data(True)


def test_its_results_workbook_uploaded_again_carries_on(
        tmp_path: Path, served: Served) -> None:
    """The fix-and-run-again loop in the page: the results workbook, uploaded back, is the same
    rollout (one journal), so what was bought is not asked for again."""
    server, target = served
    c = _logged_in(create_app(_settings(tmp_path, target), TOKEN))
    doc = _upload(c)
    run = c.post(f"/api/documents/{doc['id']}/runs", headers=SAME_ORIGIN, json={})
    assert _wait_done(c, run.json["id"])["counts"]["OK"] == 5
    results = tmp_path / "mistakes.results.xlsx"
    results.write_bytes(c.get(f"/api/runs/{run.json['id']}/results").data)
    again = _upload(c, results)
    run = c.post(f"/api/documents/{again['id']}/runs", headers=SAME_ORIGIN, json={})
    final = _wait_done(c, run.json["id"])
    assert final["counts"].get("OK", 0) == 0, final
    requests = server.purchase_requests()
    assert requests["NB100500"] == requests["NB100501"] == 1


def test_the_page_hears_how_many_purchases_are_being_confirmed(tmp_path: Path) -> None:
    """Every purchase answered 503 after it was made is a doubt settled by look-up while the
    run goes on: the run's snapshots say how many are being confirmed, and none is resent."""
    from importer.sandbox import Knobs

    knobs = Knobs(fail_after_commit_rate=1.0, listing_lag_s=0.3)
    with SandboxServer(db_path=str(tmp_path / "sandbox.sqlite"), knobs=knobs) as server:
        target = sandbox_target(server.base_url, server.account_sid, server.auth_token,
                                tmp_path / "sandbox.sqlite", 5.0, 0)
        client = _logged_in(create_app(_settings(tmp_path, target), TOKEN))
        source = tmp_path / "three.csv"
        source.write_text("PropertySid,NumberBlockSid,AnswerPoint\n" + "".join(
            f"PRDEMO0001,NB{100800 + i},0412 345 678\n" for i in range(3)))
        doc = _upload(client, source)
        run_id = client.post(f"/api/documents/{doc['id']}/runs", headers=SAME_ORIGIN,
                             json={"dry_run": False}).json["id"]
        seen, deadline = set(), time.monotonic() + 60
        while time.monotonic() < deadline:
            snapshot = client.get(f"/api/runs/{run_id}").json
            seen.add(snapshot["confirming"])
            if snapshot["state"] in ("done", "failed"):
                break
            time.sleep(0.05)
        counts = snapshot["counts"]
        assert snapshot["state"] == "done" and counts["OK"] >= 1, counts
        assert counts["OK"] + counts["UNKNOWN"] == 3, counts  # looked up, never resent
        assert max(seen) >= 1 and snapshot["confirming"] == 0


def test_the_grid_shows_rows_done_earlier_as_a_run_would_skip_them(
        tmp_path: Path, served: Served) -> None:
    """Before a run, rows the rollout's journal holds as done for the account runs go to are
    SKIPPED in the grid ("a run skips it"), as `importer validate` says, not "would be sent";
    an edited row is checked again like any other."""
    server, target = served
    c = _logged_in(create_app(_settings(tmp_path, target), TOKEN))
    doc = _upload(c)
    before = sum(s["counts"].get("VALID", 0) for s in doc["sheets"])
    run = c.post(f"/api/documents/{doc['id']}/runs", headers=SAME_ORIGIN, json={})
    assert _wait_done(c, run.json["id"])["counts"]["OK"] == 5

    again = _logged_in(create_app(_settings(tmp_path, target), TOKEN))
    key = again.get("/api/state").json["recent"][0]["key"]
    reopened = again.post(f"/api/recent/{key}", headers=SAME_ORIGIN, json={}).json
    counts = [s["counts"] for s in reopened["sheets"]]
    assert sum(c.get("SKIPPED", 0) for c in counts) == 5, counts
    assert sum(c.get("VALID", 0) for c in counts) == before - 5, counts
    assert reopened["purchases"] + reopened["configures"] == before - 5  # what is sent
    skipped = [r for r in _rows(again, reopened) if r["_status"] == "SKIPPED"]
    assert len(skipped) == counts[0]["SKIPPED"] >= 1
    assert all("earlier run" in r["_message"] and "a run skips it" in r["_message"]
               for r in skipped), skipped
    assert not any(r["_row"] == s["_row"] for r in _rows(again, reopened, problems=True)
                   for s in skipped)  # done rows are not problems

    # A block edited is another purchase: checked again, no longer shown as done.
    first = skipped[0]
    block = next(k for k, v in first.items() if isinstance(v, str) and v.startswith("NB"))
    edited = again.patch(f"/api/documents/{reopened['id']}/cells", headers=SAME_ORIGIN,
                         json={"sheet": 0, "row": first["_row"], "column": block,
                               "value": "NB109999"}).json
    assert edited["rows"][0]["_status"] == "VALID", edited["rows"][0]
    assert edited["sheet"]["counts"].get("SKIPPED", 0) == counts[0]["SKIPPED"] - 1


def test_only_the_rows_that_need_you_download_and_come_back_as_the_same_rollout(
        tmp_path: Path, served: Served) -> None:
    """"Download only the rows that need you": the invalid, refused, failed and unknown rows
    alone, each with its Status and Message; fixed and uploaded back, it is the same rollout
    (one journal): its Status column is not read as input and nothing is bought twice."""
    server, target = served
    c = _logged_in(create_app(_settings(tmp_path, target), TOKEN))
    doc = _upload(c)
    run = c.post(f"/api/documents/{doc['id']}/runs", headers=SAME_ORIGIN, json={})
    final = _wait_done(c, run.json["id"])
    needing = {s["name"]: {r["_row"]: r["_status"] for r in _rows(c, doc, i)
                           if r["_status"] in ("INVALID", "REJECTED", "FAILED", "UNKNOWN")}
               for i, s in enumerate(doc["sheets"])}
    assert sum(map(len, needing.values())) == sum(
        final["counts"].get(s, 0) for s in ("INVALID", "REJECTED", "FAILED", "UNKNOWN"))

    response = c.get(f"/api/documents/{doc['id']}/to-fix")
    assert response.status_code == 200
    assert "mistakes.to-fix.xlsx" in response.headers["Content-Disposition"]
    saved = tmp_path / "mistakes.to-fix.xlsx"
    saved.write_bytes(response.data)
    book = openpyxl.load_workbook(saved)
    for name, rows in needing.items():
        values = list(book[name].iter_rows(values_only=True))
        header = [str(v or "") for v in values[0]]
        at = header.index("Status")  # beside the ids, as in the results workbook
        assert at <= 4 and header[at + 1] == "Message", header
        statuses = [r[at] for r in values[1:]]
        # Skipped rows come too where a fix is what they wait for (a failed purchase).
        assert [s for s in statuses if s != "SKIPPED"] == list(rows.values()), name
        assert all(r[at + 1] for r in values[1:])  # each says why
        assert all("Not sent" in r[at + 1] for r in values[1:] if r[at] == "SKIPPED")
    assert "Instructions" in book.sheetnames

    requests = server.purchase_requests()
    back = _upload(c, saved)
    titles = [col["title"] for col in back["sheets"][0]["columns"]]
    assert "Message" not in titles, titles  # not read as input
    folder = c.application.extensions["importer"]["workspace"].get(back["id"]).folder
    assert folder == c.application.extensions["importer"]["workspace"].get(doc["id"]).folder
    run = c.post(f"/api/documents/{back['id']}/runs", headers=SAME_ORIGIN, json={})
    _wait_done(c, run.json["id"])
    again = server.purchase_requests()
    # Refused rows may be asked again (nothing was bought); the blocks bought are not.
    assert again["NB100500"] == again["NB100501"] == 1 == requests["NB100500"]

    # With nothing left to fix, the page says so instead of an empty file.
    clean = tmp_path / "clean.csv"
    clean.write_text("PropertySid,NumberBlockSid,AnswerPoint\nPRDEMO0001,NB107700,"
                     "0412 345 678\n")
    ok = _upload(c, clean)
    assert c.get(f"/api/documents/{ok['id']}/to-fix").status_code == 409


def test_earlier_runs_of_a_file_are_listed_with_their_counts_and_workbooks(
        client: FlaskClient) -> None:
    """Each run's results workbook stays in the rollout's folder; the page lists them, newest
    first, with what each Summary counted, and serves only those files."""
    doc = _upload(client)
    assert client.get(f"/api/documents/{doc['id']}/history").json == []
    dry = client.post(f"/api/documents/{doc['id']}/runs", headers=SAME_ORIGIN,
                      json={"dry_run": True})
    dry_counts = _wait_done(client, dry.json["id"])["counts"]
    time.sleep(0.05)  # a later modification time
    run = client.post(f"/api/documents/{doc['id']}/runs", headers=SAME_ORIGIN, json={})
    run_counts = _wait_done(client, run.json["id"])["counts"]

    runs = client.get(f"/api/documents/{doc['id']}/history").json
    assert [r["name"] for r in runs] == ["mistakes.results-2.xlsx", "mistakes.results.xlsx"]
    assert [r["sent"] for r in runs] == [True, False]
    assert runs[0]["counts"] == run_counts and runs[1]["counts"] == dry_counts
    assert all(r["finished"] for r in runs)
    got = client.get(f"/api/documents/{doc['id']}/history/mistakes.results.xlsx")
    assert got.status_code == 200 and got.data[:2] == b"PK"
    for name in ["mistakes.xlsx", "..%2F..%2Fsandbox.sqlite", "mistakes.journal.sqlite"]:
        assert client.get(f"/api/documents/{doc['id']}/history/{name}").status_code == 404


def test_a_row_waiting_for_a_refused_purchase_says_to_fix_that_row(client: FlaskClient,
                                                                  tmp_path: Path) -> None:
    """Issue 30, item 5: a configure row whose purchase the API refused ("not available") is
    not advised to be sent again (that changes nothing): its Message and the page's next steps
    name the purchase row to fix."""
    from tests.util import CONFIGURE_HEADER, PURCHASE_HEADER, write_xlsx

    source = write_xlsx(tmp_path / "taken.xlsx", {
        "Purchase": [PURCHASE_HEADER, ["PRDEMO0001", "NB080001", "0412345678", "c"],
                     ["PRDEMO0001", "NB100401", "0412345678", "c"]],
        "Configure": [CONFIGURE_HEADER,
                      ["ACDEMO0001", "NB080001", "endpoint", "0298765432", None, None,
                       "enabled", "c"],
                      ["ACDEMO0001", "NB100401", "endpoint", "0298765432", None, None,
                       "enabled", "c"]]})
    doc = _upload(client, source)
    run = client.post(f"/api/documents/{doc['id']}/runs", headers=SAME_ORIGIN, json={}).json
    done = _wait_done(client, run["id"])
    assert {k: v for k, v in done["counts"].items() if v} == {"OK": 2, "REJECTED": 1,
                                                                "SKIPPED": 1}, done
    assert (done["skipped_blocked"], done["skipped_blocked_count"],
            done["skipped_not_done"]) == (["sheet 'Purchase' row 2"], 1, 0)
    rows = {r["_row"]: r for r in _rows(client, doc, sheet=1)}
    assert rows[2]["_status"] == "SKIPPED"
    assert "was refused by the API" in rows[2]["_message"]
    assert rows[2]["_message"].endswith("fix that row, then send again.")


def test_carry_on_lists_each_rollout_once_by_its_upload_with_its_latest_results(
        tmp_path: Path, served: Served) -> None:
    """Issue 30, item 7: a file run three times, whose rows to fix were downloaded, is listed
    once, by the file uploaded (not the download), with its latest run's counts; it opens the
    upload, every row."""
    target = served[1]
    first = _logged_in(create_app(_settings(tmp_path, target), TOKEN))
    doc = _upload(first)
    for dry_run in (True, False, False):
        run = first.post(f"/api/documents/{doc['id']}/runs", headers=SAME_ORIGIN,
                         json={"dry_run": dry_run}).json
        _wait_done(first, run["id"])
    assert first.get(f"/api/documents/{doc['id']}/to-fix").status_code == 200
    again = _logged_in(create_app(_settings(tmp_path, target), TOKEN))
    (recent,) = again.get("/api/state").json["recent"]
    assert recent["name"] == "mistakes.xlsx"
    assert recent["results"]["name"] == "mistakes.results-3.xlsx"
    assert recent["results"]["sent"] and recent["results"]["counts"]["SKIPPED"] >= 5
    reopened = again.post(f"/api/recent/{recent['key']}", headers=SAME_ORIGIN, json={}).json
    assert reopened["name"] == "mistakes.xlsx"
    assert sum(len(_rows(again, reopened, s)) for s in range(len(reopened["sheets"]))) == sum(
        len(_rows(first, doc, s)) for s in range(len(doc["sheets"])))
