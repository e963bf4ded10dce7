"""Start the emulators a world needs, seed them, and write the kubeconfig that joins them.

Used two ways: in-process for one ``drill run --sandbox`` (started and stopped around the run),
and by ``drill sandbox up`` in a background process that keeps the world between commands.
"""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from drill.clock import Clock, SystemClock
from drill.errors import UsageError
from drill.sandbox.clouds import CloudProfile, CloudSandbox
from drill.sandbox.emulator import Emulator, LoopbackServer, QuietHandler, send_json
from drill.sandbox.kube import (
    HeartbeatWriter,
    KubeEmulator,
    Profile,
    namespace_defaults,
    write_kubeconfig,
)
from drill.sandbox.serving import ServingMonitor, ServingTruth
from drill.sandbox.worlds.clusters import (
    DATABASE_HEARTBEAT,
    SCHEDULE_HISTORY,
    BackupPlan,
    ClusterWorld,
    Manifest,
    StorageLocationPlan,
    WorldSpec,
)
from drill.sandbox.worlds.faults import Action
from providers.cloud import CloudSettings

if TYPE_CHECKING:
    from drill.sandbox.gateway import Gateway

# Scaled so a whole drill of a shipped plan takes seconds, with the order of things intact:
# about a tenth of a real cluster's times (a namespace Terminating for 20 s takes 2 s; a
# failing Job's pods are retried after 1 s, 2 s, 4 s, ... at most 36 s).
SANDBOX_PROFILE = Profile(
    ready_after_s=2.0,
    job_duration_s=1.5,
    restore_duration_s=3.0,
    namespace_delete_s=2.0,
    job_backoff_s=1.0,
    job_backoff_max_s=36.0,
    restore_namespace_wait_s=60.0,
)
SANDBOX_CLOUD_PROFILE = CloudProfile()
# As long as things take in a real cluster and cloud: minutes-long restores, pods that take a
# minute to pass their readiness checks, namespaces Terminating for 20 s, DNS changes that take
# a while to apply and longer to propagate, backends that pass health checks after a minute.
# A drill of a shipped plan takes several minutes (within its timeouts), long enough for lease
# renewals and re-listed watches.
REALISTIC_PROFILE = Profile(
    ready_after_s=60.0,
    job_duration_s=20.0,
    restore_duration_s=180.0,
    namespace_delete_s=20.0,
    watch_idle_cut_s=60.0,
)
REALISTIC_CLOUD_PROFILE = CloudProfile(
    dns_change_s=20.0, dns_propagation_s=60.0, operation_s=30.0, healthy_after_s=60.0
)
PROFILES = {
    "fast": (SANDBOX_PROFILE, SANDBOX_CLOUD_PROFILE),
    "realistic": (REALISTIC_PROFILE, REALISTIC_CLOUD_PROFILE),
}


def profiles(name: str, time_scale: float = 1.0) -> tuple[Profile, CloudProfile]:
    """The kube and cloud timing of profile ``name``, every duration times ``time_scale``."""
    kube, cloud = PROFILES[name]
    return kube.scaled(time_scale), cloud.scaled(time_scale)


# Where in its interval a heartbeat writer was when the sandbox started: anything but the
# moments backups start, so a backup's age and the heartbeat's differ as they do for real.
HEARTBEAT_PHASE = 0.37


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
        self.serving = ServingTruth(spec.serving, self.clusters, self.cloud, self.clock)
        self.cloud.judge = self.serving.why_not
        self.served = ServingMonitor(self.serving)  # ground truth: when each host served

    @property
    def cloud_settings(self) -> CloudSettings:
        return self.cloud.settings

    @property
    def contexts(self) -> dict[str, str]:
        return {role: context_name(role) for role in self.clusters}

    def start(self) -> Sandbox:
        try:
            for role in self.spec.clusters:
                # Each cluster of each sandbox its own uids, as real ones never repeat: a
                # uid a run journaled must not name an object of another cluster, or of a
                # sandbox started later, for a rollback's uid precondition to mean anything.
                seed = secrets.randbits(64)
                emulator = KubeEmulator(clock=self.clock, profile=self.profile, seed=seed)
                emulator.start()
                self.clusters[role] = emulator
            for role, world in self.spec.clusters.items():
                _seed(self.clusters[role], world, self.clock, self.clusters)
            self.cloud.start()
            self.served.start()
            if self.cloud.gateway is not None:
                for emulator in self.clusters.values():
                    emulator.reach_outside(PublicEndpoints(self.cloud.gateway))
        except BaseException:
            self.stop()
            raise
        servers = {context_name(role): e.url for role, e in self.clusters.items()}
        if servers:
            write_kubeconfig(self.kubeconfig, servers)
        return self

    def stop(self) -> None:
        self.served.stop()
        self.cloud.stop()
        for emulator in self.clusters.values():
            emulator.stop()
        # Its servers are gone: a kubeconfig left behind would point kubectl at closed ports.
        self.kubeconfig.unlink(missing_ok=True)

    def apply(self, action: Action) -> None:
        """Carry out one action: a fault a run arms, or a bucket its history needs. Only the
        emulators' own fault and seeding hooks are callable; raises UsageError naming what is
        refused or what this sandbox lacks."""
        if action.call not in _ALLOWED_CALLS.get(action.target, ()):
            raise UsageError(f"the sandbox does not take {action.target}.{action.call}")
        target = self._target_of(action)
        try:
            getattr(target, action.call)(**action.args)
        except (TypeError, ValueError) as exc:
            raise UsageError(f"{action.target}.{action.call}: {exc}") from None

    def _target_of(self, action: Action) -> object:
        if action.target in ("kube", "velero", "kube-http"):
            cluster = self.clusters.get(action.role or "")
            if cluster is None:
                raise UsageError(f"the sandbox has no cluster for role {action.role!r}")
            return {
                "kube": cluster.faults,
                "velero": cluster.velero,
                "kube-http": cluster.programs.http,
            }[action.target]
        found = {
            "cloud-dns": self.cloud.dns,
            "compute": self.cloud.compute,
            "route53": self.cloud.aws,
            "gcs": self.cloud.gcs,
            "s3": self.cloud.aws,
            "gateway": self.cloud.gateway,
        }.get(action.target)
        if found is None:
            what = _EMULATOR_NAMES.get(action.target, action.target)
            raise UsageError(f"the sandbox runs no {what} emulator")
        return found


# What an action may call, per target: the emulators' own fault and seeding hooks only.
_ALLOWED_CALLS: dict[str, frozenset[str]] = {
    "kube": frozenset(
        {
            "fail_requests",
            "drop_new_watches",
            "expire_watches",
            "fail_restore",
            "hang_restore",
            "never_ready",
            "fail_job",
        }
    ),
    "velero": frozenset({"set_storage_location"}),
    "kube-http": frozenset({"set"}),  # what a workload's simulated HTTP server answers
    "gateway": frozenset({"fail_host"}),
    "cloud-dns": frozenset({"stuck_changes", "fail_requests"}),
    "compute": frozenset({"stuck_operations", "concurrent_update", "never_healthy"}),
    "route53": frozenset({"stuck_changes"}),
    "gcs": frozenset({"create_bucket"}),
    "s3": frozenset({"create_bucket"}),
}
_EMULATOR_NAMES = {
    "cloud-dns": "Cloud DNS",
    "compute": "Compute",
    "route53": "Route53 (AWS)",
    "gcs": "Cloud Storage",
    "s3": "S3 (AWS)",
    "gateway": "public endpoint",
}


class ControlServer(Emulator):
    """Where commands in other processes reach a sandbox kept up by ``drill sandbox up``:
    ``POST /actions`` (a JSON list of actions), with the sandbox's bearer token, carries them
    out in order. The token is in the state file only (mode 0600), so only its owner arms
    faults; the emulators themselves, like a local cluster's, take requests from anyone local."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.token = secrets.token_urlsafe(24)
        self._server = LoopbackServer(_control_handler(self), "sandbox-control")

    @property
    def url(self) -> str:
        return self._server.url

    def start(self) -> ControlServer:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def answer(self, authorization: str, body: bytes) -> tuple[int, dict[str, object]]:
        if not hmac.compare_digest(authorization.encode(), f"Bearer {self.token}".encode()):
            return 401, {"error": "not this sandbox's token"}
        try:
            actions = [Action.from_json(raw) for raw in json.loads(body)]
        except (ValueError, KeyError, TypeError) as exc:
            return 400, {"error": f"not a list of actions: {exc}"}
        try:
            for action in actions:
                self.sandbox.apply(action)
        except UsageError as exc:
            return 409, {"error": str(exc)}
        return 200, {"applied": len(actions)}


def _control_handler(control: ControlServer) -> type[QuietHandler]:
    class Handler(QuietHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server dispatches on this name
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            answer: dict[str, object]
            if self.path != "/actions":
                status, answer = 404, {"error": f"no {self.path} here"}
            else:
                status, answer = control.answer(self.headers.get("Authorization", ""), body)
            send_json(self, status, answer)

    return Handler


class PublicEndpoints:
    """The world's public endpoints as Jobs in its clusters reach them: a name resolves when
    the gateway serves it, and the gateway answers (the requests are in its ground truth)."""

    def __init__(self, gateway: Gateway) -> None:
        self._gateway = gateway

    def resolves(self, host: str) -> bool:
        return host.rstrip(".").lower() in self._gateway.hosts

    def answer(self, method: str, host: str, path: str) -> tuple[int, str]:
        status, body = self._gateway.answer(method, host, path)
        return status, json.dumps(body)


def _seed(
    emulator: KubeEmulator,
    world: ClusterWorld,
    clock: Clock,
    clusters: Mapping[str, KubeEmulator],
) -> None:
    """``clusters``: the sandbox's, by role (where each backup was taken)."""
    for manifest in world.standing:
        emulator.apply(manifest)
    now = clock.now()
    for heartbeat in world.heartbeats.values():
        phase = timedelta(seconds=heartbeat.interval_s * HEARTBEAT_PHASE)
        # Started long before any backup the sandbox holds, so each one captured a write.
        first = now - timedelta(days=1) - phase
        writer = HeartbeatWriter(
            heartbeat.namespace, heartbeat.name, heartbeat.key, heartbeat.interval_s, first
        )
        emulator.velero.add_heartbeat(writer)
    for namespace, job_prefix in world.database_queries:
        emulator.programs.print_config_map(namespace, job_prefix, *DATABASE_HEARTBEAT)
    for location in world.storage_locations.values():
        _seed_storage_location(emulator, location)
    for key, backup in world.backups.items():
        source = clusters[backup.taken_in] if backup.taken_in else emulator
        _seed_backup(emulator, key, backup, world.contents, clock, source)


def _seed_storage_location(emulator: KubeEmulator, location: StorageLocationPlan) -> None:
    """The emulator's Velero has its ``default`` location; others are added as the world
    says, each Available or not (a restore from an Unavailable one fails validation)."""
    if location.velero_namespace != emulator.velero.namespace:
        raise UsageError(
            f"storage location {location.velero_namespace}/{location.name}: the sandbox runs "
            f"Velero in namespace {emulator.velero.namespace} only"
        )
    if location.name == "default":
        emulator.velero.set_storage_location(location.name, available=location.available)
    else:
        emulator.velero.add_storage_location(location.name, available=location.available)


def _backed_up(manifests: list[Manifest], namespace: str, emulator: KubeEmulator) -> list[Manifest]:
    """What a backup of ``namespace`` taken in ``emulator`` holds: the world's manifests, and
    what that cluster keeps in every namespace (its ``default`` ServiceAccount, its CA bundle),
    which a restore finds there already in the namespace it creates."""

    def identity(manifest: Manifest) -> tuple[str, str]:
        return str(manifest.get("kind")), str((manifest.get("metadata") or {}).get("name"))

    named = {identity(m) for m in manifests}
    kept = namespace_defaults(namespace, emulator.ca_pem)
    return [*manifests, *(o for o in kept if identity(o) not in named)]


def _seed_backup(
    emulator: KubeEmulator,
    key: str,
    backup: BackupPlan,
    contents: dict[str, list[Manifest]],
    clock: Clock,
    source: KubeEmulator,
) -> None:
    """``source``: the cluster the backup was taken in."""
    namespaces = sorted(backup.namespaces) or sorted(contents) or ["default"]
    objects = [obj for ns in namespaces for obj in _backed_up(contents.get(ns, []), ns, source)]
    newest = clock.now() - timedelta(seconds=backup.age_s)
    duration_s = backup.duration_s
    location = backup.storage_location
    if backup.schedule is None:
        name = backup.name or f"{key}-{newest:%Y%m%d%H%M%S}"
        emulator.velero.register_backup(
            name,
            objects,
            started_at=newest,
            duration_s=duration_s,
            included_namespaces=namespaces,
            storage_location=location,
        )
        return
    velero = emulator.velero
    velero.add_schedule(
        backup.schedule,
        included_namespaces=namespaces,
        objects=objects,
        storage_location=location,
        ttl_s=backup.kept_s,
    )
    period = timedelta(seconds=backup.period_s)
    for older in reversed(range(SCHEDULE_HISTORY)):
        velero.take_backup(backup.schedule, newest - older * period, duration_s)
    velero.run_every(
        backup.schedule, backup.period_s, duration_s=duration_s, next_at=newest + period
    )
