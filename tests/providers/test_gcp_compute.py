"""The Compute backends adapter over Compute's REST API against the sandbox's emulator.

Time is a FakeClock, so "RUNNING, then DONE" is checked by moving it; the emulator's ground
truth (``backends``, ``truth``) shows what Compute really holds after each refusal, and which
requests reached it (operations are polled here, not on the public endpoint).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from drill.clock import FakeClock
from drill.errors import Conflict, NotFound, PermanentError, TransientError
from drill.sandbox.gcp import ComputeEmulator
from providers.cloud import CloudSettings
from providers.gcp_compute import ComputeBackendsAdapter
from providers.protocols import BackendRef, BackendTarget, PendingChange
from tests.providers.fresh import modules_loaded_by
from tests.threads import wait_threads_gone

PROJECT = "example-prod"
REGION = "us-east1"
OPERATION_S = 0.5
HEALTHY_AFTER_S = 0.3
PRIMARY = f"projects/{PROJECT}/zones/us-central1-a/instanceGroups/api-primary"
DR = f"projects/{PROJECT}/zones/us-east1-b/instanceGroups/api-dr"
NEG = f"projects/{PROJECT}/zones/us-east1-b/networkEndpointGroups/api-neg"
PRIMARY_BACKEND = {
    "group": PRIMARY,
    "balancingMode": "UTILIZATION",
    "capacityScaler": 1.0,
    "maxUtilization": 0.8,
}
WEB = BackendRef("gcp", "backend_service", "web", PROJECT)
API = BackendRef("gcp", "backend_service", "api", PROJECT, REGION)


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
    for group in (PRIMARY, DR):
        emulator.add_instance_group(group, instances=2)
    emulator.add_backend_service(PROJECT, "web", backends=[PRIMARY_BACKEND])
    emulator.add_backend_service(PROJECT, "api", region=REGION, backends=[PRIMARY_BACKEND])
    with emulator:
        yield emulator
    assert emulator.errors == []


@pytest.fixture
def adapter(compute: ComputeEmulator) -> ComputeBackendsAdapter:
    return ComputeBackendsAdapter(CloudSettings(compute_endpoint=compute.url, anonymous=True))


def switch(
    adapter: ComputeBackendsAdapter, clock: FakeClock, ref: BackendRef, *new: BackendTarget
) -> PendingChange:
    """What backend.switch does: read, patch, poll until done."""
    change = adapter.set_backends(ref, adapter.get_backends(ref).targets, new)
    while not change.done:
        clock.advance(0.25)
        change = adapter.change_status(ref, change.id)
    return change


# --- reading ----------------------------------------------------------------------------------


def test_targets_are_relative_with_every_other_field_as_exact_settings(
    adapter: ComputeBackendsAdapter,
) -> None:
    state = adapter.get_backends(WEB)
    assert state.ref == WEB
    assert state.targets == (
        BackendTarget(
            PRIMARY, 1.0, None, (("balancingMode", "UTILIZATION"), ("maxUtilization", 0.8))
        ),
    )


def test_an_unknown_service_is_not_found_naming_it(adapter: ComputeBackendsAdapter) -> None:
    ref = BackendRef("gcp", "backend_service", "nope", PROJECT)
    with pytest.raises(NotFound, match=f"read backend service nope \\(project {PROJECT}\\)"):
        adapter.get_backends(ref)


# --- switching --------------------------------------------------------------------------------


def test_a_switch_is_running_then_done_and_takes_effect_only_then(
    adapter: ComputeBackendsAdapter, compute: ComputeEmulator, clock: FakeClock
) -> None:
    current = adapter.get_backends(WEB).targets
    change = adapter.set_backends(WEB, current, [BackendTarget(DR)])
    assert (change.done, change.status) == (False, "RUNNING")
    assert change.id.startswith("operation-")
    assert [b["group"] for b in compute.backends(PROJECT, "web")] == [PRIMARY]
    assert adapter.get_backends(WEB).targets == current

    clock.advance(OPERATION_S)
    done = adapter.change_status(WEB, change.id)
    assert (done.id, done.done, done.status) == (change.id, True, "DONE")
    assert [b["group"] for b in compute.backends(PROJECT, "web")] == [DR]
    assert [t.target for t in adapter.get_backends(WEB).targets] == [DR]


def test_operations_are_polled_on_the_configured_endpoint(
    adapter: ComputeBackendsAdapter, compute: ComputeEmulator, clock: FakeClock
) -> None:
    change = switch(adapter, clock, WEB, BackendTarget(DR))
    path = f"/compute/v1/projects/{PROJECT}/global/operations/{change.id}"
    assert compute.truth.served("GET", path) >= 1
    assert compute.truth.served("PATCH", "/global/backendServices/web") == 1


def test_settings_survive_a_switch_and_a_switch_back_exactly(
    adapter: ComputeBackendsAdapter, compute: ComputeEmulator, clock: FakeClock
) -> None:
    previous = adapter.get_backends(WEB).targets
    switch(adapter, clock, WEB, BackendTarget(PRIMARY, 0.0), BackendTarget(DR, 1.0))
    drained, promoted = compute.backends(PROJECT, "web")
    assert drained == {**PRIMARY_BACKEND, "capacityScaler": 0.0}  # kept its own settings
    assert promoted == {**PRIMARY_BACKEND, "group": DR}  # inherited the serving mode

    switch(adapter, clock, WEB, *previous)
    assert compute.backends(PROJECT, "web") == [PRIMARY_BACKEND]
    assert adapter.get_backends(WEB).targets == previous


def test_a_new_group_inherits_the_rate_mode_of_the_service(
    adapter: ComputeBackendsAdapter, compute: ComputeEmulator, clock: FakeClock
) -> None:
    rate = {"group": PRIMARY, "balancingMode": "RATE", "maxRatePerInstance": 100.0}
    compute.add_backend_service(PROJECT, "rated", backends=[rate])
    ref = BackendRef("gcp", "backend_service", "rated", PROJECT)
    switch(adapter, clock, ref, BackendTarget(DR, 0.5))
    assert compute.backends(PROJECT, "rated") == [
        {"group": DR, "balancingMode": "RATE", "maxRatePerInstance": 100.0, "capacityScaler": 0.5}
    ]


def test_a_neg_inherits_per_endpoint_limits_from_an_instance_group(
    adapter: ComputeBackendsAdapter, compute: ComputeEmulator, clock: FakeClock
) -> None:
    compute.add_instance_group(NEG, instances=3)
    rate = {"group": PRIMARY, "balancingMode": "RATE", "maxRatePerInstance": 100.0}
    compute.add_backend_service(PROJECT, "rated", backends=[rate])
    ref = BackendRef("gcp", "backend_service", "rated", PROJECT)
    switch(adapter, clock, ref, BackendTarget(NEG))
    [backend] = compute.backends(PROJECT, "rated")
    assert backend["balancingMode"] == "RATE"
    assert backend["maxRatePerEndpoint"] == 100.0
    assert "maxRatePerInstance" not in backend


def test_a_service_without_backends_gets_utilization_mode(
    adapter: ComputeBackendsAdapter, compute: ComputeEmulator, clock: FakeClock
) -> None:
    compute.add_backend_service(PROJECT, "empty")
    ref = BackendRef("gcp", "backend_service", "empty", PROJECT)
    switch(adapter, clock, ref, BackendTarget(DR))
    [backend] = compute.backends(PROJECT, "empty")
    assert backend["balancingMode"] == "UTILIZATION"


def test_a_regional_service_is_switched_and_polled_through_region_operations(
    adapter: ComputeBackendsAdapter, compute: ComputeEmulator, clock: FakeClock
) -> None:
    change = switch(adapter, clock, API, BackendTarget(DR))
    assert [b["group"] for b in compute.backends(PROJECT, "api", REGION)] == [DR]
    assert [b["group"] for b in compute.backends(PROJECT, "web")] == [PRIMARY]
    assert compute.truth.served("GET", f"/regions/{REGION}/operations/{change.id}") >= 1
    clock.advance(HEALTHY_AFTER_S)
    assert adapter.target_health(API, [DR]) == {DR: "healthy"}
    assert compute.truth.served("POST", f"/regions/{REGION}/backendServices/api/getHealth") == 1


# --- refusals ---------------------------------------------------------------------------------


def test_backends_that_changed_since_drill_read_them_are_a_conflict(
    adapter: ComputeBackendsAdapter, compute: ComputeEmulator
) -> None:
    stale = [BackendTarget(PRIMARY, 0.5)]
    with pytest.raises(Conflict, match="changed since drill read them") as refused:
        adapter.set_backends(WEB, stale, [BackendTarget(DR)])
    assert PRIMARY in str(refused.value)
    assert compute.truth.served("PATCH", "/backendServices/web") == 0
    assert compute.backends(PROJECT, "web") == [PRIMARY_BACKEND]


def test_a_concurrent_update_refused_by_fingerprint_is_a_conflict(
    adapter: ComputeBackendsAdapter, compute: ComputeEmulator, clock: FakeClock
) -> None:
    current = adapter.get_backends(WEB).targets
    compute.concurrent_update(PROJECT, "web")
    with pytest.raises(Conflict, match="fingerprint"):
        adapter.set_backends(WEB, current, [BackendTarget(DR)])
    clock.advance(OPERATION_S)
    assert compute.backends(PROJECT, "web") == [PRIMARY_BACKEND]
    assert compute.truth.operations == ()


def test_a_503_burst_is_transient(
    adapter: ComputeBackendsAdapter, compute: ComputeEmulator
) -> None:
    compute.fail_requests(1, 503, "*/backendServices/web")
    with pytest.raises(TransientError, match="read backend service web"):
        adapter.get_backends(WEB)
    assert adapter.get_backends(WEB).targets[0].target == PRIMARY


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_statuses_worth_a_retry_are_transient_on_every_call(
    adapter: ComputeBackendsAdapter, compute: ComputeEmulator, clock: FakeClock, status: int
) -> None:
    current = adapter.get_backends(WEB).targets
    compute.fail_requests(1, status, "*/backendServices/web")
    with pytest.raises(TransientError, match=f"Injected failure \\({status}\\)"):
        adapter.set_backends(WEB, current, [BackendTarget(DR)])
    compute.fail_requests(1, status, "*/operations/*")
    change = adapter.set_backends(WEB, current, [BackendTarget(DR)])
    with pytest.raises(TransientError, match="poll operation"):
        adapter.change_status(WEB, change.id)
    compute.fail_requests(1, status, "*/getHealth")
    with pytest.raises(TransientError, match="health of"):
        adapter.target_health(WEB, [PRIMARY])


def test_a_setting_compute_does_not_know_is_refused_by_compute(
    adapter: ComputeBackendsAdapter, compute: ComputeEmulator
) -> None:
    current = adapter.get_backends(WEB).targets
    unknown = BackendTarget(DR, 1.0, None, (("maxRatePerGroup", 5),))
    with pytest.raises(PermanentError, match='Unknown name "maxRatePerGroup"') as refused:
        adapter.set_backends(WEB, current, [unknown])
    assert not isinstance(refused.value, TransientError | Conflict)
    assert compute.truth.operations == ()
    assert compute.backends(PROJECT, "web") == [PRIMARY_BACKEND]


def test_a_refused_permission_is_named(
    adapter: ComputeBackendsAdapter, compute: ComputeEmulator
) -> None:
    compute.forbid("compute.backendServices.update")
    current = adapter.get_backends(WEB).targets
    with pytest.raises(PermanentError, match="permission denied") as refused:
        adapter.set_backends(WEB, current, [BackendTarget(DR)])
    assert "compute.backendServices.update" in str(refused.value)
    assert "change backend service web" in str(refused.value)
    assert compute.backends(PROJECT, "web") == [PRIMARY_BACKEND]


def test_an_operation_that_failed_is_a_permanent_error(
    adapter: ComputeBackendsAdapter, compute: ComputeEmulator, clock: FakeClock
) -> None:
    compute.fail_operations(1, "The resource is not ready")
    change = adapter.set_backends(WEB, adapter.get_backends(WEB).targets, [BackendTarget(DR)])
    clock.advance(OPERATION_S)
    with pytest.raises(PermanentError, match=r"failed: .*The resource is not ready"):
        adapter.change_status(WEB, change.id)


def test_an_unknown_operation_is_not_found(adapter: ComputeBackendsAdapter) -> None:
    with pytest.raises(NotFound, match="poll operation operation-0"):
        adapter.change_status(WEB, "operation-0")


# --- health -----------------------------------------------------------------------------------


def test_a_new_group_is_healthy_after_the_delay(
    adapter: ComputeBackendsAdapter, compute: ComputeEmulator, clock: FakeClock
) -> None:
    switch(adapter, clock, WEB, BackendTarget(PRIMARY, 0.0), BackendTarget(DR))  # DR joins now
    assert adapter.target_health(WEB, [PRIMARY, DR]) == {
        PRIMARY: "healthy",
        DR: "0/2 instances HEALTHY",
    }
    clock.advance(HEALTHY_AFTER_S)
    assert adapter.target_health(WEB, [DR]) == {DR: "healthy"}


def test_a_never_healthy_group_is_never_healthy(
    adapter: ComputeBackendsAdapter, compute: ComputeEmulator, clock: FakeClock
) -> None:
    compute.never_healthy(DR)
    switch(adapter, clock, WEB, BackendTarget(DR))
    clock.advance(60)
    assert adapter.target_health(WEB, [DR]) == {DR: "0/2 instances HEALTHY"}


# --- cost -------------------------------------------------------------------------------------


def test_importing_the_adapter_loads_no_google_library() -> None:
    code = "import providers.gcp_compute as m; m.ComputeBackendsAdapter(m.CloudSettings())"
    assert modules_loaded_by(code, ("google",)) == []
