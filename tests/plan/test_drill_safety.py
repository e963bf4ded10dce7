"""Drill mode never changes what serves users: a plan that would is refused at validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from drill.plan import ExecutionPlan, load_plan, resolve
from drill.steps import Mode
from drill.tiers import DEFAULT_TIERS
from tests.plan.helpers import TWO_ROLES, at, load_text, problems_of, spot

HEAD = """\
version: 1
name: safety
service: api
tier: critical
names:
  record:
    drill: {drill_record}
    live: api.example.com.
phases:
  failover:
    - id: switch-dns
      type: dns.switch
      with:
        provider: gcp
        project: example-prod
        zone: example-com
        record: ${{record}}
        rrdatas: ["34.56.78.90"]
    - id: switch-backend
      type: backend.switch
{backend_override}      with:
        provider: gcp
        project: example-prod
        service: api-backend
        backends: [{{target: projects/p/zones/z/instanceGroups/dr}}]
  verify:
    - id: ok
      type: http.check
      with: {{url: "http://127.0.0.1:1/"}}
"""


def plan(drill_record: str, backend_override: str) -> str:
    return HEAD.format(drill_record=drill_record, backend_override=backend_override)


def test_the_same_record_and_backend_in_both_modes_are_refused_where_they_are(
    tmp_path: Path,
) -> None:
    text = plan("api.example.com.", "")
    problems = problems_of(tmp_path, text)
    assert len(problems) == 2
    dns, backend = problems
    assert "would change DNS record api.example.com. (DNS), which is production" in dns.message
    assert "step switch-dns changes it in live mode" in dns.message
    assert "backend backend service api-backend (gcp project example-prod)" in backend.message
    assert spot(dns)[0] == at(text, "provider: gcp")[0]
    assert spot(backend)[0] == at(text, "provider: gcp", 1)[0]


def test_a_shadow_record_and_a_skipped_backend_are_fine(tmp_path: Path) -> None:
    skip = "      drill:\n        skip: the drill has no backend of its own\n"
    loaded = load_text(tmp_path, plan("drill-api.example.com.", skip))
    assert loaded.plan.name == "safety"


def test_a_drill_override_pointing_elsewhere_is_fine(tmp_path: Path) -> None:
    override = "      drill:\n        with: {service: api-backend-drill}\n"
    load_text(tmp_path, plan("drill-api.example.com.", override))


def test_a_case_variant_of_the_live_record_is_the_live_record(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, plan("API.Example.COM", ""))
    dns = problems[0]
    assert "DNS record api.example.com. (DNS), which is production" in dns.message


LIVE_SKIPPED_SHADOW = """\
    - id: shadow
      type: dns.switch
      live:
        skip: the shadow record exists only for drills
      with:
        provider: aws
        zone: example.com
        record: api.example.com
        rrdatas: ["10.0.0.1"]
"""


def test_a_drill_only_step_aimed_at_the_live_record_of_another_step_is_refused(
    tmp_path: Path,
) -> None:
    skip = "      drill:\n        skip: the drill has no backend of its own\n"
    text = plan("drill-api.example.com.", skip).replace(
        "  verify:\n", LIVE_SKIPPED_SHADOW + "  verify:\n"
    )
    (problem,) = problems_of(tmp_path, text)
    assert problem.field == "phases.failover[2].with"
    assert "step switch-dns changes it in live mode" in problem.message


RESTORE = """\
version: 1
name: restore-safety
service: api
tier: high
contexts:
  dr: {{kubecontext: dr-cluster}}
names:
  namespace:
    drill: {drill_namespace}
    live: production
phases:
  restore:
    - id: restore
      type: velero.restore
      context: dr
      with:
        schedule: daily
        include_namespaces: [production]
        namespace_mapping:
          production: ${{namespace}}
  verify:
    - id: ready
      type: kube.wait_ready
      context: dr
      with: {{namespace: "${{namespace}}", selector: app=api}}
"""


def test_a_drill_restore_into_production_is_refused(tmp_path: Path) -> None:
    text = RESTORE.format(drill_namespace="production")
    (problem,) = problems_of(tmp_path, text)
    assert "would change namespace production (context role dr)" in problem.message
    assert "step restore restores from it" in problem.message
    assert spot(problem)[0] == at(text, "schedule: daily")[0]


def test_a_drill_restore_into_its_own_namespace_is_fine(tmp_path: Path) -> None:
    loaded = load_text(tmp_path, RESTORE.format(drill_namespace="dr-test"))
    assert loaded.plan.name == "restore-safety"


def test_a_drill_job_in_a_namespace_live_mode_scales_in_is_refused(tmp_path: Path) -> None:
    text = RESTORE.format(drill_namespace="dr-test") + (
        "    - id: scale\n      type: kube.scale\n      context: dr\n"
        "      drill: {skip: no standby in drills}\n"
        "      with: {namespace: standby, name: api, replicas: 3}\n"
        "    - id: smoke\n      type: kube.job\n      context: dr\n"
        "      live: {skip: smoke tests run in drills}\n"
        "      with: {namespace: standby, image: curl, command: [curl, http://api]}\n"
    )
    (problem,) = problems_of(tmp_path, text)
    assert problem.field == "phases.verify[2].with"
    assert "it holds workload Deployment api in namespace standby" in problem.message


def test_two_roles_on_one_cluster_cannot_slip_a_drill_into_production(tmp_path: Path) -> None:
    loaded = load_text(tmp_path, TWO_ROLES)  # different roles: validation cannot tell
    apart = resolve(loaded.plan, loaded.source, "drill", DEFAULT_TIERS, {})
    assert [apart.production_clash(s) for s in apart.steps("failover")] == [None, None]
    shared = {"primary": "one-cluster", "dr": "one-cluster"}
    joined = resolve(loaded.plan, loaded.source, "drill", DEFAULT_TIERS, shared)
    _, scale_dr = joined.steps("failover")
    clash = joined.production_clash(scale_dr)
    assert clash is not None
    assert "workload Deployment api in namespace standby (kube context one-cluster)" in clash
    assert "step scale-primary changes it in live mode" in clash


def test_live_mode_has_no_production_footprint_to_avoid(tmp_path: Path) -> None:
    loaded = load_text(tmp_path, TWO_ROLES)
    shared = {"primary": "one-cluster", "dr": "one-cluster"}
    live = resolve(loaded.plan, loaded.source, "live", DEFAULT_TIERS, shared)
    assert live.production == {}
    assert [live.production_clash(s) for s in live.steps("failover")] == [None, None]


def shipped(mode: Mode) -> ExecutionPlan:
    loaded = load_plan(Path(__file__).parents[2] / "plans" / "region-failure.yaml", DEFAULT_TIERS)
    return resolve(loaded.plan, loaded.source, mode, DEFAULT_TIERS, {})


DNS = {
    "provider": "gcp",
    "project": "example-prod",
    "zone": "example-com",
    "record": "api.example.com.",
    "rrdatas": ["34.56.78.90"],
    "ttl": 60,
}


def test_a_journaled_change_the_plan_makes_is_inside_it() -> None:
    live = shipped("live")
    assert live.outside_footprint("switch-dns", "dns.switch", DNS, None) is None
    assert live.outside_footprint("switch-dns", "dns.switch", {**DNS, "ttl": 300}, None) is None


@pytest.mark.parametrize(
    ("step_id", "type_name", "params", "reason"),
    [
        ("switch-dns", "dns.switch", {**DNS, "record": "www.example.com."}, "would change DNS"),
        ("nope", "dns.switch", DNS, "the plan has no step 'nope'"),
        ("switch-dns", "kube.scale", DNS, "is a dns.switch in the plan"),
        ("switch-dns", "dns.switch", {"record": 1}, "journaled params are not valid"),
    ],
)
def test_a_hand_made_journal_cannot_point_an_undo_elsewhere(
    step_id: str, type_name: str, params: dict[str, object], reason: str
) -> None:
    found = shipped("live").outside_footprint(step_id, type_name, params, None)
    assert found is not None
    assert reason in found


def test_the_drill_record_is_outside_the_live_plan_and_inside_the_drill_plan() -> None:
    shadow = {**DNS, "record": "drill-api.example.com."}
    assert shipped("live").outside_footprint("switch-dns", "dns.switch", shadow, None)
    assert shipped("drill").outside_footprint("switch-dns", "dns.switch", shadow, None) is None


def test_a_drill_restore_of_every_namespace_in_the_backup_is_refused(tmp_path: Path) -> None:
    text = RESTORE.format(drill_namespace="dr-test").replace(
        "        include_namespaces: [production]\n        namespace_mapping:\n"
        "          production: ${namespace}\n",
        "        namespace_mapping: {}\n",
    )
    problems = problems_of(tmp_path, text)
    assert [p.field for p in problems] == ["phases.restore[0].with"]
    assert "brings back every namespace of the backup under its own name" in problems[0].message
