"""`drill sandbox up|down|status|world|capture|faults`."""

from __future__ import annotations

from pathlib import Path

import click

from drill.cli._common import context_option, finish, pass_settings, sandbox_timing_options
from drill.commands import Console, Settings


@click.group("sandbox")
def sandbox_group() -> None:
    """A local simulated environment (Kubernetes API emulators with Velero) to rehearse in.

    While it is up, `drill run PLAN --sandbox` uses it, so state carries from one command to
    the next; otherwise each `--sandbox` run starts and stops its own.
    """


@sandbox_group.command("up")
@click.argument("plans", nargs=-1)
@click.option("--ttl", default="8h", show_default=True, help="Stop by itself after this long.")
@click.option(
    "--world",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Build it from this world file (`drill sandbox world PLAN` prints one) instead of "
    "from the plans; its faults are armed in every run against it.",
)
@sandbox_timing_options
@pass_settings
def up_command(
    settings: Settings,
    plans: tuple[str, ...],
    ttl: str,
    world: Path | None,
    profile: str | None,
    time_scale: float | None,
) -> None:
    """Start the sandbox for PLANS (default: every plan in the plans directory), or from a
    world file. With one up already, check that it serves PLANS: exit 2, saying what it lacks
    and how to restart it with everything, when it does not."""
    from drill.commands.sandbox import SandboxOptions, sandbox_up

    def up(console: Console) -> int:
        options = SandboxOptions(profile, time_scale, world)  # a bad --time-scale: exit 2
        return sandbox_up(settings, plans, console, ttl, options=options)

    finish(settings, up)


@sandbox_group.command("world")
@click.argument("plans", nargs=-1)
@pass_settings
def world_command(settings: Settings, plans: tuple[str, ...]) -> None:
    """Print the world the sandbox derives from PLANS (default: every plan in the plans
    directory) as a world file, to read and edit, then use with --world."""
    from drill.commands.sandbox import sandbox_world

    finish(settings, lambda console: sandbox_world(settings, plans, console))


@sandbox_group.command("capture")
@click.argument("plan")
@context_option()
@click.option(
    "--kubeconfig",
    metavar="FILE",
    help="Kubeconfig with those contexts (default: the global --kubeconfig, $KUBECONFIG, then "
    "~/.kube/config).",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Write the world file here (default: stdout); an existing file needs --force.",
)
@click.option("--force", is_flag=True, help="Overwrite the --output file if it exists.")
@click.option(
    "--sandbox",
    is_flag=True,
    help="Read the running sandbox (its clusters and cloud emulators) instead.",
)
@pass_settings
def capture_command(
    settings: Settings,
    plan: str,
    contexts: tuple[str, ...],
    kubeconfig: str | None,
    output: Path | None,
    force: bool,
    sandbox: bool,
) -> None:
    """Read, read-only, what PLAN touches in the real clusters and clouds (namespaces and their
    workloads and Services, Velero schedules, backups and storage locations, DNS records and
    their zones' nameservers, backend sets, bucket listings; never Secrets or object contents)
    and write it as a world file for `drill run PLAN --sandbox --world FILE`."""
    from drill.commands.capture import CaptureOptions, sandbox_capture

    options = CaptureOptions(plan, contexts, kubeconfig, output, force, sandbox)
    finish(settings, lambda console: sandbox_capture(settings, options, console))


@sandbox_group.command("faults")
@pass_settings
def faults_command(settings: Settings) -> None:
    """List the faults a sandbox run can inject (--fault NAME[@STEP], a world's faults:)."""
    from drill.commands.sandbox import sandbox_faults

    finish(settings, sandbox_faults)


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
