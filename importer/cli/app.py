"""The command line: parse options, make one library call, render, return an exit code.

The only module that knows click and tqdm. Fatal problems arrive as ImporterError and are shown
as one line (the traceback and the library's own wording only with --debug); with --json,
stdout always carries exactly one JSON object, errors included.
"""
from __future__ import annotations

import contextlib
import json
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from importer import __version__, excel
from importer import config as config_module
from importer.errors import ExitCode, ImporterError, UsageError
from importer.sending.locks import Busy
from importer.spec import contract
from importer.spec.operations import OPERATIONS
from importer.text import delimiter_named, shorten, shown

if TYPE_CHECKING:  # the pipeline (pandas, pandera) is imported by the commands that use it
    from importer.pipeline import Options


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point: always returns an exit code, never a traceback by accident."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        code = cli.main(args=args, prog_name="importer", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("importer: interrupted", err=True)
        return ExitCode.INTERRUPTED
    except click.exceptions.NoArgsIsHelpError as exc:  # `importer` alone: the help, laid out
        click.echo(exc.format_message(), err=True)
        return ExitCode.BAD_INPUT
    except click.ClickException as exc:
        message = " ".join(exc.format_message().split())  # click lays choices out on lines
        if isinstance(exc, click.NoSuchOption) and (odd := [a for a in args if a.startswith(
                "-") and len(a) > 2 and not a.startswith("--") and "." in a]):
            message += (f" (if {odd[0]} is a file name, write ./{odd[0]} or put -- before it)")
        return fail(message, ExitCode.BAD_INPUT, "--json" in args)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    return int(code or 0)


def fail(message: str, code: int, as_json: bool) -> int:
    """One line on stderr; with --json also one JSON object on stdout."""
    if as_json:
        click.echo(json.dumps({"error": message, "exit_code": int(code)}))
    click.echo(f"importer: error: {shown(message)}", err=True)
    return int(code)


# What a person does on the command line about what the loader could not decide alone.
WAYS_OUT = {"operation": "pass --operation purchase|configure (or, in a workbook, name the "
                         "sheet Purchase or Configure)",
            "sheet": "name the sheet to read with --sheet",
            "fewer": "export some at a time (--text, --active or --inactive)"}


def with_way_out(exc: ImporterError) -> str:
    """The library's fact, and the flag that gets past it."""
    way = WAYS_OUT.get(getattr(exc, "needs", ""))
    return f"{exc}; {way}" if way else str(exc)


def guard(debug: bool, as_json: bool, action: Callable[[], int]) -> int:
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
        failure, message, code, detail = exc, with_way_out(exc), exc.exit_code, exc.detail
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
    return fail(message, code, as_json)


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


def common(fn: Callable[..., Any]) -> Callable[..., Any]:
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
        *_reading_options(),
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


def _reading_options() -> list[Callable[[Callable[..., Any]], Callable[..., Any]]]:
    """What to say when a guess about the file is wrong: kept in the context (not passed to
    each command), and read back by make_options."""
    def keep(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        ctx.meta[f"importer.{param.name}"] = value
        return value

    def delimiter(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
        try:
            return keep(ctx, param, delimiter_named(value) if value else value)
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None

    return [
        click.option("--encoding", expose_value=False, callback=keep,
                     help="A CSV's encoding, e.g. utf-8, cp1252, mac_roman (default: guessed)."),
        click.option("--delimiter", expose_value=False, callback=delimiter,
                     help="A CSV's field separator: , ; | or tab (default: guessed)."),
        click.option("--header-row", expose_value=False, callback=keep,
                     type=click.IntRange(min=1, max=excel.ROWS),
                     help="The header's row number, as Excel shows it (default: the row "
                     "naming the most known columns)."),
        state_url_option(keep),
    ]


def state_url_option(callback: Callable[..., Any] | None = None
                     ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Where locks, the purchase ledger and journals live: the same option for every command
    that reads or writes them."""
    extra: dict[str, Any] = {"expose_value": False, "callback": callback} if callback else {}
    return click.option("--state-url", metavar="URL", **extra,
                        help="A team's shared state store, postgresql://user@host/database "
                        f"(default: ${config_module.STATE_URL_ENV}, the config file's "
                        "state_url, else this computer's state folder).")


def make_options(config: dict[str, Any], operation: str | None, sheets: tuple[str, ...],
             allowed: str | None, out: Path | None, overwrite: bool, **extra: Any) -> Options:
    from importer.pipeline import Options

    meta = click.get_current_context().meta
    state_url = config_module.state_url(config, meta.get("importer.state_url"))
    if state_url and extra.get("journal"):
        raise UsageError("--journal names a journal file on this computer; with a shared "
                         "state store (--state-url) the journals are in the database")
    return Options(operation=operation, sheets=sheets, out=out, overwrite=overwrite,
                   allowed_prefixes=config_module.allowed_prefixes(config, allowed),
                   encoding=meta.get("importer.encoding"),
                   delimiter=meta.get("importer.delimiter"),
                   header_row=meta.get("importer.header_row"), state_url=state_url, **extra)


def sending_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """How requests are sent: the same options for `run` and `serve`."""
    options = [
        click.option("--timeout", type=click.FloatRange(min=0.1), default=30.0,
                     show_default=True, help="Seconds to wait for each answer."),
        click.option("--settle-window", type=click.FloatRange(min=0), default=None,
                     help="Seconds to keep looking up a purchase whose answer was lost before "
                     "calling it UNKNOWN (default: twice --timeout; at least "
                     f"{contract.LISTING_TRUSTED_AFTER:g} and --timeout)."),
        click.option("--retries", type=click.IntRange(min=0, max=20), default=5,
                     show_default=True,
                     help="Retries of a request that failed transiently (with backoff)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def api_options(sandbox_help: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Which API and account: the same options for `run` and `export`."""
    def add(command: Callable[..., Any]) -> Callable[..., Any]:
        options = [
            click.option("--sandbox", is_flag=True, help=sandbox_help),
            click.option("--base-url", help="API base URL (default: $IMPORTER_BASE_URL or "
                         f"{contract.BASE_URL})."),
            click.option("--account-sid", help="AccountSid to log in with (default: "
                         "$IMPORTER_ACCOUNT_SID). The token comes only from "
                         "$IMPORTER_AUTH_TOKEN or the config file."),
        ]
        for option in reversed(options):
            command = option(command)
        return command
    return add
