"""backend.switch logic: exact prior backends (settings too), waiting, health, careful undo."""

from __future__ import annotations

from dataclasses import replace

import pytest
from pydantic import JsonValue, ValidationError

from drill.errors import Conflict, StepFailed
from drill.steps import StepTimedOut
from drill.steps.backend_switch import BackendSwitch, BackendSwitchParams
from providers.protocols import BackendRef, BackendState, BackendTarget
from tests.steps.cloudfakes import FakeBackends, FakeClouds, cloud_env, noting

PRIMARY = "projects/p/zones/us-central1-a/instanceGroups/api"
DR = "projects/p/zones/us-east1-b/instanceGroups/api"
BEFORE = (BackendTarget(PRIMARY, 1.0, None, (("balancingMode", "RATE"), ("maxRate", 500))),)


def params(**values: object) -> BackendSwitchParams:
    base = {
        "provider": "gcp",
        "project": "p",
        "service": "api-backend",
        "backends": [{"target": DR, "capacity": 1.0}],
    }
    return BackendSwitchParams.model_validate({**base, **values})


def clouds_with(targets: tuple[BackendTarget, ...] = BEFORE) -> FakeClouds:
    clouds = FakeClouds()
    clouds.backend_api.services["api-backend"] = targets
    return clouds


def test_switch_then_undo_puts_back_every_setting() -> None:
    clouds, step = clouds_with(), BackendSwitch()
    env = cloud_env(clouds)
    prior = step.capture_prior_state(params(), env)
    result = step.run(params(), env)
    assert clouds.backend_api.services["api-backend"] == (BackendTarget(DR, 1.0),)
    assert result.facts["change"] == "op-1"
    assert "back on" in step.undo(params(), prior, env)
    assert clouds.backend_api.services["api-backend"] == BEFORE


def test_undo_refuses_when_the_backends_changed_since() -> None:
    clouds, step = clouds_with(), BackendSwitch()
    env = cloud_env(clouds)
    prior = step.capture_prior_state(params(), env)
    step.run(params(), env)
    other = (BackendTarget("projects/p/zones/x/instanceGroups/other"),)
    clouds.backend_api.services["api-backend"] = other
    with pytest.raises(StepFailed, match="someone changed it since; left as is"):
        step.undo(params(), prior, env)
    assert clouds.backend_api.services["api-backend"] == other


def test_already_switched_backends_are_not_touched() -> None:
    clouds = clouds_with((BackendTarget(DR, 1.0),))
    result = BackendSwitch().run(params(), cloud_env(clouds))
    assert "already on" in result.summary
    assert clouds.backend_api.sets == []


def test_waits_for_health_and_reports_how_long() -> None:
    clouds = clouds_with()
    clouds.backend_api.healthy_after_polls = 3
    result = BackendSwitch().run(params(wait_healthy="1m"), cloud_env(clouds))
    assert result.facts["healthy_after_s"] == pytest.approx(0.25 + 0.375 + 0.5625, abs=0.001)


def test_unhealthy_backends_fail_naming_each() -> None:
    clouds = clouds_with()
    clouds.backend_api.healthy_after_polls = 10**6
    with pytest.raises(StepFailed, match=f"not healthy after 10.0s: {DR}: UNHEALTHY"):
        BackendSwitch().run(params(wait_healthy="10s"), cloud_env(clouds))


def test_a_concurrent_change_is_a_conflict_with_nothing_applied() -> None:
    clouds = clouds_with()

    class Racing(FakeBackends):
        def get_backends(self, ref: BackendRef) -> BackendState:
            state = super().get_backends(ref)
            return type(state)(ref, (BackendTarget(PRIMARY, 0.5),))  # a stale read

    clouds.backend_api = Racing(services=dict(clouds.backend_api.services))
    with pytest.raises(Conflict):
        BackendSwitch().run(params(), cloud_env(clouds))
    assert clouds.backend_api.services["api-backend"] == BEFORE


def test_full_compute_urls_mean_the_same_group() -> None:
    full = params(backends=[{"target": f"https://www.googleapis.com/compute/v1/{DR}"}])
    assert full.targets() == (BackendTarget(DR, 1.0),)


def test_aws_kinds() -> None:
    group = params(
        provider="aws", project=None, service="api-tg", backends=[{"target": "i-1", "port": 8080}]
    )
    assert group.ref().kind == "target_group"
    weights = params(
        provider="aws",
        project=None,
        service=None,
        listener="api-alb:443",
        backends=[{"target": "api-east", "capacity": 100}, {"target": "api-west", "capacity": 0}],
    )
    assert (weights.ref().kind, weights.ref().name) == ("listener", "api-alb:443")


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"project": None}, "names its project and backend service"),
        ({"listener": "arn:x"}, "listener is for AWS"),
        ({"region": ""}, "should match pattern"),  # not "no region": a global service
        ({"region": "us east1"}, "should match pattern"),
        ({"project": ""}, "at least 1 character"),
        ({"backends": [{"target": DR, "capacity": 2}]}, "between 0.0 and 1.0"),
        ({"backends": [{"target": DR}, {"target": DR}]}, "each target at most once"),
        ({"provider": "aws", "listener": "alb:443"}, "exactly one of service"),
        ({"backends": [{"target": DR, "port": 80}]}, "port is for AWS target groups"),
        (
            {"provider": "aws", "project": None, "backends": [{"target": "10.0.0.1"}]},
            "names its port",
        ),
        (
            {
                "provider": "aws",
                "project": None,
                "backends": [{"target": "10.0.0.1", "port": 80, "capacity": 0.5}],
            },
            "use listener weights",
        ),
    ],
)
def test_params_are_checked(values: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        params(**values)


def test_the_journaled_read_is_the_precondition_so_a_later_change_is_not_lost() -> None:
    clouds, step = clouds_with(), BackendSwitch()
    env = cloud_env(clouds)
    prior = step.capture_prior_state(params(), env)
    someone = (BackendTarget(PRIMARY, 0.5, None, ()),)
    clouds.backend_api.services["api-backend"] = someone  # changed after drill read it
    notes: dict[str, JsonValue] = {}
    with pytest.raises(Conflict, match="changed since drill read them"):
        step.run(params(), replace(env, prior=prior, **noting(notes)))
    assert clouds.backend_api.services["api-backend"] == someone
    undone = step.undo(params(), prior, replace(env, **noting(notes)))
    assert undone.endswith("drill's change was never made")
    assert clouds.backend_api.services["api-backend"] == someone


def stopped_mid_operation() -> tuple[FakeClouds, BackendSwitch, JsonValue, dict[str, JsonValue]]:
    """A switch whose operation is still running when the step's time ends."""
    clouds, step = clouds_with(), BackendSwitch()
    clouds.backend_api.polls_until_done = 3
    env = cloud_env(clouds, timeout_s=0.1)
    prior = step.capture_prior_state(params(), env)
    notes: dict[str, JsonValue] = {}
    with pytest.raises(StepTimedOut):
        step.run(params(), replace(env, prior=prior, **noting(notes)))
    return clouds, step, prior, notes


def test_undo_waits_for_an_operation_still_in_flight_before_reading() -> None:
    """Interrupted while its operation ran: undo must not read the backends before it lands."""
    clouds, step, prior, notes = stopped_mid_operation()
    assert notes == {"change": "op-1"}
    assert clouds.backend_api.services["api-backend"] == BEFORE  # not landed yet
    undone = step.undo(params(), prior, replace(cloud_env(clouds), **noting(notes)))
    assert "back on" in undone
    assert clouds.backend_api.services["api-backend"] == BEFORE
    assert len(clouds.backend_api.sets) == 2  # the switch landed, then the undo


def test_a_retry_waits_for_the_operation_its_first_try_started() -> None:
    clouds, step, prior, notes = stopped_mid_operation()
    clouds.backend_api.polls_until_done = 0
    result = step.run(params(), replace(cloud_env(clouds), prior=prior, **noting(notes)))
    assert "->" in result.summary  # switched by this run, not "already"
    assert len(clouds.backend_api.sets) == 1  # and never twice
