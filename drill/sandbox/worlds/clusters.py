"""Derive a sandbox world from plans: every cluster, backup and workload they refer to.

Any plan a user writes can be rehearsed offline: each context role gets a cluster; every
schedule or backup a plan names exists, Completed, a healthy age old (``healthy_age_s``: a
fifth of the plan's RPO target or freshness limit, at most an hour), holding a small but
complete workload for the namespaces it covers; a schedule has made a backup every twice
that age before (``SCHEDULE_HISTORY`` of them), and keeps making them, so its newest backup
stays within half the target however long the sandbox is up; workloads the live
variant scales already run as standbys. A workload a wait names (``workloads:``) carries the
labels that wait's selector asks for, so the wait really finds it, as it would in a cluster
labelled to match. A heartbeat a probe reads in a restored namespace is written, every probe's
``interval``, in the namespace it is restored from, so each backup captures it as it was then.
A recovery-point Job's query (other than ``kubectl``, which the sandbox runs) reads a stand-in
for the database: a heartbeat ConfigMap written the same way, which the Job's pods print.

This module only decides *what* exists (as plain manifests); ``runtime`` makes it so.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from drill.plan import ExecutionPlan, ResolvedStep
from drill.sandbox.worlds.clouds import (
    MAX_HEALTHY_AGE_S,
    CloudWorld,
    derive_cloud,
    healthy_age_s,
)
from drill.sandbox.worlds.retention import kept_for_s
from drill.sandbox.worlds.serving import ServingWorld, apps_in_selector, derive_serving
from drill.steps.job_recovery_point import JobRecoveryPointParams
from drill.steps.kube_heartbeat import KubeHeartbeatParams
from drill.steps.kube_job import KubeJobParams
from drill.steps.kube_scale import KubeScaleParams
from drill.steps.kube_wait_ready import KubeWaitReadyParams
from drill.steps.velero_backup_fresh import VeleroBackupFreshParams
from drill.steps.velero_restore import VeleroRestoreParams

# Kubernetes manifests are free-form JSON documents by nature; they only travel to the emulator.
Manifest = dict[str, Any]
_SERVICE_IN_URL = re.compile(r"https?://([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.")
STANDBY_REPLICAS = 2
BACKED_UP_REPLICAS = 3
# Backups a schedule has made when the sandbox starts: the newest, and older ones to pick.
SCHEDULE_HISTORY = 3
# The stand-in for the database a recovery-point Job queries: written like a busy table's
# newest row, every few seconds.
DATABASE_HEARTBEAT = ("sandbox-database", "written_at")
DATABASE_WRITE_INTERVAL_S = 10.0


@dataclass
class BackupPlan:
    """A Completed backup to create: ``age_s`` old when the sandbox starts."""

    name: str | None  # None: name it after the schedule and its start time
    schedule: str | None
    velero_namespace: str
    age_s: float
    namespaces: set[str] = field(default_factory=set)
    # As read from a real schedule (``drill sandbox capture``); None: as a healthy one.
    every_s: float | None = None  # how often the schedule makes one
    takes_s: float | None = None  # how long one takes, start to completion
    storage_location: str = "default"
    ttl_s: float | None = None  # the schedule's spec.template.ttl; None: the sandbox's
    # The role whose cluster takes it (what its namespaces hold is that cluster's: its CA
    # bundle); None: the cluster that holds it.
    taken_in: str | None = None

    @property
    def period_s(self) -> float:
        """A schedule makes one every period: unless told, the newest is half a period old, a
        healthy age."""
        return self.every_s if self.every_s is not None else self.age_s * 2

    @property
    def duration_s(self) -> float:
        """How long each backup takes: unless told, a minute at most, never past half its age
        (so it completed before the sandbox started)."""
        return self.takes_s if self.takes_s is not None else min(60.0, self.age_s / 2)

    @property
    def kept_s(self) -> float:
        """How long each backup is kept before Velero deletes it (its TTL): as told, else
        the sandbox's retention of a few periods (``retention.kept_for_s``)."""
        return self.ttl_s if self.ttl_s is not None else kept_for_s(self.period_s)


@dataclass(frozen=True)
class StorageLocationPlan:
    """A Velero BackupStorageLocation and whether Velero can reach its bucket."""

    velero_namespace: str
    name: str
    available: bool = True


@dataclass(frozen=True)
class HeartbeatPlan:
    """A writer refreshing ``namespace/name`` key ``key`` every ``interval_s``."""

    namespace: str
    name: str
    key: str
    interval_s: float


@dataclass
class ClusterWorld:
    backups: dict[str, BackupPlan] = field(default_factory=dict)  # schedule or backup -> plan
    contents: dict[str, list[Manifest]] = field(default_factory=dict)  # source ns -> objects
    standing: list[Manifest] = field(default_factory=list)  # exists before any run
    heartbeats: dict[tuple[str, str], HeartbeatPlan] = field(default_factory=dict)
    # Recovery-point Jobs (namespace, name prefix) whose pods print the database stand-in.
    database_queries: set[tuple[str, str]] = field(default_factory=set)
    # (Velero namespace, name) -> location; unnamed ones are there and Available.
    storage_locations: dict[tuple[str, str], StorageLocationPlan] = field(default_factory=dict)


@dataclass
class WorldSpec:
    clusters: dict[str, ClusterWorld] = field(default_factory=dict)  # role -> world
    cloud: CloudWorld = field(default_factory=CloudWorld)
    serving: ServingWorld = field(default_factory=ServingWorld)

    def cluster(self, role: str) -> ClusterWorld:
        return self.clusters.setdefault(role, ClusterWorld())


def derive(plans: Iterable[ExecutionPlan]) -> WorldSpec:
    """One world that serves every given plan (pass both modes of each)."""
    spec = WorldSpec()
    resolved = list(plans)
    for plan in resolved:
        for role in plan.contexts:
            spec.cluster(role)
        for step in _active(plan):
            _note_backups(spec, step, plan.targets.rpo_s)
    for plan in resolved:
        _note_contents(spec, plan)
        if plan.mode == "live":
            _note_standbys(spec, plan)
    for plan in resolved:  # once every plan's backups have their contents
        if plan.mode == "drill":
            _note_sources(spec, plan)
    spec.cloud = derive_cloud(resolved)
    spec.serving = derive_serving(resolved, spec.cloud.primary_answers)
    return spec


def _active(plan: ExecutionPlan) -> list[ResolvedStep]:
    return [s for s in plan.steps() if s.params is not None and s.context_role]


def _note_backups(spec: WorldSpec, step: ResolvedStep, rpo_target_s: float) -> None:
    params = step.params
    if not isinstance(params, VeleroBackupFreshParams | VeleroRestoreParams) or params is None:
        return
    key = params.schedule or params.backup
    if key is None or step.context_role is None:
        return
    backup = spec.cluster(step.context_role).backups.setdefault(
        key,
        BackupPlan(
            name=params.backup,
            schedule=params.schedule,
            velero_namespace=params.velero_namespace,
            age_s=MAX_HEALTHY_AGE_S,
        ),
    )
    # A healthy world: the backup meets the plan's RPO and freshness check with room to spare,
    # for as long as the sandbox stays up.
    max_age_s = params.max_age if isinstance(params, VeleroBackupFreshParams) else math.inf
    backup.age_s = min(backup.age_s, healthy_age_s(max_age_s, rpo_target_s))
    if isinstance(params, VeleroRestoreParams):
        backup.namespaces |= set(params.include_namespaces or params.namespace_mapping)


def _note_contents(spec: WorldSpec, plan: ExecutionPlan) -> None:
    """Backed-up namespaces hold the workloads that steps later look for in their copies."""
    for restore in _active(plan):
        if not isinstance(restore.params, VeleroRestoreParams) or restore.context_role is None:
            continue
        mapping = restore.params.namespace_mapping
        for source in restore.params.include_namespaces or list(mapping):
            target = mapping.get(source, source)
            names = _names_used_in(plan, restore.context_role, target)
            cluster = spec.cluster(restore.context_role)
            cluster.contents.setdefault(source, [])
            _merge(cluster.contents[source], _workload_objects(source, names))
            _note_heartbeats(cluster, plan, restore.context_role, source, target)


def source_roles(plan: ExecutionPlan, restore_role: str) -> list[str]:
    """The roles whose clusters a restore's namespaces may be backed up from, likeliest first:
    another cluster of the plan (a DR cluster restores a primary's backups through a shared
    storage location), else the restoring cluster itself."""
    return [role for role in plan.contexts if role != restore_role] + [restore_role]


def _note_sources(spec: WorldSpec, plan: ExecutionPlan) -> None:
    """What backups hold runs, now, where they are taken: in the namespace they copy, in the
    first of ``source_roles``. (Events, Jobs and pods stay out: they come and go, and a Job
    made anew would run again.)"""
    for restore in _active(plan):
        if not isinstance(restore.params, VeleroRestoreParams) or restore.context_role is None:
            continue
        held = spec.cluster(restore.context_role).contents
        source = spec.cluster(source_roles(plan, restore.context_role)[0])
        for namespace in restore.params.include_namespaces or list(
            restore.params.namespace_mapping
        ):
            running = [
                copy.deepcopy(o)
                for o in held.get(namespace, [])
                if o["kind"] not in ("Event", "Job", "Pod")
            ]
            _merge(source.standing, running)
    note_where_taken(spec, plan)


def note_where_taken(spec: WorldSpec, plan: ExecutionPlan) -> None:
    """Each backup the plan restores is taken in the first of ``source_roles``, unless the
    world says already where."""
    for restore in _active(plan):
        params = restore.params
        if not isinstance(params, VeleroRestoreParams) or restore.context_role is None:
            continue
        backup = spec.cluster(restore.context_role).backups.get(
            params.schedule or params.backup or ""
        )
        if backup is not None and backup.taken_in is None:
            backup.taken_in = source_roles(plan, restore.context_role)[0]


def _note_heartbeats(
    cluster: ClusterWorld, plan: ExecutionPlan, role: str, source: str, target: str
) -> None:
    """A heartbeat probe reading ``target`` reads what was written in ``source``."""
    for step in _active(plan):
        params = step.params
        if step.context_role != role or getattr(params, "namespace", None) != target:
            continue
        if isinstance(params, JobRecoveryPointParams):
            _note_database(cluster, params, source)
        if not isinstance(params, KubeHeartbeatParams):
            continue
        found = cluster.heartbeats.get((source, params.name))
        interval_s = min(params.interval, found.interval_s) if found else params.interval
        writer = HeartbeatPlan(source, params.name, params.key, interval_s)
        cluster.heartbeats[(source, params.name)] = writer


def _names_used_in(
    plan: ExecutionPlan, role: str, namespace: str
) -> tuple[dict[str, dict[str, str]], set[str]]:
    """(workloads with the labels waits select them by, services) that steps of ``plan``
    expect in ``namespace``."""
    workloads: dict[str, dict[str, str]] = {}
    services: set[str] = set()
    for step in _active(plan):
        params = step.params
        if step.context_role != role or getattr(params, "namespace", None) != namespace:
            continue
        if isinstance(params, KubeScaleParams):
            workloads.setdefault(params.name, {})
        elif isinstance(params, KubeWaitReadyParams):
            for app in apps_in_selector(params.selector):
                workloads.setdefault(app, {})
            for name in params.workloads:
                workloads.setdefault(name, {}).update(selected_labels(params.selector))
        elif isinstance(params, KubeJobParams):
            services |= {
                m.group(1) for arg in params.command for m in _SERVICE_IN_URL.finditer(arg)
            }
    return workloads or {"app": {}}, services


def selected_labels(selector: str) -> dict[str, str]:
    """The labels an equality selector (``a=b,c==d``) asks for; set-based terms ask none."""
    pairs = (part.strip().replace("==", "=") for part in selector.split(","))
    return {
        key.strip(): value.strip()
        for key, sep, value in (p.partition("=") for p in pairs)
        if sep and key and not key.endswith("!") and value
    }


def _note_database(cluster: ClusterWorld, params: JobRecoveryPointParams, source: str) -> None:
    # kubectl runs in the sandbox: it reads what the cluster holds, no stand-in needed.
    if params.command[0].rsplit("/", 1)[-1] == "kubectl":
        return
    name, key = DATABASE_HEARTBEAT
    cluster.heartbeats[(source, name)] = HeartbeatPlan(source, name, key, DATABASE_WRITE_INTERVAL_S)
    cluster.database_queries.add((params.namespace, params.name_prefix))


def _note_standbys(spec: WorldSpec, plan: ExecutionPlan) -> None:
    """What the live variant scales up runs already, small: the warm standby."""
    for step in _active(plan):
        if isinstance(step.params, KubeScaleParams) and step.context_role:
            params = step.params
            labels = _names_used_in(plan, step.context_role, params.namespace)[0]
            manifest = deployment(
                params.namespace, params.name, STANDBY_REPLICAS, labels.get(params.name)
            )
            _merge(spec.cluster(step.context_role).standing, [manifest])


def _merge(into: list[Manifest], objects: list[Manifest]) -> None:
    def key(obj: Manifest) -> tuple[str, str, str]:
        meta = obj["metadata"]
        return str(obj["kind"]), str(meta.get("namespace", "")), str(meta["name"])

    present = {key(obj) for obj in into}
    into.extend(obj for obj in objects if key(obj) not in present)


def _workload_objects(
    namespace: str, names: tuple[dict[str, dict[str, str]], set[str]]
) -> list[Manifest]:
    workloads, services = names
    # A real backup of a namespace holds the Namespace itself and its events too.
    objects: list[Manifest] = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}
    ]
    for name, labels in sorted(workloads.items()):
        objects.append(deployment(namespace, name, BACKED_UP_REPLICAS, labels))
        objects.append(service(namespace, name))
        objects.append(config_map(namespace, f"{name}-config"))
    objects += [service(namespace, name) for name in sorted(services - set(workloads))]
    objects.append(event(namespace, min(workloads)))
    objects += finished_job(namespace, f"{min(workloads)}-migrate")
    return objects


def deployment(
    namespace: str, name: str, replicas: int, selected_by: dict[str, str] | None = None
) -> Manifest:
    """A Deployment whose object and pods carry ``app: NAME`` unless a wait's selector asks
    for other labels (a standby of api-server labelled ``app: api-server``), and always its
    own instance label, so two Deployments of one app never select each other's pods."""
    labels = {"app": name, **(selected_by or {}), "app.kubernetes.io/instance": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": dict(labels)},
            "template": {
                "metadata": {"labels": dict(labels)},
                "spec": {
                    "containers": [
                        {
                            "name": name,
                            "image": f"registry.example.com/{name}:1.0.0",
                            "ports": [{"containerPort": 8080}],
                        }
                    ]
                },
            },
        },
    }


def event(namespace: str, deployment_name: str) -> Manifest:
    """An event of the kind every namespace has: Velero backs events up, never restores them."""
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"{deployment_name}.scaled", "namespace": namespace},
        "involvedObject": {"kind": "Deployment", "namespace": namespace, "name": deployment_name},
        "reason": "ScalingReplicaSet",
        "message": f"Scaled up replica set {deployment_name} to {BACKED_UP_REPLICAS}",
        "type": "Normal",
    }


def finished_job(namespace: str, name: str) -> list[Manifest]:
    """A Job that ran to completion, and its Succeeded pod, as a namespace holds them after a
    migration or a CronJob's run (a CronJob keeps its last three): Velero backs both up and
    restores neither."""
    labels = {"job-name": name}
    template = {
        "metadata": {"labels": dict(labels)},
        "spec": {
            "restartPolicy": "Never",
            "containers": [{"name": "migrate", "image": "registry.example.com/migrate:1.0.0"}],
        },
    }
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
        "spec": {"backoffLimit": 0, "template": template},
        "status": {"succeeded": 1, "completionTime": "2026-01-05T03:00:40Z"},
    }
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": f"{name}-7xk2p", "namespace": namespace, "labels": dict(labels)},
        "spec": template["spec"],
        "status": {"phase": "Succeeded"},
    }
    return [job, pod]


def service(namespace: str, name: str) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": name}},
        "spec": {
            "selector": {"app.kubernetes.io/instance": name},
            "ports": [{"port": 80, "targetPort": 8080, "protocol": "TCP"}],
            "type": "ClusterIP",
        },
    }


def config_map(namespace: str, name: str) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace},
        "data": {"LOG_LEVEL": "info"},
    }
