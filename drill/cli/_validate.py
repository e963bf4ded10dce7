"""`drill validate PLAN... [--strict]`."""

from __future__ import annotations

import click

from drill.cli._answers import finish_remembered, question
from drill.cli._common import pass_settings
from drill.cli._completion import complete_plan_names
from drill.commands import Console, Settings


@click.command("validate")
@click.argument("plans", nargs=-1, required=True, shell_complete=complete_plan_names)
@click.option(
    "--strict",
    is_flag=True,
    help="Warnings (a change no later step checks, in either mode) are errors: exit 2.",
)
@pass_settings
def validate_command(settings: Settings, plans: tuple[str, ...], strict: bool) -> None:
    """Check plan files (names or paths); print file:line:col problems, exit 2 if any."""

    def compute(console: Console) -> int:
        from drill.commands.validate import validate

        return validate(settings, plans, console, strict)

    finish_remembered(settings, question(settings, "validate", {"strict": strict}, plans), compute)
