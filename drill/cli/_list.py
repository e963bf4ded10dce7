"""`drill list [--types]`."""

from __future__ import annotations

import click

from drill.cli._common import finish, pass_settings
from drill.commands import Settings


@click.command("list")
@click.option("--types", "show_types", is_flag=True, help="List step types instead of plans.")
@pass_settings
def list_command(settings: Settings, show_types: bool) -> None:
    """List plans (name, tier, description), or step types with --types."""
    if show_types:
        from drill.commands.list_plans import list_step_types

        finish(settings, list_step_types)
    from drill.commands.list_plans import list_plans

    finish(settings, lambda console: list_plans(settings, console))
