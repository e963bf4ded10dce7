"""What a plan touches in real clusters and clouds, read (never written) into a sandbox world.

``drill sandbox capture`` uses this: for each of the plan's roles the namespaces its steps name
(their Deployments, StatefulSets, Services and HorizontalPodAutoscalers; never Secrets), the
Velero schedules and backups it checks or restores (the newest Completed one's age, how long
it took, how often the schedule makes one, the namespaces it holds, its storage location and
whether Velero can reach it); the DNS records it switches with their zones' nameservers; the
backend sets it switches; the backups in the buckets it checks, from their listings (names,
sizes, times: never contents).

What cannot be read without writing, or is not in the estate at all, is taken as a derived world
takes it (``clusters.derive``): the heartbeat writers and recovery-point queries the plan's
probes read (their cadence is the plan's), that the backend targets a plan switches to exist,
and what a backup holds: the namespace it copies as it runs now, read where it is taken (another
cluster of the plan, else the restoring one; ``clusters.source_roles``). Velero only lists a
backup's contents through a DownloadRequest, which is a write, and its tarball holds Secrets.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from drill.errors import NotFound
from drill.plan import ExecutionPlan, ResolvedStep
from drill.sandbox.worlds.clouds import BackendWorld, BackupSeed, BucketWorld, ZoneWorld
from drill.sandbox.worlds.clusters import (
    BackupPlan,
    ClusterWorld,
    Manifest,
    StorageLocationPlan,
    WorldSpec,
    derive,
    note_where_taken,
    source_roles,
)
from drill.steps._object_backup import ObjectBackupParams, rendered_prefixes
from drill.steps.backend_switch import BackendSwitchParams
from drill.steps.dns_switch import DnsSwitchParams
from drill.steps.gcs_backup_fresh import GcsBackupFreshParams
from drill.steps.s3_backup_fresh import S3BackupFreshParams
from drill.steps.velero_backup_fresh import VeleroBackupFreshParams
from drill.steps.velero_restore import VeleroRestoreParams
from providers.live import Cloud, LiveProviders
from providers.protocols import BackupInfo, StoredObject

# The kinds a captured namespace keeps: what steps wait for, scale and reach, and the
# autoscalers that bound what a scale keeps.
CAPTURED_KINDS = ("Deployment", "StatefulSet", "Service", "HorizontalPodAutoscaler")
_API_VERSIONS = {"Service": "v1", "HorizontalPodAutoscaler": "autoscaling/v2"}
_COMPLETED = "Completed"
# How far back a bucket's dated folders are listed when the plan's max_age is shorter: enough
# to see a daily job's last two backups, and so its cadence.
_LISTING_WINDOW_S = 3 * 86400.0


@dataclass
class Capture:
    """The world read so far, and what could not be read (one line each, for the user)."""

    world: WorldSpec = field(default_factory=WorldSpec)
    notes: list[str] = field(default_factory=list)


def capture_world(plans: list[ExecutionPlan], providers: LiveProviders, now: datetime) -> Capture:
    """The world ``plans`` (one plan, both modes, roles mapped to contexts) meet now."""
    capture = Capture()
    derived = derive(plans)
    for plan in plans:
        for role in plan.contexts:
            capture.world.cluster(role)
        for step in _steps(plan):
            _capture_step(capture, plan, step, providers, now)
    for plan in plans:
        _capture_namespaces(capture, plan, providers)
    for plan in plans:
        _capture_contents(capture, plan)
        note_where_taken(capture.world, plan)
    for role, cluster in derived.clusters.items():
        mine = capture.world.cluster(role)
        mine.heartbeats.update(cluster.heartbeats)
        mine.database_queries |= cluster.database_queries
    _note_heartbeat_buckets(capture, derived)
    return capture


def _steps(plan: ExecutionPlan) -> Iterator[ResolvedStep]:
    return (s for s in plan.steps() if s.params is not None)


def _capture_step(
    capture: Capture,
    plan: ExecutionPlan,
    step: ResolvedStep,
    providers: LiveProviders,
    now: datetime,
) -> None:
    params = step.params
    if isinstance(params, VeleroBackupFreshParams | VeleroRestoreParams) and step.context_role:
        _capture_backups(capture, plan, step.context_role, params, providers, now)
    elif isinstance(params, DnsSwitchParams):
        _capture_record(capture, params, providers)
    elif isinstance(params, BackendSwitchParams):
        _capture_backends(capture, params, providers)
    elif isinstance(params, GcsBackupFreshParams | S3BackupFreshParams):
        _capture_bucket(capture, params, providers, now)


# --- Velero -----------------------------------------------------------------------------------


def _capture_backups(
    capture: Capture,
    plan: ExecutionPlan,
    role: str,
    params: VeleroBackupFreshParams | VeleroRestoreParams,
    providers: LiveProviders,
    now: datetime,
) -> None:
    key = params.schedule or params.backup
    cluster = capture.world.cluster(role)
    if key is None or key in cluster.backups:
        return
    velero = providers.velero(plan.contexts[role], params.velero_namespace)
    if params.schedule:
        listed = velero.backups(schedule=params.schedule, selector=None)
    else:
        found = velero.backup(key)
        listed = [found] if found else []
    done = sorted(
        (b for b in listed if b.phase == _COMPLETED and b.started_at and b.completed_at),
        key=lambda b: b.started_at or now,
    )
    if not done:
        capture.notes.append(f"{role}: no Completed backup of {key} in {params.velero_namespace}")
        return
    cluster.backups[key] = _backup_plan(params, done, now)
    location = done[-1].storage_location
    info = velero.storage_location(location)
    if info is None:
        capture.notes.append(f"{role}: backup storage location {location} does not exist")
        return
    cluster.storage_locations[(params.velero_namespace, location)] = StorageLocationPlan(
        params.velero_namespace, location, info.phase == "Available"
    )


def _backup_plan(
    params: VeleroBackupFreshParams | VeleroRestoreParams, done: list[BackupInfo], now: datetime
) -> BackupPlan:
    newest = done[-1]
    assert newest.started_at is not None
    assert newest.completed_at is not None
    every = None
    if len(done) > 1 and done[-2].started_at is not None:
        every = (newest.started_at - done[-2].started_at).total_seconds()
    namespaces = set(newest.included_namespaces) - {"*"}
    return BackupPlan(
        name=params.backup,
        schedule=params.schedule,
        velero_namespace=params.velero_namespace,
        age_s=_age_s(now, newest.started_at),
        namespaces=namespaces,
        every_s=every if every and every > 0 else None,
        takes_s=max((newest.completed_at - newest.started_at).total_seconds(), 0.0),
        storage_location=newest.storage_location,
    )


# --- namespaces and what backups hold ---------------------------------------------------------


def _named_namespaces(plan: ExecutionPlan) -> dict[str, set[str]]:
    """role -> the namespaces the plan's steps name there (and the ones its restores copy)."""
    named: dict[str, set[str]] = {}
    for step in _steps(plan):
        if step.context_role is None:
            continue
        params = step.params
        found = named.setdefault(step.context_role, set())
        if isinstance(params, VeleroRestoreParams):
            sources = set(params.include_namespaces or params.namespace_mapping)
            found |= sources | set(params.namespace_mapping.values())
            for role in source_roles(plan, step.context_role):
                named.setdefault(role, set()).update(sources)
        namespace = getattr(params, "namespace", None)
        if isinstance(namespace, str) and namespace:
            found.add(namespace)
    return named


def _capture_namespaces(capture: Capture, plan: ExecutionPlan, providers: LiveProviders) -> None:
    for role, namespaces in _named_namespaces(plan).items():
        kube = providers.kube_reader(plan.contexts[role])
        standing = capture.world.cluster(role).standing
        for namespace in sorted(namespaces):
            if kube.get_namespace(namespace) is None:
                continue
            objects = [_namespace_manifest(namespace)]
            for kind in CAPTURED_KINDS:
                objects += [_kept(kind, item) for item in kube.objects(kind, namespace)]
            _add_new(standing, objects)


def _capture_contents(capture: Capture, plan: ExecutionPlan) -> None:
    """A backup holds its namespaces as they run where it is taken."""
    for step in _steps(plan):
        params = step.params
        if not isinstance(params, VeleroRestoreParams) or step.context_role is None:
            continue
        contents = capture.world.cluster(step.context_role).contents
        for namespace in params.include_namespaces or list(params.namespace_mapping):
            if namespace in contents:
                continue
            running = _running_in(capture.world, source_roles(plan, step.context_role), namespace)
            if running is None:
                capture.notes.append(
                    f"{step.context_role}: namespace {namespace}, which {step.id} restores, runs "
                    "in none of the plan's clusters: its backups are written as holding nothing"
                )
                running = []
            contents[namespace] = running


def _running_in(world: WorldSpec, roles: Iterable[str], namespace: str) -> list[Manifest] | None:
    for role in roles:
        cluster = world.clusters.get(role) or ClusterWorld()
        objects = [o for o in cluster.standing if _namespace_of(o) == namespace]
        if objects:
            return [dict(o) for o in objects]
    return None


def _namespace_of(manifest: Manifest) -> str:
    meta = manifest.get("metadata") or {}
    if manifest.get("kind") == "Namespace":
        return str(meta.get("name", ""))
    return str(meta.get("namespace", ""))


def _add_new(into: list[Manifest], objects: list[Manifest]) -> None:
    present = {(o["kind"], _namespace_of(o), o["metadata"]["name"]) for o in into}
    for obj in objects:
        if (obj["kind"], _namespace_of(obj), obj["metadata"]["name"]) not in present:
            into.append(obj)


def _namespace_manifest(name: str) -> Manifest:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


# Per kind, the spec fields kept as they are besides a workload's replicas, selector and
# template: what its pods are reached by, and how fast a rollout or a scale-up goes.
_KEPT_SPEC = {
    "HorizontalPodAutoscaler": ("scaleTargetRef", "minReplicas", "maxReplicas"),
    "Service": ("selector", "ports", "type"),
    "Deployment": ("minReadySeconds", "progressDeadlineSeconds", "strategy"),
    "StatefulSet": ("serviceName", "minReadySeconds", "podManagementPolicy", "updateStrategy"),
}


def _kept(kind: str, item: dict[str, Any]) -> Manifest:
    """The fields of a listed object a world keeps: names, labels, replicas, selectors, the
    pod template's labels and containers' images and ports, what sets the pace of a rollout;
    service ports; an autoscaler's target and bounds. Nothing else (no env, no annotations,
    no metrics, no status)."""
    meta = item.get("metadata") or {}
    spec = item.get("spec") or {}
    kept: Manifest = {
        "apiVersion": _API_VERSIONS.get(kind, "apps/v1"),
        "kind": kind,
        "metadata": _meta(meta),
        "spec": {key: spec[key] for key in _KEPT_SPEC[kind] if spec.get(key) is not None},
    }
    if kind in ("Deployment", "StatefulSet"):
        template = spec.get("template") or {}
        kept["spec"] |= {
            "replicas": spec.get("replicas", 1),
            "selector": spec.get("selector") or {},
            "template": {
                "metadata": {"labels": dict((template.get("metadata") or {}).get("labels") or {})},
                "spec": {"containers": [_container(c) for c in _containers(template)]},
            },
        }
    return kept


def _meta(meta: dict[str, Any]) -> dict[str, Any]:
    kept = {"name": meta.get("name"), "namespace": meta.get("namespace")}
    if meta.get("labels"):
        kept["labels"] = dict(meta["labels"])
    return kept


def _containers(template: dict[str, Any]) -> list[dict[str, Any]]:
    return list((template.get("spec") or {}).get("containers") or [])


def _container(container: dict[str, Any]) -> dict[str, Any]:
    kept = {"name": container.get("name"), "image": container.get("image")}
    ports = [
        {k: p[k] for k in ("name", "containerPort", "protocol") if k in p}
        for p in container.get("ports") or []
    ]
    if ports:
        kept["ports"] = ports
    return kept


# --- clouds -----------------------------------------------------------------------------------


def _capture_record(capture: Capture, params: DnsSwitchParams, providers: LiveProviders) -> None:
    key = (params.provider, params.project, params.zone)
    zones = capture.world.cloud.zones
    if key not in zones:
        dns_zones = providers.dns_zones(params.provider, params.project)
        # The sandbox serves Cloud DNS zones from their own nameservers; Route53 zones it
        # answers from none, so their nameservers would be a promise it cannot keep.
        nameservers = dns_zones.nameservers(params.zone) if params.provider == "gcp" else None
        zones[key] = ZoneWorld(params.provider, params.project, params.zone, {}, nameservers)
    zone = zones[key]
    if (params.record, params.type) in zone.records:
        return
    found = providers.dns(params.provider, params.project).get_record(
        params.zone, params.record, params.type
    )
    if found is None:
        capture.notes.append(f"zone {params.zone}: no {params.type} record {params.record}")
        return
    zone.records[(params.record, params.type)] = found


def _capture_backends(
    capture: Capture, params: BackendSwitchParams, providers: LiveProviders
) -> None:
    ref = params.ref()
    wanted = {t.target for t in params.targets()}
    known = capture.world.cloud.backends.get(ref)
    if known is not None:
        known.known_targets |= wanted
        return
    try:
        state = providers.backends(ref.provider).get_backends(ref)
    except NotFound:
        capture.notes.append(f"backend {ref.name}: not found")
        return
    current = {t.target for t in state.targets}
    capture.world.cloud.backends[ref] = BackendWorld(ref, tuple(state.targets), current | wanted)


def _capture_bucket(
    capture: Capture, params: ObjectBackupParams, providers: LiveProviders, now: datetime
) -> None:
    cloud: Cloud = "gcp" if isinstance(params, GcsBackupFreshParams) else "aws"
    region = params.region if isinstance(params, S3BackupFreshParams) else None
    project = params.project if isinstance(params, GcsBackupFreshParams) else None
    bucket = capture.world.cloud.buckets.setdefault(
        (cloud, params.bucket), BucketWorld(cloud, params.bucket, region)
    )
    if params.prefix in bucket.backups:
        return
    store = providers.object_store(cloud, project, region)
    window = max(params.max_age, _LISTING_WINDOW_S)
    try:
        listed = [
            obj
            for prefix in rendered_prefixes(params.prefix, now, window)
            for obj in store.list_objects(params.bucket, prefix)
        ]
    except NotFound:
        capture.notes.append(f"bucket {params.bucket}: not found")
        del capture.world.cloud.buckets[(cloud, params.bucket)]
        return
    seed = _backup_seed(params, sorted(listed, key=lambda o: o.created_at), now)
    if seed is None:
        capture.notes.append(f"bucket {params.bucket}: nothing under {params.prefix}")
        return
    bucket.backups[params.prefix] = seed


def _backup_seed(
    params: ObjectBackupParams, objects: list[StoredObject], now: datetime
) -> BackupSeed | None:
    if not objects:
        return None
    newest = objects[-1]
    every = None
    if len(objects) > 1:
        every = (newest.created_at - objects[-2].created_at).total_seconds() or None
    age = _age_s(now, newest.created_at)
    return BackupSeed(params.prefix, newest.size, age, params.timestamp_metadata, every)


def _note_heartbeat_buckets(capture: Capture, derived: WorldSpec) -> None:
    """Heartbeat writers (the plan's probes read them) are taken as a derived world takes
    them; their buckets must be there."""
    for key, bucket in derived.cloud.buckets.items():
        if not bucket.heartbeats:
            continue
        mine = capture.world.cloud.buckets.setdefault(
            key, BucketWorld(bucket.cloud, bucket.name, bucket.region)
        )
        mine.heartbeats.update(bucket.heartbeats)


def _age_s(now: datetime, then: datetime) -> float:
    """Whole seconds, rounded up: the stores keep whole seconds, and a rehearsal should meet
    a backup at least as old as the real one."""
    return float(max(math.ceil((now - then).total_seconds()), 0))
