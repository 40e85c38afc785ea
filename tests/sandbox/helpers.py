"""HTTP helpers for the sandbox tests: real requests, no mocks."""

from __future__ import annotations

from typing import Any

import requests

from importer.sandbox import SandboxServer

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

    def inspect(self, path: str) -> Any:
        response = requests.get(self.url(path), timeout=10)
        response.raise_for_status()
        return response.json()

    def block(self, sid: str) -> dict[str, Any]:
        return self.inspect(f"/_sandbox/blocks/{sid}")


def assert_ok(response: requests.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text[:500]
    body = response.json()
    assert body["ResponseStatus"] == {"Message": "OK"}
    return body


def assert_error(response: requests.Response, status: int, code: str) -> dict[str, str]:
    """Check the envelope; returns {FieldName: item ErrorCode} of its Errors."""
    assert response.status_code == status, response.text[:500]
    envelope = response.json()["ResponseStatus"]
    assert envelope["ErrorCode"] == code, envelope
    assert isinstance(envelope["Message"], str) and envelope["Message"]
    assert isinstance(envelope["Errors"], list)
    items = {}
    for item in envelope["Errors"]:
        assert set(item) == {"FieldName", "ErrorCode", "Message"}
        assert item["FieldName"] not in items, "one item per field"
        items[item["FieldName"]] = item["ErrorCode"]
    return items


def assert_field_error(response: requests.Response, field: str, code: str) -> None:
    """A 400 VALIDATION_ERROR whose only item is ``field``/``code``."""
    assert assert_error(response, 400, "VALIDATION_ERROR") == {field: code}
