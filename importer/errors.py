"""One root for every fatal problem, so the CLI can show any of them as a single line."""

from __future__ import annotations

from importer.report import ExitCode


class ImporterError(Exception):
    """A problem that stops the whole command (not a row problem: those are Issue records)."""

    exit_code: ExitCode = ExitCode.BAD_INPUT


class InputError(ImporterError):
    """The input file cannot be used as it is (missing, unreadable, no header, ...)."""


class UsageError(ImporterError):
    """The command line or configuration asks for something impossible."""


class AbortError(ImporterError):
    """The run cannot go on (bad credentials, unreachable API) before any row is sent."""

    exit_code = ExitCode.ABORTED
