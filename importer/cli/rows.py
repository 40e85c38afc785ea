"""`validate` and `run`: check a file, send its rows, render the report."""

from __future__ import annotations

import contextlib
import json
import signal
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from tqdm import tqdm

from importer import config as config_module
from importer.cli.app import api_options, cli, common, guard, make_options, sending_options
from importer.errors import ExitCode, UsageError
from importer.report import Outcome, RunReport, Status, exit_code_for
from importer.results import files
from importer.sending.locks import sandbox_state
from importer.text import shorten, shown

if TYPE_CHECKING:  # imported by the commands: `importer --help` needs neither pandas nor HTTP
    from importer.sending.client import Credentials

PROBLEMS_SHOWN = 10


@cli.command("validate")
@common
def validate_cmd(file: Path, out: Path | None, overwrite: bool, operation: str | None,
                 sheets: tuple[str, ...], allowed_prefixes: str | None,
                 config_path: Path | None, as_json: bool, debug: bool) -> int:
    """Check FILE without sending anything; write the results workbook (VALID / INVALID)."""
    def action() -> int:
        from importer.pipeline import prepare, validate

        config = config_module.load_config(config_path)
        options = make_options(config, operation, sheets, allowed_prefixes, out, overwrite)
        url, sid = config_module.address_and_sid(config)  # the API a run would use
        scope = config_module.scope_for(url, sid) if sid else ""
        return _render(validate(prepare(file, options), scope), as_json)

    return guard(debug, as_json, action)


@cli.command("run")
@common
@api_options("Start the built-in sandbox API and send there (demo credentials).")
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
@sending_options
def run_cmd(file: Path, out: Path | None, overwrite: bool, operation: str | None,
            sheets: tuple[str, ...], allowed_prefixes: str | None, config_path: Path | None,
            as_json: bool, debug: bool, sandbox: bool, base_url: str | None,
            account_sid: str | None, journal: Path | None, yes: bool, dry_run: bool,
            force: bool, wait: bool, rate: float | None, max_consecutive_failures: int,
            timeout: float, settle_window: float | None, retries: int) -> int:
    """Check FILE, send its valid rows one at a time, write the results workbook."""
    def action() -> int:
        from importer.pipeline import prepare, run
        from importer.sending.client import ApiClient

        config = config_module.load_config(config_path)
        options = make_options(config, operation, sheets, allowed_prefixes, out, overwrite,
                           journal=journal, force=force, wait=wait,
                           max_consecutive_failures=max_consecutive_failures,
                           settle_window=config_module.settle_window(settle_window, timeout))
        prepared = prepare(file, options)
        with _api(sandbox, config, base_url, account_sid) as (credentials, scope):
            client = ApiClient(credentials, timeout=(min(5.0, timeout), timeout),
                               attempts=retries, rate=rate or config.get("rate"))
            purchases = prepared.valid_rows("purchase")
            asked = purchases and not (sandbox or yes or dry_run)
            if asked and not _confirm(purchases, credentials):
                click.echo("Nothing sent.", err=True)
                return ExitCode.NOT_ALL_OK
            try:
                with _progress() as (progress, notify, confirming), _stop_on_signals() as stop:
                    report = run(prepared, client, scope=scope, progress=progress,
                                 should_stop=stop, notify=notify, dry_run=dry_run,
                                 confirming=confirming, sandbox=sandbox)
            finally:
                client.close()
        return _render(report, as_json)

    return guard(debug, as_json, action)


@contextlib.contextmanager
def _api(sandbox: bool, config: dict[str, Any], base_url: str | None,
         account_sid: str | None) -> Iterator[tuple[Credentials, str]]:
    """Credentials (flags > environment > config file) or an in-process sandbox."""
    if sandbox:
        from importer.sandbox import SandboxServer
        from importer.sending.client import Credentials

        db = sandbox_state()
        files.probe(db.parent, "sandbox's state")
        with SandboxServer(db_path=str(db)) as server:
            yield (Credentials(server.base_url, server.account_sid, server.auth_token),
                   f"sandbox:{server.instance}:{server.account_sid}")
        return
    found = config_module.credentials(config, base_url, account_sid)
    if found is None:
        raise config_module.no_credentials(config, account_sid)
    yield found, config_module.scope_of(found)


def _confirm(purchases: int, credentials: Credentials) -> bool:
    question = config_module.spend_question(purchases, credentials)
    if not sys.stdin.isatty():
        raise UsageError(f"{question} Refusing without a terminal to confirm; pass --yes to go "
                         "ahead, or --dry-run to check first.")
    return click.confirm(f"{question} Continue?", default=False, err=True)


@contextlib.contextmanager
def _progress() -> Iterator[tuple[Callable[[int, int, Outcome], None], Callable[[str], None],
                                  Callable[[int], None]]]:
    """A tqdm bar on stderr (when it is a terminal) with the rows fine (OK, done before, or
    VALID in a dry run) and those that need the person, how many purchases are being
    confirmed, and notices printed above it; the postfix is refreshed sparingly: it is
    costly."""
    bar = tqdm(total=0, unit="row", file=sys.stderr, mininterval=0.25, disable=None,
               dynamic_ncols=True)
    counts: Counter[bool] = Counter()
    pending = [0]

    def postfix() -> None:
        shown_counts = {"fine": counts[True], "need you": counts[False]}
        if pending[0]:
            shown_counts["being confirmed"] = pending[0]
        bar.set_postfix(shown_counts, refresh=False)

    def update(done: int, total: int, outcome: Outcome) -> None:
        if bar.total != total:
            bar.total = total
        counts[outcome.settled or outcome.status is Status.VALID] += 1
        bar.update(1)
        if done % 10 == 0 or done == total:
            postfix()

    def confirming(count: int) -> None:
        pending[0] = count
        postfix()
        bar.refresh()

    def notify(text: str) -> None:
        tqdm.write(f"importer: {shown(text)}", file=sys.stderr)

    try:
        yield update, notify, confirming
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
