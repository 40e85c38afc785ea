"""Issue 27, item 4, over HTTP: the page's put-back asks the question of `importer undo` and a
yes names what it was shown; a yes to something else, or none, sends nothing and asks again;
only the rollout's own results workbooks can be put back."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from importer.sandbox import SandboxServer
from importer.web.app import create_app, sandbox_target
from tests.test_reliability import stats
from tests.test_undo import BLOCKS, _rollout, _state
from tests.test_web import SAME_ORIGIN, TOKEN, _logged_in, _settings, _wait_done

THREE = BLOCKS[:3]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[SandboxServer]:
    with SandboxServer(db_path=str(tmp_path / "sandbox.sqlite")) as found:
        yield found


@pytest.fixture
def client(tmp_path: Path, server: SandboxServer) -> FlaskClient:
    target = sandbox_target(server.base_url, server.account_sid, server.auth_token,
                            tmp_path / "sandbox.sqlite", 5.0, 2)
    return _logged_in(create_app(_settings(tmp_path, target), TOKEN))


def _ran(client: FlaskClient, path: Path) -> dict:
    doc = client.post("/api/documents", headers=SAME_ORIGIN, data={
        "file": (io.BytesIO(path.read_bytes()), path.name)}).json
    run = client.post(f"/api/documents/{doc['id']}/runs", headers=SAME_ORIGIN, json={}).json
    return {"doc": doc, **_wait_done(client, run["id"])}


def test_a_yes_names_what_it_was_shown(client: FlaskClient, server: SandboxServer,
                                       tmp_path: Path) -> None:
    _ran(client, _rollout(tmp_path / "spring.xlsx", "spring", THREE))
    before = _state(server, THREE)
    ran = _ran(client, _rollout(tmp_path / "autumn.xlsx", "autumn", THREE))
    assert (ran["undo"], ran["results_name"]) == ("autumn.undo.xlsx", "autumn.results.xlsx")
    url = f"/api/documents/{ran['doc']['id']}/history/autumn.results.xlsx/undo"
    plan = client.get(url).json
    assert (plan["blocks"], plan["changed"], plan["bought"]) == (3, 0, 0)
    assert {(s["setting"], s["now"], s["before"]) for s in plan["shifts"]} >= {
        ("Campaign", "autumn-0", "spring-0")}
    sent = stats(server)["configure"]

    stale = client.post(url, headers=SAME_ORIGIN, json={"confirmed": {
        **plan["asked"], "settings": plan["settings"] - 1}})
    assert stale.status_code == 409 and "changed since you were asked" in stale.json["error"]
    assert stale.json["asked"] == plan["asked"]
    unasked = client.post(url, headers=SAME_ORIGIN, json={})
    assert unasked.status_code == 409 and "error" not in unasked.json
    for name in ("spring.results.xlsx", "..%2Fspring%2Fspring.results.xlsx",
                 "autumn.undo.xlsx"):
        elsewhere = f"/api/documents/{ran['doc']['id']}/history/{name}/undo"
        assert client.post(elsewhere, headers=SAME_ORIGIN, json={
            "confirmed": plan["asked"]}).status_code == 404
    assert stats(server)["configure"] == sent and _state(server, THREE) != before

    started = client.post(url, headers=SAME_ORIGIN, json={"confirmed": plan["asked"]}).json
    assert started["document"]["name"] == "autumn.undo.xlsx"
    done = _wait_done(client, started["run"]["id"])
    assert done["counts"]["OK"] == 3
    assert _state(server, THREE) == before
    history = client.get(f"/api/documents/{ran['doc']['id']}/history").json
    assert [r["name"] for r in history] == ["autumn.results-2.xlsx", "autumn.results.xlsx"]
