"""What drill needs from each external system, as small Protocols over drill's own models.

Steps depend on these, never on an SDK. A test can satisfy any of them with a few lines of
in-memory fake; the real adapters live beside this module. Every method raises only
``drill.errors.TransientError`` or ``PermanentError`` for failures of the remote side.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

# --- HTTP -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HttpResponse:
    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)


class HttpClient(Protocol):
    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        body: bytes | None,
        timeout_s: float,
    ) -> HttpResponse:
        """One request, no retries. Connection failures and timeouts raise TransientError."""
        ...


# --- Kubernetes -------------------------------------------------------------------------------

WorkloadKind = Literal["Deployment", "StatefulSet"]


@dataclass(frozen=True)
class WorkloadStatus:
    """A Deployment's or StatefulSet's spec and status, as far as a rollout is concerned."""

    kind: WorkloadKind
    namespace: str
    name: str
    desired: int  # spec.replicas
    ready: int
    updated: int  # pods of the current template
    available: int
    conditions: Sequence[str] = ()  # "Available=False: MinimumReplicasUnavailable"
    # metadata.generation and status.observedGeneration: the spec asked for and the one the
    # controller has acted on. Until they meet, the counts describe the spec before.
    generation: int = 1
    observed_generation: int = 1
    pods: int | None = None  # status.replicas: pods of every template; None: not reported
    # StatefulSet only: a RollingUpdate's partition (ordinals below it keep the old template);
    # None for OnDelete, where every pod must be replaced by hand.
    partition: int | None = 0
    paused: bool = False  # Deployment only: spec.paused, nothing rolls out until resumed

    @property
    def rollout_pending(self) -> str | None:
        """What the rollout still waits for, judged as `kubectl rollout status` judges it; None
        when it is done. Ready replicas are counted apart (``rolled_out``)."""
        if self.observed_generation < self.generation or (
            self.kind == "StatefulSet" and self.observed_generation == 0
        ):
            return "the controller has not yet acted on the latest spec"
        wanted = self.desired - (self.partition or 0)
        if self.updated < wanted:
            return f"{self.updated} of {wanted} replicas run the current template"
        if self.kind == "StatefulSet":
            return None
        if self.pods is not None and self.pods > self.updated:
            return f"{self.pods - self.updated} old replicas pending termination"
        if self.available < self.updated:
            return f"{self.available} of {self.updated} updated replicas available"
        return None

    @property
    def rolled_out(self) -> bool:
        """Every desired replica ready, and the rollout done."""
        return self.ready >= self.desired and self.rollout_pending is None


@dataclass(frozen=True)
class AutoscalerInfo:
    """A HorizontalPodAutoscaler: it keeps its target's replicas within these bounds."""

    name: str
    min_replicas: int
    max_replicas: int


@dataclass(frozen=True)
class NamespaceInfo:
    name: str
    phase: str  # Active | Terminating
    labels: Mapping[str, str]


@dataclass(frozen=True)
class JobSpec:
    namespace: str
    name: str
    image: str
    command: Sequence[str]
    env: Mapping[str, str]
    labels: Mapping[str, str]
    active_deadline_s: int


@dataclass(frozen=True)
class JobStatus:
    name: str
    state: Literal["running", "succeeded", "failed"]
    message: str = ""
    # While it runs: why its pods are not running, as their status says ("smoke-x7k2p:
    # ImagePullBackOff: Back-off pulling image ..."); empty when they run or it is not known.
    waiting: Sequence[str] = ()


@dataclass(frozen=True)
class LeaseInfo:
    name: str
    namespace: str
    holder: str
    renewed_at: datetime | None
    duration_s: int


class KubeApi(Protocol):
    """One kube context."""

    def server_version(self) -> str:
        """Cheap reachability probe; the error names DNS, TLS, auth or timeout as the cause."""
        ...

    def service_request(
        self,
        namespace: str,
        segment: str,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str],
        timeout_s: float,
    ) -> HttpResponse:
        """One request to a Service (``segment``: ``[scheme:]name:port``) through the API
        server's services/proxy subresource: the Service's answer, whatever its status. The
        API server's own refusals (no such Service, no endpoint, forbidden) raise, naming it."""
        ...

    def get_replicas(self, kind: WorkloadKind, namespace: str, name: str) -> int: ...

    def set_replicas(self, kind: WorkloadKind, namespace: str, name: str, replicas: int) -> None:
        """Through the scale subresource, so nothing else in the object changes."""
        ...

    def autoscalers_of(self, kind: WorkloadKind, namespace: str, name: str) -> list[AutoscalerInfo]:
        """The HorizontalPodAutoscalers whose target is this workload (none where the cluster
        serves no autoscaling/v2)."""
        ...

    def workloads(self, namespace: str, selector: str) -> list[WorkloadStatus]: ...

    def watch_workloads(
        self, namespace: str, selector: str, timeout_s: float
    ) -> Iterator[list[WorkloadStatus]]:
        """Yields the full current list after every change, until ``timeout_s``."""
        ...

    def get_namespace(self, name: str) -> NamespaceInfo | None: ...

    def create_namespace(self, name: str, labels: Mapping[str, str]) -> None: ...

    def delete_namespace(self, name: str) -> None: ...

    def create_job(self, spec: JobSpec) -> None: ...

    def watch_job(self, namespace: str, name: str, timeout_s: float) -> Iterator[JobStatus]: ...

    def job_logs(self, namespace: str, name: str, tail_lines: int) -> str: ...

    def job_labels(self, namespace: str, name: str) -> Mapping[str, str] | None:
        """The labels of Job ``namespace/name``; None when there is no such Job."""
        ...

    def delete_job(self, namespace: str, name: str) -> None: ...

    def config_map_data(self, namespace: str, name: str) -> Mapping[str, str] | None:
        """The ``data`` of ConfigMap ``namespace/name``; None when there is no such ConfigMap."""
        ...

    def put_config_map_value(
        self, namespace: str, name: str, key: str, value: str, labels: Mapping[str, str]
    ) -> None:
        """Set ``key`` of ConfigMap ``namespace/name`` to ``value``, keeping its other keys;
        create the ConfigMap (with ``labels``) when there is none."""
        ...

    def delete_labelled(
        self,
        namespace: str,
        selector: str,
        kinds: Sequence[str],
        *,
        created_since: datetime | None = None,
    ) -> list[str]:
        """Delete the objects of ``kinds`` (Deployment, Service, ...) in ``namespace`` that the
        label ``selector`` matches, each exactly as listed (by uid, so an object replaced since
        is left alone), skipping any created before ``created_since``. Kinds the server does
        not serve are skipped. Returns what was deleted, as "Kind name"."""
        ...

    def labelled(
        self,
        namespace: str,
        selector: str,
        kinds: Sequence[str],
        *,
        created_since: datetime | None = None,
    ) -> list[str]:
        """What ``delete_labelled`` with the same arguments would delete, as "Kind name";
        reads only."""
        ...

    def acquire_lease(self, namespace: str, name: str, holder: str, duration_s: int) -> LeaseInfo:
        """Takes the lease, or raises PermanentError naming the current holder."""
        ...

    def release_lease(self, namespace: str, name: str, holder: str) -> None: ...

    def read_lease(self, namespace: str, name: str) -> LeaseInfo | None: ...


# --- Velero -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BackupInfo:
    name: str
    phase: str
    storage_location: str
    started_at: datetime | None
    completed_at: datetime | None
    schedule: str | None
    included_namespaces: Sequence[str] = ()


@dataclass(frozen=True)
class StorageLocationInfo:
    name: str
    phase: str  # Available | Unavailable
    last_validated_at: datetime | None


@dataclass(frozen=True)
class RestoreRequest:
    name: str
    backup_name: str | None
    schedule_name: str | None
    included_namespaces: Sequence[str]
    excluded_namespaces: Sequence[str]
    namespace_mapping: Mapping[str, str]
    included_resources: Sequence[str]
    excluded_resources: Sequence[str]
    label_selector: str | None
    restore_pvs: bool
    include_cluster_resources: bool
    existing_resource_policy: Literal["none", "update"]
    labels: Mapping[str, str]
    # How long Velero waits for one item's async operations (plugins, data movers); None: its
    # own default.
    item_operation_timeout_s: float | None = None


@dataclass(frozen=True)
class RestoreStatus:
    name: str
    phase: str
    warnings: int = 0
    errors: int = 0
    items_restored: int = 0
    total_items: int = 0
    failure_reason: str = ""
    validation_errors: Sequence[str] = ()
    started_at: datetime | None = None
    completed_at: datetime | None = None

    TERMINAL = frozenset({"Completed", "PartiallyFailed", "Failed", "FailedValidation"})

    @property
    def terminal(self) -> bool:
        return self.phase in self.TERMINAL


class VeleroApi(Protocol):
    """Velero CRs in one kube context's Velero namespace."""

    def backups(self, *, schedule: str | None, selector: str | None) -> list[BackupInfo]: ...

    def backup(self, name: str) -> BackupInfo | None: ...

    def storage_location(self, name: str) -> StorageLocationInfo | None: ...

    def create_restore(self, request: RestoreRequest) -> None: ...

    def watch_restore(self, name: str, timeout_s: float) -> Iterator[RestoreStatus]: ...

    def restore(self, name: str) -> RestoreStatus | None:
        """Restore ``name`` as it is now; None when there is none."""
        ...

    def delete_restore(self, name: str) -> None: ...

    def download(self, kind: str, name: str, timeout_s: float) -> bytes:
        """A file Velero keeps in the backup bucket, through a DownloadRequest (``kind``: its
        target kind, e.g. ``BackupResourceList``; ``name``: the backup or restore), unzipped.
        Raises a ProviderError that says why it could not be had."""
        ...


# --- Object storage ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredObject:
    bucket: str
    name: str
    size: int
    created_at: datetime
    metadata: Mapping[str, str]


class ObjectStore(Protocol):
    """One cloud's object storage (GCS or S3)."""

    def list_objects(self, bucket: str, prefix: str) -> Iterator[StoredObject]:
        """Every object under ``prefix``, all pages. A missing bucket raises NotFound."""
        ...

    def read_object(self, bucket: str, name: str, max_bytes: int) -> bytes:
        """The first ``max_bytes`` bytes of object ``name`` (all of a smaller one). A missing
        object raises NotFound."""
        ...


# --- Changes that finish later ----------------------------------------------------------------


@dataclass(frozen=True)
class PendingChange:
    """A change the cloud accepted: DNS change, Compute operation, Route53 change."""

    id: str
    done: bool
    status: str  # the cloud's own word: pending, done, PENDING, INSYNC, RUNNING, DONE ...


# --- DNS --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordSet:
    name: str  # fully qualified, trailing dot
    type: str
    ttl: int
    rrdatas: tuple[str, ...]

    def same_as(self, other: RecordSet | None) -> bool:
        """Equal as DNS sees it: rrdata order does not matter."""
        return (
            other is not None
            and (self.name, self.type, self.ttl) == (other.name, other.type, other.ttl)
            and sorted(self.rrdatas) == sorted(other.rrdatas)
        )


class DnsApi(Protocol):
    """One provider's DNS (Cloud DNS in one project, or Route53)."""

    def get_record(self, zone: str, name: str, type_: str) -> RecordSet | None:
        """``zone`` is a Cloud DNS managed zone, or a Route53 zone id or domain name."""
        ...

    def change_record(
        self, zone: str, current: RecordSet | None, new: RecordSet | None
    ) -> PendingChange:
        """Replace ``current`` by ``new`` in one change (``None``: absent before / delete).

        Raises Conflict, and applies nothing, when ``current`` is not exactly the live record.
        """
        ...

    def change_status(self, zone: str, change_id: str) -> PendingChange: ...


class DnsZones(Protocol):
    def nameservers(self, zone: str) -> tuple[str, ...]:
        """The nameservers the DNS service serves ``zone`` from."""
        ...


class Resolver(Protocol):
    def resolve(self, name: str, type_: str, nameservers: Sequence[str]) -> tuple[str, ...]:
        """The answer's rrdatas from the given nameservers ("host" or "host:port");
        empty when the name does not exist. Timeouts raise TransientError."""
        ...


# --- Load-balancer backends -------------------------------------------------------------------

BackendKind = Literal["backend_service", "target_group", "listener"]
Setting = str | int | float | bool


@dataclass(frozen=True)
class BackendRef:
    """Which backend set: a GCP backend service, an ELBv2 target group, or an ELBv2 listener.

    ``name`` is the backend service name; a target group name or ARN; a listener ARN or
    ``load-balancer-name:port``. ``region`` makes a GCP service regional and picks the AWS
    region.
    """

    provider: Literal["gcp", "aws"]
    kind: BackendKind
    name: str
    project: str | None = None
    region: str | None = None


@dataclass(frozen=True)
class BackendTarget:
    """One backend: instance group/NEG URL (GCP), target id (target group), or target group
    (listener). ``capacity`` is the capacity scaler (GCP) or forward weight (listener).
    ``settings`` carries what drill does not manage (balancing mode, ...) so undo puts back
    exactly what was there."""

    target: str
    capacity: float = 1.0
    port: int | None = None
    settings: tuple[tuple[str, Setting], ...] = ()

    def key(self) -> tuple[str, float, int | None]:
        return (self.target, self.capacity, self.port)


@dataclass(frozen=True)
class BackendState:
    ref: BackendRef
    targets: tuple[BackendTarget, ...]

    def same_targets(self, other: Sequence[BackendTarget]) -> bool:
        return sorted(t.key() for t in self.targets) == sorted(t.key() for t in other)


class BackendApi(Protocol):
    def get_backends(self, ref: BackendRef) -> BackendState: ...

    def set_backends(
        self, ref: BackendRef, current: Sequence[BackendTarget], new: Sequence[BackendTarget]
    ) -> PendingChange:
        """Replace the backends. Raises Conflict, changing nothing, when the live backends are
        not ``current`` (compared by target, capacity and port)."""
        ...

    def change_status(self, ref: BackendRef, change_id: str) -> PendingChange: ...

    def target_health(self, ref: BackendRef, targets: Sequence[str]) -> Mapping[str, str]:
        """Health per target as the cloud words it (HEALTHY, UNHEALTHY, healthy, ...)."""
        ...


# --- Run history ------------------------------------------------------------------------------


class ReportStore(Protocol):
    """Where finished runs' JSON reports are kept: a directory, or a bucket and prefix.

    Names are relative, ``/``-separated (``region-failure/20261124T005236Z-<run>.json``); the
    store adds its own root or prefix. A missing bucket raises NotFound.
    """

    def put(self, name: str, data: bytes) -> str:
        """Store ``data`` under ``name``, replacing what was there; where it went (a path,
        ``gs://`` or ``s3://`` URL)."""
        ...

    def names(self, prefix: str) -> list[str]:
        """Every stored name starting with ``prefix``, sorted; none for an empty store."""
        ...

    def get(self, name: str) -> bytes:
        """The bytes stored under ``name``; NotFound when there are none."""
        ...
