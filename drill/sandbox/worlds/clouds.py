"""The cloud half of a sandbox world: buckets with fresh backups, DNS zones, load balancers.

Every bucket a backup check names holds a backup, a healthy age old, in the folder its prefix
template names; every prefix a heartbeat probe reads gets a heartbeat object every probe's
``interval``; every record a DNS switch names exists with a plausible current value unlike
the plan's target; every backend service, target group or listener exists, serving from a
primary the plan moves traffic away from. Both modes of every plan are merged into one world,
so a drill and a live run of the same plan meet the same state.

This module only decides *what* exists; ``runtime`` makes it so on the emulators.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from drill.plan import ExecutionPlan
from drill.sandbox.worlds.retention import kept_for_s
from drill.steps._object_backup import ObjectBackupParams, rendered_prefixes
from drill.steps._object_heartbeat import ObjectHeartbeatParams
from drill.steps.backend_switch import BackendSwitchParams
from drill.steps.dns_switch import DEFAULT_TTL_S, DnsSwitchParams
from drill.steps.gcs_backup_fresh import GcsBackupFreshParams
from drill.steps.gcs_heartbeat import GcsHeartbeatParams
from drill.steps.s3_backup_fresh import S3BackupFreshParams
from drill.steps.s3_heartbeat import S3HeartbeatParams
from providers.protocols import BackendRef, BackendTarget, RecordSet

# Real backups are megabytes; the sandbox keeps bytes in memory, so it caps what it writes.
MAX_SEEDED_OBJECT = 64 * 2**20
PRIMARY_ADDRESSES = ("203.0.113.10", "203.0.113.11")  # TEST-NET-3: never routed
# Where a drill's shadow record points between drills: nothing serves there.
PARKED_ADDRESSES = ("192.0.2.10", "192.0.2.11")  # TEST-NET-1
PRIMARY_GROUP_SETTINGS = (("balancingMode", "UTILIZATION"), ("maxUtilization", 0.8))
# The newest backup's age at start, as a share of the tighter of the RPO target and the
# freshness limit (see ``healthy_age_s``); never more than an hour.
HEALTHY_AGE_SHARE = 0.2
MAX_HEALTHY_AGE_S = 3600.0


@dataclass
class BackupSeed:
    """A backup job's output: a new object every ``period_s``, the newest ``age_s`` old."""

    prefix: str  # may hold date templates, rendered with the backup's own time
    size: int
    age_s: float
    timestamp_metadata: str | None = None
    every_s: float | None = None  # as read from a real bucket; None: a healthy job's

    @property
    def period_s(self) -> float:
        return self.every_s if self.every_s is not None else self.age_s * 2

    @property
    def kept_s(self) -> float:
        """How long each backup object stays in the bucket (its lifecycle rule)."""
        return kept_for_s(self.period_s)

    def object_at(self, taken: datetime) -> tuple[str, dict[str, str]]:
        """The object name and metadata of the backup taken at ``taken``."""
        folder = rendered_prefixes(self.prefix, taken, 0)[0]
        metadata = {self.timestamp_metadata: taken.isoformat()} if self.timestamp_metadata else {}
        return f"{folder}backup-{taken:%Y%m%dT%H%M%SZ}.dump", metadata


@dataclass
class HeartbeatSeed:
    """A heartbeat writer: an object under ``prefix`` every ``interval_s``, named by its time
    (so names sort by time) and holding that time in ISO 8601."""

    prefix: str
    interval_s: float

    @property
    def kept_s(self) -> float:
        """How long each heartbeat object stays in the bucket."""
        return kept_for_s(self.interval_s)

    def object_at(self, written: datetime) -> tuple[str, bytes]:
        return f"{self.prefix}{written:%Y%m%dT%H%M%S.%f}Z", written.isoformat().encode()


@dataclass
class BucketWorld:
    cloud: str  # gcp | aws
    name: str
    region: str | None = None
    backups: dict[str, BackupSeed] = field(default_factory=dict)  # by prefix
    heartbeats: dict[str, HeartbeatSeed] = field(default_factory=dict)  # by prefix


@dataclass
class ZoneWorld:
    cloud: str
    project: str | None
    zone: str  # Cloud DNS zone name, or the Route53 zone's domain
    records: dict[tuple[str, str], RecordSet] = field(default_factory=dict)
    # The nameservers that serve the zone, as the zone says; None: every nameserver asked
    # answers for it (a derived world does not know them).
    nameservers: tuple[str, ...] | None = None

    @property
    def dns_name(self) -> str:
        """The zone's domain: named outright (Route53) or the records' common suffix."""
        if self.zone.endswith("."):
            return self.zone
        labels = [name.rstrip(".").split(".") for name, _ in self.records]
        common: list[str] = []
        for parts in zip(*(reversed(p) for p in labels), strict=False):
            if len(set(parts)) != 1:
                break
            common.insert(0, parts[0])
        return ".".join(common[-2:] if len(common) > 2 else common) + "."


@dataclass
class BackendWorld:
    ref: BackendRef
    targets: tuple[BackendTarget, ...]  # what serves before any run
    # Everything the plan may point at must exist: instance groups, target groups, targets.
    known_targets: set[str] = field(default_factory=set)


@dataclass
class CloudWorld:
    buckets: dict[tuple[str, str], BucketWorld] = field(default_factory=dict)
    zones: dict[tuple[str, str | None, str], ZoneWorld] = field(default_factory=dict)
    backends: dict[BackendRef, BackendWorld] = field(default_factory=dict)
    # The current answers of records live mode switches: the primary region, which serves.
    primary_answers: set[str] = field(default_factory=set)

    def empty(self) -> bool:
        return not (self.buckets or self.zones or self.backends)

    def uses(self, cloud: str) -> bool:
        return any(key[0] == cloud for key in (*self.buckets, *self.zones)) or any(
            ref.provider == cloud for ref in self.backends
        )


def derive_cloud(plans: list[ExecutionPlan]) -> CloudWorld:
    world = CloudWorld()
    for plan in plans:
        for step in plan.steps():
            params = step.params
            if isinstance(params, GcsBackupFreshParams | S3BackupFreshParams):
                _note_backup(world, params, plan.targets.rpo_s)
            elif isinstance(params, GcsHeartbeatParams | S3HeartbeatParams):
                _note_heartbeat(world, params)
            elif isinstance(params, DnsSwitchParams):
                _note_record(world, params, plan.mode)
            elif isinstance(params, BackendSwitchParams):
                _note_backends(world, params)
    return world


def healthy_age_s(max_age_s: float, rpo_target_s: float) -> float:
    """How old the newest backup is when the sandbox starts: half a period of a healthy
    schedule. A schedule makes one every ``2 * age`` and a backup takes at most ``age / 2``, so
    however long the sandbox stays up its newest backup is never older than ``2.5 * age``: half
    the RPO target and half the freshness limit. A long-lived sandbox never drifts towards a
    missed target or a thin margin (``drill history`` would flag one) only by ageing."""
    share = min(max_age_s, rpo_target_s) * HEALTHY_AGE_SHARE
    return max(min(share, MAX_HEALTHY_AGE_S), 30.0)


def _note_backup(world: CloudWorld, params: ObjectBackupParams, rpo_target_s: float) -> None:
    cloud = "gcp" if isinstance(params, GcsBackupFreshParams) else "aws"
    region = params.region if isinstance(params, S3BackupFreshParams) else None
    key = (cloud, params.bucket)
    bucket = world.buckets.setdefault(key, BucketWorld(cloud, params.bucket, region))
    age_s = healthy_age_s(params.max_age, rpo_target_s)
    size = min(max(params.min_size * 2, 4096), MAX_SEEDED_OBJECT)
    seed = bucket.backups.setdefault(
        params.prefix, BackupSeed(params.prefix, size, age_s, params.timestamp_metadata)
    )
    seed.size = max(seed.size, size)
    seed.age_s = min(seed.age_s, age_s)
    seed.timestamp_metadata = seed.timestamp_metadata or params.timestamp_metadata


def _note_heartbeat(world: CloudWorld, params: ObjectHeartbeatParams) -> None:
    cloud = "gcp" if isinstance(params, GcsHeartbeatParams) else "aws"
    region = params.region if isinstance(params, S3HeartbeatParams) else None
    bucket = world.buckets.setdefault(
        (cloud, params.bucket), BucketWorld(cloud, params.bucket, region)
    )
    seed = bucket.heartbeats.setdefault(
        params.prefix, HeartbeatSeed(params.prefix, params.interval)
    )
    seed.interval_s = min(seed.interval_s, params.interval)


def _note_record(world: CloudWorld, params: DnsSwitchParams, mode: str) -> None:
    """A record live mode switches answers with the primary region; a drill's shadow record
    with a parked address."""
    key = (params.provider, params.project, params.zone)
    zone = world.zones.setdefault(key, ZoneWorld(params.provider, params.project, params.zone))
    if (params.record, params.type) in zone.records:
        return
    answer = _current_answer(params) if mode == "live" else _parked_answer(params)
    zone.records[(params.record, params.type)] = RecordSet(
        name=params.record, type=params.type, ttl=DEFAULT_TTL_S, rrdatas=answer
    )
    if mode == "live":
        world.primary_answers.update(answer)


def _current_answer(params: DnsSwitchParams) -> tuple[str, ...]:
    if params.type == "CNAME":
        return (f"primary.{params.record.split('.', 1)[1]}",)
    if params.type == "AAAA":
        return ("2001:db8::10",)
    return tuple(a for a in PRIMARY_ADDRESSES if a not in params.rrdatas)[:1] or ("198.51.100.10",)


def _parked_answer(params: DnsSwitchParams) -> tuple[str, ...]:
    if params.type == "CNAME":
        return (f"parked.{params.record.split('.', 1)[1]}",)
    if params.type == "AAAA":
        return ("2001:db8::dead",)
    return tuple(a for a in PARKED_ADDRESSES if a not in params.rrdatas)[:1] or ("192.0.2.99",)


def _note_backends(world: CloudWorld, params: BackendSwitchParams) -> None:
    ref = params.ref()
    wanted = params.targets()
    backend = world.backends.get(ref)
    if backend is None:
        backend = world.backends[ref] = BackendWorld(ref, _serving_before(ref, wanted))
    backend.known_targets |= {t.target for t in wanted} | {t.target for t in backend.targets}


def _serving_before(
    ref: BackendRef, wanted: tuple[BackendTarget, ...]
) -> tuple[BackendTarget, ...]:
    """What serves now: what the plan drains (capacity 0) at full capacity, else a primary."""
    full = 100.0 if ref.kind == "listener" else 1.0
    settings = PRIMARY_GROUP_SETTINGS if ref.kind == "backend_service" else ()
    drained = tuple(
        BackendTarget(t.target, full, t.port, settings) for t in wanted if t.capacity == 0
    )
    return drained or (BackendTarget(_primary(ref, wanted), full, _port(wanted), settings),)


def _primary(ref: BackendRef, wanted: tuple[BackendTarget, ...]) -> str:
    if ref.kind == "backend_service":
        project = ref.project or "sandbox"
        return f"projects/{project}/zones/us-central1-a/instanceGroups/{ref.name}-primary"
    if ref.kind == "listener":
        return f"{ref.name.split(':')[0]}-primary"
    return "10.0.0.10"  # an ip target of the primary region


def _port(wanted: tuple[BackendTarget, ...]) -> int | None:
    return next((t.port for t in wanted if t.port), None)
