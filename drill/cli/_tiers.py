"""`drill tiers`: the RPO/RTO target of each tier, and where they came from."""

from __future__ import annotations

import os

import click

from drill.cli._common import GlobalOptions, pass_options
from drill.durations import format_duration
from drill.plan import default_config_path


@click.command("tiers")
@pass_options
def tiers_command(options: GlobalOptions) -> None:
    """Show tier targets (built in, overridable in the config file)."""
    config = options.config
    click.echo(f"{'TIER':<10} {'RPO':>8} {'RTO':>8}")
    for name, targets in config.tiers.items():
        click.echo(
            f"{name:<10} {format_duration(targets.rpo_s):>8} {format_duration(targets.rto_s):>8}"
        )
    where = config.source or f"built-in defaults (no {default_config_path(os.environ)})"
    click.echo(f"\nfrom: {where}")
