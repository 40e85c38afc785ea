"""`importer serve` holds against other local servers, hostile uploads and many streams (issue
17): Flask's test client for the rules, real sockets against `importer serve` for the threads."""

from __future__ import annotations

import io
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from importer.pipeline import Options
from importer.sandbox import Knobs, SandboxServer
from importer.web import Settings, create_app, progress, security
from importer.web.app import sandbox_target
from importer.web.runs import Target
from importer.web.workspace import safe_name
from tests.util import page_secret

pytestmark = pytest.mark.usefixtures("fast_settling")  # conftest: the floor scaled to these lags

ROOT = Path(__file__).resolve().parents[1]
MISTAKES = ROOT / "samples" / "mistakes.xlsx"
TOKEN = "test-token-0123456789"
SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin"}


def _app(tmp_path: Path, target: Target | None = None) -> Flask:
    return create_app(Settings(tmp_path / "workspace", target, Options(settle_window=1.0)),
                      TOKEN)


def _logged_in(app: Flask) -> FlaskClient:
    c = app.test_client()
    login = c.get(f"/?token={TOKEN}")
    assert login.status_code == 303
    c.environ_base["HTTP_X_IMPORTER_PAGE"] = page_secret(login.headers["Location"])
    return c


def _upload(c: FlaskClient, data: bytes, name: str):  # type: ignore[no-untyped-def]
    return c.post("/api/documents", headers=SAME_ORIGIN,
                  data={"file": (io.BytesIO(data), name)})


@pytest.fixture
def target(tmp_path: Path) -> Iterator[Target]:
    db = tmp_path / "sandbox.sqlite"
    with SandboxServer(db_path=str(db), knobs=Knobs(latency_ms=150)) as server:
        yield sandbox_target(server.base_url, server.account_sid, server.auth_token, db, 5.0, 2)


# --- 3: the cookie ---------------------------------------------------------------------------

def test_a_cookie_alone_changes_nothing(tmp_path: Path) -> None:
    """Another server on 127.0.0.1 receives our cookie (cookies ignore ports): without the
    page's own secret, which it cannot read, no change is accepted."""
    c = _logged_in(_app(tmp_path))
    mine = c.environ_base["HTTP_X_IMPORTER_PAGE"]
    data = MISTAKES.read_bytes()
    for secret in ("", "guessed", "ünïcode"):
        c.environ_base["HTTP_X_IMPORTER_PAGE"] = secret
        assert _upload(c, data, "mistakes.xlsx").status_code == 403
    assert c.get("/api/state").json["documents"] == []
    c.environ_base["HTTP_X_IMPORTER_PAGE"] = mine
    assert _upload(c, data, "mistakes.xlsx").status_code == 200


def test_a_cookie_alone_cannot_get_the_page_secret_nor_buy(tmp_path: Path,
                                                           target: Target) -> None:
    """Issue 29, item 1: another local server holding our cookie (browsers send it to every
    port of 127.0.0.1) asks as a program does, with the headers a browser would send: no page
    it can fetch holds the secret, and without it nothing is uploaded, run or bought."""
    app = _app(tmp_path, target)
    c = _logged_in(app)
    mine = c.environ_base["HTTP_X_IMPORTER_PAGE"]
    doc = _upload(c, MISTAKES.read_bytes(), "mistakes.xlsx").json
    name = app.extensions["importer"]["sessions"].cookie
    cookie = {"Cookie": f"{name}={c.get_cookie(name).value}"}
    thief = app.test_client(use_cookies=False)
    navigation = {**cookie, "Sec-Fetch-Site": "none", "Sec-Fetch-Mode": "navigate",
                  "Sec-Fetch-Dest": "document"}
    seen = [thief.get(path, headers=navigation) for path in (
        "/", "/?token=", "/?token=guess", "/index.html", "/api/state",
        f"/api/documents/{doc['id']}")]
    assert seen[0].status_code == 200  # the page, without its secret
    text = " ".join(r.get_data(True) + r.headers.get("Location", "") for r in seen)
    found = re.findall(r'name="importer-page" content="([^"]+)"|#page=([\w-]+)', text)
    assert mine not in text and found == []
    for headers in ({**cookie, **SAME_ORIGIN}, navigation, cookie):
        answer = thief.post("/api/documents", headers=headers,
                            data={"file": (io.BytesIO(MISTAKES.read_bytes()), "x.xlsx")})
        assert answer.status_code == 403
        answer = thief.post(f"/api/documents/{doc['id']}/runs", headers=headers,
                            json={"dry_run": False, "confirmed": True})
        assert answer.status_code == 403
        assert "open the latest address the importer printed" in answer.json["error"]
    assert len(c.get("/api/state").json["documents"]) == 1
    assert requests.get(f"{target.credentials.base_url}/_sandbox/purchases",
                        timeout=10).json() == {"Purchases": {}}
    # The page itself carries on with its secret, whatever the cookie became meanwhile.
    assert _upload(c, MISTAKES.read_bytes(), "again.xlsx").status_code == 200


def test_each_launch_names_its_cookie_and_never_puts_the_token_in_it(tmp_path: Path) -> None:
    one, two = _logged_in(_app(tmp_path / "1")), _logged_in(_app(tmp_path / "2"))
    names = [c.application.extensions["importer"]["sessions"].cookie for c in (one, two)]
    assert names[0] != names[1] and all(re.fullmatch(r"importer_[0-9a-f]{8}", n) for n in names)
    for c, name in zip((one, two), names, strict=True):
        value = c.get_cookie(name).value
        assert TOKEN not in value
        assert c.get("/api/state").status_code == 200  # the other launch's login left it alone


def test_the_address_works_once_and_a_fresh_one_is_given(tmp_path: Path) -> None:
    """The browser keeps the address in its history: once used, it opens nothing."""
    app = _app(tmp_path)
    fresh: list[str] = []
    app.extensions["importer"]["sessions"].on_new_token = fresh.append
    assert app.test_client().get(f"/?token={TOKEN}").status_code == 303
    assert app.test_client().get(f"/?token={TOKEN}").status_code == 403
    assert len(fresh) == 1 and fresh[0] != TOKEN
    assert app.test_client().get(f"/?token={fresh[0]}").status_code == 303
    assert app.test_client().get(f"/?token={fresh[0]}").status_code == 403


def test_sessions_are_short_lived_and_rotated(tmp_path: Path) -> None:
    c = _logged_in(_app(tmp_path))
    sessions = c.application.extensions["importer"]["sessions"]
    name = sessions.cookie
    clock = [time.monotonic()]
    sessions.clock = lambda: clock[0]
    first = c.get_cookie(name).value
    clock[0] += security.ROTATE_SECONDS + 1
    response = c.get("/api/state")
    assert response.status_code == 200
    second = c.get_cookie(name).value
    assert second != first and f"{name}={second}" in response.headers["Set-Cookie"]
    old = c.application.test_client(use_cookies=False)  # a request still on its way
    assert old.get("/api/state", headers={"Cookie": f"{name}={first}"}).status_code == 200
    clock[0] += security.GRACE_SECONDS + 1
    assert old.get("/api/state", headers={"Cookie": f"{name}={first}"}).status_code == 403
    assert c.get("/api/state").status_code == 200  # the new one goes on
    # The page's secret outlives the cookie's rotation: the page carries on making changes.
    assert _upload(c, MISTAKES.read_bytes(), "mistakes.xlsx").status_code == 200
    clock[0] += security.SESSION_SECONDS + 1  # unused for an hour: gone
    assert c.get("/api/state").status_code == 403


# --- 7: the small ones -----------------------------------------------------------------------

@pytest.mark.parametrize("bad", ["tökén", "\u2603" * 43, "a\x00b"])
def test_an_odd_token_or_cookie_is_refused_not_a_crash(tmp_path: Path, bad: str) -> None:
    c = _app(tmp_path).test_client()
    assert c.get("/", query_string={"token": bad}).status_code == 403
    name = c.application.extensions["importer"]["sessions"].cookie
    c.set_cookie(name, bad)
    response = c.get("/api/state")
    assert response.status_code == 403 and b"Traceback" not in response.data


def test_the_host_header_must_name_our_port(tmp_path: Path) -> None:
    app = _app(tmp_path)
    app.config["IMPORTER_PORT"] = 8765
    c = app.test_client()
    assert c.get(f"/?token={TOKEN}", headers={"Host": "127.0.0.1:9999"}).status_code == 403
    assert c.get(f"/?token={TOKEN}", headers={"Host": "127.0.0.1"}).status_code == 403
    assert c.get(f"/?token={TOKEN}", headers={"Host": "localhost:8765"}).status_code == 303


@pytest.mark.parametrize("name", ["CON.csv", "nul.results.xlsx", "com1.xlsx", "LPT9.csv",
                                  "Aux .csv"])
def test_windows_device_names_are_never_used(name: str) -> None:
    kept = safe_name(name)
    assert kept.split(".")[0].strip().upper() not in {"CON", "NUL", "COM1", "LPT9", "AUX"}
    assert kept.lower().endswith(Path(name).suffix)


def test_errors_name_the_users_file_not_the_servers_folders(tmp_path: Path) -> None:
    c = _logged_in(_app(tmp_path))
    for data, name in [(b"this is not a workbook", "notes.xlsx"), (b"", "empty.csv"),
                       (b"a,b\n1,2\n", "unknown.csv")]:
        response = _upload(c, data, name)
        # Headers it does not know: the page asks which column is which (test_web_mapping.py).
        assert response.status_code == (200 if name == "unknown.csv" else 400)
        message = response.json.get("error") or response.json["mapping"]["message"]
        assert name in message and str(tmp_path) not in message, message


# --- 5: uploads are checked first and never replace a thing -----------------------------------

def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_a_refused_upload_leaves_nothing_and_replaces_nothing(tmp_path: Path,
                                                             target: Target) -> None:
    c = _logged_in(_app(tmp_path, target))
    doc = _upload(c, MISTAKES.read_bytes(), "mistakes.xlsx").json
    run = c.post(f"/api/documents/{doc['id']}/runs", headers=SAME_ORIGIN, json={}).json
    while c.get(f"/api/runs/{run['id']}").json["state"] not in ("done", "failed"):
        time.sleep(0.05)
    results = c.get(f"/api/runs/{run['id']}/results").data
    root = tmp_path / "workspace"
    before = _files(root)
    for name in ["mistakes.results.xlsx", "mistakes.xlsx", "mistakes.journal.sqlite.xlsx",
                 "mistakes.edited.xlsx"]:
        assert _upload(c, b"junk", name).status_code == 400
    assert _files(root) == before
    assert c.get(f"/api/runs/{run['id']}/results").data == results


def test_uploads_left_by_a_killed_server_are_cleared(tmp_path: Path) -> None:
    old, new = (tmp_path / "workspace" / "incoming" / name for name in ("old1", "new1"))
    for staged in (old, new):
        staged.mkdir(parents=True)
        (staged / "half.xlsx").write_bytes(b"PK")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    _app(tmp_path)
    assert not old.exists() and new.exists()  # a recent one may be another server's


def test_an_upload_of_the_same_name_is_kept_beside_the_first(tmp_path: Path) -> None:
    c = _logged_in(_app(tmp_path))
    first = _upload(c, MISTAKES.read_bytes(), "mistakes.xlsx").json
    path = c.application.extensions["importer"]["workspace"].get(first["id"]).path
    kept = path.read_bytes()
    second = _upload(c, (ROOT / "samples" / "purchase.xlsx").read_bytes(), "mistakes.xlsx")
    assert second.status_code == 200 and path.read_bytes() == kept
    assert c.get(f"/api/documents/{first['id']}").json["sheets"] == first["sheets"]


# --- issue 18: nothing changes rows while they are being sent ---------------------------------

def test_no_edit_undo_or_upload_over_a_file_while_it_runs(tmp_path: Path,
                                                          target: Target) -> None:
    c = _logged_in(_app(tmp_path, target))
    doc = _upload(c, MISTAKES.read_bytes(), "mistakes.xlsx").json
    phone = next(x["field"] for x in doc["sheets"][0]["columns"] if x["name"] == "AnswerPoint")
    cells = f"/api/documents/{doc['id']}/cells"
    edit = {"sheet": 0, "row": 7, "column": phone, "value": "0412 345 777"}
    assert c.patch(cells, headers=SAME_ORIGIN, json=edit).status_code == 200
    run = c.post(f"/api/documents/{doc['id']}/runs", headers=SAME_ORIGIN, json={}).json
    assert c.post(f"/api/documents/{doc['id']}/undo", headers=SAME_ORIGIN,
                  json={}).status_code == 409
    assert c.patch(cells, headers=SAME_ORIGIN, json={**edit, "value": "1"}).status_code == 409
    assert _upload(c, MISTAKES.read_bytes(), "mistakes.xlsx").status_code == 409
    assert _upload(c, MISTAKES.read_bytes(), "mistakes.results.xlsx").status_code == 409
    assert c.get(f"/api/runs/{run['id']}").json["state"] in ("starting", "running")
    while (final := c.get(f"/api/runs/{run['id']}").json)["state"] not in ("done", "failed"):
        time.sleep(0.05)
    assert final["state"] == "done", final
    rows = c.get(f"/api/documents/{doc['id']}/sheets/0/rows?size=500").json["data"]
    assert {r["_row"]: r["_status"] for r in rows}[7] == "OK"
    assert c.post(f"/api/documents/{doc['id']}/undo", headers=SAME_ORIGIN,
                  json={}).status_code == 200  # and once it has finished, it may


# --- 2: streams never take the threads that Cancel needs ---------------------------------------

def test_a_stream_without_news_ends_and_frees_its_place(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress, "IDLE_SECONDS", 0.3)
    monkeypatch.setattr(progress, "HEARTBEAT_SECONDS", 0.05)
    c = _logged_in(_app(tmp_path))
    streams = c.application.extensions["importer"]["streams"]
    started = time.monotonic()
    for _ in range(progress.MAX_STREAMS + 1):  # one after another: each place is given back
        response = c.get("/api/events", buffered=True)
        assert response.status_code == 200 and b"retry:" in response.data
        assert streams.open == 0
    assert time.monotonic() - started < 5
    held = [c.get("/api/events", buffered=False) for _ in range(progress.MAX_STREAMS)]
    assert c.get("/api/events").status_code == 429  # all places taken: poll instead
    for response in held:
        response.close()
    assert streams.open == 0


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, requests.Session]]:
    proc = subprocess.Popen([sys.executable, "-m", "importer", "serve", "--sandbox",
                             "--no-browser", "--port", "0", "--workspace",
                             str(tmp_path / "ws")], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        match = re.search(r"(http://127\.0\.0\.1:\d+)/\?token=([\w-]+)", proc.stdout.readline())
        assert match
        with requests.Session() as s:
            s.get(f"{match[1]}/?token={match[2]}", timeout=10).raise_for_status()
            yield match[1], s
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


def test_fifty_progress_streams_do_not_starve_the_page(served: tuple[str, requests.Session]
                                                       ) -> None:
    base, s = served
    port = int(base.rsplit(":", 1)[1])
    cookie = "; ".join(f"{k}={v}" for k, v in s.cookies.items())
    request = (f"GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: {cookie}\r\n"
               "Accept: text/event-stream\r\n\r\n").encode()
    streams = []
    try:
        for _ in range(50):
            sock = socket.create_connection(("127.0.0.1", port), timeout=10)
            sock.sendall(request)
            streams.append(sock)
        time.sleep(0.5)
        started = time.monotonic()
        assert s.get(f"{base}/api/state", timeout=5).status_code == 200
        assert time.monotonic() - started < 2
        answers = [sock.recv(200) for sock in streams]
        assert sum(a.startswith(b"HTTP/1.1 200") for a in answers) <= 3
        assert sum(a.startswith(b"HTTP/1.1 429") for a in answers) >= 47
    finally:
        for sock in streams:
            sock.close()
