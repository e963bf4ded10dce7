"""`drill list [--types]`."""

from __future__ import annotations

import click

from drill.cli._answers import finish_remembered, question
from drill.cli._common import pass_settings
from drill.commands import Console, Settings


@click.command("list")
@click.option("--types", "show_types", is_flag=True, help="List step types instead of plans.")
@pass_settings
def list_command(settings: Settings, show_types: bool) -> None:
    """List plans (name, tier, description), or step types with --types."""

    def compute(console: Console) -> int:
        from drill.commands.list_plans import list_plans, list_step_types

        return list_step_types(console) if show_types else list_plans(settings, console)

    finish_remembered(settings, question(settings, "list", {"types": show_types}), compute)
