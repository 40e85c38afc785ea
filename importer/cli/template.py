"""`template`: a blank workbook to fill in."""

from __future__ import annotations

from pathlib import Path

import click

from importer.cli.app import cli, guard
from importer.errors import ExitCode, UsageError
from importer.results import files
from importer.results.templates import TEMPLATES, write_template
from importer.text import shown


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
        written = files.write_file(out, lambda tmp: write_template(name, tmp), "template",
                                   overwrite=overwrite)
        click.echo(f"template: {shown(written)}")
        return ExitCode.OK

    return guard(False, False, action)
