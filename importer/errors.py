"""One root for every fatal problem, so the CLI can show any of them as a single line, and the
exit codes they map to."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """The command's exit status; `exit_code_for` is the only place a report becomes one."""

    OK = 0
    NOT_ALL_OK = 1
    BAD_INPUT = 2
    ABORTED = 3
    INTERRUPTED = 130
    OUTPUT_CLOSED = 141  # as a shell reports a command stopped by a closed pipe (`| head`)


class ImporterError(Exception):
    """A problem that stops the whole command (not a row problem: those are Issue records).

    The message is one line of plain words; `detail` keeps the library's own wording (an
    exception text, a parser position) for `--debug` only. The message states what is wrong;
    `needs` names what the person has to choose to get past it ("operation", "sheet",
    "fewer"), so that each shell adds its own way out (a flag, a form).
    """

    exit_code: ExitCode = ExitCode.BAD_INPUT

    def __init__(self, message: str, detail: str = "", needs: str = "") -> None:
        super().__init__(message)
        self.detail = detail
        self.needs = needs


class InputError(ImporterError):
    """The input file cannot be used as it is (missing, unreadable, no header, ...)."""


class UsageError(ImporterError):
    """The command line or configuration asks for something impossible."""


class AbortError(ImporterError):
    """The run cannot go on (bad credentials, unreachable API) before any row is sent."""

    exit_code = ExitCode.ABORTED
