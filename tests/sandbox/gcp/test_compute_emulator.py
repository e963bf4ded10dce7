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
    groups: Any


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
        build(compute_v1.InstanceGroupsClient),
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


def test_the_fingerprint_of_a_superseded_read_is_stale(clients: Clients) -> None:
    first = clients.services.get(project=PROJECT, backend_service="web").fingerprint
    patch_web(clients, first, DR)
    with pytest.raises(api.PreconditionFailed):
        patch_web(clients, first, SPARE)


def web_patch(compute: ComputeEmulator, fingerprint: str) -> requests.Response:
    return requests.patch(
        f"{compute.url}/compute/v1/projects/{PROJECT}/global/backendServices/web",
        json={"fingerprint": fingerprint, "backends": [{"group": ROOT + DR}]},
        timeout=5,
    )


def url_safe_unpadded(fingerprint: str) -> str:
    return fingerprint.replace("+", "-").replace("/", "_").rstrip("=")


def test_a_fingerprint_is_its_bytes_in_either_base64_alphabet(compute: ComputeEmulator) -> None:
    # Bytes fields take standard or URL-safe base64, padded or not; gcloud sends URL-safe.
    current = compute.fingerprint(PROJECT, "web")
    assert url_safe_unpadded(current) != current  # unpadded at least
    accepted = web_patch(compute, url_safe_unpadded(current))
    assert accepted.status_code == 200, accepted.text
    stale = web_patch(compute, url_safe_unpadded(current))
    assert stale.status_code == 412
    assert "does not match the current fingerprint" in stale.json()["error"]["message"]


@pytest.mark.parametrize("garbage", ["not base64!", "a", "%%%%"])
def test_a_fingerprint_that_is_not_base64_is_refused_as_invalid(
    compute: ComputeEmulator, garbage: str
) -> None:
    refused = web_patch(compute, garbage)
    assert refused.status_code == 400
    assert refused.json()["error"]["errors"][0]["reason"] == "invalid"
    assert "'resource.fingerprint'" in refused.json()["error"]["message"]
    assert groups_of(compute) == [PRIMARY]


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


# --- update (PUT): what gcloud's add-backend and remove-backend send ----------------------------


def update_web(clients: Clients, fingerprint: str | None, *groups: str) -> Any:
    return clients.services.update(
        project=PROJECT,
        backend_service="web",
        backend_service_resource=patch_body(fingerprint, *groups),
        retry=None,
    )


@pytest.mark.parametrize("fingerprint", ["c3RhbGUtZnA=", None])
@pytest.mark.parametrize("method", ["patch", "update"])
def test_a_write_with_a_stale_or_missing_fingerprint_is_refused_and_nothing_changes(
    clients: Clients, compute: ComputeEmulator, fingerprint: str | None, method: str
) -> None:
    write = {"patch": patch_web, "update": update_web}[method]
    before = compute.fingerprint(PROJECT, "web")
    with pytest.raises(api.PreconditionFailed, match="fingerprint") as refused:
        write(clients, fingerprint, DR)
    assert refused.value.errors[0]["reason"] == "conditionNotMet"
    assert groups_of(compute) == [PRIMARY]
    assert compute.fingerprint(PROJECT, "web") == before
    assert compute.truth.operations == ()


def test_an_update_replaces_the_service_and_takes_effect_when_its_operation_is_done(
    clients: Clients, compute: ComputeEmulator, clock: FakeClock
) -> None:
    before = clients.services.get(project=PROJECT, backend_service="web")
    operation = update_web(clients, before.fingerprint, DR, SPARE)
    assert operation.status == compute_v1.Operation.Status.RUNNING
    assert operation.operation_type == "update"
    assert operation.target_link == before.self_link
    assert groups_of(compute) == [PRIMARY]
    assert compute.fingerprint(PROJECT, "web") != before.fingerprint

    # (Polled with the test's own operations client: the one inside the ExtendedOperation that
    # update returns asks Google's endpoint, not the emulator's.)
    clock.advance(OPERATION_S - 0.01)
    running = clients.operations.get(project=PROJECT, operation=operation.name)
    assert running.status == compute_v1.Operation.Status.RUNNING
    clock.advance(0.01)
    done = clients.operations.get(project=PROJECT, operation=operation.name)
    assert done.status == compute_v1.Operation.Status.DONE
    assert groups_of(compute) == [DR, SPARE]
    assert health(clients, DR) == ["UNHEALTHY", "UNHEALTHY"]  # joined when the update was done
    after = clients.services.get(project=PROJECT, backend_service="web")
    # What the body left out is back to its default, not kept as a patch would keep it...
    assert after.health_checks == []
    assert not after.port_name
    assert after.timeout_sec == 30
    # ...and what Compute sets itself stays the server's.
    assert (after.id, after.self_link, after.creation_timestamp, after.name) == (
        before.id,
        before.self_link,
        before.creation_timestamp,
        before.name,
    )
    [record] = compute.truth.operations
    assert (record.name, record.target) == (
        operation.name,
        f"projects/{PROJECT}/global/backendServices/web",
    )


def test_an_update_after_someone_else_wrote_the_service_is_stale(
    clients: Clients, compute: ComputeEmulator
) -> None:
    fingerprint = compute.fingerprint(PROJECT, "web")
    compute.concurrent_update(PROJECT, "web")
    with pytest.raises(api.PreconditionFailed):
        update_web(clients, fingerprint, DR)
    assert groups_of(compute) == [PRIMARY]


def test_an_update_checks_its_backends_as_a_patch_does(
    clients: Clients, compute: ComputeEmulator
) -> None:
    fingerprint = compute.fingerprint(PROJECT, "web")
    with pytest.raises(api.BadRequest, match="Duplicate"):
        update_web(clients, fingerprint, DR, DR)
    with pytest.raises(api.NotFound, match="was not found"):
        update_web(clients, fingerprint, DR.replace("api-dr", "nope"))
    body = compute_v1.BackendService(
        fingerprint=fingerprint,
        backends=[compute_v1.Backend(group=ROOT + DR, balancing_mode="CONNECTION")],
    )
    with pytest.raises(api.BadRequest, match="not supported for protocol HTTP"):
        clients.services.update(
            project=PROJECT, backend_service="web", backend_service_resource=body
        )
    assert compute.backends(PROJECT, "web") == [PRIMARY_BACKEND]
    assert compute.fingerprint(PROJECT, "web") == fingerprint


def test_an_update_takes_injected_failures_and_permission_denials(
    clients: Clients, compute: ComputeEmulator
) -> None:
    fingerprint = compute.fingerprint(PROJECT, "web")
    compute.fail_requests(1, 503, "*/backendServices/web")
    with pytest.raises(api.ServiceUnavailable):
        update_web(clients, fingerprint, DR)
    compute.forbid("compute.backendServices.update")
    with pytest.raises(api.Forbidden, match=r"compute\.backendServices\.update"):
        update_web(clients, fingerprint, DR)
    compute.allow("compute.backendServices.update")
    compute.forbid("compute.regionBackendServices.update")
    with pytest.raises(api.Forbidden, match=r"compute\.regionBackendServices\.update"):
        clients.region_services.update(
            project=PROJECT,
            region=REGION,
            backend_service="api",
            backend_service_resource=patch_body(compute.fingerprint(PROJECT, "api", REGION), DR),
            retry=None,
        )
    assert groups_of(compute) == [PRIMARY]
    assert groups_of(compute, "api", REGION) == [PRIMARY]
    assert compute.fingerprint(PROJECT, "web") == fingerprint
    assert compute.truth.served("PUT", "/backendServices/") == 2  # the injected 503 is not


def test_a_regional_update_stays_running_while_operations_are_stuck(
    clients: Clients, compute: ComputeEmulator, clock: FakeClock
) -> None:
    compute.stuck_operations(True)
    operation = clients.region_services.update(
        project=PROJECT,
        region=REGION,
        backend_service="api",
        backend_service_resource=patch_body(compute.fingerprint(PROJECT, "api", REGION), DR),
    )
    assert operation.self_link.endswith(f"/regions/{REGION}/operations/{operation.name}")
    clock.advance(60)
    running = clients.region_operations.get(
        project=PROJECT, region=REGION, operation=operation.name
    )
    assert running.status == compute_v1.Operation.Status.RUNNING
    assert groups_of(compute, "api", REGION) == [PRIMARY]
    compute.stuck_operations(False)
    done = clients.region_operations.get(project=PROJECT, region=REGION, operation=operation.name)
    assert done.status == compute_v1.Operation.Status.DONE
    assert groups_of(compute, "api", REGION) == [DR]
    assert groups_of(compute, "web") == [PRIMARY]


def test_a_write_builds_on_the_one_accepted_before_it_done_or_not(
    clients: Clients, compute: ComputeEmulator, clock: FakeClock
) -> None:
    update_web(clients, compute.fingerprint(PROJECT, "web"), DR)  # drops the health check
    # The patch carries the fingerprint the update's acceptance handed out, so it patches the
    # service as the update leaves it, though the update is still running.
    body: JsonValue = {"fingerprint": compute.fingerprint(PROJECT, "web"), "timeoutSec": 45}
    answer = requests.patch(
        f"{compute.url}/compute/v1/projects/{PROJECT}/global/backendServices/web",
        json=body,
        timeout=5,
    )
    assert answer.status_code == 200, answer.text
    clock.advance(OPERATION_S)
    service = clients.services.get(project=PROJECT, backend_service="web")
    assert (service.timeout_sec, service.health_checks) == (45, [])
    assert groups_of(compute) == [DR]


def test_a_group_named_under_the_emulators_own_address_is_one_it_holds(
    clients: Clients, compute: ComputeEmulator, clock: FakeClock
) -> None:
    # What gcloud sends when its compute endpoint is overridden with the emulator's address.
    body = compute_v1.BackendService(
        fingerprint=compute.fingerprint(PROJECT, "web"),
        backends=[compute_v1.Backend(group=f"{compute.url}/{DR}")],
    )
    clients.services.update(project=PROJECT, backend_service="web", backend_service_resource=body)
    clock.advance(OPERATION_S)
    assert groups_of(compute) == [DR]
    service = clients.services.get(project=PROJECT, backend_service="web")
    assert [b.group for b in service.backends] == [ROOT + DR]


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


# --- lists ------------------------------------------------------------------------------------


def get_json(compute: ComputeEmulator, path: str, **query: str) -> Any:
    answer = requests.get(f"{compute.url}/compute/v1/projects/{PROJECT}/{path}", query, timeout=5)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_an_aggregated_list_keys_services_by_scope_and_warns_where_a_scope_has_none(
    compute: ComputeEmulator,
) -> None:
    listing = get_json(compute, "aggregated/backendServices", includeAllScopes="True")
    assert listing["kind"] == "compute#backendServiceAggregatedList"
    assert listing["selfLink"] == f"{ROOT}projects/{PROJECT}/aggregated/backendServices"
    assert "nextPageToken" not in listing
    items = listing["items"]
    assert [s["name"] for s in items["global"]["backendServices"]] == ["web"]
    [api] = items[f"regions/{REGION}"]["backendServices"]
    assert api == get_json(compute, f"regions/{REGION}/backendServices/api")  # as get renders it
    warning = items["zones/us-east1-b"]["warning"]
    assert warning["code"] == "NO_RESULTS_ON_PAGE"
    assert warning["data"] == [{"key": "scope", "value": "zones/us-east1-b"}]
    assert set(items) == {
        "global",
        "regions/us-central1",
        "regions/us-east1",
        "zones/us-central1-a",
        "zones/us-east1-b",
        "zones/us-east1-c",
    }
    # Without includeAllScopes only the scope kinds a backend service can be in are listed.
    narrow = get_json(compute, "aggregated/backendServices")["items"]
    assert set(narrow) == {"global", "regions/us-central1", "regions/us-east1"}


def test_the_client_pages_through_an_aggregated_list(
    clients: Clients, compute: ComputeEmulator
) -> None:
    pager = clients.services.aggregated_list(request={"project": PROJECT, "max_results": 1})
    found = {
        scope: [s.name for s in scoped.backend_services]
        for scope, scoped in pager
        if scoped.backend_services
    }
    assert found == {"global": ["web"], f"regions/{REGION}": ["api"]}
    assert compute.truth.served("GET", "/aggregated/backendServices") == 2


def test_plain_lists_answer_one_scope(clients: Clients) -> None:
    assert [s.name for s in clients.services.list(project=PROJECT)] == ["web"]
    regional = clients.region_services.list(project=PROJECT, region=REGION)
    assert [s.name for s in regional] == ["api"]
    assert list(clients.region_services.list(project=PROJECT, region="europe-west1")) == []
    zonal = clients.groups.list(project=PROJECT, zone="us-east1-b")
    assert [g.self_link for g in zonal] == [ROOT + DR]


def test_operations_are_listed_in_their_scope_and_in_the_aggregated_list(
    clients: Clients, compute: ComputeEmulator, clock: FakeClock
) -> None:
    assert list(clients.operations.list(project=PROJECT)) == []
    operation = patch_web(clients, compute.fingerprint(PROJECT, "web"), DR)
    [listed] = clients.operations.list(project=PROJECT)
    assert (listed.name, listed.status.name) == (operation.name, "RUNNING")
    assert list(clients.region_operations.list(project=PROJECT, region=REGION)) == []
    clock.advance(OPERATION_S)
    items = get_json(compute, "aggregated/operations")["items"]
    [done] = items["global"]["operations"]
    assert (done["name"], done["status"]) == (operation.name, "DONE")
    assert items[f"regions/{REGION}"]["warning"]["code"] == "NO_RESULTS_ON_PAGE"
    assert get_json(compute, "zones/us-east1-b/operations") == {
        "kind": "compute#operationList",
        "id": f"projects/{PROJECT}/zones/us-east1-b/operations",
        "selfLink": f"{ROOT}projects/{PROJECT}/zones/us-east1-b/operations",
    }


def test_instance_groups_are_described_and_list_their_instances(clients: Clients) -> None:
    group = clients.groups.get(project=PROJECT, zone="us-east1-b", instance_group="api-dr")
    assert (group.name, group.size, group.self_link) == ("api-dr", 2, ROOT + DR)
    assert group.zone == f"{ROOT}projects/{PROJECT}/zones/us-east1-b"
    instances = clients.groups.list_instances(
        project=PROJECT,
        zone="us-east1-b",
        instance_group="api-dr",
        instance_groups_list_instances_request_resource=compute_v1.InstanceGroupsListInstancesRequest(
            instance_state="ALL"
        ),
    )
    assert [i.instance.rsplit("/", 1)[1] for i in instances] == ["api-dr-0", "api-dr-1"]
    with pytest.raises(api.NotFound, match="instanceGroups/nope"):
        clients.groups.get(project=PROJECT, zone="us-east1-b", instance_group="nope", retry=None)


def test_aggregated_instance_groups_leave_out_network_endpoint_groups(
    compute: ComputeEmulator,
) -> None:
    compute.add_instance_group(f"projects/{PROJECT}/zones/us-east1-b/networkEndpointGroups/neg")
    items = get_json(compute, "aggregated/instanceGroups")["items"]
    assert [g["name"] for g in items["zones/us-east1-b"]["instanceGroups"]] == ["api-dr"]
    assert "global" not in items  # not where instance groups can be, without includeAllScopes


@pytest.mark.parametrize(
    ("expression", "names"),
    [
        ("name eq w.*", ["web"]),
        ("name ne web", ["api"]),
        ('name eq ".*\\bapi\\b.*"', ["api"]),  # what gcloud sends for --filter=name=api
        ("(protocol = HTTP) (name != api)", ["web"]),
        ("enableCDN eq false", ["web", "api"]),
        ("name eq we", []),  # the pattern must match the whole value
    ],
)
def test_a_filter_keeps_only_the_services_that_match(
    compute: ComputeEmulator, expression: str, names: list[str]
) -> None:
    items = get_json(compute, "aggregated/backendServices", filter=expression)["items"]
    found = [s["name"] for scoped in items.values() for s in scoped.get("backendServices", [])]
    assert sorted(found) == sorted(names)


@pytest.mark.parametrize(
    "query",
    [
        {"filter": "name < web"},
        {"filter": "backends.group eq .*"},  # a key across a list
        {"filter": "(name eq web) OR (name eq api)"},
        {"maxResults": "501"},
        {"pageToken": "next"},
    ],
)
def test_what_a_list_cannot_honour_is_refused_not_answered_wrong(
    compute: ComputeEmulator, query: dict[str, str]
) -> None:
    answer = requests.get(
        f"{compute.url}/compute/v1/projects/{PROJECT}/aggregated/backendServices",
        query,
        timeout=5,
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["status"] == "INVALID_ARGUMENT"


def test_lists_take_injected_failures_and_permissions_like_every_request(
    clients: Clients, compute: ComputeEmulator
) -> None:
    compute.fail_requests(1, 503, "*/aggregated/backendServices")
    with pytest.raises(api.ServiceUnavailable):
        list(clients.services.aggregated_list(project=PROJECT, retry=None))
    assert len(list(clients.services.aggregated_list(project=PROJECT, retry=None))) > 0
    compute.forbid("compute.backendServices.list")
    with pytest.raises(api.Forbidden, match=r"compute\.backendServices\.list"):
        list(clients.services.list(project=PROJECT, retry=None))
    assert groups_of(compute) == [PRIMARY]


def test_a_batch_answers_each_request_as_if_it_came_alone(compute: ComputeEmulator) -> None:
    compute.fail_requests(1, 503, "*/zones/us-east1-c/instanceGroups")
    paths = [f"zones/{zone}/instanceGroups" for zone in ("us-east1-b", "us-east1-c")]
    parts = [
        f"--b\r\nContent-Type: application/http\r\nContent-ID: <id+{index}>\r\n\r\n"
        f"GET /compute/v1/projects/{PROJECT}/{path}?maxResults=500 HTTP/1.1\r\n\r\n"
        for index, path in enumerate(paths)
    ]
    answer = requests.post(
        f"{compute.url}/batch/compute/v1",
        data="".join(parts) + "--b--\r\n",
        headers={"Content-Type": "multipart/mixed; boundary=b"},
        timeout=5,
    )
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("multipart/mixed; boundary=")
    first, second = answer.text.split("Content-ID: <response-id+")[1:]
    assert first.startswith("0>")
    assert "HTTP/1.1 200 OK" in first
    assert ROOT + DR in first
    assert second.startswith("1>")
    assert "HTTP/1.1 503 Service Unavailable" in second  # the fault hit its one request only
