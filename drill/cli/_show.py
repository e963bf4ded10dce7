"""`drill show PLAN [--live]`."""

from __future__ import annotations

import click

from drill.cli._common import finish, pass_settings
from drill.cli._completion import complete_plan_names
from drill.commands import Settings


@click.command("show")
@click.argument("plan", shell_complete=complete_plan_names)
@click.option("--live", is_flag=True, help="Show the live (real failover) variant.")
@click.option(
    "--context",
    "contexts",
    multiple=True,
    metavar="ROLE=KUBECONTEXT",
    help="Map a plan's context role to a kubeconfig context (repeatable), as `drill run` would.",
)
@pass_settings
def show_command(settings: Settings, plan: str, live: bool, contexts: tuple[str, ...]) -> None:
    """Print the ordered steps of PLAN as they would run, with substitutions and skips."""
    from drill.commands.show import ShowOptions, show

    options = ShowOptions(plan=plan, live=live, contexts=contexts)
    finish(settings, lambda console: show(settings, options, console))
