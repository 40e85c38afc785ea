"""The command line: parse options, make one library call, render, return an exit code.

The only module that knows click and tqdm. Fatal problems arrive as ImporterError and are shown
as one line (a traceback only with --debug).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
import tomllib
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from tqdm import tqdm

from importer import __version__
from importer.client import ApiClient, Credentials
from importer.errors import ImporterError, UsageError
from importer.operations import OPERATIONS
from importer.pipeline import Options, Prepared, prepare, run, validate
from importer.report import ExitCode, Outcome, RunReport, exit_code_for
from importer.templates import TEMPLATES, write_template

DEFAULT_BASE_URL = "https://api.fonedynamics.com"
DEFAULT_CONFIG = Path("~/.config/number-block-importer/config.toml")


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point: always returns an exit code, never a traceback by accident."""
    try:
        code = cli.main(args=argv, prog_name="importer", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("importer: interrupted", err=True)
        return ExitCode.INTERRUPTED
    except click.ClickException as exc:
        exc.show()
        return ExitCode.BAD_INPUT
    except click.exceptions.Exit as exc:
        return exc.exit_code
    return int(code or 0)


def _guard(debug: bool, action: Callable[[], int]) -> int:
    try:
        return action()
    except ImporterError as exc:
        if debug:
            raise
        click.echo(f"importer: error: {exc}", err=True)
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("importer: interrupted", err=True)
        return ExitCode.INTERRUPTED
    except Exception as exc:  # a bug: say so in one line, keep the traceback for --debug
        if debug:
            raise
        click.echo(f"importer: internal error: {type(exc).__name__}: {exc} "
                   "(run again with --debug for details)", err=True)
        return ExitCode.ABORTED


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="importer")
def cli() -> None:
    """Check a spreadsheet of number blocks, send it to the Fone Dynamics API, get results."""


def _common(fn: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.argument("file", type=click.Path(path_type=Path)),
        click.option("--out", "-o", type=click.Path(path_type=Path),
                     help="Results workbook (default: <file>.results.xlsx beside the input)."),
        click.option("--operation", type=click.Choice(sorted(OPERATIONS)),
                     help="Treat every sheet as this operation (else: sheet name or columns)."),
        click.option("--sheet", "sheets", multiple=True,
                     help="Only this sheet (repeatable); hidden sheets only when named."),
        click.option("--allowed-prefixes", help="Comma-separated answering-point prefixes the "
                     "account may use, e.g. 02,03,04 (default: any)."),
        click.option("--config", "config_path", type=click.Path(path_type=Path),
                     help=f"Config file (default: $IMPORTER_CONFIG or {DEFAULT_CONFIG})."),
        click.option("--json", "as_json", is_flag=True,
                     help="Print a JSON summary on stdout instead of text."),
        click.option("--debug", is_flag=True, help="Show tracebacks."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _config(path: Path | None) -> dict[str, Any]:
    path = path or Path(os.environ.get("IMPORTER_CONFIG", DEFAULT_CONFIG)).expanduser()
    if not path.exists():
        if path != DEFAULT_CONFIG.expanduser() and "IMPORTER_CONFIG" not in os.environ:
            raise UsageError(f"{path}: config file not found")
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read the config file ({exc})") from exc


def _options(config: dict[str, Any], operation: str | None, sheets: tuple[str, ...],
             allowed: str | None, out: Path | None, **extra: Any) -> Options:
    prefixes = allowed.split(",") if allowed else config.get("allowed_prefixes", [])
    if isinstance(prefixes, str):
        prefixes = prefixes.split(",")
    return Options(operation=operation, sheets=sheets, out=out,
                   allowed_prefixes=tuple(p.strip() for p in prefixes if p.strip()), **extra)


@cli.command("validate")
@_common
def validate_cmd(file: Path, out: Path | None, operation: str | None, sheets: tuple[str, ...],
                 allowed_prefixes: str | None, config_path: Path | None, as_json: bool,
                 debug: bool) -> int:
    """Check FILE without sending anything; write the results workbook (VALID / INVALID)."""
    def action() -> int:
        options = _options(_config(config_path), operation, sheets, allowed_prefixes, out)
        report = validate(prepare(file, options))
        return _render(report, as_json)

    return _guard(debug, action)


@cli.command("run")
@_common
@click.option("--sandbox", is_flag=True,
              help="Start the built-in sandbox API and send there (demo credentials).")
@click.option("--base-url", help=f"API base URL (default: $IMPORTER_BASE_URL or "
              f"{DEFAULT_BASE_URL}).")
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
@click.option("--rate", type=click.FloatRange(min=0.1), help="At most this many requests a "
              "second.")
@click.option("--max-consecutive-failures", type=click.IntRange(min=1), default=10,
              show_default=True, help="Stop after this many rows in a row fail transiently.")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=30.0, show_default=True,
              help="Seconds to wait for each answer.")
@click.option("--retries", type=click.IntRange(min=0, max=20), default=5, show_default=True,
              help="Retries of a request that failed transiently (with backoff).")
def run_cmd(file: Path, out: Path | None, operation: str | None, sheets: tuple[str, ...],
            allowed_prefixes: str | None, config_path: Path | None, as_json: bool, debug: bool,
            sandbox: bool, base_url: str | None, account_sid: str | None,
            journal: Path | None, yes: bool, dry_run: bool, force: bool, rate: float | None,
            max_consecutive_failures: int, timeout: float, retries: int) -> int:
    """Check FILE, send its valid rows one at a time, write the results workbook."""
    def action() -> int:
        config = _config(config_path)
        options = _options(config, operation, sheets, allowed_prefixes, out, journal=journal,
                           force=force, max_consecutive_failures=max_consecutive_failures)
        prepared = prepare(file, options)
        with _api(sandbox, prepared, config, base_url, account_sid) as (credentials, scope):
            purchases = prepared.valid_rows("purchase")
            asked = purchases and not (sandbox or yes or dry_run)
            if asked and not _confirm(purchases, credentials):
                click.echo("Nothing sent.", err=True)
                return ExitCode.NOT_ALL_OK
            client = ApiClient(credentials, timeout=(min(5.0, timeout), timeout),
                               attempts=retries, rate=rate or config.get("rate"))
            try:
                with _progress() as progress, _stop_on_signals() as stop:
                    report = run(prepared, client, scope=scope, progress=progress,
                                 should_stop=stop, dry_run=dry_run)
            finally:
                client.close()
        return _render(report, as_json)

    return _guard(debug, action)


@contextmanager
def _api(sandbox: bool, prepared: Prepared, config: dict[str, Any], base_url: str | None,
         account_sid: str | None) -> Iterator[tuple[Credentials, str]]:
    """Credentials (flags > environment > config file) or an in-process sandbox."""
    if sandbox:
        from importer.sandbox import SandboxServer

        db = prepared.journal_path.with_name(
            prepared.journal_path.name.replace(".journal.sqlite", ".sandbox.sqlite"))
        with SandboxServer(db_path=str(db)) as server:
            yield (Credentials(server.base_url, server.account_sid, server.auth_token),
                   f"sandbox:{db.resolve()}:{server.account_sid}")
        return
    env = os.environ
    url = base_url or env.get("IMPORTER_BASE_URL") or config.get("base_url") or DEFAULT_BASE_URL
    sid = account_sid or env.get("IMPORTER_ACCOUNT_SID") or config.get("account_sid")
    token = env.get("IMPORTER_AUTH_TOKEN") or config.get("auth_token")
    if not sid or not token:
        raise UsageError("no credentials: set IMPORTER_ACCOUNT_SID and IMPORTER_AUTH_TOKEN (or "
                         "account_sid / auth_token in the config file), or use --sandbox")
    yield Credentials(url, str(sid), str(token)), f"{url.rstrip('/').lower()}:{sid}"


def _confirm(purchases: int, credentials: Credentials) -> bool:
    question = (f"This will BUY up to {purchases} number block{'s' * (purchases != 1)} on "
                f"{credentials.base_url} as {credentials.account_sid}. Continue?")
    if not sys.stdin.isatty():
        raise UsageError(f"{question.removesuffix(' Continue?')} Refusing without a terminal "
                         "to confirm; pass --yes to go ahead, or --dry-run to check first.")
    return click.confirm(question, default=False, err=True)


@contextmanager
def _progress() -> Iterator[Callable[[int, int, Outcome], None]]:
    """A tqdm bar on stderr (when it is a terminal) with OK / not-OK counts; the postfix is
    refreshed sparingly: it is costly."""
    bar = tqdm(total=0, unit="row", file=sys.stderr, mininterval=0.25, disable=None,
               dynamic_ncols=True)
    counts: Counter[bool] = Counter()

    def update(done: int, total: int, outcome: Outcome) -> None:
        if bar.total != total:
            bar.total = total
        counts[outcome.settled or outcome.status.value == "VALID"] += 1
        bar.update(1)
        if done % 10 == 0 or done == total:
            bar.set_postfix({"ok": counts[True], "not ok": counts[False]}, refresh=False)

    try:
        yield update
    finally:
        bar.close()


@contextmanager
def _stop_on_signals() -> Iterator[Callable[[], bool]]:
    """Ctrl-C / SIGTERM: finish the row in flight, then stop; a second Ctrl-C quits at once."""
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
    if as_json:
        click.echo(json.dumps(report.to_dict()))
        return code
    counts = ", ".join(f"{k} {v}" for k, v in report.counts.items() if v)
    click.echo(f"{report.mode}: {len(report.outcomes)} rows: {counts or 'none'}")
    if report.aborted:
        click.echo(f"importer: run aborted: {report.aborted}", err=True)
    if report.interrupted:
        click.echo("importer: interrupted; rows not reached are SKIPPED", err=True)
    click.echo(f"results: {report.results_path}")
    return code


@cli.command("template")
@click.argument("name", type=click.Choice(sorted(TEMPLATES)))
@click.option("--out", "-o", type=click.Path(path_type=Path), required=True,
              help="Where to write the .xlsx template.")
def template_cmd(name: str, out: Path) -> int:
    """Write a blank template (purchase, configure, or rollout with both sheets)."""
    def action() -> int:
        write_template(name, out)
        click.echo(f"template: {out}")
        return ExitCode.OK

    return _guard(False, action)


@cli.command("sandbox")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8080, show_default=True, help="0 picks a free port.")
@click.option("--db", type=click.Path(path_type=Path), help="SQLite file (default: in memory).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON line with base_url and "
              "the demo credentials.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--latency-ms", type=click.FloatRange(min=0), default=0.0)
@click.option("--fail-rate", type=click.FloatRange(0, 1), default=0.0,
              help="Share of requests answered 500 before anything changes.")
@click.option("--drop-rate", type=click.FloatRange(0, 1), default=0.0,
              help="Share of changes committed and then answered by a dropped connection.")
@click.option("--throttle-rps", type=click.FloatRange(min=0.1), default=None,
              help="Above this many requests a second, answer 429 with Retry-After.")
def sandbox_cmd(host: str, port: int, db: Path | None, as_json: bool, seed: int,
                latency_ms: float, fail_rate: float, drop_rate: float,
                throttle_rps: float | None) -> int:
    """Serve the local emulation of the Number Blocks API until Ctrl-C."""
    from importer.sandbox import Knobs, SandboxServer

    knobs = Knobs(latency_ms=latency_ms, fail_rate=fail_rate, drop_rate=drop_rate,
                  throttle_rps=throttle_rps, seed=seed)
    try:
        server = SandboxServer(host=host, port=port, db_path=str(db) if db else None,
                               knobs=knobs).start()
    except OSError as exc:
        click.echo(f"importer: error: cannot serve on {host}:{port} ({exc})", err=True)
        return ExitCode.BAD_INPUT
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
