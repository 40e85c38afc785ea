"""HTTP helpers for the sandbox tests: real requests, no mocks."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import requests

from importer.sandbox import SandboxServer

DEMO_ACCOUNT = "ACDEMO0001"
DEMO_PROPERTY = "PRDEMO0001"
OWNED_BLOCK = "NB090000"  # pre-owned by ACDEMO0001/PRDEMO0001
OTHER_BLOCK = "NB080000"  # pre-owned by ACOTHER0001/PROTHER0001


class Api:
    """Real HTTP calls to one sandbox as one account (keep-alive Session)."""

    def __init__(self, server: SandboxServer, sid: str, token: str | None) -> None:
        self.server = server
        self.session = requests.Session()
        if token is not None:
            self.session.auth = (sid, token)
        self._children: list[Api] = []

    def as_account(self, sid: str, token: str | None) -> Api:
        child = Api(self.server, sid, token)
        self._children.append(child)
        return child

    def close(self) -> None:
        for child in self._children:
            child.close()
        self.session.close()

    def url(self, path: str) -> str:
        return self.server.base_url + path

    def post(self, path: str, body: Any = None, **kwargs: Any) -> requests.Response:
        if "data" not in kwargs:
            kwargs["json"] = body
        return self.session.post(self.url(path), timeout=10, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.get(self.url(path), timeout=10, **kwargs)

    def purchase(
        self,
        block: str,
        prop: str = DEMO_PROPERTY,
        answer_point: str | None = "0412345678",
        **fields: Any,
    ) -> requests.Response:
        body: dict[str, Any] = {"NumberBlockSid": block, **fields}
        if answer_point is not None:
            body["AnswerPoint"] = answer_point
        return self.post(f"/v2/Properties/{prop}/NumberBlocks", body)

    def configure(self, block: str, **fields: Any) -> requests.Response:
        return self.post(f"/v2/numberblocks/{block}", fields)

    def listing(self, prop: str = DEMO_PROPERTY, **params: Any) -> requests.Response:
        return self.get(f"/v2/Properties/{prop}/numberblocks", params=params)

    def account_listing(self, account: str = DEMO_ACCOUNT, **params: Any) -> requests.Response:
        return self.get(f"/v2/Accounts/{account}/numberblocks", params=params)

    def search(self, text: str, **params: Any) -> requests.Response:
        return self.get(f"/v2/numberblocks/{text}", params=params)

    def inspect(self, path: str) -> Any:
        response = requests.get(self.url(path), timeout=10)
        response.raise_for_status()
        return response.json()

    def block(self, sid: str) -> dict[str, Any]:
        return self.inspect(f"/_sandbox/blocks/{sid}")

    def sales(self) -> dict[str, int]:
        return self.inspect("/_sandbox/purchases")["Purchases"]

    def requests_named(self) -> dict[str, int]:
        return self.inspect("/_sandbox/purchase-requests")["PurchaseRequests"]


def assert_ok(response: requests.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text[:500]
    body = response.json()
    assert body["ResponseStatus"] == {"Message": "OK"}
    return body


def assert_error(response: requests.Response, status: int, code: str) -> list[str]:
    """Check the documented envelope; returns the FieldNames of its Errors, in order.

    An item documents only FieldName; the sandbox adds a Message for people, nothing else.
    """
    assert response.status_code == status, response.text[:500]
    envelope = response.json()["ResponseStatus"]
    assert envelope["ErrorCode"] == code, envelope
    assert isinstance(envelope["Message"], str) and envelope["Message"]
    assert isinstance(envelope["Errors"], list)
    names: list[str] = []
    for item in envelope["Errors"]:
        assert set(item) == {"FieldName", "Message"}, item
        assert isinstance(item["Message"], str) and item["Message"]
        assert item["FieldName"] not in names, "one item per field"
        names.append(item["FieldName"])
    return names


def assert_field_error(response: requests.Response, field: str,
                       code: str = "INVALID_PARAMETER") -> str:
    """A 400 ``code`` whose only item names ``field``; returns the item's Message."""
    assert assert_error(response, 400, code) == [field]
    return response.json()["ResponseStatus"]["Errors"][0]["Message"]


def sids(response: requests.Response) -> list[str]:
    """The NumberBlockSids of a listing page, in the order served."""
    return [b["NumberBlockSid"] for b in assert_ok(response)["NumberBlocks"]]


def ids(response: requests.Response) -> list[int]:
    return [b["Id"] for b in assert_ok(response)["NumberBlocks"]]


def eventually(check: Callable[[], bool], within: float = 2.0) -> float:
    """Seconds until ``check()`` held (polled); fails if it never did within ``within``."""
    start = time.monotonic()
    while not check():
        assert time.monotonic() - start < within, "never happened"
        time.sleep(0.02)
    return time.monotonic() - start
