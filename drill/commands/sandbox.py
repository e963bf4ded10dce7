"""`drill sandbox up|down|status`, and where `drill run --sandbox` finds its clusters."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from drill.clock import Clock, SystemClock
from drill.commands._common import Settings
from drill.commands._console import Console
from drill.durations import parse_duration
from drill.errors import ExitCode, UsageError
from drill.plan import LoadedPlan, find_plan, list_plan_files
from providers.cloud import CloudSettings

if TYPE_CHECKING:
    from drill.sandbox.state import SandboxState


@dataclass(frozen=True)
class SandboxTarget:
    kubeconfig: str
    contexts: dict[str, str]  # role -> sandbox context
    cloud: CloudSettings  # the emulators' endpoints


def _state_dir(environ: Mapping[str, str]) -> Path:
    from drill.sandbox.state import default_sandbox_dir

    return default_sandbox_dir(dict(environ))


def _running(environ: Mapping[str, str]) -> SandboxState | None:
    from drill.sandbox.state import read_state

    return read_state(_state_dir(environ))


# Starts a sandbox for one run: (the plan, the config file) -> the sandbox while it is up.
PrivateSandbox = Callable[[LoadedPlan, str | None], AbstractContextManager[SandboxTarget]]


@contextmanager
def sandbox_for(
    loaded: LoadedPlan, settings: Settings, start: PrivateSandbox | None = None
) -> Iterator[SandboxTarget]:
    """The running sandbox (from `drill sandbox up`), or one started just for this run."""
    roles = set(loaded.plan.contexts)
    state = _running(settings.environ)
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
    with (start or private_sandbox)(loaded, settings.config_file) as target:
        yield target


@contextmanager
def private_sandbox(
    loaded: LoadedPlan, config_file: str | None, **sandbox_options: Any
) -> Iterator[SandboxTarget]:
    """A sandbox for this plan alone, in this process; ``sandbox_options`` go to
    ``drill.sandbox.runtime.Sandbox`` (its timing profiles, its clock)."""
    from drill.sandbox.runtime import Sandbox
    from drill.sandbox.worlds.clusters import derive
    from drill.sandbox.worlds.plans import resolve_both_modes

    world = derive(resolve_both_modes([Path(loaded.source)], config_file))
    with (
        tempfile.TemporaryDirectory(prefix="drill-sandbox-") as workdir,
        Sandbox(world, Path(workdir), **sandbox_options) as sandbox,
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


def running_sandbox(environ: Mapping[str, str]) -> SandboxTarget:
    """For commands that act on a past sandbox run: the sandbox must still be up."""
    state = _running(environ)
    if state is None:
        raise UsageError("no sandbox is up: its clusters went with the run that started them")
    return SandboxTarget(state.kubeconfig, state.contexts, state.cloud_settings())


def sandbox_up(
    settings: Settings,
    plans: tuple[str, ...],
    console: Console,
    ttl: str,
    clock: Clock | None = None,
) -> int:
    """Start the sandbox for the plans (default: every plan in the plans directory) in a
    background process, unless one is up; print its kubeconfig and contexts."""
    directory = _state_dir(settings.environ)
    running = _running(settings.environ)
    if running is None:
        files = [find_plan(p, settings.plans_dir) for p in plans] or list_plan_files(
            settings.plans_dir
        )
        if not files:
            raise UsageError(f"no plans to build a sandbox for in {settings.plans_dir}")
        for path in files:
            settings.load(str(path))  # one clear error now, not a dead background process
        running = _spawn(directory, files, _seconds(ttl), settings, clock or SystemClock())
    lines = [f"sandbox up (pid {running.pid}); kubeconfig: {running.kubeconfig}"]
    lines += [
        f"  role {role}: kubectl --kubeconfig {running.kubeconfig} --context {context} get ns"
        for role, context in running.contexts.items()
    ]
    console.out("\n".join(lines) + "\n")
    return ExitCode.PASSED


def _seconds(ttl: str) -> float:
    try:
        return parse_duration(ttl)
    except ValueError as exc:
        raise UsageError(f"--ttl: {exc}") from None


_NOT_CANCELLED = threading.Event()
_LOG_FILE = "sandbox.log"
_START_TIMEOUT_S = 30


def _spawn(
    directory: Path, files: list[Path], ttl_s: float, settings: Settings, clock: Clock
) -> SandboxState:
    from drill.sandbox.state import read_state

    directory.mkdir(parents=True, exist_ok=True)
    log = (directory / _LOG_FILE).open("ab")
    command = [sys.executable, "-m", "drill.sandbox", "serve", "--dir", str(directory)]
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [*command, "--ttl", str(ttl_s), *(str(f.resolve()) for f in files)],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=log,
        env=dict(settings.environ),
        start_new_session=True,  # survives this command and the terminal's Ctrl-C
    )
    log.close()  # the child has its own copy
    deadline = clock.monotonic() + _START_TIMEOUT_S
    while clock.monotonic() < deadline:
        state = read_state(directory)
        if state is not None and state.pid == process.pid:
            return state
        if process.poll() is not None:
            break
        clock.sleep(0.05, _NOT_CANCELLED)
    process.kill()
    raise UsageError(f"the sandbox did not start; see {directory / _LOG_FILE}")


def sandbox_down(settings: Settings, console: Console, clock: Clock | None = None) -> int:
    """Stop the running sandbox and remove what `drill sandbox up` wrote (its kubeconfig, state
    and log; the directory too when nothing else is in it). With no sandbox up, nothing is
    removed: a log left by one that died says why."""
    from drill.sandbox.state import stop_running

    directory = _state_dir(settings.environ)
    stopped = stop_running(directory, clock or SystemClock())
    if stopped is None:
        console.out("no sandbox is up\n")
        return ExitCode.PASSED
    if stopped.alive():
        raise UsageError(
            f"the sandbox (pid {stopped.pid}) did not stop within 10s; "
            f"its files are left in {directory}"
        )
    _remove_written(directory)
    console.out(f"sandbox (pid {stopped.pid}) stopped; removed {directory}\n")
    return ExitCode.PASSED


def _remove_written(directory: Path) -> None:
    from drill.sandbox.state import STATE_FILE

    for name in (_LOG_FILE, STATE_FILE, "kubeconfig"):
        (directory / name).unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # not empty: someone else's files stay, and so does it
        directory.rmdir()


def sandbox_status(settings: Settings, console: Console) -> int:
    """Say whether a sandbox is up, and where its kubeconfig is."""
    state = _running(settings.environ)
    if state is None:
        console.out("no sandbox is up\n")
        return ExitCode.PASSED
    console.out(
        f"sandbox up (pid {state.pid}); kubeconfig: {state.kubeconfig}\n"
        f"  contexts: {', '.join(f'{r} -> {c}' for r, c in state.contexts.items())}\n"
        f"  plans: {', '.join(state.plans)}\n"
    )
    return ExitCode.PASSED
