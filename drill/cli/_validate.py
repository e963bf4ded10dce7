"""`drill validate PLAN...`: every problem in every file, in one pass."""

from __future__ import annotations

import click

from drill.cli._common import GlobalOptions, pass_options
from drill.cli._completion import complete_plan_names
from drill.errors import ExitCode, PlanError, UsageError


@click.command("validate")
@click.argument("plans", nargs=-1, required=True, shell_complete=complete_plan_names)
@pass_options
def validate_command(options: GlobalOptions, plans: tuple[str, ...]) -> None:
    """Check plan files (names or paths); print file:line:col problems, exit 2 if any."""
    failed = False
    for name in plans:
        try:
            loaded = options.load(name)
        except PlanError as exc:
            failed = True
            for problem in exc.problems:
                click.echo(str(problem), err=True)
            continue
        except UsageError as exc:
            failed = True
            click.echo(f"drill: {exc}", err=True)
            continue
        click.echo(f"{loaded.source}: ok")
    raise SystemExit(ExitCode.INVALID if failed else ExitCode.PASSED)
