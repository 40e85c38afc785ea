"""`undo`: put back what a configure run changed, from its results workbook."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from importer import config as config_module
from importer.cli.app import api_options, cli, common, guard, make_options, sending_options
from importer.cli.rows import _api, _progress, _render, _stop_on_signals
from importer.errors import ExitCode, UsageError
from importer.text import shorten, shown

if TYPE_CHECKING:
    from importer.rollback import UndoPlan

SHOWN = 10


@cli.command("undo")
@common
@api_options("Put back on the built-in sandbox (demo credentials).")
@click.option("--yes", "-y", is_flag=True, help="Do not ask before putting the blocks back.")
@click.option("--wait", is_flag=True, help="If another run is using this rollout, wait for it.")
@sending_options
def undo_cmd(file: Path, out: Path | None, overwrite: bool, operation: str | None,
             sheets: tuple[str, ...], allowed_prefixes: str | None, config_path: Path | None,
             as_json: bool, debug: bool, sandbox: bool, base_url: str | None,
             account_sid: str | None, yes: bool, wait: bool, timeout: float,
             settle_window: float | None, retries: int) -> int:
    """Put back what the run of FILE (a results workbook) changed: its undo workbook, run."""
    from importer.pipeline import prepare, run
    from importer.rollback import plan_undo, undo_file
    from importer.sending.client import ApiClient

    def action() -> int:
        config = config_module.load_config(config_path)
        options = make_options(config, "configure", sheets, allowed_prefixes, out, overwrite,
                               wait=wait, settle_window=config_module.settle_window(
                                   settle_window, timeout))
        prepared = prepare(undo_file(file), options)
        with _api(sandbox, config, base_url, account_sid) as (credentials, scope):
            client = ApiClient(credentials, timeout=(min(5.0, timeout), timeout),
                               attempts=retries, rate=config.get("rate"))
            try:
                plan = plan_undo(file, prepared, client)
                _preview(plan)
                if not plan.shifts:
                    click.echo("Nothing to put back.", err=True)
                    return _render(run(plan.prepared, client, scope=scope, dry_run=True,
                                       sandbox=sandbox), as_json)
                question = plan.question(credentials)
                if not (yes or sandbox):
                    if not sys.stdin.isatty():
                        raise UsageError(f"{question} Refusing without a terminal to confirm; "
                                         "pass --yes to go ahead")
                    if not click.confirm(f"{question} Continue?", default=False, err=True):
                        click.echo("Nothing sent.", err=True)
                        return ExitCode.NOT_ALL_OK
                with _progress() as (progress, notify, confirming), _stop_on_signals() as stop:
                    report = run(plan.prepared, client, scope=scope, progress=progress,
                                 should_stop=stop, notify=notify, confirming=confirming,
                                 sandbox=sandbox)
            finally:
                client.close()
        return _render(report, as_json)

    return guard(debug, as_json, action)


def _preview(plan: UndoPlan) -> None:
    """What will change, on stderr: the count, the first settings (now -> before), what is
    left as it is, and the purchases that stay."""
    echo = lambda text: click.echo(text, err=True)  # noqa: E731
    echo(f"undo: {shown(plan.prepared.path.name)} puts back {len(plan.shifts):,} settings of "
         f"{plan.blocks:,} blocks")
    for shift in plan.shifts[:SHOWN]:
        now = shown(shift.now) if shift.now is not None else "(empty)"
        since = f" ({shift.since})" if shift.since else ""
        echo(f"  row {shift.row}, {shown(shift.block)}, {shift.setting}: {now!r} -> "
             f"{shown(shift.before)!r}{since}")
    if len(plan.shifts) > SHOWN:
        echo(f"  … and {len(plan.shifts) - SHOWN:,} more")
    if plan.changed:
        echo(f"  {plan.changed:,} of these were changed by someone since this run; they are put "
             "back all the same")
    for row, block, why in plan.kept[:SHOWN]:
        echo(f"  row {row}, {shown(block)}: {shorten(shown(why), 160)}")
    if len(plan.kept) > SHOWN:
        echo(f"  … and {len(plan.kept) - SHOWN:,} more left as they are")
    if plan.bought:
        echo(f"  the {plan.bought:,} blocks this run bought stay bought: the API documents no "
             "way to release a block; only the configure rows are put back")
    if not plan.listed:
        echo("  (the blocks could not be listed now: 'now' is what the run set)")
