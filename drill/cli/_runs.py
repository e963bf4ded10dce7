"""`drill runs`."""

from __future__ import annotations

from pathlib import Path

import click

from drill.cli._common import finish, pass_settings, report_dir_option
from drill.commands import Settings


@click.command("runs")
@report_dir_option
@click.option("--all", "show_all", is_flag=True, help="Also list runs that left nothing changed.")
@pass_settings
def runs_command(settings: Settings, report_dir: Path, show_all: bool) -> None:
    """List runs that left changes behind (killed, crashed, live, or rollback incomplete), with
    the command that rolls each back; exit 1 when any has changes not undone."""
    from drill.commands.runs import RunsOptions, runs

    finish(settings, lambda console: runs(RunsOptions(report_dir, all=show_all), console))
