"""World files: a sandbox's world as YAML a person can read, edit and hand back.

``drill sandbox world PLAN`` prints the world the sandbox derives from the plans (``derive``);
``drill sandbox up --world FILE`` and ``drill run PLAN --sandbox --world FILE`` build the
sandbox from the file instead, as it says, so a plan that does not fit it (a backup too old, a
workload missing from it, a record that does not exist) fails as it would for real. A world
file may also declare faults (``faults:``, names from ``drill sandbox faults``), each armed in
every run against it at a step's start (``at_step``), after a delay from the run's start
(``after``), or before the run.

The file mirrors the world's models (``clusters.WorldSpec``, ``clouds.CloudWorld``) field for
field; only keys made of several parts become list entries holding those parts. Durations are
written as plans write them (``60s``); Kubernetes objects as manifests. Every problem is
reported as ``file:line:col: field: message`` (exit 2), as for plans.

This module only reads and writes the format; ``runtime`` builds the sandbox from the world.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from drill.errors import PlanError, Problem, UsageError
from drill.fieldtypes import Duration
from drill.plan._validate import pydantic_problems_for
from drill.plan._yaml import Located, YamlProblems, load_located
from drill.sandbox.worlds.clouds import (
    BackendWorld,
    BackupSeed,
    BucketWorld,
    CloudWorld,
    HeartbeatSeed,
    ZoneWorld,
)
from drill.sandbox.worlds.clusters import (
    BackupPlan,
    ClusterWorld,
    HeartbeatPlan,
    Manifest,
    StorageLocationPlan,
    WorldSpec,
    derive,
)
from drill.sandbox.worlds.faults import CATALOGUE, FaultSpec
from drill.sandbox.worlds.plans import resolve_both_modes
from providers.protocols import BackendRef, BackendTarget, RecordSet, Setting

WORLD_VERSION: Literal[1] = 1
# A world of a few clusters and zones is tens of kilobytes; this only stops a runaway file.
MAX_WORLD_BYTES = 16 * 2**20
HEADER = """\
# A drill sandbox world: what `drill sandbox up --world FILE` and
# `drill run PLAN --sandbox --world FILE` build, as it says. Edit it to rehearse against what
# you really run: a plan that does not fit it fails as it would for real.
"""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Backup(_Model):
    schedule: str | None = None
    backup: str | None = None  # a named backup (no schedule); None: named after its start
    velero_namespace: str = "velero"
    age: Duration = Field(description="how old the newest backup is when the sandbox starts")
    namespaces: list[str] = Field(default_factory=list)
    every: Duration | None = Field(
        default=None, description="how often the schedule makes one; default: twice the age"
    )
    takes: Duration | None = Field(
        default=None, description="how long one takes; default: a minute, at most half the age"
    )
    storage_location: str = "default"
    ttl: Duration | None = Field(
        default=None,
        description="how long each backup is kept (the schedule's ttl); default: ten periods, "
        "at least an hour",
    )
    taken_in: str | None = Field(
        default=None,
        description="the cluster (role) that takes it, whose CA bundle its namespaces hold; "
        "default: the cluster that holds it",
    )


class _StorageLocation(_Model):
    name: str
    velero_namespace: str = "velero"
    phase: Literal["Available", "Unavailable"] = "Available"


class _Heartbeat(_Model):
    namespace: str
    name: str
    key: str
    interval: Duration


class _DatabaseQuery(_Model):
    namespace: str
    job_prefix: str


class _Cluster(_Model):
    backups: dict[str, _Backup] = Field(default_factory=dict)
    contents: dict[str, list[dict[str, Any]]] = Field(default_factory=dict)
    standing: list[dict[str, Any]] = Field(default_factory=list)
    heartbeats: list[_Heartbeat] = Field(default_factory=list)
    database_queries: list[_DatabaseQuery] = Field(default_factory=list)
    storage_locations: list[_StorageLocation] = Field(default_factory=list)


class _BucketBackup(_Model):
    prefix: str
    size: int = Field(ge=0)
    age: Duration
    timestamp_metadata: str | None = None
    every: Duration | None = None  # how often a backup lands; default: twice the age


class _BucketHeartbeat(_Model):
    prefix: str
    interval: Duration


class _Bucket(_Model):
    cloud: Literal["gcp", "aws"]
    name: str
    region: str | None = None
    backups: list[_BucketBackup] = Field(default_factory=list)
    heartbeats: list[_BucketHeartbeat] = Field(default_factory=list)


class _Record(_Model):
    name: str
    type: str
    ttl: int = Field(ge=0)
    rrdatas: list[str]


class _Zone(_Model):
    cloud: Literal["gcp", "aws"]
    project: str | None = None
    zone: str
    records: list[_Record] = Field(default_factory=list)
    # The zone's nameservers: only these answer for it. Absent: any nameserver asked does.
    nameservers: list[str] | None = None


class _Target(_Model):
    target: str
    capacity: float = 1.0
    port: int | None = None
    settings: dict[str, Setting] = Field(default_factory=dict)


class _Backend(_Model):
    provider: Literal["gcp", "aws"]
    kind: Literal["backend_service", "target_group", "listener"]
    name: str
    project: str | None = None
    region: str | None = None
    targets: list[_Target]
    known_targets: list[str] = Field(default_factory=list)


class _Cloud(_Model):
    buckets: list[_Bucket] = Field(default_factory=list)
    zones: list[_Zone] = Field(default_factory=list)
    backends: list[_Backend] = Field(default_factory=list)


class _Fault(_Model):
    name: str
    at_step: str | None = None
    after: Duration | None = None

    @field_validator("name")
    @classmethod
    def _known(cls, name: str) -> str:
        if name not in CATALOGUE:
            raise ValueError(f"no fault {name!r}; known: {', '.join(CATALOGUE)}")
        return name


class _WorldFile(_Model):
    version: Literal[1]
    clusters: dict[str, _Cluster] = Field(default_factory=dict)
    cloud: _Cloud = Field(default_factory=_Cloud)
    faults: list[_Fault] = Field(default_factory=list)


# --- reading ----------------------------------------------------------------------------------


def load_world(path: Path) -> tuple[WorldSpec, list[FaultSpec]]:
    """The world and faults ``path`` declares; PlanError (exit 2) with every problem found,
    as ``file:line:col: field: message``."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_WORLD_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"world file {path}: cannot read: {exc.strerror or exc}") from None
    if len(raw) > MAX_WORLD_BYTES:
        raise PlanError([Problem(str(path), 1, 1, "", "larger than a world file can be")])
    try:
        located = load_located(raw.decode("utf-8", errors="replace"), str(path))
    except YamlProblems as exc:
        raise PlanError(exc.problems) from None
    try:
        parsed = _WorldFile.model_validate(located.data)
    except ValidationError as exc:
        raise PlanError(pydantic_problems_for(exc, located, _WorldFile)) from None
    unknown = _taken_in_no_cluster(parsed, located)
    if unknown:
        raise PlanError(unknown)
    faults = [FaultSpec(f.name, f.at_step, f.after) for f in parsed.faults]
    return _spec_of(parsed), faults


def _taken_in_no_cluster(parsed: _WorldFile, located: Located) -> list[Problem]:
    """A backup said to be taken in a cluster the world does not have."""
    roles = ", ".join(sorted(parsed.clusters))
    return [
        located.problem(
            ("clusters", role, "backups", key, "taken_in"),
            f"no cluster {backup.taken_in!r} in this world; its clusters: {roles}",
        )
        for role, cluster in parsed.clusters.items()
        for key, backup in cluster.backups.items()
        if backup.taken_in is not None and backup.taken_in not in parsed.clusters
    ]


def _spec_of(parsed: _WorldFile) -> WorldSpec:
    spec = WorldSpec()
    for role, cluster in parsed.clusters.items():
        spec.clusters[role] = ClusterWorld(
            backups={key: _backup_of(b) for key, b in cluster.backups.items()},
            contents={ns: [dict(m) for m in objects] for ns, objects in cluster.contents.items()},
            standing=[dict(m) for m in cluster.standing],
            heartbeats={
                (h.namespace, h.name): HeartbeatPlan(h.namespace, h.name, h.key, h.interval)
                for h in cluster.heartbeats
            },
            database_queries={(q.namespace, q.job_prefix) for q in cluster.database_queries},
            storage_locations={
                (s.velero_namespace, s.name): StorageLocationPlan(
                    s.velero_namespace, s.name, s.phase == "Available"
                )
                for s in cluster.storage_locations
            },
        )
    spec.cloud = CloudWorld(
        buckets={(b.cloud, b.name): _bucket_of(b) for b in parsed.cloud.buckets},
        zones={(z.cloud, z.project, z.zone): _zone_of(z) for z in parsed.cloud.zones},
        backends={_ref_of(b): _backend_of(b) for b in parsed.cloud.backends},
    )
    return spec


def _backup_of(backup: _Backup) -> BackupPlan:
    return BackupPlan(
        backup.backup,
        backup.schedule,
        backup.velero_namespace,
        backup.age,
        set(backup.namespaces),
        every_s=backup.every,
        takes_s=backup.takes,
        storage_location=backup.storage_location,
        ttl_s=backup.ttl,
        taken_in=backup.taken_in,
    )


def _bucket_of(bucket: _Bucket) -> BucketWorld:
    return BucketWorld(
        bucket.cloud,
        bucket.name,
        bucket.region,
        backups={
            b.prefix: BackupSeed(b.prefix, b.size, b.age, b.timestamp_metadata, b.every)
            for b in bucket.backups
        },
        heartbeats={h.prefix: HeartbeatSeed(h.prefix, h.interval) for h in bucket.heartbeats},
    )


def _zone_of(zone: _Zone) -> ZoneWorld:
    records = {
        (r.name, r.type): RecordSet(r.name, r.type, r.ttl, tuple(r.rrdatas)) for r in zone.records
    }
    nameservers = None if zone.nameservers is None else tuple(zone.nameservers)
    return ZoneWorld(zone.cloud, zone.project, zone.zone, records, nameservers)


def _ref_of(backend: _Backend) -> BackendRef:
    return BackendRef(backend.provider, backend.kind, backend.name, backend.project, backend.region)


def _backend_of(backend: _Backend) -> BackendWorld:
    targets = tuple(
        BackendTarget(t.target, t.capacity, t.port, tuple(t.settings.items()))
        for t in backend.targets
    )
    return BackendWorld(_ref_of(backend), targets, set(backend.known_targets))


# --- writing ----------------------------------------------------------------------------------


def world_yaml(spec: WorldSpec, faults: list[FaultSpec] | None = None) -> str:
    """The world (and faults) as a world file's text; ``load_world`` reads it back equal.
    (Built without validation: the values are the world's own, in seconds.)"""
    document = _WorldFile.model_construct(
        version=WORLD_VERSION,
        clusters={role: _cluster_doc(c) for role, c in sorted(spec.clusters.items())},
        cloud=_cloud_doc(spec.cloud),
        faults=[
            _Fault.model_construct(name=f.name, at_step=f.at_step, after=f.after_s)
            for f in faults or []
        ],
    )
    data = document.model_dump(mode="json", exclude_defaults=True)
    return HEADER + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def _cluster_doc(cluster: ClusterWorld) -> _Cluster:
    return _Cluster.model_construct(
        backups={
            key: _Backup.model_construct(
                schedule=b.schedule,
                backup=b.name,
                velero_namespace=b.velero_namespace,
                age=b.age_s,
                namespaces=sorted(b.namespaces),
                every=b.every_s,
                takes=b.takes_s,
                storage_location=b.storage_location,
                ttl=b.ttl_s,
                taken_in=b.taken_in,
            )
            for key, b in sorted(cluster.backups.items())
        },
        contents={ns: _manifests(objects) for ns, objects in sorted(cluster.contents.items())},
        standing=_manifests(cluster.standing),
        heartbeats=[
            _Heartbeat.model_construct(
                namespace=h.namespace, name=h.name, key=h.key, interval=h.interval_s
            )
            for _, h in sorted(cluster.heartbeats.items())
        ],
        database_queries=[
            _DatabaseQuery.model_construct(namespace=ns, job_prefix=prefix)
            for ns, prefix in sorted(cluster.database_queries)
        ],
        storage_locations=[
            _StorageLocation.model_construct(
                name=s.name,
                velero_namespace=s.velero_namespace,
                phase="Available" if s.available else "Unavailable",
            )
            for _, s in sorted(cluster.storage_locations.items())
        ],
    )


def _manifests(objects: list[Manifest]) -> list[dict[str, Any]]:
    return [dict(obj) for obj in objects]


def _cloud_doc(cloud: CloudWorld) -> _Cloud:
    return _Cloud.model_construct(
        buckets=[
            _Bucket.model_construct(
                cloud="aws" if b.cloud == "aws" else "gcp",
                name=b.name,
                region=b.region,
                backups=[
                    _BucketBackup.model_construct(
                        prefix=s.prefix,
                        size=s.size,
                        age=s.age_s,
                        timestamp_metadata=s.timestamp_metadata,
                        every=s.every_s,
                    )
                    for s in b.backups.values()
                ],
                heartbeats=[
                    _BucketHeartbeat.model_construct(prefix=h.prefix, interval=h.interval_s)
                    for h in b.heartbeats.values()
                ],
            )
            for b in cloud.buckets.values()
        ],
        zones=[
            _Zone.model_construct(
                cloud="aws" if z.cloud == "aws" else "gcp",
                project=z.project,
                zone=z.zone,
                records=[
                    _Record.model_construct(
                        name=r.name, type=r.type, ttl=r.ttl, rrdatas=list(r.rrdatas)
                    )
                    for r in z.records.values()
                ],
                nameservers=None if z.nameservers is None else list(z.nameservers),
            )
            for z in cloud.zones.values()
        ],
        backends=[_backend_doc(b) for b in cloud.backends.values()],
    )


def _backend_doc(backend: BackendWorld) -> _Backend:
    ref = backend.ref
    return _Backend.model_construct(
        provider=ref.provider,
        kind=ref.kind,
        name=ref.name,
        project=ref.project,
        region=ref.region,
        targets=[
            _Target.model_construct(
                target=t.target, capacity=t.capacity, port=t.port, settings=dict(t.settings)
            )
            for t in backend.targets
        ],
        known_targets=sorted(backend.known_targets),
    )


def serving_from_plans(
    world: WorldSpec, plans: Sequence[Path], config_file: str | None = None
) -> WorldSpec:
    """A world file's world with what serves users derived from the plans it is used with.

    A world file does not say which sites serve a switched record (that follows from the plans'
    failover steps, not from the estate), so it is derived from the plans, as for a derived
    world: the primary answers are the records' current values that live mode switches."""
    derived = derive(resolve_both_modes(list(plans), config_file))
    world.cloud.primary_answers.update(derived.cloud.primary_answers)
    world.serving = derived.serving
    return world
