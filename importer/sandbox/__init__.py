"""Local emulation of the Fone Dynamics Number Blocks REST API v2, for tests, demos and rehearsal.

By default it behaves as the API's public pages document; ``Knobs`` make it depart from them
on purpose (slow or lost answers, late commits, odd listings) so a client can be tested against
every plausible variant. It imports nothing from the ``importer`` package but
``importer.spec.contract`` (the API's facts: paths, parameter names, defaults, codes), and shares no
rules with the client: it must catch the importer's mistakes instead of sharing them.
"""

from .app import create_app
from .faults import Knobs
from .seed import (
    DEMO_ACCOUNT_SID,
    DEMO_AUTH_TOKEN,
    DEMO_PROPERTY_SIDS,
    INVENTORY_FIRST,
    INVENTORY_SIZE,
    OTHER_ACCOUNT_SID,
    OTHER_AUTH_TOKEN,
    OTHER_PROPERTY_SIDS,
    PREOWNED_DEMO_BLOCKS,
    PREOWNED_OTHER_BLOCKS,
    READONLY_ACCOUNT_SID,
    READONLY_AUTH_TOKEN,
    RESTRICTED_ACCOUNT_SID,
    RESTRICTED_AUTH_TOKEN,
    RESTRICTED_PREFIXES,
    RESTRICTED_PROPERTY_SIDS,
    inventory_sid,
)
from .server import SandboxServer
from .store import Store

__all__ = [
    "DEMO_ACCOUNT_SID",
    "DEMO_AUTH_TOKEN",
    "DEMO_PROPERTY_SIDS",
    "INVENTORY_FIRST",
    "INVENTORY_SIZE",
    "OTHER_ACCOUNT_SID",
    "OTHER_AUTH_TOKEN",
    "OTHER_PROPERTY_SIDS",
    "PREOWNED_DEMO_BLOCKS",
    "PREOWNED_OTHER_BLOCKS",
    "READONLY_ACCOUNT_SID",
    "READONLY_AUTH_TOKEN",
    "RESTRICTED_ACCOUNT_SID",
    "RESTRICTED_AUTH_TOKEN",
    "RESTRICTED_PREFIXES",
    "RESTRICTED_PROPERTY_SIDS",
    "Knobs",
    "SandboxServer",
    "Store",
    "create_app",
    "inventory_sid",
]
