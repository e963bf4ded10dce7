"""`drill rollback RUN`."""

from __future__ import annotations

from pathlib import Path

import click

from drill.cli._common import finish_fast, pass_settings, report_dir_option
from drill.commands import Settings


@click.command("rollback")
@click.argument("run")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--sandbox", is_flag=True, help="The run was a `--sandbox` run: use the sandbox.")
@report_dir_option
@click.option(
    "--plan",
    "plan_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The plan file as the run used it, when the one the journal names changed since.",
)
@pass_settings
def rollback_command(
    settings: Settings, run: str, yes: bool, sandbox: bool, report_dir: Path, plan_file: Path | None
) -> None:
    """Put back what RUN (a run id, or its journal file) changed, reading each object back;
    then run the plan's rollback phase. Writes rollback-report.json and .html beside the run's
    report. Exit 0 when every object read back as drill found it, 3 when a rollback-phase step
    failed, 4 when something is still changed, differs or could not be read back (a human is
    needed), 130 when interrupted."""
    from drill.commands.rollback import RollbackOptions, rollback

    options = RollbackOptions(run, yes=yes, sandbox=sandbox, report_dir=report_dir, plan=plan_file)
    finish_fast(settings, lambda console: rollback(settings, options, console))
