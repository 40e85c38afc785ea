"""Purchase and Configure: the two requests that change something.

Checks run in a fixed order so each answer can be provoked alone: body (400
``PARAMETER_REQUIRED`` / ``INVALID_PARAMETER`` / ``CONFLICTING_PARAMETERS``), existence (400),
consistency of the named Sids (400 ``CONFLICTING_PARAMETERS``), permission (403 ``FORBIDDEN``),
then the block's state. What happens after acceptance (slow commit, dropped connection, a
gateway's 503) is left to the caller as an ``Outcome``, so the answer can be timed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from flask import Request

from importer.spec import contract as c

from .commits import CommitScheduler
from .errors import ApiError, bad_body, conflict, no_permission, not_owned
from .faults import FaultInjector
from .rules import (
    ACCOUNT_SID,
    PROPERTY_SID,
    ROUTING_KEYS,
    TAG_KEYS,
    validate_configure,
    validate_purchase,
)
from .store import Account, Block, Store


@dataclass
class Outcome:
    """How an accepted change is answered: OK, a dropped connection, or a gateway's 503."""

    drop: bool = False
    gateway_error: bool = False


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def json_object(req: Request) -> dict[str, Any]:
    """The body as a JSON object, or 400: the API takes JSON only."""
    if req.mimetype != "application/json":
        raise bad_body("The request body must be JSON (Content-Type: application/json).")
    try:
        body = json.loads(req.get_data(cache=True), parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise bad_body("The request body is not valid JSON.") from exc
    if not isinstance(body, dict):
        raise bad_body("The request body must be a JSON object.")
    return body


def named_blocks(req: Request) -> list[str]:
    """Every block a purchase request names, wherever it names it, however malformed the rest:
    what /_sandbox/purchase-requests counts."""
    names = [req.args.get(c.PURCHASE_SID_FIELD) or ""]
    try:
        body = json.loads(req.get_data(cache=True) or b"null")
    except (ValueError, RecursionError):
        body = None
    if isinstance(body, dict) and isinstance(body.get(c.PURCHASE_SID_FIELD), str):
        names.append(body[c.PURCHASE_SID_FIELD])
    return list(dict.fromkeys(n for n in names if n))


class Changes:
    """Handlers for purchase and configure, sharing the store, commits and faults."""

    def __init__(self, store: Store, commits: CommitScheduler, faults: FaultInjector) -> None:
        self.store = store
        self.commits = commits
        self.faults = faults

    def _existing(self, account_sid: str | None, property_sid: str | None) -> str | None:
        """Owner of the named property, after both Sids are known to exist (400 otherwise)."""
        if account_sid is not None and self.store.account(account_sid) is None:
            raise ApiError(c.BAD_REQUEST, c.ACCOUNT_NOT_FOUND,
                           f"Account '{account_sid}' does not exist.")
        if property_sid is None:
            return None
        prop = self.store.property(property_sid)
        if prop is None:
            raise ApiError(c.BAD_REQUEST, c.PROPERTY_NOT_FOUND,
                           f"Property '{property_sid}' does not exist.")
        if account_sid is not None and prop.account_sid != account_sid:
            raise conflict(ACCOUNT_SID, f"Property '{property_sid}' does not belong to account"
                           f" '{account_sid}'.")
        return prop.account_sid

    def _block(self, sid: str) -> Block:
        block = self.store.block(sid)
        if block is None:
            raise ApiError(c.BAD_REQUEST, c.NUMBER_BLOCK_NOT_FOUND,
                           f"Number block '{sid}' does not exist.")
        return block

    def _sold(self) -> Outcome:
        """After a sale: maybe a dropped connection, else maybe a gateway's 503."""
        if self.faults.should_drop():
            return Outcome(drop=True)
        return Outcome(gateway_error=self.faults.should_fail_after_commit())

    def purchase(self, req: Request, caller: Account, scope: str, path_sid: str,
                 arrived: float) -> Outcome:
        """Sell a block; a slow commit (Knobs.commit_after_s) reserves it until it lands."""
        knobs = self.faults.knobs
        body = json_object(req)
        sid, clean = validate_purchase(body, req.args, caller.prefixes, knobs.purchase_sid_from)
        key = PROPERTY_SID if scope == "property" else ACCOUNT_SID
        if key in clean and clean[key] != path_sid:
            raise conflict(key, f"{key} in the body ('{clean[key]}') differs from the one in"
                           f" the path ('{path_sid}').")
        account_sid = path_sid if scope == "account" else clean.get(ACCOUNT_SID)
        property_sid = path_sid if scope == "property" else clean.get(PROPERTY_SID)
        with self.store.lock:
            prop_owner = self._existing(account_sid, property_sid)
            block = self._block(sid)
            if (account_sid or prop_owner) != caller.sid:
                raise no_permission(f"property '{property_sid}'" if scope == "property"
                                    else f"account '{account_sid}'")
            if not knobs.rebuy:
                self._available(block, caller, property_sid)
            data = {k: v for k, v in clean.items() if k not in c.SCOPE_PARAMS}

            def commit() -> None:
                self.store.record_purchase(sid, caller.sid, property_sid, data)

            self.commits.schedule(sid, arrived + max(knobs.commit_after_s, 0.0), commit)
        return self._sold()

    def _available(self, block: Block, caller: Account, property_sid: str | None) -> None:
        """Refuse a block that is owned or reserved by a pending sale: the documented 400 when
        the caller owns it for another property, else 403 (it would create an invalid state)."""
        if (block.account_sid == caller.sid and None not in (property_sid, block.property_sid)
                and block.property_sid != property_sid):
            raise ApiError(c.BAD_REQUEST, c.NUMBER_BELONGS_TO_DIFFERENT_PROPERTY,
                           f"Number block '{block.sid}' already belongs to property"
                           f" '{block.property_sid}'.")
        if block.account_sid is not None or self.commits.reserved(block.sid):
            raise ApiError(c.FORBIDDEN_STATUS, c.NUMBER_BLOCK_NOT_AVAILABLE,
                           f"Number block '{block.sid}' is not available for purchase.")

    def configure(self, req: Request, caller: Account, sid: str) -> Outcome:
        body = json_object(req)
        clean = validate_configure(body, caller.prefixes)
        account_sid, property_sid = clean.get(ACCOUNT_SID), clean.get(PROPERTY_SID)
        with self.store.lock:
            block = self._block(sid)
            self._existing(account_sid, property_sid)
            if block.account_sid != caller.sid:  # unsold, or another customer's
                raise not_owned(sid)
            self._named_scope(caller, block, account_sid, property_sid)
            data = dict(block.data)
            if "RoutingMethod" in clean:  # routing is replaced as a whole
                data.update({k: clean.get(k) for k in ROUTING_KEYS})
            data.update({k: clean[k] for k in TAG_KEYS if k in clean})
            self.store.update_block(sid, data)
        return Outcome(drop=self.faults.should_drop())  # a 503 after commit is a purchase's

    def _named_scope(self, caller: Account, block: Block, account_sid: str | None,
                     property_sid: str | None) -> None:
        """The AccountSid/PropertySid a configure names must be the caller's and the block's."""
        if account_sid is not None and account_sid != caller.sid:
            raise no_permission(f"account '{account_sid}'")
        if property_sid is None or property_sid == block.property_sid:
            return
        prop = self.store.property(property_sid)
        if prop is None or prop.account_sid != caller.sid:
            raise no_permission(f"property '{property_sid}'")
        where = f"property '{block.property_sid}'" if block.property_sid else "no property"
        raise ApiError(c.BAD_REQUEST, c.NUMBER_BELONGS_TO_DIFFERENT_PROPERTY,
                       f"Number block '{block.sid}' belongs to {where}, not '{property_sid}'.")
