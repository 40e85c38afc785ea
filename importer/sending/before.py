"""What a configure row's block was set to before the row is sent: what rollback puts back.

From the complete listing the run takes anyway (contract "Listing item settings": an item
carries the configure settings under their names; a setting it leaves out is not known from
it, one it gives as null or empty was empty), else from the last configure this machine (or,
with a shared store, the team) saw applied to the block (the ledger's `configured`), else the
earlier value is *unknown*, and that is recorded too: an unknown value is never sent back.
"""

from __future__ import annotations

from importer.sending.client import item_text
from importer.sending.journal import Before
from importer.sending.tasks import Task
from importer.spec import contract


def settings_before(tasks: list[Task], items: dict[str, dict], last: dict[str, dict]
                    ) -> list[Before]:
    """Each configure task's block as `items` (block key -> listing item) and `last` (block
    key -> the body of its last configure applied) say it is, in the configure settings."""
    found = []
    for task in tasks:
        item, sent = items.get(task.key), last.get(task.key, {})
        settings: dict[str, str | None] = {}
        unknown = set()
        for name in contract.ITEM_SETTINGS:
            if item is not None and name in item:
                settings[name] = item_text(item[name])
            elif name in sent:
                settings[name] = item_text(sent[name])
            else:
                unknown.add(name)
        found.append(Before(task.fp, task.block, settings, frozenset(unknown)))
    return found
