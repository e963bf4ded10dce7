"""`drill sandbox up|down|status`."""

from __future__ import annotations

import click

from drill.cli._common import finish, pass_settings
from drill.commands import Settings


@click.group("sandbox")
def sandbox_group() -> None:
    """A local simulated environment (Kubernetes API emulators with Velero) to rehearse in.

    While it is up, `drill run PLAN --sandbox` uses it, so state carries from one command to
    the next; otherwise each `--sandbox` run starts and stops its own.
    """


@sandbox_group.command("up")
@click.argument("plans", nargs=-1)
@click.option("--ttl", default="8h", show_default=True, help="Stop by itself after this long.")
@pass_settings
def up_command(settings: Settings, plans: tuple[str, ...], ttl: str) -> None:
    """Start the sandbox for PLANS (default: every plan in the plans directory)."""
    from drill.commands.sandbox import sandbox_up

    finish(settings, lambda console: sandbox_up(settings, plans, console, ttl))


@sandbox_group.command("down")
@pass_settings
def down_command(settings: Settings) -> None:
    """Stop the running sandbox."""
    from drill.commands.sandbox import sandbox_down

    finish(settings, lambda console: sandbox_down(settings, console))


@sandbox_group.command("status")
@pass_settings
def status_command(settings: Settings) -> None:
    """Say whether a sandbox is up, and where its kubeconfig is."""
    from drill.commands.sandbox import sandbox_status

    finish(settings, lambda console: sandbox_status(settings, console))
