"""The Compute emulator through google-cloud-compute's own REST clients over real HTTP.

Time is a FakeClock: "RUNNING, then DONE" and "UNHEALTHY, then HEALTHY" are checked by moving
it. Ground truth (``backends``, ``truth``) shows what the emulator really holds after refusals.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
import requests
from google.api_core import exceptions as api
from google.auth.credentials import AnonymousCredentials
from pydantic import JsonValue

from drill.clock import FakeClock
from drill.sandbox.gcp import ComputeEmulator
from tests.threads import wait_threads_gone


class _ImportedOnFirstUse:
    """A module's public names, imported when one is first asked for.

    Private and dunder names are refused without importing: collecting this file, pytest asks
    every global for them, and that must not load the module.
    """

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("_"):
            raise AttributeError(attribute)
        return getattr(importlib.import_module(self._name), attribute)


if TYPE_CHECKING:
    from google.cloud import compute_v1
else:
    # The generated client takes about a second of CPU to import: only the pytest worker that
    # runs these tests pays it, not every worker that collects them.
    compute_v1 = _ImportedOnFirstUse("google.cloud.compute_v1")

PROJECT = "example-prod"
REGION = "us-east1"
ROOT = "https://www.googleapis.com/compute/v1/"
PRIMARY = f"projects/{PROJECT}/zones/us-central1-a/instanceGroups/api-primary"
DR = f"projects/{PROJECT}/zones/us-east1-b/instanceGroups/api-dr"
SPARE = f"projects/{PROJECT}/zones/us-east1-c/instanceGroups/api-spare"
OPERATION_S = 0.5
HEALTHY_AFTER_S = 0.3
PRIMARY_BACKEND = {
    "group": PRIMARY,
    "balancingMode": "UTILIZATION",
    "capacityScaler": 1.0,
    "maxUtilization": 0.8,
}


@dataclass
class Clients:
    services: Any
    region_services: Any
    operations: Any
    region_operations: Any


@pytest.fixture(autouse=True)
def _no_thread_leaks() -> Iterator[None]:
    yield
    wait_threads_gone("gcp-compute")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def compute(clock: FakeClock) -> Iterator[ComputeEmulator]:
    emulator = ComputeEmulator(clock, operation_s=OPERATION_S, healthy_after_s=HEALTHY_AFTER_S)
    for group in (PRIMARY, DR, SPARE):
        emulator.add_instance_group(group, instances=2)
    emulator.add_backend_service(PROJECT, "web", backends=[PRIMARY_BACKEND])
    emulator.add_backend_service(PROJECT, "api", region=REGION, backends=[PRIMARY_BACKEND])
    with emulator:
        yield emulator
    assert emulator.errors == []


@pytest.fixture
def clients(compute: ComputeEmulator) -> Clients:
    options = {"api_endpoint": compute.url}

    def build(cls: Any) -> Any:
        return cls(credentials=AnonymousCredentials(), client_options=options, transport="rest")

    return Clients(
        build(compute_v1.BackendServicesClient),
        build(compute_v1.RegionBackendServicesClient),
        build(compute_v1.GlobalOperationsClient),
        build(compute_v1.RegionOperationsClient),
    )


def patch_body(fingerprint: str | None, *groups: str) -> Any:
    backends = [compute_v1.Backend(group=ROOT + g, capacity_scaler=1.0) for g in groups]
    if fingerprint is None:
        return compute_v1.BackendService(backends=backends)
    return compute_v1.BackendService(backends=backends, fingerprint=fingerprint)


def patch_web(clients: Clients, fingerprint: str | None, *groups: str) -> Any:
    return clients.services.patch_unary(
        project=PROJECT,
        backend_service="web",
        backend_service_resource=patch_body(fingerprint, *groups),
        retry=None,
    )


def groups_of(compute: ComputeEmulator, name: str = "web", region: str | None = None) -> list[str]:
    return [b["group"] for b in compute.backends(PROJECT, name, region)]


def health(clients: Clients, group: str) -> list[str]:
    reference = compute_v1.ResourceGroupReference(group=ROOT + group)
    answer = clients.services.get_health(
        project=PROJECT, backend_service="web", resource_group_reference_resource=reference
    )
    return [status.health_state for status in answer.health_status]


# --- get and patch ----------------------------------------------------------------------------


def test_get_answers_the_full_service_with_fully_qualified_urls(clients: Clients) -> None:
    service = clients.services.get(project=PROJECT, backend_service="web")
    assert service.name == "web"
    assert service.self_link == f"{ROOT}projects/{PROJECT}/global/backendServices/web"
    assert service.fingerprint
    assert service.protocol == "HTTP"
    assert service.health_checks == [f"{ROOT}projects/{PROJECT}/global/healthChecks/web"]
    [backend] = service.backends
    assert backend.group == ROOT + PRIMARY
    assert backend.balancing_mode == "UTILIZATION"
    assert backend.max_utilization == pytest.approx(0.8)


def test_a_patch_runs_and_the_backends_change_only_when_it_is_done(
    clients: Clients, compute: ComputeEmulator, clock: FakeClock
) -> None:
    before = clients.services.get(project=PROJECT, backend_service="web")
    operation = patch_web(clients, before.fingerprint, DR)
    assert operation.status == compute_v1.Operation.Status.RUNNING
    assert operation.operation_type == "patch"
    assert operation.target_link == before.self_link
    assert groups_of(compute) == [PRIMARY]
    after = clients.services.get(project=PROJECT, backend_service="web")
    assert [b.group for b in after.backends] == [ROOT + PRIMARY]
    assert after.fingerprint != before.fingerprint  # a second writer must re-read

    clock.advance(OPERATION_S - 0.01)
    running = clients.operations.get(project=PROJECT, operation=operation.name)
    assert running.status == compute_v1.Operation.Status.RUNNING
    clock.advance(0.01)
    done = clients.operations.get(project=PROJECT, operation=operation.name)
    assert done.status == compute_v1.Operation.Status.DONE
    assert groups_of(compute) == [DR]
    [record] = compute.truth.operations
    assert record.name == operation.name
    assert record.target == f"projects/{PROJECT}/global/backendServices/web"
    assert record.done_at is not None
    assert (record.done_at - record.inserted_at).total_seconds() == pytest.approx(OPERATION_S)


def test_a_patch_keeps_the_fields_it_does_not_name(clients: Clients, clock: FakeClock) -> None:
    fingerprint = clients.services.get(project=PROJECT, backend_service="web").fingerprint
    patch_web(clients, fingerprint, DR)
    clock.advance(OPERATION_S)
    service = clients.services.get(project=PROJECT, backend_service="web")
    assert service.health_checks == [f"{ROOT}projects/{PROJECT}/global/healthChecks/web"]
    assert service.protocol == "HTTP"


def test_wait_holds_until_the_operation_is_done(clients: Clients, compute: ComputeEmulator) -> None:
    fingerprint = clients.services.get(project=PROJECT, backend_service="web").fingerprint
    operation = patch_web(clients, fingerprint, DR)
    waited = clients.operations.wait(project=PROJECT, operation=operation.name)
    assert waited.status == compute_v1.Operation.Status.DONE
    assert groups_of(compute) == [DR]


@pytest.mark.parametrize("fingerprint", ["c3RhbGUtZnA=", None])
def test_a_stale_or_missing_fingerprint_is_refused_and_nothing_changes(
    clients: Clients, compute: ComputeEmulator, fingerprint: str | None
) -> None:
    before = compute.fingerprint(PROJECT, "web")
    with pytest.raises(api.PreconditionFailed, match="fingerprint") as refused:
        patch_web(clients, fingerprint, DR)
    assert refused.value.errors[0]["reason"] == "conditionNotMet"
    assert groups_of(compute) == [PRIMARY]
    assert compute.fingerprint(PROJECT, "web") == before
    assert compute.truth.operations == ()


def test_the_fingerprint_of_a_superseded_read_is_stale(clients: Clients) -> None:
    first = clients.services.get(project=PROJECT, backend_service="web").fingerprint
    patch_web(clients, first, DR)
    with pytest.raises(api.PreconditionFailed):
        patch_web(clients, first, SPARE)


@pytest.mark.parametrize(
    ("backend", "refusal"),
    [
        ({"group": DR}, "backends[0].group"),  # partial URLs are not accepted
        ({"group": ROOT + DR.replace("api-dr", "nope")}, "was not found"),
        ({"group": ROOT + DR, "capacityScaler": 0.05}, "capacityScaler"),
        ({"group": ROOT + DR, "balancingMode": "RATE"}, "maxRate"),
        ({"group": ROOT + DR, "balancingMode": "CONNECTION"}, "not supported for protocol HTTP"),
    ],
)
def test_an_invalid_backend_is_refused_and_nothing_changes(
    clients: Clients, compute: ComputeEmulator, backend: dict[str, Any], refusal: str
) -> None:
    fingerprint = compute.fingerprint(PROJECT, "web")
    body = compute_v1.BackendService(
        fingerprint=fingerprint, backends=[compute_v1.Backend(**_snake(backend))]
    )
    with pytest.raises((api.BadRequest, api.NotFound), match=re.escape(refusal)):
        clients.services.patch_unary(
            project=PROJECT, backend_service="web", backend_service_resource=body
        )
    assert compute.backends(PROJECT, "web") == [PRIMARY_BACKEND]
    assert compute.fingerprint(PROJECT, "web") == fingerprint


def _snake(backend: dict[str, Any]) -> dict[str, Any]:
    names = {"capacityScaler": "capacity_scaler", "balancingMode": "balancing_mode"}
    return {names.get(k, k): v for k, v in backend.items()}


def test_an_unknown_backend_field_is_refused_as_computes_json_parser_does(
    compute: ComputeEmulator,
) -> None:
    fingerprint = compute.fingerprint(PROJECT, "web")
    body: JsonValue = {
        "fingerprint": fingerprint,
        "backends": [{"group": ROOT + DR, "maxRatePerGroup": 5}],
    }
    answer = requests.patch(
        f"{compute.url}/compute/v1/projects/{PROJECT}/global/backendServices/web",
        json=body,
        timeout=5,
    )
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT"
    assert "Unknown name \"maxRatePerGroup\" at 'resource.backends[0]'" in error["message"]
    assert groups_of(compute) == [PRIMARY]
    assert compute.fingerprint(PROJECT, "web") == fingerprint


def test_duplicate_groups_are_refused(clients: Clients, compute: ComputeEmulator) -> None:
    with pytest.raises(api.BadRequest, match="Duplicate"):
        patch_web(clients, compute.fingerprint(PROJECT, "web"), DR, DR)


# --- regional services and operations ---------------------------------------------------------


def test_a_regional_service_is_patched_and_polled_through_region_operations(
    clients: Clients, compute: ComputeEmulator, clock: FakeClock
) -> None:
    service = clients.region_services.get(project=PROJECT, region=REGION, backend_service="api")
    assert service.region == f"{ROOT}projects/{PROJECT}/regions/{REGION}"
    operation = clients.region_services.patch_unary(
        project=PROJECT,
        region=REGION,
        backend_service="api",
        backend_service_resource=patch_body(service.fingerprint, DR),
    )
    assert operation.self_link.endswith(f"/regions/{REGION}/operations/{operation.name}")
    with pytest.raises(api.NotFound):  # a regional operation is not a global one
        clients.operations.get(project=PROJECT, operation=operation.name, retry=None)
    clock.advance(OPERATION_S)
    done = clients.region_operations.get(project=PROJECT, region=REGION, operation=operation.name)
    assert done.status == compute_v1.Operation.Status.DONE
    assert groups_of(compute, "api", REGION) == [DR]
    assert groups_of(compute, "web") == [PRIMARY]


def test_stuck_operations_stay_running_until_released(
    clients: Clients, compute: ComputeEmulator, clock: FakeClock
) -> None:
    compute.stuck_operations(True)
    compute.wait_timeout_s = 2.0
    operation = patch_web(clients, compute.fingerprint(PROJECT, "web"), DR)
    clock.advance(60)
    waited = clients.operations.wait(project=PROJECT, operation=operation.name)
    assert waited.status == compute_v1.Operation.Status.RUNNING
    assert groups_of(compute) == [PRIMARY]
    compute.stuck_operations(False)
    assert clients.operations.get(project=PROJECT, operation=operation.name).status.name == "DONE"
    assert groups_of(compute) == [DR]


def test_a_failed_operation_is_done_with_an_error_and_changes_nothing(
    clients: Clients, compute: ComputeEmulator, clock: FakeClock
) -> None:
    compute.fail_operations(1, "The resource is not ready")
    operation = patch_web(clients, compute.fingerprint(PROJECT, "web"), DR)
    clock.advance(OPERATION_S)
    done = clients.operations.get(project=PROJECT, operation=operation.name)
    assert done.status.name == "DONE"
    assert done.error.errors[0].message == "The resource is not ready"
    assert groups_of(compute) == [PRIMARY]
    assert compute.truth.operations[0].failed


# --- health -----------------------------------------------------------------------------------


def test_a_new_group_turns_healthy_after_the_delay_from_when_it_joined(
    clients: Clients, compute: ComputeEmulator, clock: FakeClock
) -> None:
    assert health(clients, PRIMARY) == ["HEALTHY", "HEALTHY"]  # seeded: long healthy
    patch_web(clients, compute.fingerprint(PROJECT, "web"), PRIMARY, DR)
    with pytest.raises(api.BadRequest, match="not a backend"):  # not joined until DONE
        health(clients, DR)
    clock.advance(OPERATION_S)
    assert health(clients, DR) == ["UNHEALTHY", "UNHEALTHY"]
    clock.advance(HEALTHY_AFTER_S - 0.01)
    assert health(clients, DR) == ["UNHEALTHY", "UNHEALTHY"]
    clock.advance(0.01)
    assert health(clients, DR) == ["HEALTHY", "HEALTHY"]
    assert health(clients, PRIMARY) == ["HEALTHY", "HEALTHY"]


def test_a_never_healthy_group_stays_unhealthy(
    clients: Clients, compute: ComputeEmulator, clock: FakeClock
) -> None:
    compute.never_healthy(DR)
    patch_web(clients, compute.fingerprint(PROJECT, "web"), DR)
    clock.advance(OPERATION_S + HEALTHY_AFTER_S + 60)
    assert health(clients, DR) == ["UNHEALTHY", "UNHEALTHY"]


def test_health_of_a_group_the_service_never_had_is_a_bad_request(clients: Clients) -> None:
    with pytest.raises(api.BadRequest, match=r"resourceGroupReference\.group"):
        health(clients, SPARE)


# --- refusals ---------------------------------------------------------------------------------


def test_unknown_services_projects_and_operations_are_not_found(clients: Clients) -> None:
    with pytest.raises(api.NotFound, match="backendServices/nope"):
        clients.services.get(project=PROJECT, backend_service="nope", retry=None)
    with pytest.raises(api.NotFound, match="projects/elsewhere"):
        clients.services.get(project="elsewhere", backend_service="web", retry=None)
    with pytest.raises(api.NotFound, match="operations/operation-1"):
        clients.operations.get(project=PROJECT, operation="operation-1", retry=None)


def test_injected_failures_answer_then_clear(clients: Clients, compute: ComputeEmulator) -> None:
    compute.fail_requests(2, 503, "*/backendServices/web")
    for _ in range(2):
        with pytest.raises(api.ServiceUnavailable):
            clients.services.get(project=PROJECT, backend_service="web", retry=None)
    assert clients.services.get(project=PROJECT, backend_service="web", retry=None).name == "web"


def test_a_forbidden_patch_names_the_permission_and_changes_nothing(
    clients: Clients, compute: ComputeEmulator
) -> None:
    compute.forbid("compute.backendServices.update")
    with pytest.raises(api.Forbidden) as refused:
        patch_web(clients, compute.fingerprint(PROJECT, "web"), DR)
    assert refused.value.message.endswith(
        f"Required 'compute.backendServices.update' permission for "
        f"'projects/{PROJECT}/global/backendServices/web'"
    )
    assert groups_of(compute) == [PRIMARY]
    assert clients.services.get(project=PROJECT, backend_service="web").name == "web"


def test_the_truth_lists_every_request_a_handler_answered(
    clients: Clients, compute: ComputeEmulator
) -> None:
    clients.services.get(project=PROJECT, backend_service="web")
    clients.region_services.get(project=PROJECT, region=REGION, backend_service="api")
    assert compute.truth.requests == (
        ("GET", f"/compute/v1/projects/{PROJECT}/global/backendServices/web"),
        ("GET", f"/compute/v1/projects/{PROJECT}/regions/{REGION}/backendServices/api"),
    )


def test_serving_since_is_when_a_wanted_group_took_traffic_healthy(
    clients: Clients, compute: ComputeEmulator, clock: FakeClock
) -> None:
    assert compute.serving_since(PROJECT, "web", None, [PRIMARY]) == float("-inf")  # seeded
    assert compute.serving_since(PROJECT, "web", None, [DR]) is None
    before = clients.services.get(project=PROJECT, backend_service="web")
    patched_at = clock.monotonic()
    patch_web(clients, before.fingerprint, DR)
    clock.advance(OPERATION_S + HEALTHY_AFTER_S - 0.01)
    assert compute.serving_since(PROJECT, "web", None, [ROOT + DR]) is None  # not healthy yet
    clock.advance(1.0)
    healthy_from = patched_at + OPERATION_S + HEALTHY_AFTER_S
    assert compute.serving_since(PROJECT, "web", None, [ROOT + DR]) == pytest.approx(healthy_from)
    assert compute.serving_since(PROJECT, "web", None, [PRIMARY]) is None  # drained
    compute.never_healthy(DR)
    assert compute.serving_since(PROJECT, "web", None, [DR]) is None
