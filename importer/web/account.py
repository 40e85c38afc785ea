"""The API account typed into the page: checked with one page of its listing before it is
used, as a person would want ("Use these" should say at once that a token is wrong), and taken
away again when the API refuses it during a run (every further row would fail the same way)."""

from __future__ import annotations

import re
from urllib.parse import quote

from importer.sending.client import ApiClient, Credentials, Reply
from importer.spec import contract
from importer.text import clip, shown


def check(credentials: Credentials, timeout: float) -> str | None:
    """None when the API lists the account's blocks with these credentials; else why not, in
    words for the page (never the token)."""
    if not re.fullmatch(contract.SID_PATTERN, credentials.account_sid):
        return "That is not an AccountSid (letters, digits, _ and - only)."
    client = ApiClient(credentials, timeout=(min(5.0, timeout), timeout), attempts=2)
    try:
        path = contract.LIST_PATHS["AccountSid"].format(
            AccountSid=quote(credentials.account_sid, safe=""))
        reply, _ = client.request("GET", path, query={
            contract.PAGE_INDEX: 0, contract.PAGE_SIZE: 1, **contract.LIST_QUERY})
    finally:
        client.close()
    if reply.status is not None and 200 <= reply.status < 300:
        return None
    return refusal(reply)


def refusal(reply: Reply) -> str:
    said = clip(shown(reply.message), 240).rstrip(". ")
    if reply.unauthorized:
        return (f"The API refused these credentials (401: {said}). Check the AccountSid and "
                "the auth token.")
    if reply.status is None:  # the client's words already say what to check: said once
        where = re.fullmatch(r"could not reach (?P<host>[^:]+): (?P<why>.+)", said)
        if where:
            return f"The API at {where['host']} could not be reached: {where['why']}."
        return f"The API could not be reached: {said}."
    return f"The API answered {reply.status} ({said}); these credentials were not accepted."


class WatchedClient(ApiClient):
    """A run's client that remembers a 401, so the page can ask for the credentials again."""

    refused: Reply | None = None

    def request(self, method: str, path: str, body: dict | None = None,
                query=None) -> tuple[Reply, object]:  # type: ignore[no-untyped-def]
        reply, payload = super().request(method, path, body, query)
        if reply.unauthorized:
            self.refused = reply
        return reply, payload
