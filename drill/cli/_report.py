"""`drill report RUN`."""

from __future__ import annotations

from pathlib import Path

import click

from drill.cli._common import REPORT_FORMATS, finish, pass_settings, report_dir_option
from drill.commands import Settings


@click.command("report")
@click.argument("run")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(REPORT_FORMATS),
    default="text",
    show_default=True,
    help="text and markdown for people, json for tools, junit for CI, html: one offline page "
    "with a timeline.",
)
@click.option(
    "--output",
    "output_file",
    metavar="FILE",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report to FILE (replaced whole, never half-written) instead of stdout.",
)
@report_dir_option
@pass_settings
def report_command(
    settings: Settings,
    run: str,
    output_format: str,
    output_file: Path | None,
    report_dir: Path,
) -> None:
    """Show the report of RUN: a run id, a run directory, its journal or its report.json.

    A run that did not write its report (killed, crashed) is rebuilt from its journal.
    Exit 0 when the report was written, 2 when RUN cannot be found or read.
    """
    from drill.commands.report import ReportOptions, report

    options = ReportOptions(run, report_dir, output_format, output_file)
    finish(settings, lambda console: report(settings, options, console))
