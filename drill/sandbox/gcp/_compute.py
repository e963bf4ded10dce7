"""Compute Engine backend services over HTTP, as Compute's REST API serves them.

``ComputeEmulator`` serves, on 127.0.0.1, what drill's backend switch uses: get, patch and
getHealth of global and regional backend services (``/compute/v1/projects/{p}/global/...`` and
``.../regions/{r}/...``), and get and wait of the operations a patch returns. It also serves
update (PUT), what gcloud's ``backend-services add-backend`` and ``remove-backend`` send, so that
operators can change a service under a running drill with their own gcloud. So that operators
can look at it with their own tools (``gcloud compute backend-services list``, ``instance-groups
list``, ``operations list``...), it also lists what it holds as Compute does: list and
aggregatedList of backend services, instance groups and operations, get and listInstances of
instance groups, and get, list and aggregatedList of the health check each service was seeded
with (``_compute_lists`` has the paging, filters and response shapes). The behaviour
the real API has and drill depends on:

- A patch merges its body into the service; an update replaces the service with its body:
  fields it leaves out are back to their defaults, and it has the backends the body lists, none
  if it lists none. Either way what Compute sets itself (id, selfLink, creationTimestamp...)
  stays the server's. Past that the two are one write: the same checks, fingerprint, operation.
- Every write must carry the service's current ``fingerprint``; a missing or stale one answers
  412 ``conditionNotMet`` and changes nothing. (Compute documents this for update; it also
  accepts a patch without one, but the emulator is stricter so an adapter that forgets it fails
  here, not in production.)
- A write is checked first (backend fields the API defines, as its JSON parser refuses unknown
  names with 400; groups fully-qualified URLs of known groups, no duplicates, a
  capacity scaler of 0 or 0.1-1.0, a balancing mode the protocol supports, RATE with a rate
  limit, instance groups and NEGs not mixed; the balancing mode against the protocol the
  service will have) and answers 400 or 404 like Compute. Accepted, it gets a new fingerprint at
  once and returns an Operation, RUNNING, that is DONE ``operation_s``
  later on the injected clock. The new backends take effect when the operation is DONE: that is
  when the load balancer really serves from them, so a reader sees the old backends until then.
- getHealth names one group. A group the service does not list answers 400 ``invalid`` (the
  real API refuses it as an invalid value; its exact wording differs). Each instance is
  UNHEALTHY until ``healthy_after_s`` after its group joined the service's backends, HEALTHY
  after; groups a service had when it was seeded are long healthy.

Seeding, ground truth and faults are plain Python calls, never HTTP. Group URLs are kept in the
relative form ``projects/.../instanceGroups/g``; the API answers full
``https://www.googleapis.com/compute/v1/...`` URLs, as Compute does, and takes those or the same
path under the emulator's own address (what gcloud sends when pointed at it). This module must
not import any Google client library: it is a server.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import math
import re
import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from drill.clock import Anchor, Clock
from drill.errors import Interrupted
from drill.sandbox.emulator import Emulator
from drill.sandbox.gcp._compute_lists import (
    API_ROOT,
    aggregated_document,
    list_document,
    list_query,
)
from drill.sandbox.gcp._http import GoogleApiError, JsonHttpServer, Request

DEFAULT_PATCH_PERMISSION = "compute.backendServices.update"
SANDBOX_USER = "drill-sandbox@sandbox.iam.gserviceaccount.com"
PATCHES_KEPT = 200  # bounded: a sandbox kept up takes patches for as long as it runs

_FULL_URL = re.compile(r"^https://(?:www|compute)\.googleapis\.com/compute/(?:v1|beta|alpha)/")
_GROUP_PATH = re.compile(
    r"projects/[^/]+/(?:(?:zones|regions)/[^/]+|global)/(?:instanceGroups|networkEndpointGroups)"
    r"/(?P<name>[^/]+)"
)
_PROJECT = r"/compute/v1/projects/(?P<project>[^/]+)"
_SCOPE = _PROJECT + r"/(?:global|regions/(?P<region>[^/]+))"
_ANY_SCOPE = _PROJECT + r"/(?:global|regions/(?P<region>[^/]+)|zones/(?P<zone>[^/]+))"
_GROUP_SCOPE = _PROJECT + r"/(?:regions/(?P<region>[^/]+)|zones/(?P<zone>[^/]+))"
_SERVICES = _SCOPE + r"/backendServices"
_SERVICE = _SERVICES + r"/(?P<name>[^/]+)"
_OPERATIONS = _ANY_SCOPE + r"/operations"
_OPERATION = _OPERATIONS + r"/(?P<operation>[^/]+)"
_GROUPS = _GROUP_SCOPE + r"/instanceGroups"
_GROUP = _GROUPS + r"/(?P<name>[^/]+)"
_MANAGERS = _GROUP_SCOPE + r"/instanceGroupManagers"
_HEALTH_CHECKS = _SCOPE + r"/healthChecks"
_HEALTH_CHECK = _HEALTH_CHECKS + r"/(?P<name>[^/]+)"
_AGGREGATED = (
    _PROJECT + r"/aggregated/(?P<collection>backendServices|healthChecks|instanceGroups|operations)"
)

# Which balancing modes a backend service's protocol accepts (HTTP-like: application load
# balancers; the rest: proxy and passthrough network load balancers).
_HTTP_PROTOCOLS = frozenset({"HTTP", "HTTPS", "HTTP2", "H2C"})
_HTTP_MODES = frozenset({"UTILIZATION", "RATE", "IN_FLIGHT", "CUSTOM_METRICS"})
_NETWORK_MODES = frozenset({"UTILIZATION", "CONNECTION"})
_RATE_LIMITS = ("maxRate", "maxRatePerInstance", "maxRatePerEndpoint")
# Set by Compute, never by a patch.
_OUTPUT_ONLY = frozenset(
    {"kind", "id", "name", "selfLink", "creationTimestamp", "fingerprint", "region", "usedBy"}
)
# What Compute documents as the default of a BackendService field (compute v1 field docs): an
# update that leaves the field out sets it back to this. Fields without one are just left unset.
_UPDATE_DEFAULTS: dict[str, Any] = {"port": 80, "sessionAffinity": "NONE", "timeoutSec": 30}
_WAIT_POLL_S = 0.02
_INSTANCE_STATES = frozenset({"ALL", "RUNNING"})  # every emulated instance is RUNNING
# Every field of Compute's Backend message (v1); the API refuses any other name in a patch.
_BACKEND_FIELDS = frozenset(
    {
        "balancingMode", "capacityScaler", "customMetrics", "description", "failover", "group",
        "maxConnections", "maxConnectionsPerEndpoint", "maxConnectionsPerInstance",
        "maxInFlightRequests", "maxInFlightRequestsPerEndpoint",
        "maxInFlightRequestsPerInstance", "maxRate", "maxRatePerEndpoint", "maxRatePerInstance",
        "maxUtilization", "orchestrationInfo", "preference", "trafficDuration",
    }
)  # fmt: skip


@dataclass(frozen=True)
class _Aggregate:
    """An aggregatedList method: its response kind, the permission it needs, and the scope
    kinds Compute lists even when empty without ``includeAllScopes`` (where the resource can
    be)."""

    kind: str
    permission: str
    scope_kinds: frozenset[str]


_AGGREGATES = {
    "backendServices": _Aggregate(
        "compute#backendServiceAggregatedList",
        "compute.backendServices.list",
        frozenset({"global", "regions"}),
    ),
    "healthChecks": _Aggregate(
        "compute#healthChecksAggregatedList",
        "compute.healthChecks.list",
        frozenset({"global", "regions"}),
    ),
    "instanceGroups": _Aggregate(
        "compute#instanceGroupAggregatedList",
        "compute.instanceGroups.list",
        frozenset({"zones", "regions"}),
    ),
    "operations": _Aggregate(
        "compute#operationAggregatedList",
        "compute.globalOperations.list",
        frozenset({"global", "regions", "zones"}),
    ),
}
_SCOPE_KINDS = ("global", "regions", "zones")  # the order aggregated lists give scopes in


# --- ground truth -----------------------------------------------------------------------------


@dataclass(frozen=True)
class OperationRecord:
    """One accepted write (patch or update): ``done_at`` is when its backends took effect
    (None: not yet)."""

    name: str
    target: str  # the service, relative: projects/p/global/backendServices/web
    inserted_at: datetime
    done_at: datetime | None
    failed: bool = False


@dataclass(frozen=True)
class ComputeTruth:
    operations: tuple[OperationRecord, ...]
    requests: tuple[tuple[str, str], ...]  # (method, path) of every request a handler answered

    def served(self, method: str, path_fragment: str) -> int:
        """How many ``method`` requests had ``path_fragment`` in their path."""
        return sum(1 for m, p in self.requests if m == method and path_fragment in p)


# --- state ------------------------------------------------------------------------------------


@dataclass
class _Service:
    project: str
    name: str
    region: str | None
    uid: int
    created_at: datetime
    settings: dict[str, Any]  # every field but backends and what Compute sets itself
    backends: list[dict[str, Any]]
    fingerprint: str = ""
    joined_at: dict[str, float] = field(default_factory=dict)  # group -> monotonic time
    health_check_type: str = "HTTP"  # of the check seeded with it, which a write never changes

    @property
    def path(self) -> str:
        return _service_path(self.project, self.region, self.name)

    @property
    def protocol(self) -> str:
        return _protocol(self.settings)

    @property
    def scope(self) -> str:
        return _scope(self.region)


@dataclass(frozen=True)
class _Resource:
    """What a write leaves a service as: its settings and its backends (groups relative)."""

    settings: dict[str, Any]
    backends: list[dict[str, Any]]


@dataclass
class _Group:
    path: str  # projects/p/zones/z/instanceGroups/g, or a regional group, or a NEG
    instances: int
    created_at: datetime

    @property
    def project(self) -> str:
        return self.path.split("/")[1]

    @property
    def scope(self) -> str:
        """zones/z or regions/r."""
        return "/".join(self.path.split("/")[2:4])

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[1]

    @property
    def is_instance_group(self) -> bool:
        return "/instanceGroups/" in self.path


@dataclass
class _Operation:
    name: str
    uid: int
    project: str
    region: str | None
    service: _Service
    method: str  # patch or update: Compute names the operation after the method that made it
    target: _Resource  # the service once the operation is DONE
    inserted_mono: float
    due_mono: float | None  # None: stuck, never done on its own
    error: str | None = None
    done_mono: float | None = None

    @property
    def path(self) -> str:
        return f"{_scope_path(self.project, self.region)}/operations/{self.name}"

    @property
    def scope(self) -> str:
        return _scope(self.region)


def _scope(region: str | None) -> str:
    """An aggregated list's key for a global or regional resource."""
    return f"regions/{region}" if region else "global"


def _scope_path(project: str, region: str | None) -> str:
    return f"projects/{project}/{_scope(region)}"


def _service_path(project: str, region: str | None, name: str) -> str:
    return f"{_scope_path(project, region)}/backendServices/{name}"


def relative_url(url: str) -> str:
    """``projects/...`` from a full Compute URL; a relative one is returned unchanged."""
    return _FULL_URL.sub("", url.strip())


class ComputeEmulator(Emulator):
    """Backend services, instance groups and operations of any number of projects.

    Typical use::

        with ComputeEmulator(clock, operation_s=0.05) as compute:
            compute.add_instance_group("projects/p/zones/z/instanceGroups/dr")
            compute.add_backend_service("p", "web", backends=[{"group": primary}])
            ...  # drive it with any Compute REST client at compute.url
            compute.backends("p", "web")
    """

    def __init__(
        self, clock: Clock, operation_s: float = 0.5, healthy_after_s: float = 0.5
    ) -> None:
        self.clock = clock
        self.operation_s = operation_s
        self.healthy_after_s = healthy_after_s
        self.wait_timeout_s = 120.0  # how long operations.wait holds a request, as Compute does
        self._anchor = Anchor(clock)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._ids = itertools.count(1)
        self._services: dict[str, _Service] = {}  # by path
        self._groups: dict[str, _Group] = {}  # by relative URL
        self._projects: set[str] = set()
        self._operations: dict[str, _Operation] = {}  # by path
        self._requests: list[tuple[str, str]] = []
        # The bodies of the last patches received, as sent (accepted or not), with their path.
        self._patches: deque[tuple[str, dict[str, Any]]] = deque(maxlen=PATCHES_KEPT)
        self._forbidden: set[str] = set()
        self._never_healthy: set[str] = set()
        self._stuck = False
        self._failing_operations: list[str] = []
        self._races: set[str] = set()  # services someone else updates before the next write
        self._server = JsonHttpServer("gcp-compute")
        self._add_routes()

    # --- lifecycle ----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The REST root to give the client as ``api_endpoint`` (http://127.0.0.1:PORT)."""
        return self._server.url

    @property
    def errors(self) -> list[str]:
        """Tracebacks of emulator bugs (answered 500), for tests to fail on."""
        return self._server.errors

    def start(self) -> ComputeEmulator:
        self._server.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # ends operations.wait requests still holding a connection
        self._server.stop()

    # --- seeding ------------------------------------------------------------------------------

    def add_instance_group(self, url: str, instances: int = 2) -> None:
        """A zonal or regional instance group (or NEG) with ``instances`` members."""
        group = _seed_group(url)
        with self._lock:
            self._groups[group] = _Group(group, instances, self.clock.now())
            self._projects.add(group.split("/")[1])

    def add_backend_service(
        self,
        project: str,
        name: str,
        region: str | None = None,
        backends: Sequence[Mapping[str, Any]] = (),
        protocol: str = "HTTP",
    ) -> None:
        """A service serving from ``backends`` (API field names; groups relative or full).

        Groups not added before get two instances; all of them count as long healthy.
        """
        with self._lock:
            service = self._new_service(project, name, region, protocol)
            service.backends = [_seeded_backend(b) for b in backends]
            for backend in service.backends:
                group = backend["group"]
                self._groups.setdefault(group, _Group(group, 2, self.clock.now()))
                service.joined_at[backend["group"]] = -math.inf
            self._services[service.path] = service
            self._projects.add(project)

    def _new_service(self, project: str, name: str, region: str | None, protocol: str) -> _Service:
        uid = next(self._ids)
        service = _Service(
            project, name, region, _numeric_id(f"service-{uid}"), self.clock.now(), {}, []
        )
        service.settings = _default_settings(service, protocol)
        service.fingerprint = _fingerprint(service.path, uid)
        service.health_check_type = "HTTP" if protocol in _HTTP_PROTOCOLS else "TCP"
        return service

    # --- ground truth -------------------------------------------------------------------------

    def backends(self, project: str, name: str, region: str | None = None) -> list[dict[str, Any]]:
        """The backends in effect now (groups relative), after every operation that is DONE."""
        with self._lock:
            self._settle()
            return [dict(b) for b in self._seeded(project, name, region).backends]

    def serving_since(
        self, project: str, name: str, region: str | None, groups: Sequence[str]
    ) -> float | None:
        """Ground truth: since when (monotonic; -inf: since it was seeded) the service has sent
        traffic to a healthy one of ``groups``, if it does now: a group in effect with capacity,
        past its health checks."""
        wanted = {relative_url(group) for group in groups}
        with self._lock:
            self._settle()
            service = self._seeded(project, name, region)
            healthy_from = [
                service.joined_at[backend["group"]] + self.healthy_after_s
                for backend in service.backends
                if backend["group"] in wanted
                and backend["group"] not in self._never_healthy
                and float(backend.get("capacityScaler", 1.0)) > 0
            ]
            now = self.clock.monotonic()
        return min((t for t in healthy_from if t <= now), default=None)

    def fingerprint(self, project: str, name: str, region: str | None = None) -> str:
        """The current fingerprint: it changes when a patch is accepted."""
        with self._lock:
            return self._seeded(project, name, region).fingerprint

    def _seeded(self, project: str, name: str, region: str | None) -> _Service:
        path = _service_path(project, region, name)
        if path not in self._services:
            raise LookupError(f"no backend service {path} in the emulator")
        return self._services[path]

    def patches(self) -> list[tuple[str, dict[str, Any]]]:
        """The last patches of backend services received, oldest first: (path, body as sent)."""
        with self._lock:
            return list(self._patches)

    @property
    def truth(self) -> ComputeTruth:
        with self._lock:
            self._settle()
            records = tuple(self._record(op) for op in self._operations.values())
            return ComputeTruth(records, tuple(self._requests))

    def _record(self, op: _Operation) -> OperationRecord:
        done_at = None if op.done_mono is None else self._anchor.at(op.done_mono)
        inserted_at = self._anchor.at(op.inserted_mono)
        return OperationRecord(op.name, op.service.path, inserted_at, done_at, op.error is not None)

    # --- faults -------------------------------------------------------------------------------

    def fail_requests(self, count: int, status: int = 503, path_pattern: str = "*") -> None:
        """The next ``count`` requests whose path matches ``path_pattern`` (fnmatch) fail."""
        self._server.faults.fail(count, status, path_pattern)

    def forbid(self, permission: str = DEFAULT_PATCH_PERMISSION) -> None:
        """Requests needing ``permission`` answer 403 until ``allow``. Patches and updates need
        compute.backendServices.update (regional: compute.regionBackendServices.update), reads
        ...get, operations compute.globalOperations.get / compute.regionOperations.get, lists
        the resource's ...list (an aggregated list of operations compute.globalOperations.list),
        instance groups compute.instanceGroups.get/list."""
        with self._lock:
            self._forbidden.add(permission)

    def allow(self, permission: str = DEFAULT_PATCH_PERMISSION) -> None:
        with self._lock:
            self._forbidden.discard(permission)

    def never_healthy(self, group_url: str) -> None:
        """Every instance of the group fails its health checks, for good."""
        with self._lock:
            self._never_healthy.add(relative_url(group_url))

    def stuck_operations(self, stuck: bool = True) -> None:
        """Operations stay RUNNING (those running now and new ones); False lets them finish, at
        once if their time has passed."""
        with self._lock:
            self._settle()
            self._stuck = stuck
            now = self.clock.monotonic()
            for op in self._operations.values():
                if op.done_mono is None:
                    op.due_mono = None if stuck else max(now, op.inserted_mono + self.operation_s)

    def concurrent_update(self, project: str, name: str, region: str | None = None) -> None:
        """Someone else updates the service just before the next patch or update of it is
        checked: that write's fingerprint, read before, is stale by then."""
        with self._lock:
            self._races.add(_service_path(project, region, name))

    def fail_operations(self, count: int = 1, message: str = "Internal error") -> None:
        """The next ``count`` accepted writes end DONE with an error, changing nothing."""
        with self._lock:
            self._failing_operations.extend([message] * count)

    # --- routes -------------------------------------------------------------------------------

    def _add_routes(self) -> None:
        routes: list[tuple[str, str, Callable[[Request], tuple[int, Any]]]] = [
            ("GET", _SERVICE, self._get_service),
            ("PATCH", _SERVICE, self._patch_service),
            ("PUT", _SERVICE, self._update_service),
            ("POST", _SERVICE + "/getHealth", self._get_health),
            ("GET", _OPERATION, self._get_operation),
            ("POST", _OPERATION + "/wait", self._wait_operation),
            ("GET", _SERVICES, self._list_services),
            ("GET", _GROUPS, self._list_groups),
            ("GET", _GROUP, self._get_group),
            ("POST", _GROUP + "/listInstances", self._list_instances),
            ("GET", _OPERATIONS, self._list_operations),
            ("GET", _AGGREGATED, self._aggregated_list),
            ("GET", _HEALTH_CHECKS, self._list_health_checks),
            ("GET", _HEALTH_CHECK, self._get_health_check),
            ("GET", _MANAGERS, self._list_managers),
        ]
        for method, pattern, handler in routes:
            self._server.route(method, pattern, self._logged(handler))
        # gcloud compute instance-groups list asks each zone's group managers in one batch.
        self._server.batch_route("/batch/compute/v1")

    def _logged(
        self, handler: Callable[[Request], tuple[int, Any]]
    ) -> Callable[[Request], tuple[int, Any]]:
        def serve(request: Request) -> tuple[int, Any]:
            with self._lock:
                self._requests.append((request.method, request.path))
            return handler(request)

        return serve

    # --- backend services ---------------------------------------------------------------------

    def _get_service(self, request: Request) -> tuple[int, Any]:
        with self._lock:
            self._settle()
            service = self._service(request)
            self._require(_permission(service.region, "BackendServices.get"), service.path)
            return 200, self._service_document(service)

    def _patch_service(self, request: Request) -> tuple[int, Any]:
        body = _object_body(request, "resource")
        with self._lock:
            self._patches.append((request.path, body))
            return self._write(request, body, "patch", _merged)

    def _update_service(self, request: Request) -> tuple[int, Any]:
        body = _object_body(request, "resource")
        with self._lock:
            return self._write(request, body, "update", _replaced)

    def _write(
        self,
        request: Request,
        body: dict[str, Any],
        method: str,
        compose: Callable[[_Resource, dict[str, Any]], _Resource],
    ) -> tuple[int, Any]:
        """What patch and update share once ``compose`` says how the body makes the new
        service from the current one: permission, fingerprint, backend checks, operation."""
        self._settle()
        service = self._service(request)
        self._require(_permission(service.region, "BackendServices.update"), service.path)
        if service.path in self._races:
            self._races.discard(service.path)
            service.fingerprint = _fingerprint(service.path, next(self._ids))
        _check_fingerprint(service, body.get("fingerprint"))
        fields = {k: v for k, v in body.items() if k not in _OUTPUT_ONLY and k != "backends"}
        target = compose(self._latest(service), fields)
        if "backends" in body:
            protocol = _protocol(target.settings)
            target = _Resource(target.settings, self._valid_backends(protocol, body["backends"]))
        return 200, self._operation_document(self._accept(service, method, target))

    def _latest(self, service: _Service) -> _Resource:
        """The service as the writes accepted so far leave it. A write's fingerprint is the one
        the previous write's acceptance handed out, so it builds on that write, done or not."""
        pending = [
            op.target
            for op in self._operations.values()
            if op.service is service and op.done_mono is None and op.error is None
        ]
        if pending:
            return pending[-1]
        # A copy: the operation keeps it, and the service's own may change before it is DONE.
        return _Resource(dict(service.settings), [dict(b) for b in service.backends])

    def _accept(self, service: _Service, method: str, target: _Resource) -> _Operation:
        uid = next(self._ids)
        now = self.clock.monotonic()
        op = _Operation(
            name=_operation_name(self.clock.now(), uid),
            uid=_numeric_id(f"operation-{uid}"),
            project=service.project,
            region=service.region,
            service=service,
            method=method,
            target=target,
            inserted_mono=now,
            due_mono=None if self._stuck else now + self.operation_s,
            error=self._failing_operations.pop(0) if self._failing_operations else None,
        )
        service.fingerprint = _fingerprint(service.path, uid)
        self._operations[op.path] = op
        return op

    def _valid_backends(self, protocol: str, raw: Any) -> list[dict[str, Any]]:
        if not isinstance(raw, list) or not all(isinstance(b, dict) for b in raw):
            raise _invalid("resource.backends", raw, "A list of backends is expected.")
        backends = [self._valid_backend(protocol, i, b) for i, b in enumerate(raw)]
        _check_distinct(backends)
        return backends

    def _valid_backend(self, protocol: str, index: int, raw: dict[str, Any]) -> dict[str, Any]:
        where = f"resource.backends[{index}]"
        _check_known(where, raw)
        group = self._compute_url(raw.get("group"))
        if not isinstance(group, str) or not _FULL_URL.match(group):
            raise _invalid(f"{where}.group", group, "The URL is malformed.")
        backend = {**raw, "group": _group_path(group, f"{where}.group")}
        if backend["group"] not in self._groups:
            raise GoogleApiError(404, f"The resource '{backend['group']}' was not found")
        backend.setdefault("balancingMode", "UTILIZATION")
        backend.setdefault("capacityScaler", 1.0)
        _check_capacity(where, backend["capacityScaler"])
        _check_mode(where, backend, protocol)
        return backend

    def _compute_url(self, url: Any) -> Any:
        """A URL under the emulator's own address as the same URL under Compute's. gcloud
        pointed at the emulator (an endpoint override) names the groups it sends that way, as
        it names them under Compute's address when it talks to Compute."""
        if isinstance(url, str):
            for own_root in (f"{self.url}/compute/v1/", f"{self.url}/"):
                if url.startswith(own_root):
                    return API_ROOT + url.removeprefix(own_root)
        return url

    # --- operations ---------------------------------------------------------------------------

    def _get_operation(self, request: Request) -> tuple[int, Any]:
        with self._lock:
            self._settle()
            return 200, self._operation_document(self._operation(request))

    def _wait_operation(self, request: Request) -> tuple[int, Any]:
        """Holds the request until the operation is DONE or ``wait_timeout_s`` passes."""
        deadline = self.clock.monotonic() + self.wait_timeout_s
        while True:
            with self._lock:
                self._settle()
                op = self._operation(request)
                now = self.clock.monotonic()
                if op.done_mono is not None or now >= deadline or self._stopping.is_set():
                    return 200, self._operation_document(op)
                pause_s = min(_WAIT_POLL_S, deadline - now)
            try:
                self.clock.sleep(pause_s, self._stopping)
            except Interrupted:
                continue  # stopping: answer with what there is

    def _settle(self) -> None:
        """Apply, in the order they were accepted, the operations whose time has come."""
        now = self.clock.monotonic()
        for op in self._operations.values():
            if op.done_mono is None and op.due_mono is not None and op.due_mono <= now:
                self._finish(op, op.due_mono)

    def _finish(self, op: _Operation, at: float) -> None:
        op.done_mono = at
        if op.error is not None:
            return
        service = op.service
        service.settings = dict(op.target.settings)
        service.backends = [dict(b) for b in op.target.backends]
        # A group the service already had keeps its health; a new one starts its checks now.
        groups = {b["group"] for b in service.backends}
        service.joined_at = {g: service.joined_at.get(g, at) for g in groups}

    # --- health -------------------------------------------------------------------------------

    def _get_health(self, request: Request) -> tuple[int, Any]:
        body = _object_body(request, "resourceGroupReference")
        raw_group = body.get("group")
        if not isinstance(raw_group, str) or not raw_group:
            raise GoogleApiError(400, "Required field 'resourceGroupReference.group' not specified")
        with self._lock:
            self._settle()
            service = self._service(request)
            self._require(_permission(service.region, "BackendServices.get"), service.path)
            group = relative_url(raw_group)
            if group not in service.joined_at:
                raise _invalid(
                    "resourceGroupReference.group",
                    raw_group,
                    f"Group is not a backend of backend service '{service.path}'.",
                )
            return 200, self._health_document(group, service.joined_at[group])

    def _health_document(self, group: str, joined_at: float) -> dict[str, Any]:
        healthy = (
            group not in self._never_healthy
            and self.clock.monotonic() >= joined_at + self.healthy_after_s
        )
        statuses = [
            _instance_health(group, index, healthy) for index in range(self._instance_count(group))
        ]
        document: dict[str, Any] = {"kind": "compute#backendServiceGroupHealth"}
        if statuses:  # Compute leaves the field out for an empty group
            document["healthStatus"] = statuses
        return document

    def _get_health_check(self, request: Request) -> tuple[int, Any]:
        with self._lock:
            project = self._known_project(request)
            region = request.params.get("region") or None
            path = _health_check_path(project, region, request.params["name"])
            self._require(_permission(region, "HealthChecks.get"), path)
            # Each service's check is named after it.
            service = self._services.get(_service_path(project, region, request.params["name"]))
            if service is None:
                raise GoogleApiError(404, f"The resource '{path}' was not found")
            return 200, _health_check_document(service)

    def _list_health_checks(self, request: Request) -> tuple[int, Any]:
        query = list_query(request.query)
        with self._lock:
            project = self._known_project(request)
            region = request.params.get("region") or None
            scope_path = _scope_path(project, region)
            self._require(_permission(region, "HealthChecks.list"), scope_path)
            items = [
                _health_check_document(s) for s in self._services_of(project) if s.region == region
            ]
        kind = "compute#healthCheckList"
        return 200, list_document(kind, f"{scope_path}/healthChecks", items, query)

    # --- lists --------------------------------------------------------------------------------

    def _list_services(self, request: Request) -> tuple[int, Any]:
        query = list_query(request.query)
        with self._lock:
            self._settle()
            project = self._known_project(request)
            region = request.params.get("region") or None
            scope_path = _scope_path(project, region)
            self._require(_permission(region, "BackendServices.list"), scope_path)
            items = [
                self._service_document(s) for s in self._services_of(project) if s.region == region
            ]
        path = f"{scope_path}/backendServices"
        return 200, list_document("compute#backendServiceList", path, items, query)

    def _list_groups(self, request: Request) -> tuple[int, Any]:
        query = list_query(request.query)
        with self._lock:
            project = self._known_project(request)
            scope = _request_scope(request)
            self._require("compute.instanceGroups.list", f"projects/{project}/{scope}")
            items = [_group_document(g) for g in self._groups_of(project) if g.scope == scope]
        regional = scope.startswith("regions/")
        kind = "compute#regionInstanceGroupList" if regional else "compute#instanceGroupList"
        path = f"projects/{project}/{scope}/instanceGroups"
        return 200, list_document(kind, path, items, query)

    def _get_group(self, request: Request) -> tuple[int, Any]:
        with self._lock:
            group = self._group(request)
            self._require("compute.instanceGroups.get", group.path)
            return 200, _group_document(group)

    def _list_instances(self, request: Request) -> tuple[int, Any]:
        query = list_query(request.query)
        body = request.body if isinstance(request.body, dict) else {}
        state = body.get("instanceState", "ALL")
        if state not in _INSTANCE_STATES:
            raise _invalid("instanceState", state, "Must be ALL or RUNNING.")
        with self._lock:
            group = self._group(request)
            self._require("compute.instanceGroups.list", group.path)
            items = [_instance_document(group.path, i) for i in range(group.instances)]
        regional = group.scope.startswith("regions/")
        kind = (
            "compute#regionInstanceGroupsListInstances"
            if regional
            else "compute#instanceGroupsListInstances"
        )
        return 200, list_document(kind, f"{group.path}/listInstances", items, query)

    def _list_managers(self, request: Request) -> tuple[int, Any]:
        """Always empty: the emulator's groups are unmanaged (gcloud's instance-groups list
        asks, to tell managed groups from the others)."""
        query = list_query(request.query)
        scope = _request_scope(request)
        with self._lock:
            project = self._known_project(request)
            self._require("compute.instanceGroupManagers.list", f"projects/{project}/{scope}")
        regional = scope.startswith("regions/")
        kind = (
            "compute#regionInstanceGroupManagerList"
            if regional
            else "compute#instanceGroupManagerList"
        )
        path = f"projects/{project}/{scope}/instanceGroupManagers"
        return 200, list_document(kind, path, [], query)

    def _list_operations(self, request: Request) -> tuple[int, Any]:
        query = list_query(request.query)
        with self._lock:
            self._settle()
            project = self._known_project(request)
            scope = _request_scope(request)
            self._require(_operations_permission(scope, "list"), f"projects/{project}/{scope}")
            items = [
                self._operation_document(op)
                for op in self._operations_of(project)
                if op.scope == scope
            ]
        path = f"projects/{project}/{scope}/operations"
        return 200, list_document("compute#operationList", path, items, query)

    def _aggregated_list(self, request: Request) -> tuple[int, Any]:
        query = list_query(request.query)
        collection = request.params["collection"]
        aggregate = _AGGREGATES[collection]
        with self._lock:
            self._settle()
            project = self._known_project(request)
            self._require(aggregate.permission, f"projects/{project}")
            entries = self._scoped_documents(project, collection)
            scopes = self._visible_scopes(project)
        if not query.include_all_scopes:
            scopes = [s for s in scopes if s.split("/")[0] in aggregate.scope_kinds]
        path = f"projects/{project}/aggregated/{collection}"
        return 200, aggregated_document(aggregate.kind, collection, path, scopes, entries, query)

    def _scoped_documents(self, project: str, collection: str) -> list[tuple[str, dict[str, Any]]]:
        """``(scope, rendered resource)`` for every resource of ``collection``, scope by scope
        and by name within one, so that a page holds whole runs of a scope."""
        entries: list[tuple[str, dict[str, Any]]]
        if collection == "backendServices":
            entries = [(s.scope, self._service_document(s)) for s in self._services_of(project)]
        elif collection == "healthChecks":
            entries = [(s.scope, _health_check_document(s)) for s in self._services_of(project)]
        elif collection == "instanceGroups":
            entries = [(g.scope, _group_document(g)) for g in self._groups_of(project)]
        else:
            entries = [(o.scope, self._operation_document(o)) for o in self._operations_of(project)]
        return sorted(entries, key=lambda entry: _scope_order(entry[0]))

    # --- lookups and documents ----------------------------------------------------------------

    def _require(self, permission: str, resource: str) -> None:
        if permission in self._forbidden:
            raise GoogleApiError(403, f"Required '{permission}' permission for '{resource}'")

    def _known_project(self, request: Request) -> str:
        project = request.params["project"]
        if project not in self._projects:
            raise GoogleApiError(404, f"The resource 'projects/{project}' was not found")
        return project

    def _service(self, request: Request) -> _Service:
        project = self._known_project(request)
        region = request.params.get("region") or None
        path = _service_path(project, region, request.params["name"])
        if path not in self._services:
            raise GoogleApiError(404, f"The resource '{path}' was not found")
        return self._services[path]

    def _operation(self, request: Request) -> _Operation:
        project = self._known_project(request)
        scope = _request_scope(request)
        path = f"projects/{project}/{scope}/operations/{request.params['operation']}"
        self._require(_operations_permission(scope, "get"), path)
        if path not in self._operations:  # never a zonal one: patches are global or regional
            raise GoogleApiError(404, f"The resource '{path}' was not found")
        return self._operations[path]

    def _group(self, request: Request) -> _Group:
        scope_path = f"projects/{self._known_project(request)}/{_request_scope(request)}"
        path = f"{scope_path}/instanceGroups/{request.params['name']}"
        if path not in self._groups:
            raise GoogleApiError(404, f"The resource '{path}' was not found")
        return self._groups[path]

    def _instance_count(self, group: str) -> int:
        return self._groups[group].instances if group in self._groups else 0

    def _services_of(self, project: str) -> list[_Service]:
        """The project's services by name, the order Compute lists them in."""
        chosen = (s for s in self._services.values() if s.project == project)
        return sorted(chosen, key=lambda s: s.name)

    def _groups_of(self, project: str) -> list[_Group]:
        """The project's instance groups by name (NEGs are another resource)."""
        chosen = (g for g in self._groups.values() if g.project == project and g.is_instance_group)
        return sorted(chosen, key=lambda g: g.name)

    def _operations_of(self, project: str) -> list[_Operation]:
        chosen = (op for op in self._operations.values() if op.project == project)
        return sorted(chosen, key=lambda op: op.name)

    def _visible_scopes(self, project: str) -> list[str]:
        """``global`` and every region and zone the project has something in, with each zone's
        region: the emulator knows no others (Compute has every region and zone there is)."""
        scopes = {"global"}
        scopes.update(s.scope for s in self._services.values() if s.project == project)
        scopes.update(g.scope for g in self._groups.values() if g.project == project)
        scopes.update(op.scope for op in self._operations.values() if op.project == project)
        zones = [scope.split("/")[1] for scope in scopes if scope.startswith("zones/")]
        scopes.update(f"regions/{zone.rsplit('-', 1)[0]}" for zone in zones)
        return sorted(scopes, key=_scope_order)

    def _service_document(self, service: _Service) -> dict[str, Any]:
        document = {
            "kind": "compute#backendService",
            "id": str(service.uid),
            "creationTimestamp": _timestamp(service.created_at),
            "name": service.name,
            "selfLink": API_ROOT + service.path,
            **service.settings,
            "backends": [_backend_document(b) for b in service.backends],
            "fingerprint": service.fingerprint,
        }
        if service.region:
            document["region"] = f"{API_ROOT}projects/{service.project}/regions/{service.region}"
        return document

    def _operation_document(self, op: _Operation) -> dict[str, Any]:
        done = op.done_mono is not None
        document: dict[str, Any] = {
            "kind": "compute#operation",
            "id": str(op.uid),
            "name": op.name,
            "operationType": op.method,
            "targetLink": API_ROOT + op.service.path,
            "targetId": str(op.service.uid),
            "status": "DONE" if done else "RUNNING",
            "user": SANDBOX_USER,
            "progress": 100 if done else 0,
            "insertTime": _timestamp(self._anchor.at(op.inserted_mono)),
            "startTime": _timestamp(self._anchor.at(op.inserted_mono)),
            "selfLink": API_ROOT + op.path,
        }
        if op.region:
            document["region"] = f"{API_ROOT}projects/{op.project}/regions/{op.region}"
        if op.done_mono is not None:
            document["endTime"] = _timestamp(self._anchor.at(op.done_mono))
            document.update(_operation_error(op.error))
        return document


# --- writes -----------------------------------------------------------------------------------


def _merged(current: _Resource, fields: dict[str, Any]) -> _Resource:
    """patch: the fields sent replace theirs, every other field and the backends stay."""
    return _Resource({**current.settings, **fields}, current.backends)


def _replaced(current: _Resource, fields: dict[str, Any]) -> _Resource:
    """update: the body is the whole service, so a field it leaves out is back to its default
    and the service has no backends unless the body lists some. ``current`` is not used: the
    body replaces it (the signature is patch's, so both share the rest of a write)."""
    del current
    return _Resource({**_UPDATE_DEFAULTS, **fields}, [])


def _protocol(settings: Mapping[str, Any]) -> str:
    """The service's protocol; HTTP when unset, what gcloud creates a service with when it is
    given no --protocol."""
    return str(settings.get("protocol", "HTTP"))


# --- checks -----------------------------------------------------------------------------------


def _object_body(request: Request, what: str) -> dict[str, Any]:
    if not isinstance(request.body, dict):
        raise GoogleApiError(400, f"Required field '{what}' not specified", "required")
    return request.body


def _check_fingerprint(service: _Service, given: Any) -> None:
    if not given:
        raise GoogleApiError(
            412,
            f"Required field 'resource.fingerprint' not specified: read backend service "
            f"'{service.path}' and send its fingerprint with the update.",
            "conditionNotMet",
        )
    if _fingerprint_bytes(given) != _fingerprint_bytes(service.fingerprint):
        raise GoogleApiError(
            412,
            f"Supplied fingerprint does not match the current fingerprint of backend service "
            f"'{service.path}': it changed since it was read.",
            "conditionNotMet",
        )


def _fingerprint_bytes(fingerprint: Any) -> bytes:
    """What a fingerprint stands for. It is a bytes field, and Google's JSON takes bytes in
    standard or URL-safe base64, padded or not: gcloud sends back URL-safe the fingerprint it
    read in standard form, so comparing the strings would refuse its every other update."""
    text = str(fingerprint)
    standard = text.replace("-", "+").replace("_", "/").rstrip("=")
    try:
        return base64.b64decode(standard + "=" * (-len(standard) % 4), validate=True)
    except ValueError:
        raise GoogleApiError(
            400,
            f"Invalid value for field 'resource.fingerprint': '{text}'. "
            "It must be base64-encoded bytes, as read from the backend service.",
            "invalid",
        ) from None


def _check_known(where: str, backend: dict[str, Any]) -> None:
    unknown = sorted(set(backend) - _BACKEND_FIELDS)
    if unknown:
        raise GoogleApiError(
            400,
            f"Invalid JSON payload received. Unknown name \"{unknown[0]}\" at '{where}': "
            "Cannot find field.",
        )


def _check_distinct(backends: list[dict[str, Any]]) -> None:
    seen: set[str] = set()
    for index, backend in enumerate(backends):
        if backend["group"] in seen:
            raise _invalid(
                f"resource.backends[{index}].group", backend["group"], "Duplicate group."
            )
        seen.add(backend["group"])
    kinds = {"networkEndpointGroups" in b["group"] for b in backends}
    if len(kinds) > 1:
        raise _invalid(
            "resource.backends",
            "",
            "Instance groups and network endpoint groups cannot be backends of one service.",
        )


def _check_capacity(where: str, capacity: Any) -> None:
    valid = isinstance(capacity, int | float) and (capacity == 0 or 0.1 <= capacity <= 1.0)
    if not valid:
        raise _invalid(
            f"{where}.capacityScaler", capacity, "Must be 0 or between 0.1 and 1.0 inclusive."
        )


def _check_mode(where: str, backend: dict[str, Any], protocol: str) -> None:
    mode = backend["balancingMode"]
    supported = _HTTP_MODES if protocol in _HTTP_PROTOCOLS else _NETWORK_MODES
    if mode not in supported:
        raise _invalid(
            f"{where}.balancingMode",
            mode,
            f"Balancing mode {mode} is not supported for protocol {protocol}.",
        )
    if mode == "RATE" and not any(k in backend for k in _RATE_LIMITS):
        raise _invalid(
            where, "", "One of maxRate, maxRatePerInstance or maxRatePerEndpoint must be set."
        )


def _invalid(field_name: str, value: Any, why: str) -> GoogleApiError:
    return GoogleApiError(400, f"Invalid value for field '{field_name}': '{value}'. {why}")


def _group_path(url: str, where: str) -> str:
    group = relative_url(url)
    if not _GROUP_PATH.fullmatch(group):
        raise _invalid(where, url, "The URL is malformed.")
    return group


def _request_scope(request: Request) -> str:
    """``global``, ``regions/r`` or ``zones/z``, from the route's named groups."""
    if request.params.get("region"):
        return f"regions/{request.params['region']}"
    if request.params.get("zone"):
        return f"zones/{request.params['zone']}"
    return "global"


def _scope_order(scope: str) -> tuple[int, str]:
    return _SCOPE_KINDS.index(scope.split("/")[0]), scope


def _operations_permission(scope: str, verb: str) -> str:
    """compute.globalOperations.get, compute.regionOperations.list, compute.zoneOperations..."""
    prefix = {"global": "global", "regions": "region", "zones": "zone"}[scope.split("/")[0]]
    return f"compute.{prefix}Operations.{verb}"


def _permission(region: str | None, action: str) -> str:
    """compute.backendServices.update, or compute.regionBackendServices.update for a region."""
    return f"compute.region{action}" if region else f"compute.{action[0].lower()}{action[1:]}"


# --- documents --------------------------------------------------------------------------------


def _seeded_backend(raw: Mapping[str, Any]) -> dict[str, Any]:
    backend = {"balancingMode": "UTILIZATION", "capacityScaler": 1.0, **raw}
    backend["group"] = _seed_group(str(raw.get("group", "")))
    return backend


def _seed_group(url: str) -> str:
    group = relative_url(url)
    if not _GROUP_PATH.fullmatch(group):
        raise ValueError(f"not an instance group or NEG URL: {url!r}")
    return group


def _default_settings(service: _Service, protocol: str) -> dict[str, Any]:
    http = protocol in _HTTP_PROTOCOLS
    health_check = _health_check_path(service.project, service.region, service.name)
    scheme = "INTERNAL_MANAGED" if service.region else "EXTERNAL_MANAGED"
    return {
        "description": "",
        "healthChecks": [API_ROOT + health_check],
        "timeoutSec": 30,
        "port": 80,
        "portName": "http",
        "protocol": protocol,
        "sessionAffinity": "NONE",
        "affinityCookieTtlSec": 0,
        "loadBalancingScheme": scheme if http else "EXTERNAL",
        "connectionDraining": {"drainingTimeoutSec": 300},
        "enableCDN": False,
    }


def _health_check_path(project: str, region: str | None, name: str) -> str:
    return f"{_scope_path(project, region)}/healthChecks/{name}"


def _health_check_document(service: _Service) -> dict[str, Any]:
    """The check seeded with ``service``, with Compute's defaults: every 5 s, on the port the
    service serves on (what its backends' health states come from)."""
    path = _health_check_path(service.project, service.region, service.name)
    probe = {"portSpecification": "USE_SERVING_PORT", "proxyHeader": "NONE"}
    if service.health_check_type == "HTTP":
        probe["requestPath"] = "/"
    document: dict[str, Any] = {
        "kind": "compute#healthCheck",
        "id": str(_numeric_id(f"health-check-{path}")),
        "creationTimestamp": _timestamp(service.created_at),
        "name": service.name,
        "description": "",
        "checkIntervalSec": 5,
        "timeoutSec": 5,
        "unhealthyThreshold": 2,
        "healthyThreshold": 2,
        "type": service.health_check_type,
        f"{service.health_check_type.lower()}HealthCheck": probe,
        "selfLink": API_ROOT + path,
    }
    if service.region:
        document["region"] = f"{API_ROOT}projects/{service.project}/regions/{service.region}"
    return document


def _backend_document(backend: dict[str, Any]) -> dict[str, Any]:
    return {**backend, "group": API_ROOT + backend["group"]}


def _group_document(group: _Group) -> dict[str, Any]:
    scope_kind = group.scope.split("/")[0][:-1]  # zone or region
    return {
        "kind": "compute#instanceGroup",
        "id": str(_numeric_id(f"group-{group.path}")),
        "creationTimestamp": _timestamp(group.created_at),
        "name": group.name,
        "description": "",
        # The port the seeded backend services' portName ("http") names.
        "namedPorts": [{"name": "http", "port": 80}],
        "network": f"{API_ROOT}projects/{group.project}/global/networks/default",
        "fingerprint": _fingerprint(group.path, 0),
        scope_kind: f"{API_ROOT}projects/{group.project}/{group.scope}",
        "selfLink": API_ROOT + group.path,
        "size": group.instances,
    }


def _instance_path(group: str, index: int) -> str:
    """The group's ``index``th instance (a regional group's are in its region's zone a)."""
    parts = group.split("/")  # projects/p/zones|regions/z/instanceGroups/name
    zone = parts[3] if parts[2] == "zones" else f"{parts[3]}-a"
    return f"projects/{parts[1]}/zones/{zone}/instances/{parts[-1]}-{index}"


def _instance_document(group: str, index: int) -> dict[str, Any]:
    return {
        "instance": API_ROOT + _instance_path(group, index),
        "status": "RUNNING",
        "namedPorts": [{"name": "http", "port": 80}],
    }


def _instance_health(group: str, index: int, healthy: bool) -> dict[str, Any]:
    octet = int(hashlib.sha256(group.encode()).hexdigest()[:2], 16)
    return {
        "instance": API_ROOT + _instance_path(group, index),
        "ipAddress": f"10.128.{octet}.{index + 2}",
        "port": 80,
        "healthState": "HEALTHY" if healthy else "UNHEALTHY",
    }


def _operation_error(error: str | None) -> dict[str, Any]:
    if error is None:
        return {}
    return {
        "error": {"errors": [{"code": "RESOURCE_OPERATION_FAILED", "message": error}]},
        "httpErrorStatusCode": 400,
        "httpErrorMessage": "BAD REQUEST",
    }


def _timestamp(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds")


def _fingerprint(path: str, version: int) -> str:
    digest = hashlib.sha256(f"{path}#{version}".encode()).digest()
    return base64.b64encode(digest[:8]).decode()


def _numeric_id(seed: str) -> int:
    """A stable 19-digit id, like Compute's uint64 resource ids."""
    return 10**18 + int(hashlib.sha256(seed.encode()).hexdigest()[:15], 16) % (8 * 10**18)


def _operation_name(now: datetime, uid: int) -> str:
    """Shaped like Compute's: operation-<epoch ms>-<hex>-<hex>-<hex>."""
    digest = hashlib.sha256(f"op-{uid}".encode()).hexdigest()
    millis = int(now.timestamp() * 1000)
    return f"operation-{millis}-{digest[:13]}-{digest[13:21]}-{digest[21:29]}"
