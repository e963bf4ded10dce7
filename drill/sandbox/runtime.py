"""Start the emulators a world needs, seed them, and write the kubeconfig that joins them.

Used two ways: in-process for one ``drill run --sandbox`` (started and stopped around the run),
and by ``drill sandbox up`` in a background process that keeps the world between commands.
"""

from __future__ import annotations

import json
import os
import signal
import threading
from dataclasses import dataclass, field, fields
from datetime import timedelta
from pathlib import Path

from drill.clock import Clock, SystemClock
from drill.sandbox.clouds import CloudProfile, CloudSandbox
from drill.sandbox.emulator import Emulator
from drill.sandbox.kube import KubeEmulator, Profile, write_kubeconfig
from drill.sandbox.worlds.clusters import BackupPlan, ClusterWorld, Manifest, WorldSpec
from providers.cloud import CloudSettings

# Scaled so a whole drill of a shipped plan takes seconds, with the order of things intact.
SANDBOX_PROFILE = Profile(
    ready_after_s=2.0, job_duration_s=1.5, restore_duration_s=3.0, namespace_delete_s=0.5
)
SANDBOX_CLOUD_PROFILE = CloudProfile()
STATE_FILE = "state.json"


def context_name(role: str) -> str:
    return f"sandbox-{role}"


class Sandbox(Emulator):
    """Every cluster of a world, served on 127.0.0.1, with one kubeconfig for all of them."""

    def __init__(
        self,
        spec: WorldSpec,
        workdir: Path,
        profile: Profile = SANDBOX_PROFILE,
        clock: Clock | None = None,
        cloud_profile: CloudProfile = SANDBOX_CLOUD_PROFILE,
    ) -> None:
        self.spec = spec
        self.workdir = workdir
        self.profile = profile
        self.clock = clock or SystemClock()
        self.clusters: dict[str, KubeEmulator] = {}
        self.kubeconfig = workdir / "kubeconfig"
        self.cloud = CloudSandbox(spec.cloud, self.clock, cloud_profile)

    @property
    def cloud_settings(self) -> CloudSettings:
        return self.cloud.settings

    @property
    def contexts(self) -> dict[str, str]:
        return {role: context_name(role) for role in self.clusters}

    def start(self) -> Sandbox:
        try:
            for role, world in self.spec.clusters.items():
                emulator = KubeEmulator(clock=self.clock, profile=self.profile)
                emulator.start()
                self.clusters[role] = emulator
                _seed(emulator, world, self.clock)
            self.cloud.start()
        except BaseException:
            self.stop()
            raise
        servers = {context_name(role): e.url for role, e in self.clusters.items()}
        if servers:
            write_kubeconfig(self.kubeconfig, servers)
        return self

    def stop(self) -> None:
        self.cloud.stop()
        for emulator in self.clusters.values():
            emulator.stop()


def _seed(emulator: KubeEmulator, world: ClusterWorld, clock: Clock) -> None:
    for manifest in world.standing:
        emulator.apply(manifest)
    for key, backup in world.backups.items():
        _seed_backup(emulator, key, backup, world.contents, clock)


def _seed_backup(
    emulator: KubeEmulator,
    key: str,
    backup: BackupPlan,
    contents: dict[str, list[Manifest]],
    clock: Clock,
) -> None:
    namespaces = sorted(backup.namespaces) or sorted(contents) or ["default"]
    objects = [obj for ns in namespaces for obj in contents.get(ns, [])]
    started = clock.now() - timedelta(seconds=backup.age_s)
    name = backup.name or f"{key}-{started:%Y%m%d%H%M%S}"
    if backup.schedule:
        emulator.velero.add_schedule(
            backup.schedule, included_namespaces=namespaces, objects=objects
        )
    emulator.velero.register_backup(
        name,
        objects,
        started_at=started,
        duration_s=min(60.0, backup.age_s / 2),
        schedule=backup.schedule,
        included_namespaces=namespaces,
    )


# --- a sandbox kept up between commands ---------------------------------------------------------


@dataclass(frozen=True)
class SandboxState:
    """What ``drill sandbox up`` leaves for later commands: where the world is."""

    pid: int
    kubeconfig: str
    contexts: dict[str, str]
    plans: list[str]
    cloud: dict[str, object] = field(default_factory=dict)

    def cloud_settings(self) -> CloudSettings:
        return CloudSettings(**self.cloud)  # type: ignore[arg-type]

    def alive(self) -> bool:
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return not _zombie(self.pid)


def _zombie(pid: int) -> bool:
    """An exited process nobody reaped yet (its parent went first) still answers kill(pid, 0)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] == "Z"


def default_sandbox_dir(environ: dict[str, str] | os._Environ[str]) -> Path:
    if environ.get("DRILL_SANDBOX_DIR"):
        return Path(environ["DRILL_SANDBOX_DIR"])
    base = environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "drill" / "sandbox"


def read_state(directory: Path) -> SandboxState | None:
    """The running sandbox's state, or None when none is up (stale files are ignored)."""
    try:
        raw = json.loads((directory / STATE_FILE).read_text(encoding="utf-8"))
        state = SandboxState(
            pid=int(raw["pid"]),
            kubeconfig=str(raw["kubeconfig"]),
            contexts={str(k): str(v) for k, v in raw["contexts"].items()},
            plans=[str(p) for p in raw["plans"]],
            cloud=_cloud_fields(raw.get("cloud") or {}),
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return state if state.alive() else None


def _cloud_fields(raw: dict[str, object]) -> dict[str, object]:
    """CloudSettings fields as JSON held them (lists back to tuples); unknown keys dropped."""
    known = {f.name for f in fields(CloudSettings)}
    return {
        key: tuple(str(v) for v in value) if isinstance(value, list) else value
        for key, value in raw.items()
        if key in known and isinstance(value, str | bool | list | None)
    }


def write_state(directory: Path, state: SandboxState) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    temporary = directory / f".{STATE_FILE}.tmp"
    temporary.write_text(json.dumps(state.__dict__, indent=2), encoding="utf-8")
    temporary.replace(directory / STATE_FILE)  # readers never see half a file


def stop_running(directory: Path, clock: Clock) -> SandboxState | None:
    """SIGTERM the sandbox process and wait for it to go; returns what was stopped."""
    state = read_state(directory)
    if state is None:
        return None
    os.kill(state.pid, signal.SIGTERM)
    deadline = clock.monotonic() + 10
    never = threading.Event()
    while state.alive() and clock.monotonic() < deadline:
        clock.sleep(0.1, never)
    return state
