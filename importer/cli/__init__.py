"""The command line: the only place that knows click and tqdm, one module per command group.

A command parses options, makes one library call, renders, and returns an exit code; fatal
problems arrive as ImporterError and are shown as one line (see app.guard).
"""

from importer.cli import export, rows, servers, state, template, undo  # noqa: F401  (each registers its commands)
from importer.cli.app import cli, main

__all__ = ["cli", "main"]
