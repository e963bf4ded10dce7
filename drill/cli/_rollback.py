"""`drill rollback RUN`."""

from __future__ import annotations

from pathlib import Path

import click

from drill.cli._common import finish, pass_settings, report_dir_option
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
    """Put back what RUN (a run id, or its journal file) changed; then run the plan's rollback
    phase. Exit 0 when everything was undone, 4 when something needs a human."""
    from drill.commands.rollback import RollbackOptions, rollback

    options = RollbackOptions(run, yes=yes, sandbox=sandbox, report_dir=report_dir, plan=plan_file)
    finish(settings, lambda console: rollback(settings, options, console))
