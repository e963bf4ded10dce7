"""`drill show PLAN [--live]`."""

from __future__ import annotations

import click

from drill.cli._answers import finish_remembered, question
from drill.cli._common import context_option, pass_settings
from drill.cli._completion import complete_plan_names
from drill.commands import Console, Settings


@click.command("show")
@click.argument("plan", shell_complete=complete_plan_names)
@click.option("--live", is_flag=True, help="Show the live (real failover) variant.")
@context_option(", as `drill run` would")
@pass_settings
def show_command(settings: Settings, plan: str, live: bool, contexts: tuple[str, ...]) -> None:
    """Print the ordered steps of PLAN as they would run, with substitutions and skips."""

    def compute(console: Console) -> int:
        from drill.commands.show import ShowOptions, show

        return show(settings, ShowOptions(plan=plan, live=live, contexts=contexts), console)

    asked = question(settings, "show", {"live": live, "contexts": list(contexts)}, [plan])
    finish_remembered(settings, asked, compute)
