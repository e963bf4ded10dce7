"""Start the emulators a world needs, seed them, and write the kubeconfig that joins them.

Used two ways: in-process for one ``drill run --sandbox`` (started and stopped around the run),
and by ``drill sandbox up`` in a background process that keeps the world between commands.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from drill.clock import Clock, SystemClock
from drill.sandbox.clouds import CloudProfile, CloudSandbox
from drill.sandbox.emulator import Emulator
from drill.sandbox.kube import HeartbeatWriter, KubeEmulator, Profile, write_kubeconfig
from drill.sandbox.serving import ServingMonitor, ServingTruth
from drill.sandbox.worlds.clusters import (
    DATABASE_HEARTBEAT,
    SCHEDULE_HISTORY,
    BackupPlan,
    ClusterWorld,
    Manifest,
    WorldSpec,
)
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
            for role, world in self.spec.clusters.items():
                emulator = KubeEmulator(clock=self.clock, profile=self.profile)
                emulator.start()
                self.clusters[role] = emulator
                _seed(emulator, world, self.clock)
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


def _seed(emulator: KubeEmulator, world: ClusterWorld, clock: Clock) -> None:
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
    newest = clock.now() - timedelta(seconds=backup.age_s)
    duration_s = min(60.0, backup.age_s / 2)
    if backup.schedule is None:
        name = backup.name or f"{key}-{newest:%Y%m%d%H%M%S}"
        emulator.velero.register_backup(
            name, objects, started_at=newest, duration_s=duration_s, included_namespaces=namespaces
        )
        return
    velero = emulator.velero
    velero.add_schedule(backup.schedule, included_namespaces=namespaces, objects=objects)
    period = timedelta(seconds=backup.period_s)
    for older in reversed(range(SCHEDULE_HISTORY)):
        velero.take_backup(backup.schedule, newest - older * period, duration_s)
    velero.run_every(
        backup.schedule, backup.period_s, duration_s=duration_s, next_at=newest + period
    )
