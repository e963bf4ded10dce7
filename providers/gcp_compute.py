"""Compute Engine backend services for ``backend.switch``, over Compute's REST API (JSON).

Reads a global or regional backend service's backends, replaces them with one patch that
carries the fingerprint it read (so a concurrent change is refused, not overwritten), reports
the patch operation's status, and asks Compute for each group's health. It never waits: the
step polls ``change_status``. Every request goes to the configured endpoint (the sandbox's
emulator, else compute.googleapis.com), operations included.

Requests are plain JSON over google-auth's authorized session: the few calls drill makes do
not justify the generated client library, whose import alone costs ~100 MiB and a second of
the measured RTO. Targets are reported in the relative form plans use
(``projects/p/zones/z/instanceGroups/g``) and sent as the fully-qualified URLs Compute
requires. Every backend field besides the group and capacity scaler travels in
``BackendTarget.settings``, as Compute sent it, so undo writes back exactly what was there.
google-auth loads only when the first request is made.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Any

from drill.errors import Conflict, PermanentError
from providers._google import credentials, error_message, translated
from providers._status import status_error
from providers.cloud import CloudSettings
from providers.protocols import BackendRef, BackendState, BackendTarget, PendingChange, Setting

API_ROOT = "https://www.googleapis.com/compute/v1/"
DEFAULT_ENDPOINT = "https://compute.googleapis.com"
# Per request, so a stuck API cannot hold a step for long.
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


class ComputeBackendsAdapter:
    """``BackendApi`` for GCP backend services (``BackendRef.kind == "backend_service"``)."""

    def __init__(self, settings: CloudSettings) -> None:
        self.settings = settings
        self._root = (settings.compute_endpoint or DEFAULT_ENDPOINT).rstrip("/") + "/compute/v1/"

    @cached_property
    def _session(self) -> Any:
        from google.auth.transport.requests import AuthorizedSession

        with translated("Compute: sign in"):
            return AuthorizedSession(credentials(self.settings))

    # --- BackendApi -----------------------------------------------------------------------

    def get_backends(self, ref: BackendRef) -> BackendState:
        service = self._service(ref)
        return BackendState(ref, tuple(_target(b) for b in _backends(service)))

    def set_backends(
        self, ref: BackendRef, current: Sequence[BackendTarget], new: Sequence[BackendTarget]
    ) -> PendingChange:
        what = _what("change", ref)
        service = self._service(ref)
        live = [_target(b) for b in _backends(service)]
        if _keys(live) != _keys(current):
            raise Conflict(
                f"{what}: the backends changed since drill read them: now {_show(live)}, "
                f"drill expected {_show(current)}; nothing was changed"
            )
        serving = _backends(service)
        body = {
            "fingerprint": service.get("fingerprint"),
            "backends": [_backend(t, serving) for t in new],
        }
        operation = self._call("PATCH", _service_path(ref), what, body)
        return _pending(operation, what)

    def change_status(self, ref: BackendRef, change_id: str) -> PendingChange:
        what = f"Compute: poll operation {change_id} for {_where(ref)}"
        operation = self._call("GET", f"{_scope(ref)}/operations/{change_id}", what)
        return _pending(operation, what)

    def target_health(self, ref: BackendRef, targets: Sequence[str]) -> Mapping[str, str]:
        """ "healthy" when at least one instance of the group is HEALTHY, else a count."""
        return {target: self._group_health(ref, target) for target in targets}

    # --- calls ----------------------------------------------------------------------------

    def _service(self, ref: BackendRef) -> dict[str, Any]:
        return self._call("GET", _service_path(ref), _what("read", ref))

    def _group_health(self, ref: BackendRef, target: str) -> str:
        what = f"Compute: health of {target} in {_where(ref)}"
        health = self._call(
            "POST", f"{_service_path(ref)}/getHealth", what, {"group": _full_url(target)}
        )
        states = [str(status.get("healthState", "")) for status in health.get("healthStatus", [])]
        healthy = states.count("HEALTHY")
        if healthy:
            return "healthy"
        return f"0/{len(states)} instances HEALTHY" if states else "no instances reported"

    def _call(
        self, method: str, path: str, what: str, body: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """One request; an error answer becomes drill's error naming ``what``."""
        with translated(what):
            response = self._session.request(
                method, self._root + path, json=body, timeout=CALL_TIMEOUT_S
            )
            if response.status_code >= 400:
                raise status_error(
                    what, response.status_code, error_message(response), response.headers
                )
            document = _json(response)
        if not isinstance(document, dict):
            raise PermanentError(f"{what}: Compute answered something other than a JSON object")
        return document


# --- requests -------------------------------------------------------------------------------


def _json(response: Any) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _project(ref: BackendRef) -> str:
    if not ref.project:
        raise PermanentError(f"backend service {ref.name}: a GCP backend service names its project")
    return ref.project


def _scope(ref: BackendRef) -> str:
    """projects/p/global, or projects/p/regions/r for a regional service."""
    where = f"regions/{ref.region}" if ref.region else "global"
    return f"projects/{_project(ref)}/{where}"


def _service_path(ref: BackendRef) -> str:
    return f"{_scope(ref)}/backendServices/{ref.name}"


def _where(ref: BackendRef) -> str:
    region = f", region {ref.region}" if ref.region else ""
    return f"backend service {ref.name} (project {ref.project}{region})"


def _what(action: str, ref: BackendRef) -> str:
    return f"Compute: {action} {_where(ref)}"


def _pending(operation: Mapping[str, Any], what: str) -> PendingChange:
    name = str(operation.get("name", ""))
    status = str(operation.get("status", ""))
    errors = [
        f"{e.get('code', '')}: {e.get('message', '')}"
        for e in (operation.get("error") or {}).get("errors", [])
    ]
    if status == "DONE" and errors:
        raise PermanentError(f"{what}: operation {name} failed: {'; '.join(errors)}")
    return PendingChange(id=name, done=status == "DONE", status=status)


# --- backends <-> targets -------------------------------------------------------------------


def _backends(service: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The service's backends as Compute's JSON names them (absent: none)."""
    return [dict(b) for b in service.get("backends") or [] if isinstance(b, dict)]


def _target(fields: Mapping[str, Any]) -> BackendTarget:
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
