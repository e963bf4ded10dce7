"""`drill tiers`."""

from __future__ import annotations

import click

from drill.cli._common import finish, pass_settings
from drill.commands import Settings


@click.command("tiers")
@pass_settings
def tiers_command(settings: Settings) -> None:
    """Show tier targets (built in, overridable in the config file)."""
    from drill.commands.tiers import tiers

    finish(settings, lambda console: tiers(settings, console))
