"""Get Number Blocks: the two listings and the search, with their documented parameters.

Every name and default is the contract's (``importer.spec.contract``): PageIndex 0, PageSize 10,
IncludeTotalCount true, SortBy Id, SortDir asc, filters Active/Sms/Voice/IncludeAssociations,
Text. The listing faults (Knobs.page_size_cap, total_count, listing_fault, listing_lag_s) are
applied here, after the documented behaviour, so each can be switched on alone.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from flask import Response, jsonify

from importer.spec import contract as c

from .errors import ApiError, conflict, field_error, item, no_permission
from .faults import Knobs
from .rules import ACCOUNT_SID, PROPERTY_SID, SETTING_KEYS, Issues
from .store import SORT_COLUMNS, Block, Listing, Store

_WHOLE = re.compile(r"[+-]?\d{1,12}")
_BOOLEANS = {"true": True, "false": False}
HTML_PAGE = ("<!DOCTYPE html>\n<html><head><title>Fone Dynamics</title></head>"
             "<body><h1>Welcome</h1><p>Please sign in to continue.</p></body></html>\n")


def block_view(block: Block) -> dict[str, Any]:
    """A block as listings and /_sandbox/blocks show it: documented item fields first, then
    its owner and settings, null when unset."""
    facts = block.facts
    view: dict[str, Any] = dict(zip(c.ITEM_FIELDS, (
        facts.id, block.sid, facts.pattern, facts.name, facts.friendly, None, None), strict=True))
    view.update({ACCOUNT_SID: block.account_sid, PROPERTY_SID: block.property_sid})
    view.update({key: block.data.get(key) for key in SETTING_KEYS})
    return view


@dataclass(frozen=True)
class Page:
    """The documented query of a listing: paging, sort, filters, text."""

    index: int
    size: int
    include_total: bool
    listing: Listing


def _whole(args: Mapping[str, str], name: str, low: int, issues: Issues) -> int:
    default = int(str(c.LIST_DEFAULTS[name]))
    raw = args.get(name)
    if raw is None:
        return default
    if not _WHOLE.fullmatch(raw):
        issues.invalid(name, f"{name} must be a whole number.")
        return default
    if int(raw) < low:
        issues.invalid(name, f"{name} must be at least {low}.")
        return default
    return int(raw)


def _boolean(args: Mapping[str, str], name: str, issues: Issues) -> bool | None:
    raw = args.get(name)
    if raw is None:
        return None
    value = _BOOLEANS.get(raw.strip().lower())
    if value is None:
        issues.invalid(name, f"{name} must be true or false.")
    return value


def parse_page(args: Mapping[str, str]) -> Page:
    """The query string as a Page, or raises 400 INVALID_PARAMETER naming each bad one."""
    issues = Issues()
    index = _whole(args, c.PAGE_INDEX, 0, issues)
    size = _whole(args, c.PAGE_SIZE, 1, issues)  # no maximum is documented, so none is enforced
    include = _boolean(args, c.INCLUDE_TOTAL, issues)
    sort_by = args.get(c.SORT_BY, str(c.LIST_DEFAULTS[c.SORT_BY]))
    column = next((f for f in SORT_COLUMNS if f.lower() == sort_by.strip().lower()), None)
    if column is None:
        issues.invalid(c.SORT_BY, f"{c.SORT_BY} must be one of: {', '.join(SORT_COLUMNS)}.")
    sort_dir = args.get(c.SORT_DIR, str(c.LIST_DEFAULTS[c.SORT_DIR])).strip().lower()
    if sort_dir not in c.SORT_DIRS:
        issues.invalid(c.SORT_DIR, f"{c.SORT_DIR} must be one of: {', '.join(c.SORT_DIRS)}.")
    # Active, Sms, Voice: true, false or absent (all). IncludeAssociations is checked, and
    # changes nothing: the sandbox has no related entities to include.
    active, sms, voice, _associations = (_boolean(args, name, issues) for name in c.LIST_FILTERS)
    text = args.get(c.SEARCH_TEXT)
    error = issues.error()
    if error is not None:
        raise error
    listing = Listing(
        texts=(text,) if text else (),
        active=active, sms=sms, voice=voice,
        sort_by=column or str(c.LIST_DEFAULTS[c.SORT_BY]), descending=sort_dir == "desc")
    default_total = bool(c.LIST_DEFAULTS[c.INCLUDE_TOTAL])
    return Page(index, size, default_total if include is None else include, listing)


class Listings:
    """Handlers for the listings and the search, sharing the store and the knobs."""

    def __init__(self, store: Store, knobs: Knobs) -> None:
        self.store = store
        self.knobs = knobs

    def _scope(self, caller_sid: str, account_sid: str | None,
               property_sid: str | None) -> Listing:
        """Existence (400), consistency (400) then permission (403) of the named scope."""
        prop = None
        if account_sid is not None and self.store.account(account_sid) is None:
            raise ApiError(c.BAD_REQUEST, c.ACCOUNT_NOT_FOUND,
                           f"Account '{account_sid}' does not exist.")
        if property_sid is not None:
            prop = self.store.property(property_sid)
            if prop is None:
                raise ApiError(c.BAD_REQUEST, c.PROPERTY_NOT_FOUND,
                               f"Property '{property_sid}' does not exist.")
        if prop is not None and account_sid is not None and prop.account_sid != account_sid:
            raise conflict(ACCOUNT_SID, f"Property '{property_sid}' does not belong to account"
                           f" '{account_sid}'.")
        if account_sid is not None and account_sid != caller_sid:
            raise no_permission(f"account '{account_sid}'")
        if prop is not None and prop.account_sid != caller_sid:
            raise no_permission(f"property '{property_sid}'")
        if prop is not None:
            return Listing(property_sid=property_sid)
        return Listing(account_sid=account_sid)

    def listing(self, caller_sid: str, scope: str, sid: str,
                args: Mapping[str, str]) -> Response:
        """GET /v2/Properties|Accounts/{sid}/numberblocks."""
        page = parse_page(args)
        named = (sid, None) if scope == "account" else (None, sid)
        return self._answer(page, self._scope(caller_sid, *named))

    def search(self, caller_sid: str, text: str, args: Mapping[str, str]) -> Response:
        """GET /v2/numberblocks/{Text}: needs AccountSid or PropertySid in the query."""
        page = parse_page(args)
        account_sid, property_sid = args.get(ACCOUNT_SID) or None, args.get(PROPERTY_SID) or None
        if account_sid is None and property_sid is None:
            message = f"At least one of {ACCOUNT_SID} or {PROPERTY_SID} must be provided."
            raise field_error(c.PARAMETER_REQUIRED, [item(n, message) for n in c.SCOPE_PARAMS])
        scope = self._scope(caller_sid, account_sid, property_sid)
        texts = (text, *page.listing.texts)
        return self._answer(replace(page, listing=replace(page.listing, texts=texts)), scope)

    def _answer(self, page: Page, scope: Listing) -> Response:
        knobs = self.knobs
        listing = replace(page.listing, account_sid=scope.account_sid,
                          property_sid=scope.property_sid,
                          visible_before=time.time() - max(knobs.listing_lag_s, 0.0))
        size = min(page.size, knobs.page_size_cap or page.size)
        offset = page.index * size
        if knobs.listing_fault == "shift" and page.index > 0:
            offset += -1 if page.index % 2 else 1
        with_total = page.include_total and knobs.total_count
        blocks, total = self.store.owned_blocks(listing, offset=offset, limit=size,
                                                with_total=with_total)
        if knobs.listing_fault == "html":
            return Response(HTML_PAGE, 200, mimetype="text/html")
        items = [block_view(b) for b in blocks]
        if not knobs.listing_settings:
            items = [{k: v for k, v in i.items() if k not in c.ITEM_SETTINGS} for i in items]
        if knobs.listing_fault == "bad_item" and items:
            del items[len(items) // 2][c.ITEM_SID]
        body: dict[str, Any] = {}
        if knobs.listing_fault != "no_list":
            body[c.LIST_KEY] = items
        if with_total:
            body[c.TOTAL_KEY] = total
        if knobs.listing_envelope:
            body[c.ENVELOPE] = {c.MESSAGE: c.OK_MESSAGE}
        return jsonify(body)
