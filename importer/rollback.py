"""Put it back: a configure run undone from its results, through the ordinary pipeline.

`importer undo RESULTS.xlsx` and the page's "Put back what this run changed" both come here:
the results' Summary names the run's undo workbook (results.undo), which is read and checked
as any input; a fresh listing of the account says what each block is set to now, so the
preview shows each setting "now -> before" and names the blocks someone changed since the run;
then `pipeline.run` sends it, with the journal, the locks and exactly-once of any run (a second
undo sends nothing new). Purchases are never undone: the API documents no release.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from importer.errors import InputError
from importer.pipeline import Prepared
from importer.reading import undone
from importer.report import Severity
from importer.results.summary import bought_in, read_summary
from importer.sending.client import ApiClient, Credentials, item_text
from importer.spec import contract
from importer.spec.operations import CONFIGURE
from importer.text import redact_url, shown

SETTINGS = tuple(n for n in contract.ITEM_SETTINGS)


@dataclass(frozen=True)
class Shift:
    """One setting a rollback sends: the block, now (the listing's, else what the run set),
    and the value it goes back to; `since` says when someone changed it after the run."""

    row: int
    block: str
    setting: str
    now: str | None
    before: str
    since: str = ""


@dataclass
class UndoPlan:
    prepared: Prepared  # the undo workbook, loaded and checked
    results: Path  # the results workbook of the run being put back
    shifts: list[Shift] = field(default_factory=list)
    kept: list[tuple[int, str, str]] = field(default_factory=list)  # (row, block, why left)
    bought: int = 0  # blocks the run bought: they stay bought
    listed: bool = True  # the "now" values came from a complete listing

    @property
    def blocks(self) -> int:
        return len({s.block for s in self.shifts})

    @property
    def changed(self) -> int:
        """Settings someone changed after the run (put back all the same)."""
        return sum(bool(s.since) for s in self.shifts)

    def question(self, credentials: Credentials) -> str:
        """The confirmation asked before putting back, in the terminal and the page alike."""
        return (f"This will put back {len(self.shifts):,} settings of {self.blocks:,} blocks "
                f"on {redact_url(credentials.base_url)} as {shown(credentials.account_sid)}.")


def undo_file(results: Path) -> Path:
    """The undo workbook a results workbook's Summary names (InputError if none or gone)."""
    said = read_summary(results) if results.is_file() else None
    if said is None:
        raise InputError(f"{shown(results)}: not a results workbook of the importer (no "
                         "Summary sheet); name the results workbook of the run to put back")
    if not said.get("undo"):
        raise InputError(f"{shown(results)}: this run changed nothing that can be put back (a "
                         "check, a dry run, or a run that configured nothing)")
    path = results.with_name(said["undo"])
    if not path.is_file():
        raise InputError(f"{shown(path)}: the undo workbook of {shown(results.name)} is not "
                         "there any more (moved or deleted); put it back beside the results")
    return path


def plan_undo(results: Path, prepared: Prepared, client: ApiClient) -> UndoPlan:
    """What putting `results`' run back (`prepared`: its undo workbook, loaded) changes,
    block by block; no change is sent."""
    plan = UndoPlan(prepared, results, bought=bought_in(results))
    items: list[dict] = []
    listing = client.owned("AccountSid", client.account_sid, keep=items)
    plan.listed = listing.complete
    now = {contract.sid_key(i[contract.ITEM_SID]): i for i in items
           if listing.complete and isinstance(i.get(contract.ITEM_SID), str)}
    for checked in prepared.checked:
        sheet = checked.sheet
        if sheet.operation is not CONFIGURE:
            continue
        records = undone.records(sheet)
        for issue in checked.issues:
            if issue.severity is Severity.WARNING and issue.row in records:
                block = str(sheet.data.at[issue.row, CONFIGURE.unique])
                plan.kept.append((issue.row, block, issue.message))
        for row, record in records.items():
            if row in checked.invalid:
                continue
            block = str(sheet.data.at[row, CONFIGURE.unique])
            item = now.get(contract.sid_key(block))
            for name in SETTINGS:
                before = sheet.data.at[row, name]
                if not isinstance(before, str):
                    continue
                ran = record.run_set.get(name)
                listed = item is not None and name in item
                current = item_text(item[name]) if listed else ran
                since = (f"changed since this run: {name} is now {shown(current or '(empty)')!r}"
                         if listed and current != ran else "")
                plan.shifts.append(Shift(row, block, name, current, before, since))
    return plan
