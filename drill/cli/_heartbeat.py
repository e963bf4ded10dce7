"""`drill heartbeat`."""

from __future__ import annotations

import click

from drill.cli._common import finish, pass_settings
from drill.commands import Settings


@click.command("heartbeat")
@click.option("--namespace", required=True, help="The protected namespace, where it writes.")
@click.option("--name", default="drill-heartbeat", show_default=True, help="The ConfigMap.")
@click.option("--key", default="timestamp", show_default=True, help="The key set to the time.")
@click.option(
    "--interval", default="30s", show_default=True, help="How often: 10s, 1m (as in plans)."
)
@click.option(
    "--context",
    default="in-cluster",
    show_default=True,
    help="Kube context; in-cluster: the pod's own service account.",
)
@click.option("--count", type=int, default=None, help="Stop after this many writes.")
@pass_settings
def heartbeat_command(
    settings: Settings,
    namespace: str,
    name: str,
    key: str,
    interval: str,
    context: str,
    count: int | None,
) -> None:
    """Write the current time into a ConfigMap key every --interval, for kube.heartbeat probes to
    read in restored copies; runs until SIGTERM or SIGINT."""
    from drill.commands.heartbeat import HeartbeatOptions, heartbeat

    options = HeartbeatOptions(namespace, name, key, interval, context, count)
    finish(settings, lambda console: heartbeat(settings, options, console))
