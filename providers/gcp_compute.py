"""Compute Engine backend services for ``backend.switch``, through google-cloud-compute (REST).

Reads a global or regional backend service's backends, replaces them with one patch that
carries the fingerprint it read (so a concurrent change is refused, not overwritten), reports
the patch operation's status, and asks Compute for each group's health. It never waits: the
step polls ``change_status``. The operations clients get the same endpoint and credentials as
the backend-service clients; the SDK's own ``patch(...).result()`` would poll the public
endpoint instead.

Targets are reported in the relative form plans use (``projects/p/zones/z/instanceGroups/g``)
and sent as the fully-qualified URLs Compute requires. Every backend field besides the group
and capacity scaler travels in ``BackendTarget.settings``, so undo writes back exactly what
was there. google-cloud-compute loads only when the first client is built.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from drill.errors import Conflict, PermanentError
from providers._google import credentials, translated
from providers.cloud import CloudSettings
from providers.protocols import BackendRef, BackendState, BackendTarget, PendingChange, Setting

API_ROOT = "https://www.googleapis.com/compute/v1/"
# Per request; the SDK's default is 600 s, far longer than a stuck API should hold a step.
CALL_TIMEOUT_S = 30.0
# What a new backend copies from one already serving, so the service keeps compatible modes.
BALANCING_FIELDS = (
    "balancingMode",
    "maxUtilization",
    "maxRate",
    "maxRatePerInstance",
    "maxRatePerEndpoint",
    "maxConnections",
    "maxConnectionsPerInstance",
    "maxConnectionsPerEndpoint",
    "maxInFlightRequests",
    "maxInFlightRequestsPerInstance",
    "maxInFlightRequestsPerEndpoint",
    "customMetrics",
)
DEFAULT_MODE: dict[str, Any] = {"balancingMode": "UTILIZATION"}
# Backend fields that are lists or objects: settings hold them as JSON text.
_STRUCTURED_FIELDS = frozenset({"customMetrics", "orchestrationInfo"})
_MANAGED_FIELDS = frozenset({"group", "capacityScaler"})
_FULL_URL = re.compile(r"^https://(?:www|compute)\.googleapis\.com/compute/(?:v1|beta|alpha)/")


@dataclass(frozen=True)
class _Clients:
    services: Any
    region_services: Any
    operations: Any
    region_operations: Any


class ComputeBackendsAdapter:
    """``BackendApi`` for GCP backend services (``BackendRef.kind == "backend_service"``)."""

    def __init__(self, settings: CloudSettings) -> None:
        self.settings = settings

    @cached_property
    def _clients(self) -> _Clients:
        from google.cloud import compute_v1

        endpoint = self.settings.compute_endpoint
        # The REST transport keeps an http:// scheme given here, so the sandbox needs no TLS.
        options = {"api_endpoint": endpoint.rstrip("/")} if endpoint else None
        with translated("Compute: sign in"):
            signed_in = credentials(self.settings)

            def client(cls: Any) -> Any:
                return cls(credentials=signed_in, client_options=options, transport="rest")

            return _Clients(
                services=client(compute_v1.BackendServicesClient),
                region_services=client(compute_v1.RegionBackendServicesClient),
                operations=client(compute_v1.GlobalOperationsClient),
                region_operations=client(compute_v1.RegionOperationsClient),
            )

    # --- BackendApi -----------------------------------------------------------------------

    def get_backends(self, ref: BackendRef) -> BackendState:
        service = self._service(ref)
        return BackendState(ref, tuple(_target(b) for b in service.backends))

    def set_backends(
        self, ref: BackendRef, current: Sequence[BackendTarget], new: Sequence[BackendTarget]
    ) -> PendingChange:
        what = _what("change", ref)
        service = self._service(ref)
        live = [_target(b) for b in service.backends]
        if _keys(live) != _keys(current):
            raise Conflict(
                f"{what}: the backends changed since drill read them: now {_show(live)}, "
                f"drill expected {_show(current)}; nothing was changed"
            )
        serving = [_fields(b) for b in service.backends]
        body = {"fingerprint": service.fingerprint, "backends": [_backend(t, serving) for t in new]}
        with translated(what):
            operation = self._services_client(ref).patch_unary(
                **_service_args(ref),
                backend_service_resource=_resource(body, what),
                retry=None,
                timeout=CALL_TIMEOUT_S,
            )
        return _pending(operation, what)

    def change_status(self, ref: BackendRef, change_id: str) -> PendingChange:
        what = f"Compute: poll operation {change_id} for {_where(ref)}"
        clients = self._clients
        scope = {"project": _project(ref), "operation": change_id}
        with translated(what):
            if ref.region:
                operation = clients.region_operations.get(
                    **scope, region=ref.region, retry=None, timeout=CALL_TIMEOUT_S
                )
            else:
                operation = clients.operations.get(**scope, retry=None, timeout=CALL_TIMEOUT_S)
        return _pending(operation, what)

    def target_health(self, ref: BackendRef, targets: Sequence[str]) -> Mapping[str, str]:
        """ "healthy" when at least one instance of the group is HEALTHY, else a count."""
        return {target: self._group_health(ref, target) for target in targets}

    # --- calls ----------------------------------------------------------------------------

    def _services_client(self, ref: BackendRef) -> Any:
        return self._clients.region_services if ref.region else self._clients.services

    def _service(self, ref: BackendRef) -> Any:
        with translated(_what("read", ref)):
            return self._services_client(ref).get(
                **_service_args(ref), retry=None, timeout=CALL_TIMEOUT_S
            )

    def _group_health(self, ref: BackendRef, target: str) -> str:
        from google.cloud import compute_v1

        group = compute_v1.ResourceGroupReference(group=_full_url(target))
        with translated(f"Compute: health of {target} in {_where(ref)}"):
            health = self._services_client(ref).get_health(
                **_service_args(ref),
                resource_group_reference_resource=group,
                retry=None,
                timeout=CALL_TIMEOUT_S,
            )
        states = [str(status.health_state) for status in health.health_status]
        healthy = states.count("HEALTHY")
        if healthy:
            return "healthy"
        return f"0/{len(states)} instances HEALTHY" if states else "no instances reported"


# --- requests -------------------------------------------------------------------------------


def _project(ref: BackendRef) -> str:
    if not ref.project:
        raise PermanentError(f"backend service {ref.name}: a GCP backend service names its project")
    return ref.project


def _service_args(ref: BackendRef) -> dict[str, str]:
    args = {"project": _project(ref), "backend_service": ref.name}
    if ref.region:
        args["region"] = ref.region
    return args


def _where(ref: BackendRef) -> str:
    region = f", region {ref.region}" if ref.region else ""
    return f"backend service {ref.name} (project {ref.project}{region})"


def _what(action: str, ref: BackendRef) -> str:
    return f"Compute: {action} {_where(ref)}"


def _resource(body: dict[str, Any], what: str) -> Any:
    from google.cloud import compute_v1
    from google.protobuf import json_format

    try:
        return compute_v1.BackendService.from_json(json.dumps(body))
    except json_format.ParseError as exc:
        raise PermanentError(f"{what}: a backend setting Compute does not know: {exc}") from None


def _pending(operation: Any, what: str) -> PendingChange:
    status = str(operation.status.name)
    errors = [f"{e.code}: {e.message}" for e in operation.error.errors]
    if status == "DONE" and errors:
        raise PermanentError(f"{what}: operation {operation.name} failed: {'; '.join(errors)}")
    return PendingChange(id=str(operation.name), done=status == "DONE", status=status)


# --- backends <-> targets -------------------------------------------------------------------


def _fields(backend: Any) -> dict[str, Any]:
    """The backend as Compute's JSON names it, only the fields that are set.

    Read through JSON so float32 fields (capacityScaler, maxUtilization) come back as the
    shortest decimal, 0.8 rather than 0.800000011920929: undo must compare and write them
    exactly."""
    return dict(
        type(backend).to_dict(
            backend, preserving_proto_field_name=False, always_print_fields_with_no_presence=False
        )
    )


def _target(backend: Any) -> BackendTarget:
    fields = _fields(backend)
    settings = tuple(
        sorted(
            (key, _setting(value)) for key, value in fields.items() if key not in _MANAGED_FIELDS
        )
    )
    capacity = float(fields.get("capacityScaler", 1.0))
    return BackendTarget(relative_url(str(fields.get("group", ""))), capacity, None, settings)


def _setting(value: Any) -> Setting:
    if isinstance(value, str | int | float | bool):
        return value
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _backend(target: BackendTarget, serving: list[dict[str, Any]]) -> dict[str, Any]:
    """A backend for the patch: the target's own settings, else inherited from the service."""
    settings = dict(target.settings) or _inherited(target.target, serving)
    backend = {key: _json_value(key, value) for key, value in settings.items()}
    backend.update(group=_full_url(target.target), capacityScaler=target.capacity)
    return backend


def _json_value(key: str, value: Any) -> Any:
    return json.loads(value) if key in _STRUCTURED_FIELDS and isinstance(value, str) else value


def _inherited(target: str, serving: list[dict[str, Any]]) -> dict[str, Any]:
    """A group already on the service keeps its own settings; a new one copies the balancing
    fields of a serving backend, preferring one of its own kind (instance group or NEG)."""
    group = relative_url(target)
    for backend in serving:
        if relative_url(str(backend.get("group", ""))) == group:
            return {k: v for k, v in backend.items() if k not in _MANAGED_FIELDS}
    kind = _kind(group)
    for backend in sorted(serving, key=lambda b: _kind(str(b.get("group", ""))) != kind):
        copied = _balancing(backend, _kind(str(backend.get("group", ""))), kind)
        if copied:
            return copied
    return dict(DEFAULT_MODE)


def _balancing(backend: dict[str, Any], from_kind: str, to_kind: str) -> dict[str, Any]:
    copied = {k: backend[k] for k in BALANCING_FIELDS if k in backend}
    if from_kind == to_kind:
        return copied
    # Per-instance limits of an instance group are per-endpoint limits of a NEG, and back.
    old, new = (
        ("PerInstance", "PerEndpoint") if to_kind == "neg" else ("PerEndpoint", "PerInstance")
    )
    return {k.replace(old, new): v for k, v in copied.items()}


def _kind(group: str) -> str:
    return "neg" if "/networkEndpointGroups/" in group else "instance_group"


def relative_url(url: str) -> str:
    """``projects/...`` from a full Compute URL; anything else unchanged."""
    return _FULL_URL.sub("", url.strip())


def _full_url(target: str) -> str:
    return target if target.startswith("https://") else API_ROOT + target.lstrip("/")


def _keys(targets: Sequence[BackendTarget]) -> list[tuple[str, float, int | None]]:
    return sorted((relative_url(t.target), t.capacity, t.port) for t in targets)


def _show(targets: Sequence[BackendTarget]) -> str:
    return ", ".join(f"{t.target}@{t.capacity:g}" for t in targets) or "(none)"
