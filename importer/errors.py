"""One root for every fatal problem, so the CLI can show any of them as a single line."""

from __future__ import annotations

from importer.report import ExitCode


class ImporterError(Exception):
    """A problem that stops the whole command (not a row problem: those are Issue records).

    The message is one line of plain words; `detail` keeps the library's own wording (an
    exception text, a parser position) for `--debug` only.
    """

    exit_code: ExitCode = ExitCode.BAD_INPUT

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail


class InputError(ImporterError):
    """The input file cannot be used as it is (missing, unreadable, no header, ...)."""


class UsageError(ImporterError):
    """The command line or configuration asks for something impossible."""


class AbortError(ImporterError):
    """The run cannot go on (bad credentials, unreachable API) before any row is sent."""

    exit_code = ExitCode.ABORTED
