"""Constants and deterministic seed data for the sandbox.

Plain data only (no Flask, no SQLite) so tests, samples and the CLI can import the demo
credentials and Sids without starting anything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# --- credentials -----------------------------------------------------------------------------

DEMO_ACCOUNT_SID = "ACDEMO0001"
DEMO_AUTH_TOKEN = "sandbox-demo-token-0001"
DEMO_PROPERTY_SIDS: tuple[str, ...] = tuple(f"PRDEMO{i:04d}" for i in range(1, 6))

RESTRICTED_ACCOUNT_SID = "ACDEMO0002"
RESTRICTED_AUTH_TOKEN = "sandbox-demo-token-0002"
RESTRICTED_PREFIXES: tuple[str, ...] = ("02", "03", "04")
RESTRICTED_PROPERTY_SIDS: tuple[str, ...] = ("PRDEMO0101", "PRDEMO0102")

OTHER_ACCOUNT_SID = "ACOTHER0001"
OTHER_AUTH_TOKEN = "sandbox-other-token-0001"
OTHER_PROPERTY_SIDS: tuple[str, ...] = ("PROTHER0001",)

READONLY_ACCOUNT_SID = "ACREADONLY01"
READONLY_AUTH_TOKEN = "sandbox-readonly-token-01"

# --- number blocks ---------------------------------------------------------------------------

INVENTORY_FIRST = 100000
INVENTORY_SIZE = 20000

PREOWNED_DEMO_FIRST = 90000
PREOWNED_DEMO_SIZE = 100
PREOWNED_OTHER_FIRST = 80000
PREOWNED_OTHER_SIZE = 10

_SID_RE = re.compile(r"NB(\d{6})")


def block_sid(number: int) -> str:
    """One spelling for every block Sid, so seed, tests and samples agree."""
    return f"NB{number:06d}"


def inventory_sid(i: int) -> str:
    """The i-th purchasable block (0-based), e.g. ``inventory_sid(0) == "NB100000"``."""
    if not 0 <= i < INVENTORY_SIZE:
        raise IndexError(f"inventory index {i} outside 0..{INVENTORY_SIZE - 1}")
    return block_sid(INVENTORY_FIRST + i)


def _number(sid: str) -> int | None:
    match = _SID_RE.fullmatch(sid)
    return int(match.group(1)) if match else None


def is_inventory_sid(sid: str) -> bool:
    """Inventory blocks are implied by their Sid, so the store need not hold 20,000 rows."""
    number = _number(sid)
    return number is not None and INVENTORY_FIRST <= number < INVENTORY_FIRST + INVENTORY_SIZE


@dataclass(frozen=True)
class BlockFacts:
    """What a block is, whoever owns it: fixed for its life, derived from its Sid."""

    id: int
    pattern: str  # E.164 with a trailing wildcard: the block's ten numbers
    national: str  # the pattern as dialled in Australia, for the search's "Number"
    name: str
    friendly: str
    sms: bool
    voice: bool


_AREAS = (("2", "Sydney"), ("3", "Melbourne"), ("7", "Brisbane"), ("8", "Perth"))
_ID_MODULUS, _ID_FACTOR = 1_000_003, 618_034  # prime, ~golden ratio of it: a bijection


def block_id(number: int) -> int:
    """A stable integer Id whose order is *not* the Sids' order, as with real (random) Sids.

    A client that sorted by Sid where it should follow Id would pass against sequential Ids.
    """
    return number * _ID_FACTOR % _ID_MODULUS


def block_facts(sid: str) -> BlockFacts | None:
    """Facts of a known block (inventory or pre-owned), None for any other Sid.

    Every fifth block is a mobile range (SMS and voice); the rest are landlines (voice only).
    """
    number = _number(sid)
    if number is None or not (is_inventory_sid(sid) or sid in _SEEDED):
        return None
    ident = block_id(number)
    if number % 5 == 0:
        digits = f"4{1_200_000 + number:07d}"
        friendly = f"0{digits[:3]} {digits[3:6]} {digits[6:]}X"
        name, sms = f"Mobile {ident:06d}", True
    else:
        area, city = _AREAS[number % len(_AREAS)]
        digits = f"{area}{9_000_000 + number:07d}"
        friendly = f"(0{area}) {digits[1:5]} {digits[5:]}X"
        name, sms = f"{city} {ident:06d}", False
    return BlockFacts(ident, f"+61{digits}X", f"0{digits}X", name, friendly, sms, voice=True)


PREOWNED_DEMO_BLOCKS: tuple[str, ...] = tuple(
    block_sid(PREOWNED_DEMO_FIRST + i) for i in range(PREOWNED_DEMO_SIZE)
)
PREOWNED_OTHER_BLOCKS: tuple[str, ...] = tuple(
    block_sid(PREOWNED_OTHER_FIRST + i) for i in range(PREOWNED_OTHER_SIZE)
)
_SEEDED = frozenset(PREOWNED_DEMO_BLOCKS + PREOWNED_OTHER_BLOCKS)


@dataclass(frozen=True)
class SeedAccount:
    sid: str
    token: str
    prefixes: tuple[str, ...] | None  # None = any answering point allowed
    can_write: bool
    property_sids: tuple[str, ...]


SEED_ACCOUNTS: tuple[SeedAccount, ...] = (
    SeedAccount(DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, None, True, DEMO_PROPERTY_SIDS),
    SeedAccount(
        RESTRICTED_ACCOUNT_SID,
        RESTRICTED_AUTH_TOKEN,
        RESTRICTED_PREFIXES,
        True,
        RESTRICTED_PROPERTY_SIDS,
    ),
    SeedAccount(OTHER_ACCOUNT_SID, OTHER_AUTH_TOKEN, None, True, OTHER_PROPERTY_SIDS),
    SeedAccount(READONLY_ACCOUNT_SID, READONLY_AUTH_TOKEN, None, False, ()),
)


def seed_blocks() -> list[tuple[str, str, str, dict[str, object]]]:
    """Pre-owned blocks as (sid, account, property, stored fields), in a fixed order."""
    rows: list[tuple[str, str, str, dict[str, object]]] = []
    for i, sid in enumerate(PREOWNED_DEMO_BLOCKS):
        data = {"AnswerPoint": f"+612987654{i:02d}", "Active": True}
        rows.append((sid, DEMO_ACCOUNT_SID, DEMO_PROPERTY_SIDS[0], data))
    for i, sid in enumerate(PREOWNED_OTHER_BLOCKS):
        data = {"AnswerPoint": f"+613912345{i:02d}", "Active": True}
        rows.append((sid, OTHER_ACCOUNT_SID, OTHER_PROPERTY_SIDS[0], data))
    return rows
