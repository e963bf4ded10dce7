"""`drill sandbox up|down|status`, and where `drill run --sandbox` finds its clusters."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import click

from drill.cli._common import GlobalOptions, pass_options
from drill.clock import SystemClock
from drill.durations import parse_duration
from drill.errors import UsageError
from drill.plan import LoadedPlan, find_plan, list_plan_files
from providers.cloud import CloudSettings

if TYPE_CHECKING:
    from drill.sandbox.runtime import SandboxState


@dataclass(frozen=True)
class SandboxTarget:
    kubeconfig: str
    contexts: dict[str, str]  # role -> sandbox context
    cloud: CloudSettings  # the emulators' endpoints


@contextmanager
def sandbox_for(loaded: LoadedPlan, config_file: str | None) -> Iterator[SandboxTarget]:
    """The running sandbox (from `drill sandbox up`), or one started just for this run."""
    from drill.sandbox.runtime import default_sandbox_dir, read_state

    roles = set(loaded.plan.contexts)
    state = read_state(default_sandbox_dir(os.environ))
    if state is not None:
        missing = sorted(roles - set(state.contexts))
        if missing:
            raise UsageError(
                f"the running sandbox has no cluster for role(s) {', '.join(missing)}: "
                f"run `drill sandbox down`, then `drill sandbox up {loaded.source}`"
            )
        cloud = state.cloud_settings()
        _require_clouds(loaded, cloud)
        yield SandboxTarget(state.kubeconfig, {r: state.contexts[r] for r in roles}, cloud)
        return
    with _private_sandbox(loaded, config_file) as target:
        yield target


@contextmanager
def _private_sandbox(loaded: LoadedPlan, config_file: str | None) -> Iterator[SandboxTarget]:
    from drill.sandbox.runtime import Sandbox
    from drill.sandbox.worlds.clusters import derive
    from drill.sandbox.worlds.plans import resolve_both_modes

    world = derive(resolve_both_modes([Path(loaded.source)], config_file))
    with (
        tempfile.TemporaryDirectory(prefix="drill-sandbox-") as workdir,
        Sandbox(world, Path(workdir)) as sandbox,
    ):
        yield SandboxTarget(str(sandbox.kubeconfig), sandbox.contexts, sandbox.cloud_settings)


def _require_clouds(loaded: LoadedPlan, cloud: CloudSettings) -> None:
    """A sandbox started for other plans may lack the emulators this one needs."""
    from drill.sandbox.worlds.clouds import derive_cloud
    from drill.sandbox.worlds.plans import resolve_loaded

    world = derive_cloud(resolve_loaded(loaded))
    needed = {
        "gcs_endpoint": any(key[0] == "gcp" for key in world.buckets),
        "dns_endpoint": any(key[0] == "gcp" for key in world.zones),
        "compute_endpoint": any(ref.provider == "gcp" for ref in world.backends),
        "aws_endpoint": world.uses("aws"),
    }
    if any(wanted and getattr(cloud, name) is None for name, wanted in needed.items()):
        raise UsageError(
            f"the running sandbox has no cloud emulators for {loaded.plan.name}: run "
            f"`drill sandbox down`, then `drill sandbox up {loaded.source}`"
        )


def running_sandbox() -> SandboxTarget:
    """For commands that act on a past sandbox run: the sandbox must still be up."""
    from drill.sandbox.runtime import default_sandbox_dir, read_state

    state = read_state(default_sandbox_dir(os.environ))
    if state is None:
        raise UsageError("no sandbox is up: its clusters went with the run that started them")
    return SandboxTarget(state.kubeconfig, state.contexts, state.cloud_settings())


@click.group("sandbox")
def sandbox_group() -> None:
    """A local simulated environment (Kubernetes API emulators with Velero) to rehearse in.

    While it is up, `drill run PLAN --sandbox` uses it, so state carries from one command to
    the next; otherwise each `--sandbox` run starts and stops its own.
    """


@sandbox_group.command("up")
@click.argument("plans", nargs=-1)
@click.option("--ttl", default="8h", show_default=True, help="Stop by itself after this long.")
@pass_options
def up_command(options: GlobalOptions, plans: tuple[str, ...], ttl: str) -> None:
    """Start the sandbox for PLANS (default: every plan in the plans directory)."""
    from drill.sandbox.runtime import default_sandbox_dir, read_state

    directory = default_sandbox_dir(os.environ)
    running = read_state(directory)
    if running is None:
        files = [find_plan(p, options.plans_dir) for p in plans] or list_plan_files(
            options.plans_dir
        )
        if not files:
            raise UsageError(f"no plans to build a sandbox for in {options.plans_dir}")
        for path in files:
            options.load(str(path))  # one clear error now, not a dead background process
        running = _spawn(directory, files, _seconds(ttl))
    click.echo(f"sandbox up (pid {running.pid}); kubeconfig: {running.kubeconfig}")
    for role, context in running.contexts.items():
        click.echo(
            f"  role {role}: kubectl --kubeconfig {running.kubeconfig} --context {context} get ns"
        )


def _seconds(ttl: str) -> float:
    try:
        return parse_duration(ttl)
    except ValueError as exc:
        raise UsageError(f"--ttl: {exc}") from None


_NOT_CANCELLED = threading.Event()


def _spawn(directory: Path, files: list[Path], ttl_s: float) -> SandboxState:
    from drill.sandbox.runtime import read_state

    directory.mkdir(parents=True, exist_ok=True)
    log = (directory / "sandbox.log").open("ab")
    command = [sys.executable, "-m", "drill.sandbox", "serve", "--dir", str(directory)]
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [*command, "--ttl", str(ttl_s), *(str(f.resolve()) for f in files)],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=log,
        start_new_session=True,  # survives this command and the terminal's Ctrl-C
    )
    clock = SystemClock()
    deadline = clock.monotonic() + 30
    while clock.monotonic() < deadline:
        state = read_state(directory)
        if state is not None and state.pid == process.pid:
            return state
        if process.poll() is not None:
            break
        clock.sleep(0.05, _NOT_CANCELLED)
    process.kill()
    raise UsageError(f"the sandbox did not start; see {directory / 'sandbox.log'}")


@sandbox_group.command("down")
def down_command() -> None:
    """Stop the running sandbox."""
    from drill.sandbox.runtime import default_sandbox_dir, stop_running

    stopped = stop_running(default_sandbox_dir(os.environ), SystemClock())
    click.echo(f"sandbox (pid {stopped.pid}) stopped" if stopped else "no sandbox is up")


@sandbox_group.command("status")
def status_command() -> None:
    """Say whether a sandbox is up, and where its kubeconfig is."""
    from drill.sandbox.runtime import default_sandbox_dir, read_state

    state = read_state(default_sandbox_dir(os.environ))
    if state is None:
        click.echo("no sandbox is up")
        return
    click.echo(f"sandbox up (pid {state.pid}); kubeconfig: {state.kubeconfig}")
    click.echo(f"  contexts: {', '.join(f'{r} -> {c}' for r, c in state.contexts.items())}")
    click.echo(f"  plans: {', '.join(state.plans)}")
