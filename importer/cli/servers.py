"""`sandbox` and `serve`: the local servers (the API emulator and the web app)."""

from __future__ import annotations

import json
import signal
import sys
import time
from pathlib import Path
from typing import Any

import click

from importer import config as config_module
from importer.cli.app import cli, fail, guard, sending_options, state_url_option
from importer.errors import ExitCode
from importer.sending.locks import sandbox_state
from importer.spec import contract


@cli.command("sandbox")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (keep it on loopback: the demo credentials are public).")
@click.option("--port", type=int, default=8080, show_default=True, help="0 picks a free port.")
@click.option("--db", type=click.Path(path_type=Path), help="SQLite file to keep the state in "
              "(default: in memory, forgotten on exit).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON line with base_url and "
              "the demo credentials.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed of the random faults, so a rehearsal can be repeated exactly.")
@click.option("--latency-ms", type=click.FloatRange(min=0), default=0.0, show_default=True,
              help="Delay every answer by this many milliseconds.")
@click.option("--fail-rate", type=click.FloatRange(0, 1), default=0.0,
              help="Share of requests answered 500 before anything changes.")
@click.option("--drop-rate", type=click.FloatRange(0, 1), default=0.0,
              help="Share of changes committed and then answered by a dropped connection.")
@click.option("--throttle-rps", type=click.FloatRange(min=0.1), default=None,
              help="Above this many requests a second, answer 429 with Retry-After.")
@click.option("--answer-after", "answer_after_s", type=click.FloatRange(min=0), default=0.0,
              help="Answer purchases this many seconds after they arrive (beyond --timeout, "
              "the answer is lost).")
@click.option("--commit-after", "commit_after_s", type=click.FloatRange(min=0), default=0.0,
              help="Commit purchases this many seconds after they arrive (a slow commit).")
@click.option("--listing-lag", "listing_lag_s", type=click.FloatRange(min=0), default=0.0,
              help="Show a bought block in listings only this many seconds after its commit.")
@click.option("--fail-after-commit-rate", type=click.FloatRange(0, 1), default=0.0,
              help="Share of purchases committed and then answered 503 by a 'gateway'.")
@click.option("--junk-success-rate", type=click.FloatRange(0, 1), default=0.0,
              help="Share of changes not made and answered 200 with an HTML page or nothing.")
@click.option("--rebuy", is_flag=True, help="Sell an owned block again (every sale counted): "
              "proves the importer never sends a second purchase.")
@click.option("--page-size-cap", type=click.IntRange(min=1), default=None,
              help="Serve at most this many blocks a listing page, whatever is asked.")
@click.option("--no-total-count", is_flag=True, help="Listings carry no TotalCount.")
@click.option("--no-listing-envelope", is_flag=True,
              help="Listing pages carry no ResponseStatus (the pages document none).")
@click.option("--no-listing-settings", is_flag=True,
              help="Listing items carry no configure settings (routing, recording, tags).")
@click.option("--listing-fault", type=click.Choice(["html", "no_list", "bad_item", "shift"]),
              help="Damage every listing this way.")
@click.option("--no-account-purchase-path", is_flag=True,
              help="POST /v2/Accounts/{sid}/NumberBlocks does not exist (404).")
@click.option("--reset", is_flag=True, help="Forget what rehearsals did: the sandbox that "
              "run, export and serve use with --sandbox starts again from its demo blocks.")
@click.option("--purchase-sid-from", type=click.Choice(["body", "query", "either"]),
              default="body", show_default=True,
              help="Where a purchase takes its NumberBlockSid from.")
def sandbox_cmd(host: str, port: int, db: Path | None, as_json: bool,
                no_total_count: bool, no_listing_envelope: bool, no_listing_settings: bool,
                no_account_purchase_path: bool, reset: bool, **faults: Any) -> int:
    """Serve the local emulation of the Number Blocks API until Ctrl-C (or --reset the one
    rehearsals use)."""
    from importer.sandbox import Knobs, SandboxServer

    if reset:
        return _reset(as_json)

    knobs = Knobs(total_count=not no_total_count, listing_envelope=not no_listing_envelope,
                  listing_settings=not no_listing_settings,
                  account_purchase_path=not no_account_purchase_path, **faults)
    try:
        server = SandboxServer(host=host, port=port, db_path=str(db) if db else None,
                               knobs=knobs).start()
    except OSError as exc:
        return fail(f"cannot serve on {host}:{port} ({exc.strerror or exc})",
                     ExitCode.BAD_INPUT, as_json)
    if as_json:
        click.echo(json.dumps({"base_url": server.base_url, "account_sid": server.account_sid,
                               "auth_token": server.auth_token}), nl=True)
    else:
        click.echo(f"Sandbox API at {server.base_url}\n"
                   f"  IMPORTER_BASE_URL={server.base_url}\n"
                   f"  IMPORTER_ACCOUNT_SID={server.account_sid}\n"
                   f"  IMPORTER_AUTH_TOKEN={server.auth_token}\nCtrl-C to stop.")
    sys.stdout.flush()
    try:
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return ExitCode.OK


def _reset(as_json: bool) -> int:
    """Delete the rehearsals' sandbox state (and SQLite's files beside it); the next
    `--sandbox` starts from the demo blocks, under a new identity (no journal vouches for it)."""
    state = sandbox_state()
    try:
        for path in (state, *(state.with_name(state.name + s) for s in ("-wal", "-shm"))):
            path.unlink(missing_ok=True)
    except OSError as exc:
        return fail(f"{state}: the sandbox could not be reset ({exc.strerror or exc})",
                    ExitCode.BAD_INPUT, as_json)
    if as_json:
        click.echo(json.dumps({"reset": str(state), "exit_code": 0}))
    else:
        click.echo(f"sandbox: reset ({state}); the next --sandbox run, export or serve starts "
                   "from the demo blocks")
    return ExitCode.OK


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Loopback address to serve on (127.0.0.1, ::1 or localhost only).")
@click.option("--port", type=int, default=8765, show_default=True, help="0 picks a free port.")
@click.option("--no-browser", is_flag=True, help="Only print the address; do not open a browser.")
@click.option("--sandbox", is_flag=True,
              help="Send runs to the built-in sandbox API (demo credentials).")
@click.option("--sandbox-latency-ms", type=click.FloatRange(min=0), default=0.0,
              help="With --sandbox: delay every answer, to rehearse how a long run looks.")
@click.option("--base-url", help=f"API base URL (default: $IMPORTER_BASE_URL or "
              f"{contract.BASE_URL}); credentials come from the environment or the config "
              "file as for run, or are typed into the page.")
@click.option("--account-sid", help="AccountSid to log in with (default: $IMPORTER_ACCOUNT_SID).")
@click.option("--allowed-prefixes", help="Comma-separated answering-point prefixes the "
              "account may use, e.g. 02,03,04 (default: any).")
@click.option("--config", "config_path", type=click.Path(path_type=Path),
              help="Config file (default: $IMPORTER_CONFIG or the system's config folder).")
@click.option("--workspace", type=click.Path(path_type=Path),
              help="Folder for uploads, journals and results (default: the user's state "
              "folder). Reopening a file there carries on where it stopped.")
@sending_options
@state_url_option()
@click.option("--debug", is_flag=True, help="Show tracebacks.")
def serve_cmd(host: str, port: int, no_browser: bool, sandbox: bool,
              sandbox_latency_ms: float, base_url: str | None,
              account_sid: str | None, allowed_prefixes: str | None, config_path: Path | None,
              workspace: Path | None, timeout: float, settle_window: float | None,
              retries: int, state_url: str | None, debug: bool) -> int:
    """Open the importer in your browser: upload, fix, run and download, all in one page."""
    from importer.pipeline import Options
    from importer.sandbox import Knobs
    from importer.sending.client import ApiClient
    from importer.sending.locks import state_dir
    from importer.web import Settings, serve
    from importer.web.runs import Target

    def action() -> int:
        config = config_module.load_config(config_path)
        options = Options(allowed_prefixes=config_module.allowed_prefixes(
            config, allowed_prefixes), settle_window=config_module.settle_window(
            settle_window, timeout), state_url=config_module.state_url(config, state_url))
        if options.state_url:  # unreachable or refused: said now, not at the first run
            from importer.sending.state import opened

            with opened(options.state_url):
                pass
        target = None
        if not sandbox and (found := config_module.credentials(config, base_url, account_sid)):
            ApiClient(found).close()  # the address is checked now, not at the first run
            target = Target(found, config_module.scope_of(found), False, timeout, retries)
        # SIGTERM (a service manager, `kill`) stops it as Ctrl-C does: runs finish their row.
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        url, sid = config_module.address_and_sid(config, base_url, account_sid)
        settings = Settings(workspace or state_dir() / "web", target, options, timeout,
                            retries, offered={"base_url": url, "account_sid": sid})
        serve(settings, host=host, port=port, open_browser=not no_browser,
              sandbox=Knobs(latency_ms=sandbox_latency_ms) if sandbox else None,
              announce=lambda url: click.echo(f"importer: open {url} (Ctrl-C to stop)"))
        return ExitCode.OK

    return guard(debug, False, action)
