"""`export`: the blocks a property or account owns, as a Configure workbook to edit and run."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from importer import config as config_module
from importer.cli.app import api_options, cli, guard
from importer.errors import ExitCode, UsageError
from importer.results import files
from importer.sending.locks import sandbox_state
from importer.spec import contract
from importer.text import shown

if TYPE_CHECKING:  # the export and the HTTP client are imported when the command runs
    from importer.sending.client import Credentials


@cli.command("export")
@click.option("--property", "property_sid", metavar="SID",
              help="Export the blocks this property owns.")
@click.option("--account", "account_scope", metavar="SID",
              help="Export the blocks this account owns (under all its properties).")
@click.option("--out", "-o", type=click.Path(path_type=Path),
              help="Where to write the .xlsx (default: <SID>-blocks.xlsx here, or the next "
              "free -2, -3 ...; an existing file is never replaced).")
@click.option("--overwrite", is_flag=True, help="Let --out replace an existing file.")
@click.option("--active/--inactive", default=None,
              help="Only active (or only inactive) blocks (default: both).")
@click.option("--text", help="Only blocks whose number, name, friendly name or tags contain "
              "this (the API's search).")
@click.option("--sort", type=click.Choice(contract.SORTS), default=contract.ITEM_SID,
              show_default=True, help="Order of the rows.")
@click.option("--desc", is_flag=True, help="Sort descending.")
@api_options("Export from the built-in sandbox API (demo credentials).")
@click.option("--config", "config_path", type=click.Path(path_type=Path),
              help="Config file (default: $IMPORTER_CONFIG or "
              f"{config_module.CONFIG_FILES[0]}).")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=30.0, show_default=True,
              help="Seconds to wait for each listing page.")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON object on stdout (the path and the count, or the error).")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
def export_cmd(property_sid: str | None, account_scope: str | None, out: Path | None,
               overwrite: bool, active: bool | None, text: str | None, sort: str, desc: bool,
               sandbox: bool, base_url: str | None, account_sid: str | None,
               config_path: Path | None, timeout: float, as_json: bool, debug: bool) -> int:
    """The blocks you own as a Configure sheet, to edit and run (only changes are sent)."""
    def action() -> int:
        from importer.export import Request, export_blocks, target_path
        from importer.sending.client import ApiClient

        if (property_sid is None) == (account_scope is None):
            raise UsageError("give one of --property SID or --account SID")
        scope = "PropertySid" if property_sid is not None else "AccountSid"
        request = Request(scope, str(property_sid or account_scope), active, text or None,
                          sort, desc)
        config = config_module.load_config(config_path)
        target = target_path(request, out, overwrite, Path.cwd())
        with _credentials(sandbox, target, config, base_url, account_sid) as credentials:
            client = ApiClient(credentials, timeout=(min(5.0, timeout), timeout))
            try:
                result = export_blocks(client, request, target, overwrite=overwrite)
            finally:
                client.close()
        for note in result.notes:
            click.echo(f"importer: {shown(note)}", err=True)
        if as_json:
            click.echo(json.dumps(result.to_dict()))
        else:
            click.echo(f"export: {result.count:,} block{'' if result.count == 1 else 's'} of "
                       f"{request.what}")
            click.echo(f"exported: {shown(result.path)}")
        return ExitCode.OK

    return guard(debug, as_json, action)


@contextlib.contextmanager
def _credentials(sandbox: bool, target: Path, config: dict[str, Any], base_url: str | None,
                 account_sid: str | None) -> Iterator[Credentials]:
    """As for `run`: flags > environment > config file, or the in-process sandbox."""
    if sandbox:
        from importer.sandbox import SandboxServer
        from importer.sending.client import Credentials

        state = sandbox_state()
        files.probe(state.parent, "sandbox's state")
        with SandboxServer(db_path=str(state)) as server:
            yield Credentials(server.base_url, server.account_sid, server.auth_token)
        return
    found = config_module.credentials(config, base_url, account_sid)
    if found is None:
        raise config_module.no_credentials(config, account_sid)
    yield found
