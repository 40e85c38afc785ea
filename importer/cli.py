"""The command line: parse options, make one library call, render, return an exit code.

The only module that knows click and tqdm. Fatal problems arrive as ImporterError and are shown
as one line (the traceback and the library's own wording only with --debug); with --json,
stdout always carries exactly one JSON object, errors included.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click
from tqdm import tqdm

from importer import __version__, contract, files
from importer import config as config_module
from importer.client import ApiClient, Credentials
from importer.errors import ImporterError, UsageError
from importer.locks import Busy
from importer.operations import OPERATIONS
from importer.pipeline import Options, Prepared, prepare, run, validate
from importer.report import ExitCode, Outcome, RunReport, Status, exit_code_for
from importer.templates import TEMPLATES, write_template
from importer.text import shorten, shown

PROBLEMS_SHOWN = 10


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point: always returns an exit code, never a traceback by accident."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        code = cli.main(args=args, prog_name="importer", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("importer: interrupted", err=True)
        return ExitCode.INTERRUPTED
    except click.ClickException as exc:
        message = exc.format_message()
        if isinstance(exc, click.NoSuchOption) and (odd := [a for a in args if a.startswith(
                "-") and len(a) > 2 and not a.startswith("--") and "." in a]):
            message += (f" (if {odd[0]} is a file name, write ./{odd[0]} or put -- before it)")
        return _fail(message, ExitCode.BAD_INPUT, "--json" in args)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    return int(code or 0)


def _fail(message: str, code: int, as_json: bool) -> int:
    """One line on stderr; with --json also one JSON object on stdout."""
    if as_json:
        click.echo(json.dumps({"error": message, "exit_code": int(code)}))
    click.echo(f"importer: error: {shown(message)}", err=True)
    return int(code)


def _guard(debug: bool, as_json: bool, action: Callable[[], int]) -> int:
    try:
        return action()
    except BrokenPipeError:  # whoever read our output stopped (`| head`): nothing to say
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return ExitCode.OUTPUT_CLOSED
    except Busy as exc:
        failure: BaseException = exc
        message, code, detail = f"{exc}; wait for it to finish, or pass --wait", exc.exit_code, ""
    except ImporterError as exc:
        failure, message, code, detail = exc, str(exc), exc.exit_code, exc.detail
    except KeyboardInterrupt as exc:
        failure, message, code, detail = exc, "interrupted", ExitCode.INTERRUPTED, ""
    except Exception as exc:  # a bug: say so in one line, keep the traceback for --debug
        failure, code, detail = exc, ExitCode.ABORTED, ""
        message = (f"internal error: {type(exc).__name__}: {shorten(shown(exc), 200)} (run "
                   "again with --debug for details)")
    if debug:
        traceback.print_exception(failure)
        if detail:
            click.echo(f"importer: detail: {shown(detail)}", err=True)
    return _fail(message, code, as_json)


class _Group(click.Group):
    """Lists every command with its whole first line (click cuts them at 45 characters)."""

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, (cmd.help or "").split("\n")[0].strip())
                for name, cmd in self.commands.items() if not cmd.hidden]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"],
                                           "max_content_width": 100})
@click.version_option(__version__, prog_name="importer")
def cli() -> None:
    """Check a spreadsheet of number blocks, send it to the Fone Dynamics API, get results."""


def _common(fn: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.argument("file", type=click.Path(path_type=Path)),
        click.option("--out", "-o", type=click.Path(path_type=Path),
                     help="Results workbook (default: the next free <file>.results.xlsx, "
                     "-2, -3 ... beside the input; an existing file is never replaced)."),
        click.option("--overwrite", is_flag=True,
                     help="Let --out replace an existing file (never the input)."),
        click.option("--operation", type=click.Choice(sorted(OPERATIONS)),
                     help="Treat every sheet as this operation (else: sheet name or columns)."),
        click.option("--sheet", "sheets", multiple=True,
                     help="Only this sheet (repeatable); hidden sheets only when named."),
        click.option("--allowed-prefixes", help="Comma-separated answering-point prefixes the "
                     "account may use, e.g. 02,03,04 (default: any)."),
        click.option("--config", "config_path", type=click.Path(path_type=Path),
                     help="Config file (default: $IMPORTER_CONFIG or "
                     f"{config_module.CONFIG_FILES[0]})."),
        click.option("--json", "as_json", is_flag=True,
                     help="Print one JSON object on stdout (also for errors) instead of text."),
        click.option("--debug", is_flag=True, help="Show tracebacks and the libraries' own "
                     "error wording."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _options(config: dict[str, Any], operation: str | None, sheets: tuple[str, ...],
             allowed: str | None, out: Path | None, overwrite: bool, **extra: Any) -> Options:
    return Options(operation=operation, sheets=sheets, out=out, overwrite=overwrite,
                   allowed_prefixes=config_module.allowed_prefixes(config, allowed), **extra)


@cli.command("validate")
@_common
def validate_cmd(file: Path, out: Path | None, overwrite: bool, operation: str | None,
                 sheets: tuple[str, ...], allowed_prefixes: str | None,
                 config_path: Path | None, as_json: bool, debug: bool) -> int:
    """Check FILE without sending anything; write the results workbook (VALID / INVALID)."""
    def action() -> int:
        config = config_module.load_config(config_path)
        options = _options(config, operation, sheets, allowed_prefixes, out, overwrite)
        return _render(validate(prepare(file, options)), as_json)

    return _guard(debug, as_json, action)


def _sending_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """How requests are sent: the same options for `run` and `serve`."""
    options = [
        click.option("--timeout", type=click.FloatRange(min=0.1), default=30.0,
                     show_default=True, help="Seconds to wait for each answer."),
        click.option("--settle-window", type=click.FloatRange(min=0), default=None,
                     help="Seconds to keep looking up a purchase whose answer was lost before "
                     "calling it UNKNOWN (default: twice --timeout)."),
        click.option("--retries", type=click.IntRange(min=0, max=20), default=5,
                     show_default=True,
                     help="Retries of a request that failed transiently (with backoff)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@cli.command("run")
@_common
@click.option("--sandbox", is_flag=True,
              help="Start the built-in sandbox API and send there (demo credentials).")
@click.option("--base-url", help=f"API base URL (default: $IMPORTER_BASE_URL or "
              f"{contract.BASE_URL}).")
@click.option("--account-sid", help="AccountSid to log in with (default: "
              "$IMPORTER_ACCOUNT_SID). The token comes only from $IMPORTER_AUTH_TOKEN or "
              "the config file.")
@click.option("--journal", type=click.Path(path_type=Path),
              help="Journal file (default: <file>.journal.sqlite beside the results).")
@click.option("--yes", "-y", is_flag=True, help="Do not ask before buying number blocks.")
@click.option("--dry-run", is_flag=True, help="Plan only: check, look up owned blocks, send "
              "nothing.")
@click.option("--force", is_flag=True, help="Send rows the journal says were already applied "
              "(blocks already owned are still never bought again).")
@click.option("--wait", is_flag=True, help="If another run is using this rollout (or buying "
              "for this account), wait for it instead of stopping.")
@click.option("--rate", type=click.FloatRange(min=0.1), help="At most this many requests a "
              "second.")
@click.option("--max-consecutive-failures", type=click.IntRange(min=1), default=10,
              show_default=True, help="Stop after this many rows in a row fail or are refused "
              "with 403.")
@_sending_options
def run_cmd(file: Path, out: Path | None, overwrite: bool, operation: str | None,
            sheets: tuple[str, ...], allowed_prefixes: str | None, config_path: Path | None,
            as_json: bool, debug: bool, sandbox: bool, base_url: str | None,
            account_sid: str | None, journal: Path | None, yes: bool, dry_run: bool,
            force: bool, wait: bool, rate: float | None, max_consecutive_failures: int,
            timeout: float, settle_window: float | None, retries: int) -> int:
    """Check FILE, send its valid rows one at a time, write the results workbook."""
    def action() -> int:
        config = config_module.load_config(config_path)
        options = _options(config, operation, sheets, allowed_prefixes, out, overwrite,
                           journal=journal, force=force, wait=wait,
                           max_consecutive_failures=max_consecutive_failures,
                           settle_window=2 * timeout if settle_window is None else settle_window)
        prepared = prepare(file, options)
        with _api(sandbox, prepared, config, base_url, account_sid) as (credentials, scope):
            client = ApiClient(credentials, timeout=(min(5.0, timeout), timeout),
                               attempts=retries, rate=rate or config.get("rate"))
            purchases = prepared.valid_rows("purchase")
            asked = purchases and not (sandbox or yes or dry_run)
            if asked and not _confirm(purchases, credentials):
                click.echo("Nothing sent.", err=True)
                return ExitCode.NOT_ALL_OK
            try:
                with _progress() as (progress, notify), _stop_on_signals() as stop:
                    report = run(prepared, client, scope=scope, progress=progress,
                                 should_stop=stop, notify=notify, dry_run=dry_run)
            finally:
                client.close()
        return _render(report, as_json)

    return _guard(debug, as_json, action)


@contextlib.contextmanager
def _api(sandbox: bool, prepared: Prepared, config: dict[str, Any], base_url: str | None,
         account_sid: str | None) -> Iterator[tuple[Credentials, str]]:
    """Credentials (flags > environment > config file) or an in-process sandbox."""
    if sandbox:
        from importer.sandbox import SandboxServer

        # Beside the journal, never in it (a --journal not named *.journal.sqlite included).
        journal = prepared.journal_path
        db = journal.with_name(journal.name.replace(".journal.sqlite", ".sandbox.sqlite")
                               if journal.name.endswith(".journal.sqlite")
                               else f"{journal.stem}.sandbox.sqlite")
        files.probe(db.parent, "sandbox's state")
        with SandboxServer(db_path=str(db)) as server:
            yield (Credentials(server.base_url, server.account_sid, server.auth_token),
                   f"sandbox:{db.resolve()}:{server.account_sid}")
        return
    found = config_module.credentials(config, base_url, account_sid)
    if found is None:
        raise UsageError("no credentials: set IMPORTER_ACCOUNT_SID and IMPORTER_AUTH_TOKEN (or "
                         "account_sid / auth_token in the config file), or use --sandbox")
    yield found, config_module.scope_of(found)


def _confirm(purchases: int, credentials: Credentials) -> bool:
    question = config_module.spend_question(purchases, credentials)
    if not sys.stdin.isatty():
        raise UsageError(f"{question} Refusing without a terminal to confirm; pass --yes to go "
                         "ahead, or --dry-run to check first.")
    return click.confirm(f"{question} Continue?", default=False, err=True)


@contextlib.contextmanager
def _progress() -> Iterator[tuple[Callable[[int, int, Outcome], None], Callable[[str], None]]]:
    """A tqdm bar on stderr (when it is a terminal) with OK / not-OK counts, and notices printed
    above it; the postfix is refreshed sparingly: it is costly."""
    bar = tqdm(total=0, unit="row", file=sys.stderr, mininterval=0.25, disable=None,
               dynamic_ncols=True)
    counts: Counter[bool] = Counter()

    def update(done: int, total: int, outcome: Outcome) -> None:
        if bar.total != total:
            bar.total = total
        counts[outcome.settled or outcome.status is Status.VALID] += 1
        bar.update(1)
        if done % 10 == 0 or done == total:
            bar.set_postfix({"ok": counts[True], "not ok": counts[False]}, refresh=False)

    def notify(text: str) -> None:
        tqdm.write(f"importer: {shown(text)}", file=sys.stderr)

    try:
        yield update, notify
    finally:
        bar.close()


@contextlib.contextmanager
def _stop_on_signals() -> Iterator[Callable[[], bool]]:
    """Ctrl-C / SIGTERM: finish the row in flight, then stop; a second Ctrl-C quits at once
    (the row in flight then says it may have been sent)."""
    stopping: list[int] = []

    def handler(signum: int, frame: object) -> None:
        if stopping and signum == signal.SIGINT:
            raise KeyboardInterrupt
        stopping.append(signum)
        click.echo("\nimporter: stopping after the current row (Ctrl-C again to quit now)",
                   err=True)

    try:
        previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    except ValueError:  # not the main thread (e.g. embedded): no signal handling
        yield lambda: False
        return
    try:
        yield lambda: bool(stopping)
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def _render(report: RunReport, as_json: bool) -> int:
    code = exit_code_for(report)
    if report.results_failed and not report.results_path:
        _print_sent_rows(report)  # the facts of money spent must survive somewhere
    for note in report.notes:
        click.echo(f"importer: {shown(note)}", err=True)
    if report.aborted:
        click.echo(f"importer: run stopped: {shown(report.aborted)}", err=True)
    if report.interrupted:
        click.echo("importer: interrupted; rows not reached are SKIPPED", err=True)
    if report.results_failed:
        click.echo(f"importer: error: {shown(report.results_failed)}", err=True)
    if as_json:
        click.echo(json.dumps(report.to_dict()))
        return code
    counts = ", ".join(f"{k} {v}" for k, v in report.counts.items() if v)
    rows = len(report.outcomes)
    click.echo(f"{report.mode}: {rows:,} row{'' if rows == 1 else 's'}: {counts or 'none'}")
    problems = report.problems()
    for problem in problems[:PROBLEMS_SHOWN]:
        click.echo(f"  {shorten(shown(problem.line()), 200)}")
    if len(problems) > PROBLEMS_SHOWN:
        where = f"see {shown(report.results_path)} (Errors sheet)" if report.results_path else ""
        click.echo(f"  … and {len(problems) - PROBLEMS_SHOWN} more{': ' + where if where else ''}")
    if report.results_path:
        click.echo(f"results: {shown(report.results_path)}")
    return code


def _print_sent_rows(report: RunReport) -> None:
    sent = (Status.OK, Status.UNKNOWN, Status.REJECTED, Status.FAILED)
    click.echo("importer: what happened to the rows that were sent:", err=True)
    for sheet in report.sheets:
        for row, outcome in zip(sheet.rows, sheet.outcomes, strict=False):
            if outcome.status in sent and outcome.submitted_at:
                click.echo(f"  {shown(sheet.name)} row {row}: {outcome.status.value}: "
                           f"{shorten(shown(outcome.message), 200)}", err=True)


@cli.command("template")
@click.argument("name", type=click.Choice(sorted(TEMPLATES)))
@click.option("--out", "-o", type=click.Path(path_type=Path), required=True,
              help="Where to write the .xlsx template.")
@click.option("--overwrite", is_flag=True, help="Replace the file if it exists.")
def template_cmd(name: str, out: Path, overwrite: bool) -> int:
    """Write a blank template (purchase, configure, or rollout with both sheets)."""
    def action() -> int:
        if out.exists() and not overwrite:
            raise UsageError(f"{shown(out)} already exists and was not replaced; choose another "
                             "name, or allow replacing it (--overwrite)")
        if not out.parent.is_dir():
            raise UsageError(f"{shown(out)}: the folder {shown(out.parent)} does not exist")
        try:
            written = files.write_atomically(out, lambda tmp: write_template(name, tmp),
                                             overwrite=overwrite)
        except OSError as exc:
            raise ImporterError(f"{shown(out)}: cannot write the template "
                                f"({files.why_not_writable(exc)})", str(exc)) from exc
        click.echo(f"template: {shown(written)}")
        return ExitCode.OK

    return _guard(False, False, action)


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
@click.option("--listing-fault", type=click.Choice(["html", "no_list", "bad_item", "shift"]),
              help="Damage every listing this way.")
@click.option("--no-account-purchase-path", is_flag=True,
              help="POST /v2/Accounts/{sid}/NumberBlocks does not exist (404).")
@click.option("--purchase-sid-from", type=click.Choice(["body", "query", "either"]),
              default="body", show_default=True,
              help="Where a purchase takes its NumberBlockSid from.")
def sandbox_cmd(host: str, port: int, db: Path | None, as_json: bool,
                no_total_count: bool, no_listing_envelope: bool,
                no_account_purchase_path: bool, **faults: Any) -> int:
    """Serve the local emulation of the Number Blocks API until Ctrl-C."""
    from importer.sandbox import Knobs, SandboxServer

    knobs = Knobs(total_count=not no_total_count, listing_envelope=not no_listing_envelope,
                  account_purchase_path=not no_account_purchase_path, **faults)
    try:
        server = SandboxServer(host=host, port=port, db_path=str(db) if db else None,
                               knobs=knobs).start()
    except OSError as exc:
        return _fail(f"cannot serve on {host}:{port} ({exc.strerror or exc})",
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
@_sending_options
@click.option("--debug", is_flag=True, help="Show tracebacks.")
def serve_cmd(host: str, port: int, no_browser: bool, sandbox: bool,
              sandbox_latency_ms: float, base_url: str | None,
              account_sid: str | None, allowed_prefixes: str | None, config_path: Path | None,
              workspace: Path | None, timeout: float, settle_window: float | None,
              retries: int, debug: bool) -> int:
    """Open the importer in your browser: upload, fix, run and download, all in one page."""
    from importer.locks import state_dir
    from importer.sandbox import Knobs
    from importer.web import Settings, serve
    from importer.web.runs import Target

    def action() -> int:
        config = config_module.load_config(config_path)
        options = Options(allowed_prefixes=config_module.allowed_prefixes(
            config, allowed_prefixes), settle_window=2 * timeout if settle_window is None
            else settle_window)
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

    return _guard(debug, False, action)
