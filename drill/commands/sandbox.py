"""`drill sandbox up|down|status`, and where `drill run --sandbox` finds its clusters."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from functools import partial
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
    from drill.sandbox.runtime import Sandbox
    from drill.sandbox.state import SandboxState
    from drill.sandbox.worlds.clouds import CloudWorld
    from drill.sandbox.worlds.clusters import WorldSpec
    from drill.sandbox.worlds.faults import FaultSpec
    from providers.protocols import ReportStore


# The slowest a sandbox may be made: ten times its profile's durations.
MAX_TIME_SCALE = 10.0


@dataclass(frozen=True)
class SandboxOptions:
    """How a ``--sandbox`` run (or ``drill sandbox up``) wants its sandbox built."""

    profile: str | None = None  # a name of PROFILE_NAMES; None: the running one's, else fast
    time_scale: float | None = None  # every simulated duration times this; None: 1
    world: Path | None = None  # a world file to build it from, instead of the plans
    # Buckets a run's history writes to, (cloud, name): the sandbox provides them, empty.
    history_buckets: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        # `not 0 < x <= max` also refuses NaN, which compares false with everything.
        if self.time_scale is not None and not 0 < self.time_scale <= MAX_TIME_SCALE:
            raise UsageError(
                f"--time-scale {self.time_scale:g}: give a factor above 0 and at most "
                f"{MAX_TIME_SCALE:g} (0.1: ten times faster than the profile)"
            )


@dataclass(frozen=True)
class SandboxTarget:
    kubeconfig: str
    contexts: dict[str, str]  # role -> sandbox context
    cloud: CloudSettings  # the emulators' endpoints
    # Carries out actions (``Action.as_json()``) in the sandbox: faults, a history bucket.
    send: Callable[[list[dict[str, object]]], None] = field(default=lambda actions: None)
    faults: tuple[FaultSpec, ...] = ()  # the world file's, armed in every run


def _state_dir(environ: Mapping[str, str]) -> Path:
    from drill.sandbox.state import default_sandbox_dir

    return default_sandbox_dir(dict(environ))


def _running(environ: Mapping[str, str]) -> SandboxState | None:
    from drill.sandbox.state import read_state

    return read_state(_state_dir(environ))


# Starts a sandbox for one run: (the plan, the config file, the options) -> the sandbox while
# it is up.
PrivateSandbox = Callable[
    [LoadedPlan, str | None, SandboxOptions], AbstractContextManager[SandboxTarget]
]


@contextmanager
def sandbox_for(
    loaded: LoadedPlan,
    settings: Settings,
    start: PrivateSandbox | None = None,
    options: SandboxOptions | None = None,
) -> Iterator[SandboxTarget]:
    """The running sandbox (from `drill sandbox up`), or one started just for this run."""
    options = options or SandboxOptions()
    state = _running(settings.environ)
    if state is None:
        with (start or private_sandbox)(loaded, settings.config_file, options) as target:
            yield target
        return
    if options.world is not None:
        raise UsageError(
            f"--world {options.world}: a sandbox is up (pid {state.pid}) and a run uses it as "
            "it is; run `drill sandbox down` first, or start it from the world file with "
            f"`drill sandbox up --world {options.world}`"
        )
    _require_timing(state, options, "this run")
    roles = set(loaded.plan.contexts)
    missing = sorted(roles - set(state.contexts))
    if missing:
        raise UsageError(
            f"the running sandbox has no cluster for role(s) {', '.join(missing)}: "
            + _restart_hint(state, [loaded.source])
        )
    lacking = uncovered(loaded, state, settings)
    if lacking:
        raise UsageError(
            f"the running sandbox lacks what {loaded.plan.name} needs ({lacking}): "
            + _restart_hint(state, [loaded.source])
        )
    yield SandboxTarget(
        state.kubeconfig,
        {r: state.contexts[r] for r in roles},
        state.cloud_settings(),
        state.send,
        _faults_of(state),
    )


def _faults_of(state: SandboxState) -> tuple[FaultSpec, ...]:
    if not state.faults:
        return ()  # the fault catalogue loads only for a sandbox that holds faults
    from drill.sandbox.worlds.faults import FaultSpec

    return tuple(
        FaultSpec(
            str(raw["name"]),
            None if raw.get("at_step") is None else str(raw["at_step"]),
            None if raw.get("after_s") is None else float(str(raw["after_s"])),
        )
        for raw in state.faults
    )


def _restart_hint(state: SandboxState, more: list[str]) -> str:
    plans = [*state.plans, *(p for p in more if p not in state.plans)]
    if state.world is not None:
        return (
            f"it was built from world file {state.world}; run `drill sandbox down`, then "
            f"`drill sandbox up --world FILE` with a world that has it"
        )
    started = ", ".join(Path(p).stem for p in state.plans) or "no plan"
    return (
        f"the running sandbox was started for {started}; run `drill sandbox down`, then "
        f"`drill sandbox up {' '.join(plans)}`"
    )


def _require_timing(state: SandboxState, options: SandboxOptions, who: str) -> None:
    """A running sandbox keeps the timing it was started with."""
    profile = options.profile or state.profile
    scale = state.time_scale if options.time_scale is None else options.time_scale
    if (profile, scale) != (state.profile, state.time_scale):
        raise UsageError(
            f"the running sandbox keeps profile {state.profile} at time scale "
            f"{state.time_scale:g}, not {profile} at {scale:g} as {who} asks: run "
            "`drill sandbox down` first, or drop --profile/--time-scale"
        )


def uncovered(loaded: LoadedPlan, state: SandboxState, settings: Settings) -> str:
    """What of ``loaded``'s world the running sandbox lacks, in a few words; "" when it has
    it all. A sandbox built from a world file serves every plan as the file says (a plan that
    does not fit it fails as it would for real), so nothing is missing from it."""
    from drill.errors import DrillError
    from drill.sandbox.worlds.clusters import derive
    from drill.sandbox.worlds.plans import resolve_both_modes, resolve_loaded

    if state.world is not None:
        return ""
    try:
        running = resolve_both_modes([Path(p) for p in state.plans], settings.config_file)
    except DrillError:
        return ""  # its plans changed or went since: it cannot be told, and the run will say
    have = derive(running)
    wanted = derive([*running, *resolve_loaded(loaded, settings.config.tiers)])
    return world_difference(have, wanted)


def world_difference(have: WorldSpec, wanted: WorldSpec) -> str:
    """What ``wanted`` names that ``have`` lacks: clusters, backups, backed-up objects,
    workloads, heartbeats, buckets, records, backends. Only presence counts: a backup older
    than a plan would have derived, or a record with another value, is the world a run meets,
    and a plan that does not fit it fails as it would for real."""
    from drill.sandbox.worlds.clusters import ClusterWorld

    lacking = []
    for role, cluster in wanted.clusters.items():
        present = have.clusters.get(role) or ClusterWorld()
        if role not in have.clusters:
            lacking.append(f"cluster {role}")
        lacking += [
            f"backup {key} in {role}" for key in set(cluster.backups) - set(present.backups)
        ]
        for namespace, objects in cluster.contents.items():
            held = {_identity(o) for o in present.contents.get(namespace, [])}
            lacking += [f"{n} in {role}'s backups" for n in _named(objects) if n not in held]
        standing = {_identity(o) for o in present.standing}
        copies = _held_elsewhere(wanted, role)
        lacking += [
            f"{n} in {role}"
            for n in _named(cluster.standing)
            if n not in standing and n not in copies
        ]
        lacking += [
            f"heartbeat {ns}/{name} in {role}"
            for ns, name in set(cluster.heartbeats) - set(present.heartbeats)
        ]
    lacking += _cloud_difference(have.cloud, wanted.cloud)
    return ", ".join(sorted(lacking))


def _held_elsewhere(world: WorldSpec, role: str) -> set[str]:
    """What backups in other clusters hold: running here, it is where they were taken, the
    world's own (what a plan needs of it is in the backups)."""
    return {
        _identity(o)
        for other, cluster in world.clusters.items()
        if other != role
        for objects in cluster.contents.values()
        for o in objects
    }


def _identity(manifest: Mapping[str, Any]) -> str:
    meta = manifest.get("metadata") or {}
    where = f"{meta['namespace']}/" if meta.get("namespace") else ""
    return f"{manifest.get('kind')} {where}{meta.get('name')}"


def _named(objects: list[dict[str, Any]]) -> list[str]:
    return [_identity(o) for o in objects]


def _cloud_difference(have: CloudWorld, wanted: CloudWorld) -> list[str]:
    lacking = []
    for key, bucket in wanted.buckets.items():
        held = have.buckets.get(key)
        if held is None:
            lacking.append(f"bucket {bucket.name}")
            continue
        prefixes = set(bucket.backups) | set(bucket.heartbeats)
        lacking += [
            f"objects under {bucket.name}/{p}"
            for p in prefixes - set(held.backups) - set(held.heartbeats)
        ]
    for zone_key, zone in wanted.zones.items():
        records = have.zones[zone_key].records if zone_key in have.zones else {}
        lacking += [f"record {name} {type_}" for name, type_ in set(zone.records) - set(records)]
    for ref, backend in wanted.backends.items():
        known = have.backends[ref].known_targets if ref in have.backends else None
        if known is None:
            lacking.append(f"backend {ref.name}")
            continue
        lacking += [f"backend target {t}" for t in backend.known_targets - known]
    return lacking


@contextmanager
def private_sandbox(
    loaded: LoadedPlan,
    config_file: str | None,
    options: SandboxOptions | None = None,
    **sandbox_options: Any,
) -> Iterator[SandboxTarget]:
    """A sandbox for this plan alone (or for the world file ``options`` names), in this
    process; ``sandbox_options`` go to ``drill.sandbox.runtime.Sandbox`` (its timing profiles,
    its clock) and win over the options' profile."""
    from drill.sandbox.runtime import Sandbox, profiles
    from drill.sandbox.worlds.clouds import BucketWorld
    from drill.sandbox.worlds.clusters import derive
    from drill.sandbox.worlds.files import load_world, serving_from_plans
    from drill.sandbox.worlds.plans import resolve_both_modes

    options = options or SandboxOptions()
    faults: list[FaultSpec] = []
    if options.world is not None:
        world, faults = load_world(options.world)
        world = serving_from_plans(world, [Path(loaded.source)], config_file)
    else:
        world = derive(resolve_both_modes([Path(loaded.source)], config_file))
    for cloud, name in options.history_buckets:
        world.cloud.buckets.setdefault((cloud, name), BucketWorld(cloud, name))
    kube, clouds = profiles(options.profile or "fast", options.time_scale or 1.0)
    timing: dict[str, Any] = {"profile": kube, "cloud_profile": clouds}
    with (
        tempfile.TemporaryDirectory(prefix="drill-sandbox-") as workdir,
        Sandbox(world, Path(workdir), **{**timing, **sandbox_options}) as sandbox,
    ):
        yield SandboxTarget(
            str(sandbox.kubeconfig),
            sandbox.contexts,
            sandbox.cloud_settings,
            partial(_apply_all, sandbox),
            tuple(faults),
        )


def _apply_all(sandbox: Sandbox, actions: list[dict[str, object]]) -> None:
    from drill.sandbox.worlds.faults import Action

    for raw in actions:
        sandbox.apply(Action.from_json(raw))


def history_store(target: SandboxTarget, location: str) -> ReportStore:
    """Where a sandbox run keeps its history: a directory as given; ``gs://`` and ``s3://``
    in the sandbox's own Cloud Storage and S3, the bucket provided, empty, as the sandbox
    provides a plan's buckets. A rehearsal never writes to a real bucket."""
    from providers.report_store import open_report_store

    store = open_report_store(location, target.cloud)
    scheme, _, rest = location.partition("://")
    if scheme not in ("gs", "s3"):
        return store
    bucket = rest.partition("/")[0]
    endpoint = target.cloud.gcs_endpoint if scheme == "gs" else target.cloud.aws_endpoint
    if endpoint is None:
        what = "Cloud Storage" if scheme == "gs" else "S3"
        raise UsageError(
            f"--history {scheme}://{bucket}: the running sandbox has no {what} emulator (its "
            "plans use none); keep this run's history in a directory, or run `drill sandbox "
            "down` so that the run starts a sandbox of its own with one"
        )
    target.send(
        [
            {
                "target": "gcs" if scheme == "gs" else "s3",
                "call": "create_bucket",
                "role": None,
                "args": {"name": bucket},
            }
        ]
    )
    return store


def history_bucket(location: str | None) -> tuple[tuple[str, str], ...]:
    """The (cloud, bucket) a ``gs://`` or ``s3://`` history location names, if it does."""
    if location is None:
        return ()
    scheme, sep, rest = location.partition("://")
    bucket = rest.partition("/")[0]
    if not sep or not bucket or scheme not in ("gs", "s3"):
        return ()
    return (("gcp" if scheme == "gs" else "aws", bucket),)


def running_sandbox(environ: Mapping[str, str]) -> SandboxTarget:
    """For commands that act on a past sandbox run: the sandbox must still be up."""
    state = _running(environ)
    if state is None:
        raise UsageError("no sandbox is up: its clusters went with the run that started them")
    return SandboxTarget(
        state.kubeconfig, state.contexts, state.cloud_settings(), state.send, _faults_of(state)
    )


def sandbox_up(
    settings: Settings,
    plans: tuple[str, ...],
    console: Console,
    ttl: str,
    clock: Clock | None = None,
    options: SandboxOptions | None = None,
) -> int:
    """Start the sandbox for the plans (default: every plan in the plans directory), or from a
    world file, in a background process, unless one is up; print its kubeconfig and contexts.

    A running sandbox is never changed under the runs that may be using it: when it lacks a
    plan's world (or runs another profile), this says what it lacks and how to restart it
    with everything (exit 2), rather than restart it (its state would be lost) or seed new
    objects into clusters a run may be reading."""
    options = options or SandboxOptions()
    running = _running(settings.environ)
    if running is not None:
        _require_serves(running, plans, settings, options)
        until = "it was up already, and keeps its own --ttl (`drill sandbox down` ends it)"
    else:
        running = _start(settings, plans, ttl, clock or SystemClock(), options)
        until = f"--ttl {ttl}, or `drill sandbox down`"
    lines = [f"sandbox up (pid {running.pid}); kubeconfig: {running.kubeconfig}"]
    lines += [
        f"  role {role}: kubectl --kubeconfig {running.kubeconfig} --context {context} get ns"
        for role, context in running.contexts.items()
    ]
    lines += [f"  {line}" for line in cloud_clients(running.cloud_settings())]
    if running.stops_at is not None:
        lines.append(f"  stops at {running.stops_at}: {until}")
    console.out("\n".join(lines) + "\n")
    return ExitCode.PASSED


def _require_serves(
    running: SandboxState, plans: tuple[str, ...], settings: Settings, options: SandboxOptions
) -> None:
    if options.world is not None and str(options.world.resolve()) != running.world:
        raise UsageError(
            f"a sandbox is up (pid {running.pid}) and was not built from {options.world}: run "
            "`drill sandbox down` first"
        )
    _require_timing(running, options, "this command")
    for name in plans:
        loaded = settings.load(name)
        roles = sorted(set(loaded.plan.contexts) - set(running.contexts))
        lacking = uncovered(loaded, running, settings) or ", ".join(f"cluster {r}" for r in roles)
        if lacking:
            raise UsageError(
                f"the running sandbox lacks what {loaded.plan.name} needs ({lacking}): "
                + _restart_hint(running, [str(Path(loaded.source).resolve())])
            )


def _start(
    settings: Settings, plans: tuple[str, ...], ttl: str, clock: Clock, options: SandboxOptions
) -> SandboxState:
    from drill.sandbox.worlds.files import load_world

    directory = _state_dir(settings.environ)
    ttl_s = _seconds(ttl)
    if options.world is not None:
        load_world(options.world)  # one clear error now, not a dead background process
        files: list[Path] = [find_plan(p, settings.plans_dir) for p in plans]
    else:
        files = [find_plan(p, settings.plans_dir) for p in plans] or list_plan_files(
            settings.plans_dir
        )
        if not files:
            raise UsageError(f"no plans to build a sandbox for in {settings.plans_dir}")
    for path in files:
        settings.load(str(path))
    return _spawn(directory, files, ttl_s, settings, clock, options)


def _seconds(ttl: str) -> float:
    try:
        seconds = parse_duration(ttl)
    except ValueError as exc:
        raise UsageError(f"--ttl: {exc}") from None
    if seconds <= 0:
        raise UsageError(
            f"--ttl: {ttl} would stop the sandbox as it starts; give how long to keep it"
        )
    return seconds


_NOT_CANCELLED = threading.Event()
_LOG_FILE = "sandbox.log"
_START_TIMEOUT_S = 30


def _spawn(
    directory: Path,
    files: list[Path],
    ttl_s: float,
    settings: Settings,
    clock: Clock,
    options: SandboxOptions,
) -> SandboxState:
    from drill.sandbox.state import read_state

    directory.mkdir(parents=True, exist_ok=True)
    log = (directory / _LOG_FILE).open("ab")
    command = [sys.executable, "-m", "drill.sandbox", "serve", "--dir", str(directory)]
    command += ["--ttl", str(ttl_s), "--profile", options.profile or "fast"]
    command += ["--time-scale", str(options.time_scale or 1.0)]
    if options.world is not None:
        command += ["--world", str(options.world.resolve())]
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [*command, *(str(f.resolve()) for f in files)],
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
    built = f"  world: {state.world}\n" if state.world else ""
    faults = ", ".join(str(f) for f in _faults_of(state))
    console.out(
        f"sandbox up (pid {state.pid}); kubeconfig: {state.kubeconfig}\n"
        f"  contexts: {', '.join(f'{r} -> {c}' for r, c in state.contexts.items())}\n"
        f"  plans: {', '.join(state.plans) or 'none'}\n{built}"
        f"  timing: profile {state.profile}, time scale {state.time_scale:g}\n"
        + (f"  stops at: {state.stops_at}\n" if state.stops_at else "")
        + (f"  faults armed in every run: {faults}\n" if faults else "")
        + "".join(f"  {line}\n" for line in cloud_clients(state.cloud_settings()))
    )
    return ExitCode.PASSED


# gcloud's endpoint override property for each emulator the sandbox runs.
_GCLOUD_APIS = {"dns": "dns_endpoint", "compute": "compute_endpoint", "storage": "gcs_endpoint"}


def cloud_clients(cloud: CloudSettings) -> list[str]:
    """How the operator's own gcloud and aws reach the sandbox's clouds: as a prefix of one
    command, so a shell left open does not go on talking to the sandbox instead of the cloud
    (the emulators take no credentials; the project is the plan's)."""
    overrides = [
        f"CLOUDSDK_API_ENDPOINT_OVERRIDES_{api.upper()}={url.rstrip('/')}/"
        for api, attribute in _GCLOUD_APIS.items()
        if isinstance(url := getattr(cloud, attribute), str)
    ]
    lines = []
    if overrides:
        prefix = " ".join([*overrides, "CLOUDSDK_AUTH_DISABLE_CREDENTIALS=true"])
        lines.append(f"gcloud: env {prefix} gcloud ... --project PROJECT")
    if cloud.aws_endpoint is not None:
        lines.append(
            "aws: env AWS_ACCESS_KEY_ID=sandbox AWS_SECRET_ACCESS_KEY=sandbox "
            f"aws --endpoint-url {cloud.aws_endpoint} --region REGION ..."
        )
    return lines


def sandbox_world(settings: Settings, plans: tuple[str, ...], console: Console) -> int:
    """Print the world the sandbox derives from the plans (default: every plan in the plans
    directory) as a world file: what it takes for granted, for a person to read and edit."""
    from drill.sandbox.worlds.clusters import derive
    from drill.sandbox.worlds.files import world_yaml
    from drill.sandbox.worlds.plans import resolve_loaded

    files = [find_plan(p, settings.plans_dir) for p in plans] or list_plan_files(settings.plans_dir)
    if not files:
        raise UsageError(f"no plans to derive a world from in {settings.plans_dir}")
    tiers = settings.config.tiers
    resolved = [p for path in files for p in resolve_loaded(settings.load(str(path)), tiers)]
    console.out(world_yaml(derive(resolved)))
    return ExitCode.PASSED


def sandbox_faults(console: Console) -> int:
    """List the faults a sandbox run can inject (`--fault NAME[@STEP]`, a world's faults)."""
    from drill.sandbox.worlds.faults import CATALOGUE

    width = max(len(name) for name in CATALOGUE)
    console.out("".join(f"{k.name:<{width}}  {k.summary}\n" for k in CATALOGUE.values()))
    return ExitCode.PASSED
