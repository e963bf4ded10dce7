"""cloud.reachable: drill's own preflight read of every record and backend a plan switches."""

from __future__ import annotations

from pathlib import Path

import pytest

from drill.errors import StepFailed
from drill.plan import load_plan, resolve
from drill.steps import Mode
from drill.steps.cloud_reachable import CloudReachable, CloudReachableParams
from drill.tiers import DEFAULT_TIERS
from providers.protocols import BackendTarget, RecordSet
from tests.plan.helpers import REPO
from tests.steps.cloudfakes import FakeClouds, cloud_env


def checks_of(plan_name: str, mode: Mode = "drill") -> CloudReachableParams:
    loaded = load_plan(REPO / "plans" / f"{plan_name}.yaml", DEFAULT_TIERS)
    plan = resolve(loaded.plan, loaded.source, mode, DEFAULT_TIERS, {})
    first = plan.phases["preflight"][0]
    assert [s.id for s in first.steps] == ["contexts-reachable", "clouds-reachable"]
    params = first.steps[1].params
    assert isinstance(params, CloudReachableParams)
    return params


def test_every_switch_of_the_plan_is_checked_as_its_mode_resolves_it() -> None:
    drill_checks = checks_of("region-failure")
    assert [c.step for c in drill_checks.checks] == ["switch-dns", "switch-backend"]
    assert drill_checks.checks[0].params["record"] == "drill-api.example.com."
    live_checks = checks_of("region-failure", "live")
    assert live_checks.checks[0].params["record"] == "api.example.com."


def test_plans_without_switches_get_no_cloud_check() -> None:
    loaded = load_plan(REPO / "plans" / "namespace-restore.yaml", DEFAULT_TIERS)
    plan = resolve(loaded.plan, loaded.source, "drill", DEFAULT_TIERS, {})
    assert "clouds-reachable" not in [s.id for s in plan.steps()]


def fake_world() -> FakeClouds:
    clouds = FakeClouds()
    record = RecordSet("drill-api.example.com.", "A", 300, ("203.0.113.10",))
    clouds.dns_api.records[(record.name, record.type)] = record
    clouds.backend_api.services["api-backend-drill"] = (BackendTarget("g/primary"),)
    return clouds


def test_reads_each_target_and_reports_what_it_holds() -> None:
    result = CloudReachable().run(checks_of("region-failure"), cloud_env(fake_world()))
    assert result.facts == {
        "switch-dns": "drill-api.example.com. 203.0.113.10 ttl 300",
        "switch-backend": "backend service api-backend-drill on g/primary@1",
    }


def test_names_every_target_it_cannot_read(tmp_path: Path) -> None:
    clouds = fake_world()
    del clouds.backend_api.services["api-backend-drill"]
    with pytest.raises(
        StepFailed, match="switch-backend: backend service api-backend-drill does not exist"
    ):
        CloudReachable().run(checks_of("region-failure"), cloud_env(clouds))
