"""The API contract: every fact about the Fone Dynamics API that the tool or the sandbox relies on.

Each constant here is either *documented* (the API's public pages say so; the page is named) or
*inferred* (we decided; the reason is given). `TERMS` lists them all and is rendered into
`docs/api-contract.md` (`python -m importer.spec.docs`); the client, the operation specs and the
sandbox read paths, parameter names, codes and defaults from this module only, so a fact learnt
later changes one line. Nothing here imports the rest of the package: the sandbox may use it.

Rule: no safety or stop decision of the client rests on an inferred error code. Inferred codes
exist only so the sandbox can answer clearly where no documented code fits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

DOCS = "https://www.fonedynamics.com/docs/rest-api"
ERRORS_PAGE = "Error Codes"
PURCHASE_PAGE = "Purchase Number Block"
CONFIGURE_PAGE = "Configure Number Block"
LIST_PAGE = "Get Number Blocks"
OTHER_LISTS = "Get Projects, Get Numbers (other list endpoints)"
SDKS = "the provider's own SDKs"

# --- transport -------------------------------------------------------------------------------
BASE_URL = "https://api.fonedynamics.com"

# --- paths (templates take the Sid percent-encoded) -----------------------------------------
PURCHASE_PATHS: dict[str, str] = {
    "PropertySid": "/v2/Properties/{PropertySid}/NumberBlocks",
    "AccountSid": "/v2/Accounts/{AccountSid}/NumberBlocks",
}
CONFIGURE_PATH = "/v2/numberblocks/{NumberBlockSid}"
LIST_PATHS: dict[str, str] = {
    "PropertySid": "/v2/Properties/{PropertySid}/numberblocks",
    "AccountSid": "/v2/Accounts/{AccountSid}/numberblocks",
}
SEARCH_PATH = "/v2/numberblocks/{Text}"
# Where a purchase's NumberBlockSid goes: the page lists it as a URI parameter but the path has
# no slot for it, so it is sent both as a query parameter and in the JSON body.
PURCHASE_SID_FIELD = "NumberBlockSid"

# --- listings -------------------------------------------------------------------------------
# Seconds after a purchase within which a complete listing is believed to show it (inferred):
# a settle window shorter than this, or than the request's own timeout, could call a purchase
# that lists late "not bought" and buy the block again, so none is accepted.
LISTING_TRUSTED_AFTER = 10.0


def settle_floor(timeout: float) -> float:
    """The shortest settle window a run may use: a listing's lag, and never below the timeout
    (a purchase may commit as late as its answer was due)."""
    return max(LISTING_TRUSTED_AFTER, timeout)


PAGE_INDEX, PAGE_SIZE = "PageIndex", "PageSize"
INCLUDE_TOTAL, SORT_BY, SORT_DIR = "IncludeTotalCount", "SortBy", "SortDir"
LIST_FILTERS = ("Active", "Sms", "Voice", "IncludeAssociations")
LIST_DEFAULTS: dict[str, object] = {PAGE_INDEX: 0, PAGE_SIZE: 10, INCLUDE_TOTAL: True,
                                    SORT_BY: "Id", SORT_DIR: "asc"}
SORT_DIRS = ("asc", "desc")
ITEM_ID, ITEM_SID = "Id", "NumberBlockSid"
ITEM_PROPERTY = "PropertySid"  # not among the documented item fields: names an owner, no more
ITEM_FIELDS = (ITEM_ID, ITEM_SID, "NumberPattern", "Name", "FriendlyName", "SipTrunkId",
               "SipTrunkName")
SEARCH_FIELDS = ("Number", "Name", "FriendlyName", "Source", "Medium", "Campaign", "Content")
# Documented item fields the export shows beside its rows, read-only.
ITEM_REFERENCE = ("NumberPattern", "Name", "FriendlyName")
SORTS = (ITEM_ID, ITEM_SID, *ITEM_REFERENCE)  # what an export can be ordered by
# Inferred ("Listing item settings"): the configure settings an item carries, by their
# configure names. The export fills its cells with them; rollback records them before a run.
ITEM_SETTINGS = ("RoutingMethod", "EndpointNumber", "Flow", "Application", "Recording",
                 "Source", "Medium", "Campaign", "Content")
# The search text: the {Text} segment of SEARCH_PATH, and an optional query parameter of the
# listings ("Free-text search within Number Blocks").
SEARCH_TEXT = "Text"
# At least one of these on every operation; the search has no path slot, so they go in its query.
SCOPE_PARAMS = ("AccountSid", "PropertySid")
LIST_KEY, TOTAL_KEY = "NumberBlocks", "TotalCount"
# What the client asks for: the documented stable order, and a page size the API can be
# expected to honour (Get Numbers caps at 200); a smaller cap is detected and followed.
LIST_PAGE_SIZE = 200
LIST_QUERY: dict[str, object] = {INCLUDE_TOTAL: "true", SORT_BY: "Id", SORT_DIR: "asc"}

# --- answers --------------------------------------------------------------------------------
ENVELOPE, ERROR_CODE, MESSAGE, ERRORS, FIELD_NAME = (
    "ResponseStatus", "ErrorCode", "Message", "Errors", "FieldName")
OK_MESSAGE = "OK"
UNAUTHORIZED = 401  # "Wrong or missing credentials."
FORBIDDEN_STATUS = 403  # "missing permissions or because it would create an invalid state"
BAD_REQUEST = 400  # "missing or invalid data"
SERVER_ERROR = 500  # "An error occurred on the server while processing the request."
THROTTLE_STATUSES = frozenset({429, 503})

# Documented error codes (the Error Codes page lists more, for other resources).
ACCOUNT_NOT_FOUND = "ACCOUNT_NOT_FOUND"
CONFLICTING_PARAMETERS = "CONFLICTING_PARAMETERS"
FORBIDDEN = "FORBIDDEN"
PARAMETER_REQUIRED = "PARAMETER_REQUIRED"
NUMBER_BELONGS_TO_DIFFERENT_PROPERTY = "NUMBER_BELONGS_TO_DIFFERENT_PROPERTY"
DOCUMENTED_CODES = (ACCOUNT_NOT_FOUND, CONFLICTING_PARAMETERS, FORBIDDEN, PARAMETER_REQUIRED,
                    NUMBER_BELONGS_TO_DIFFERENT_PROPERTY)
# Inferred codes: used by the sandbox only where no documented code fits; never decide anything.
PROPERTY_NOT_FOUND = "PROPERTY_NOT_FOUND"
NUMBER_BLOCK_NOT_FOUND = "NUMBER_BLOCK_NOT_FOUND"
NUMBER_BLOCK_NOT_AVAILABLE = "NUMBER_BLOCK_NOT_AVAILABLE"
INVALID_PARAMETER = "INVALID_PARAMETER"
UNAUTHORIZED_CODE = "UNAUTHORIZED"
TOO_MANY_REQUESTS = "TOO_MANY_REQUESTS"
NOT_FOUND = "NOT_FOUND"
METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
INTERNAL_ERROR = "INTERNAL_ERROR"
INFERRED_CODES = (PROPERTY_NOT_FOUND, NUMBER_BLOCK_NOT_FOUND, NUMBER_BLOCK_NOT_AVAILABLE,
                  INVALID_PARAMETER, UNAUTHORIZED_CODE, TOO_MANY_REQUESTS, NOT_FOUND,
                  METHOD_NOT_ALLOWED, INTERNAL_ERROR)

# --- identifiers ----------------------------------------------------------------------------
SID_PATTERN = r"[A-Za-z0-9_-]{1,64}"


def sid_key(sid: str) -> str:
    """The one form in which block Sids are compared (duplicates, ownership, the journal).

    Case is folded: nothing documents whether Sids are case-sensitive, and taking two spellings
    for one block can only stop a purchase (a row the user then checks), never cause a second.
    """
    return sid.strip().upper()


def sid_keys(sids: pd.Series) -> pd.Series:
    """`sid_key` over a column at once (missing values stay missing)."""
    return sids.str.strip().str.upper()


@dataclass(frozen=True)
class Term:
    """One line of the contract table."""

    topic: str
    text: str
    documented: bool
    source: str  # documented: the page; inferred: why


def _codes(codes: tuple[str, ...]) -> str:
    return ", ".join(f"`{c}`" for c in codes)


TERMS: tuple[Term, ...] = (
    Term("Base URL", f"`{BASE_URL}`, paths under `/v2/`, JSON bodies, PascalCase names", True,
         "every page"),
    Term("Authentication", "HTTP Basic: AccountSid as user, auth token as password", True, SDKS),
    Term("Purchase (property)", f"`POST {PURCHASE_PATHS['PropertySid']}`", True, PURCHASE_PAGE),
    Term("Purchase (account only)", f"`POST {PURCHASE_PATHS['AccountSid']}` for a row with "
         "AccountSid and no PropertySid", False,
         "the page shows only the property path but says either Sid may be given; the list "
         "endpoints have both forms. If the API lacks it the row is refused (REJECTED), never "
         "retried"),
    Term("Purchase NumberBlockSid", f"sent as the `{PURCHASE_SID_FIELD}` query parameter and in "
         "the JSON body", False,
         "the page lists numberBlockSid as a URI parameter, but the path has no slot for it"),
    Term("Configure", f"`POST {CONFIGURE_PATH}`", True, CONFIGURE_PAGE),
    Term("Either Sid", "at least one of AccountSid / PropertySid in every purchase and configure",
         True, f"{PURCHASE_PAGE}, {CONFIGURE_PAGE}"),
    Term("Listings", f"`GET {LIST_PATHS['PropertySid']}`, `GET {LIST_PATHS['AccountSid']}`",
         True, LIST_PAGE),
    Term("Search", f"`GET {SEARCH_PATH}`: Text searched in {', '.join(SEARCH_FIELDS)} (not the "
         "Sid)", True, LIST_PAGE),
    Term("Listing parameters", f"`{PAGE_INDEX}` (default 0), `{PAGE_SIZE}` (default 10), "
         f"`{INCLUDE_TOTAL}` (default true), `{SORT_BY}` (default Id), `{SORT_DIR}` (asc|desc, "
         f"default asc), filters {_codes(LIST_FILTERS)}", True, LIST_PAGE),
    Term("Listing items", f"carry {_codes(ITEM_FIELDS)} (`Id` an integer)", True, LIST_PAGE),
    Term("Listing item settings", f"items also carry {_codes(ITEM_SETTINGS)} under the "
         "configure parameters' names (null or absent when unset); the export reads them, to "
         "fill its cells (an absent or non-text one leaves its cell empty), and rollback reads "
         "them as a block's settings before a configure run: null or empty was empty (never "
         "sent back), absent is not known (never sent; the last configure this machine or the "
         "team's store saw applied stands in)", False,
         f"{LIST_PAGE} ends its item fields with '...', and its search looks in Source, "
         "Medium, Campaign and Content, so items hold at least the tags; an empty cell is "
         "never sent, so a missing field changes nothing on the API"),
    Term("Listing text", f"`{SEARCH_TEXT}` is also an optional listing parameter (free-text "
         "search); the filters `Active`, `Sms`, `Voice` are nullable booleans (absent: all)",
         True, LIST_PAGE),
    Term("Search scope", f"`GET {SEARCH_PATH}` needs {' or '.join(SCOPE_PARAMS)} (at least "
         "one), sent as query parameters", False,
         "the page says at least one must be provided; the search path has no slot for them"),
    Term("Listing body", f"`{{\"{LIST_KEY}\": [...], \"{TOTAL_KEY}\": n}}`", False,
         "the page says \"paging information and an array of Number Blocks\"; the names follow "
         "Get Projects' `Projects` + `TotalCount`"),
    Term("Listing envelope", f"a listing page may carry `{ENVELOPE}` or not; a 2xx page is read "
         f"unless its `{ENVELOPE}` holds an `{ERROR_CODE}` (its shape is then checked)", False,
         "the page documents no envelope for listings, only for the operations; requiring the "
         "OK envelope would make every listing fail if the real API leaves it out"),
    Term("Listing page size", f"the client asks for {LIST_PAGE_SIZE} a page, sorted by Id "
         "ascending with the total count, and follows a smaller cap", False,
         "Get Numbers caps pages at 200; a server may cap lower"),
    Term("Listing completeness", "a listing counts only when every page is JSON with the list, "
         "every item has a NumberBlockSid, Ids ascend, and the pages add up to the total (or, "
         "without a total, end with a short page)", False, "our safety rule: a partial list "
         "would let an owned block be bought again"),
    Term("Account-wide ownership", f"`GET {LIST_PATHS['AccountSid']}` lists every block the "
         "account owns, under any of its properties: before buying, that one complete listing "
         "(with each row's property listing) says what is owned, and a block owned under "
         "another property is not bought; where the account listing is refused (a 4xx), the "
         "properties' own listings are all that is checked, and the run says so", False,
         f"{LIST_PAGE} offers both listings but does not say that the account's includes its "
         "properties' blocks; relying on the API's refusal "
         f"(`{NUMBER_BELONGS_TO_DIFFERENT_PROPERTY}`) would let a rebuying API sell it again"),
    Term("Listing item's property", f"an item may carry `{ITEM_PROPERTY}`; it only names the "
         "owner in a message, never decides anything", False,
         f"{LIST_PAGE} lists the item fields with \"...\"; a property is not among those named"),
    Term("Success", f"200 with `{{\"{ENVELOPE}\": {{\"{MESSAGE}\": \"{OK_MESSAGE}\"}}}}`", True,
         f"{PURCHASE_PAGE}, {CONFIGURE_PAGE}"),
    Term("Anything else on a 2xx", "not a success: a purchase is looked up, a configure is "
         "FAILED (safe to send again)", False, "only the documented envelope proves acceptance"),
    Term("Error envelope", f"`{ENVELOPE}` with `{ERROR_CODE}`, `{MESSAGE}`, `{ERRORS}` (items "
         f"document only `{FIELD_NAME}`)", True, ERRORS_PAGE),
    Term("HTTP statuses", "400 missing or invalid data, 401 wrong or missing credentials, 403 "
         "missing permissions or an invalid state, 500 server error", True, ERRORS_PAGE),
    Term("401", "stops the run: every row would fail the same way", True,
         f"{ERRORS_PAGE} (\"Wrong or missing credentials\")"),
    Term("403 on a listing", "the rows for that property/account are not sent", False,
         "a listing changes nothing, so a 403 there is about access to that target"),
    Term("Documented codes", _codes(DOCUMENTED_CODES), True, ERRORS_PAGE),
    Term("Codes the sandbox adds", _codes(INFERRED_CODES), False,
         "no documented code fits; shown to users as the API's words, never acted on"),
    Term("Invalid values", f"a value of the wrong type or out of range: 400 `{INVALID_PARAMETER}` "
         f"with an `{ERRORS}` item per field; a missing one: `{PARAMETER_REQUIRED}`", False,
         f"{ERRORS_PAGE} documents {PARAMETER_REQUIRED} but no code for an invalid value"),
    Term("Throttling", "429 and 503 are throttling: honour `Retry-After` (seconds or an HTTP "
         "date; anything else falls back to backoff)", False,
         "nothing is documented about rate limits"),
    Term("Idempotency", "a purchase is not idempotent (no idempotency key); configure is", False,
         "no idempotency key is documented; configure sets values"),
    Term("Slow commits", "a purchase may commit after its answer timed out, and a listing may "
         "lag a purchase by seconds: doubtful purchases are looked up over a settle window each "
         "(in the background, one listing answering every pending block of a property/account) "
         "and never resent in the same run; a block this machine saw bought stays owned "
         "whatever a later listing shows", False, "nothing documents either; our safety must not "
         "depend on it"),
    Term("Settle window", f"at least {LISTING_TRUSTED_AFTER:g} s and never below the "
         "timeout (default: twice the timeout); a shorter one is refused, and a doubt stays "
         "UNKNOWN, across runs, until a complete listing taken after its window settles it",
         False, "nothing documents how late a listing may show a purchase; with a window "
         "shorter than that lag, a purchase that went through is bought again"),
    Term("Paths", "matched case-insensitively; Sids go into paths percent-encoded", False,
         "the pages mix `NumberBlocks` and `numberblocks`"),
    Term("Sids", f"`{SID_PATTERN}`; anything else is invalid input, never sent; compared "
         "case-insensitively", False, "keeps a Sid from changing the request path; folding case "
         "can only prevent a second purchase"),
    Term("Phone numbers", "E.164", True, "the API's other pages"),
)
