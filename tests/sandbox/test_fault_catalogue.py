"""The fault catalogue: every fault, on every shipped plan, either names actions the sandbox
takes or says it has nothing to act on; at a step it aims at what that step uses."""

from __future__ import annotations

from pathlib import Path

import pytest

from drill.errors import UsageError
from drill.plan import ExecutionPlan, load_plan, resolve
from drill.sandbox.gateway import Gateway
from drill.sandbox.runtime import _ALLOWED_CALLS
from drill.sandbox.worlds.faults import (
    CATALOGUE,
    Action,
    FaultSpec,
    parse_fault_flag,
    planned_actions,
)
from drill.steps import Mode
from drill.tiers import DEFAULT_TIERS
from tests.child import REPO

PLANS = sorted((REPO / "plans").glob("*.yaml"))


def resolved(path: Path, mode: Mode = "drill") -> ExecutionPlan:
    loaded = load_plan(path, DEFAULT_TIERS)
    return resolve(loaded.plan, loaded.source, mode, DEFAULT_TIERS, {})


@pytest.mark.parametrize("plan", PLANS, ids=lambda p: p.stem)
def test_every_fault_names_only_calls_the_sandbox_takes(plan: Path) -> None:
    applicable = 0
    for name in CATALOGUE:
        refusal = ""
        try:
            actions = planned_actions(FaultSpec(name), resolved(plan))
        except UsageError as exc:
            refusal, actions = str(exc), []
        if refusal:
            assert "nothing to inject: the plan has no" in refusal, (name, refusal)
            continue
        applicable += 1
        assert actions, name
        for action in actions:
            assert action.call in _ALLOWED_CALLS[action.target], (name, action)
            assert Action.from_json(action.as_json()) == action
    assert applicable >= 10


def test_at_a_step_a_fault_aims_at_what_that_step_uses() -> None:
    plan = REPO / "plans" / "region-failure.yaml"
    spec = parse_fault_flag("pods-never-ready@workloads-ready")
    drill = planned_actions(spec, resolved(plan))
    live = planned_actions(spec, resolved(plan, "live"))
    assert [a.args for a in drill] == [{"namespace": "dr-test", "name": "api-server"}]
    assert [a.args for a in live] == [{"namespace": "production", "name": "api-server-standby"}]
    assert {
        a.role for a in planned_actions(FaultSpec("api-5xx", "smoke-test"), resolved(plan))
    } == {"dr"}
    assert {a.role for a in planned_actions(FaultSpec("api-5xx"), resolved(plan))} == {
        "dr",
        "primary",
    }
    aws = planned_actions(
        FaultSpec("dns-change-stuck"), resolved(REPO / "plans" / "region-failure-aws.yaml")
    )
    assert aws == [Action("route53", "stuck_changes")]


def test_bad_fault_flags_say_what_is_known() -> None:
    with pytest.raises(UsageError, match="no fault 'nope'; `drill sandbox faults` lists them"):
        parse_fault_flag("nope")
    with pytest.raises(UsageError, match="name the step after @"):
        parse_fault_flag("restore-stuck@")
    with pytest.raises(UsageError, match="no step 'public-endpoint' runs in drill mode"):
        planned_actions(
            FaultSpec("api-5xx", "public-endpoint"),
            resolved(REPO / "plans" / "region-failure.yaml"),
        )


def test_a_failing_smoke_target_is_the_application_behind_each_smoke_step() -> None:
    plan = REPO / "plans" / "region-failure.yaml"
    # drill mode smoke-tests inside the DR cluster: the Service its Job curls
    (in_cluster,) = planned_actions(FaultSpec("smoke-target-500"), resolved(plan))
    assert (in_cluster.target, in_cluster.call, in_cluster.role) == ("kube-http", "set", "dr")
    assert in_cluster.args == {
        "namespace": "dr-test",
        "workload": "api-server-*",
        "status": 500,
    }
    # live mode also asks the public endpoint, whose application answers 500 behind a
    # balancer that still routes
    live = planned_actions(FaultSpec("smoke-target-500"), resolved(plan, "live"))
    hosts = {a.args["host"] for a in live if a.target == "gateway"}
    assert hosts == {"api.example.com"}


def test_the_gateway_answers_a_failing_host_with_its_status() -> None:
    gateway = Gateway(["api.example.com", "other.example.com"])
    gateway.fail_host("API.example.com.", 500)
    assert gateway.answer("GET", "api.example.com", "/healthz")[0] == 500
    assert gateway.answer("GET", "other.example.com", "/healthz")[0] == 200
