"""The server itself: keep-alive, inspection endpoints, persistence, lifecycle, concurrency."""

from __future__ import annotations

import http.client
import json
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from urllib.parse import urlsplit

import pytest
import requests

from importer.sandbox import (
    DEMO_ACCOUNT_SID,
    DEMO_AUTH_TOKEN,
    INVENTORY_FIRST,
    INVENTORY_SIZE,
    SandboxServer,
    inventory_sid,
)

from .helpers import OWNED_BLOCK, Api, assert_error, assert_ok


def test_seed_constants():
    assert (inventory_sid(0), inventory_sid(INVENTORY_SIZE - 1)) == ("NB100000", "NB119999")
    assert INVENTORY_FIRST == 100000
    with pytest.raises(IndexError):
        inventory_sid(INVENTORY_SIZE)
    server = SandboxServer()
    assert (server.account_sid, server.auth_token) == (DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN)


def test_base_url_and_inventory_edges(api, sandbox):
    assert sandbox.base_url.startswith("http://127.0.0.1:") and not sandbox.base_url.endswith("/")
    assert api.block("NB119999")["AccountSid"] is None
    assert_error(api.purchase("NB120000"), 400, "NUMBER_BLOCK_NOT_FOUND")
    assert_error(api.purchase("NB099999"), 400, "NUMBER_BLOCK_NOT_FOUND")
    assert_ok(api.purchase("NB119999"))


def test_keep_alive_reuses_one_connection(api):
    responses = [api.listing(PageSize=1) for _ in range(30)]
    responses.append(api.purchase(inventory_sid(0)))
    responses.append(api.purchase(inventory_sid(0)))  # an error answer keeps it open too
    responses.append(
        api.post(
            "/v2/numberblocks/NB999999", data="{bad", headers={"Content-Type": "application/json"}
        )
    )
    assert all("close" not in r.headers.get("Connection", "") for r in responses)
    pools = api.session.get_adapter(api.server.base_url).poolmanager.pools
    assert [pools[key].num_connections for key in list(pools.keys())] == [1]


def test_keep_alive_with_unread_body(sandbox):
    """A 401 answered before the body is read must not corrupt the next request."""
    parts = urlsplit(sandbox.base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request(
            "POST",
            "/v2/numberblocks/NB090000",
            body=b'{"AccountSid": "x"}' * 100,
            headers={"Content-Type": "application/json"},
        )
        first = conn.getresponse()
        assert first.status == 401
        first.read()
        sock = conn.sock
        conn.request("GET", "/_sandbox/stats")
        second = conn.getresponse()
        assert second.status == 200 and second.read()
        assert conn.sock is sock
    finally:
        conn.close()


def test_keep_alive_is_fast(api):
    api.listing(PageSize=1)
    start = time.perf_counter()
    for _ in range(20):
        api.listing(PageSize=1)
    assert (time.perf_counter() - start) / 20 < 0.02  # Nagle stalls would make this ~40 ms


def test_inspection_endpoints(api):
    anonymous = api.as_account("", None)
    assert_error(anonymous.listing(), 401, "UNAUTHORIZED")
    assert_error(api.listing(prop="PRNOPE"), 400, "PROPERTY_NOT_FOUND")
    assert_ok(api.purchase(inventory_sid(0)))
    assert_error(api.purchase(inventory_sid(0)), 403, "NUMBER_BLOCK_NOT_AVAILABLE")
    assert_ok(api.configure(OWNED_BLOCK, AccountSid=DEMO_ACCOUNT_SID))
    assert_error(api.configure(OWNED_BLOCK), 400, "PARAMETER_REQUIRED")
    api.post("/v2/nothing", {})  # unknown routes are not a kind
    api.get("/v2/Accounts/ACDEMO0001/numberblocks")
    assert_ok(api.search("Sydney", AccountSid=DEMO_ACCOUNT_SID))
    stats = api.inspect("/_sandbox/stats")
    assert stats["Requests"] == {"purchase": 2, "configure": 2, "list": 3, "search": 1}
    arrived = stats["Arrivals"]  # one a counted request, on the sandbox's clock, in order
    assert len(arrived) == 8 and arrived == sorted(arrived)
    assert api.inspect("/_sandbox/purchases") == {"Purchases": {inventory_sid(0): 1}}
    assert api.inspect("/_sandbox/purchase-requests") == {
        "PurchaseRequests": {inventory_sid(0): 2}}
    state = api.block(inventory_sid(0))
    assert state["NumberBlockSid"] == inventory_sid(0)
    assert state["AccountSid"] == DEMO_ACCOUNT_SID
    unsold = api.block(inventory_sid(1))
    assert unsold["AccountSid"] is None and unsold["AnswerPoint"] is None
    missing = requests.get(api.url("/_sandbox/blocks/NB999999"), timeout=10)
    assert_error(missing, 404, "NOT_FOUND")


def test_inspection_ignores_knobs(api, sandbox):
    sandbox.knobs.fail_rate = 1.0
    sandbox.knobs.throttle_rps = 0.1
    for _ in range(3):
        assert api.inspect("/_sandbox/purchases") == {"Purchases": {}}


def test_file_db_persists_across_restarts(tmp_path):
    db = str(tmp_path / "sandbox.sqlite")
    nb = inventory_sid(42)
    with SandboxServer(db_path=db) as first:
        client = Api(first, DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN)
        assert_ok(client.purchase(nb, Campaign="persist"))
        assert_ok(
            client.configure(
                nb, AccountSid=DEMO_ACCOUNT_SID, RoutingMethod="application", Application="AP1"
            )
        )
        client.close()
    assert first.purchase_counts() == {nb: 1}  # still answers after stop()
    assert first.purchase_requests() == {nb: 1}
    with SandboxServer(db_path=db) as second:
        client = Api(second, DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN)
        state = client.block(nb)
        assert (state["Campaign"], state["Application"]) == ("persist", "AP1")
        assert_error(client.purchase(nb), 403, "NUMBER_BLOCK_NOT_AVAILABLE")
        assert assert_ok(client.listing(PageSize=1))["TotalCount"] == 101  # not re-seeded
        assert second.purchase_counts() == {nb: 1}
        assert second.purchase_requests() == {nb: 2}  # persisted, plus the refused one
        client.close()


def test_file_from_the_first_sandbox_is_upgraded(tmp_path):
    """A database written before blocks had Ids keeps its blocks and sales."""
    db = tmp_path / "old.sqlite"
    conn = sqlite3.connect(db)
    conn.executescript(
        "CREATE TABLE accounts (sid TEXT PRIMARY KEY, token TEXT NOT NULL, prefixes TEXT,"
        " can_write INTEGER NOT NULL);"
        "CREATE TABLE properties (sid TEXT PRIMARY KEY, account_sid TEXT NOT NULL);"
        "CREATE TABLE blocks (sid TEXT PRIMARY KEY, account_sid TEXT NOT NULL,"
        " property_sid TEXT, data TEXT NOT NULL);"
        "CREATE TABLE purchases (sid TEXT PRIMARY KEY, count INTEGER NOT NULL);")
    conn.execute("INSERT INTO accounts VALUES (?, ?, NULL, 1)", (DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN))
    conn.execute("INSERT INTO properties VALUES ('PRDEMO0001', ?)", (DEMO_ACCOUNT_SID,))
    conn.execute("INSERT INTO blocks VALUES ('NB100005', ?, 'PRDEMO0001', ?)",
                 (DEMO_ACCOUNT_SID, json.dumps({"AnswerPoint": "+61412345678", "Source": "old"})))
    conn.execute("INSERT INTO purchases VALUES ('NB100005', 1)")
    conn.commit()
    conn.close()
    with SandboxServer(db_path=str(db)) as server:
        client = Api(server, DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN)
        body = assert_ok(client.listing())
        assert [b["NumberBlockSid"] for b in body["NumberBlocks"]] == ["NB100005"]
        assert body["NumberBlocks"][0]["Source"] == "old"
        assert isinstance(body["NumberBlocks"][0]["Id"], int)
        assert server.purchase_counts() == {"NB100005": 1}
        assert_error(client.purchase("NB100005"), 403, "NUMBER_BLOCK_NOT_AVAILABLE")
        client.close()


def test_in_memory_db_starts_fresh():
    for _ in range(2):
        with SandboxServer() as server:
            client = Api(server, DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN)
            assert_ok(client.purchase(inventory_sid(0)))
            client.close()


def test_stop_closes_listener_and_keep_alive_connections():
    server = SandboxServer().start()
    client = Api(server, DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN)
    assert_ok(client.listing(PageSize=1))
    server.stop()
    with pytest.raises(requests.exceptions.ConnectionError):
        client.listing(PageSize=1)
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(server.base_url + "/_sandbox/stats", timeout=2)
    server.stop()  # idempotent
    client.close()


def test_concurrent_purchases_buy_each_block_once(sandbox):
    blocks = [inventory_sid(i) for i in range(6)]
    results: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        client = Api(sandbox, DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN)
        codes = [client.purchase(nb).status_code for nb in blocks]
        client.close()
        with lock:
            results.extend(codes)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(200) == len(blocks)
    assert results.count(403) == len(blocks) * 7
    assert sandbox.purchase_counts() == dict.fromkeys(blocks, 1)


def test_serve_forever_in_a_thread_and_stop():
    server = SandboxServer()
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    deadline = time.monotonic() + 5
    while not server.base_url and time.monotonic() < deadline:
        time.sleep(0.01)
    client = Api(server, DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN)
    assert_ok(client.listing(PageSize=1))
    server.stop()
    thread.join(5)
    assert not thread.is_alive()
    client.close()


_CTRL_C_SCRIPT = """
import threading, time
from importer.sandbox import SandboxServer
s = SandboxServer()
def announce():
    while not s.base_url:
        time.sleep(0.01)
    print(s.base_url, flush=True)
threading.Thread(target=announce, daemon=True).start()
try:
    s.serve_forever()
except KeyboardInterrupt:
    print("interrupted", s.purchase_counts(), flush=True)
    raise SystemExit(130)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT delivery differs on Windows")
def test_ctrl_c_propagates_from_serve_forever():
    proc = subprocess.Popen(
        [sys.executable, "-c", _CTRL_C_SCRIPT],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base_url = proc.stdout.readline().strip()
        assert requests.get(base_url + "/_sandbox/stats", timeout=5).status_code == 200
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "interrupted {}" in out
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(base_url + "/_sandbox/stats", timeout=2)
