"""`state migrate`: a laptop's purchase ledger and journals, copied into a team's shared store."""

from __future__ import annotations

import json
from pathlib import Path

import click

from importer.cli.app import cli, guard
from importer.errors import ExitCode


@cli.group("state")
def state_group() -> None:
    """Where the safety state lives (locks, the purchase ledger, the journals)."""


@state_group.command("migrate")
@click.option("--to", "to", required=True, metavar="URL",
              help="The shared store, postgresql://user@host/database.")
@click.argument("places", nargs=-1, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with the counts.")
@click.option("--debug", is_flag=True, help="Show tracebacks and the libraries' own wording.")
def migrate_cmd(to: str, places: tuple[Path, ...], as_json: bool, debug: bool) -> int:
    """Copy this computer's ledger and journals into a shared store (again: adds nothing).

    The journals copied are those in the state folder (the web app's workspace) and in the
    PLACES named: journal files, or folders searched for *.journal.sqlite."""
    from importer.sending.copying import migrate

    def action() -> int:
        copied, label = migrate(to, list(places))
        counts = {"purchases": copied.purchases, "events": copied.events,
                  "journal_rows": copied.rows, "rollouts": len(copied.rollouts),
                  "journals_read": copied.journals, "already_there": copied.already}
        if as_json:
            click.echo(json.dumps({**counts, "exit_code": 0}))
        else:
            click.echo(f"state: copied {copied.purchases:,} purchases and {copied.rows:,} "
                       f"journal rows of {len(copied.rollouts):,} rollouts (from "
                       f"{copied.journals:,} journal files) into {label}; "
                       f"{copied.already:,} were there already")
        return ExitCode.OK

    return guard(debug, as_json, action)
