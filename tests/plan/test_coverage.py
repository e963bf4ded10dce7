"""Verify covers what was changed: `drill validate` warns, per mode, about every scale-up,
restore and switch that no later step checks, and `--strict` refuses them."""

from __future__ import annotations

from pathlib import Path

import pytest

from drill.errors import PlanError
from drill.plan import load_plan
from drill.tiers import DEFAULT_TIERS
from tests.plan.helpers import SHIPPED_PLANS, at, load_text

HELD_BACK = Path(__file__).parent / "plans"
PAYMENTS = HELD_BACK / "held-back-payments.yaml"
SWITCHES = HELD_BACK / "held-back-switches.yaml"

SCALE_PLAN = """\
version: 1
name: scale
service: api
tier: high
contexts:
  dr: {{}}
  other: {{}}
names:
  ns: {{drill: dr-test, live: production}}
  workload: {{drill: api-server, live: api-server-standby}}
phases:
  failover:
    - id: scale-up
      type: kube.scale
      context: dr
      with: {{namespace: "${{ns}}", name: "${{workload}}", replicas: 20}}
  verify:
    - id: ready
      type: kube.wait_ready
      context: {context}
      with: {wait}
"""


def warnings_of(directory: Path, wait: str, context: str = "dr") -> list[str]:
    loaded = load_text(directory, SCALE_PLAN.format(wait=wait, context=context))
    return [f"{w.mode}: {w.problem.message}" for w in loaded.warnings]


@pytest.mark.parametrize("plan", SHIPPED_PLANS, ids=lambda p: p.stem)
def test_shipped_plans_have_no_warnings_in_either_mode(plan: Path) -> None:
    loaded = load_plan(plan, DEFAULT_TIERS)
    assert [str(w) for w in loaded.warnings] == []
    loaded.refuse_warnings()  # --strict takes them as they are


def test_a_wait_on_a_label_alone_covers_no_scaled_workload(tmp_path: Path) -> None:
    # The region-failure bug: live mode scales the standby, the wait names app=api-server.
    found = warnings_of(tmp_path, '{namespace: "${ns}", selector: app=api-server}')
    assert [line.split(":")[0] for line in found] == ["drill", "live"]
    assert "scales Deployment production/api-server-standby" in found[1]
    assert "`workloads: [api-server-standby]`" in found[1]


def test_naming_the_workload_covers_it_in_each_mode(tmp_path: Path) -> None:
    wait = '{namespace: "${ns}", selector: app=api-server, workloads: ["${workload}"]}'
    assert warnings_of(tmp_path, wait) == []


def test_a_named_workload_of_another_mode_does_not_cover_this_one(tmp_path: Path) -> None:
    found = warnings_of(tmp_path, '{namespace: "${ns}", workloads: [api-server], selector: a=b}')
    assert len(found) == 1
    assert found[0].startswith("live: ")


def test_a_wait_on_the_whole_namespace_covers_every_workload_in_it(tmp_path: Path) -> None:
    assert warnings_of(tmp_path, '{namespace: "${ns}"}') == []


def test_a_wait_in_another_namespace_or_cluster_covers_nothing(tmp_path: Path) -> None:
    assert len(warnings_of(tmp_path, "{namespace: elsewhere}")) == 2
    assert len(warnings_of(tmp_path, '{namespace: "${ns}"}', context="other")) == 2


def test_a_wait_of_other_kinds_does_not_cover_a_deployment(tmp_path: Path) -> None:
    assert len(warnings_of(tmp_path, '{namespace: "${ns}", kinds: [StatefulSet]}')) == 2


def test_a_wait_before_the_change_or_beside_it_does_not_check_it(tmp_path: Path) -> None:
    text = SCALE_PLAN.format(wait="{}", context="dr").split("  verify:")[0]
    text += (
        "    - parallel:\n"
        "        - {id: scale-b, type: kube.scale, context: dr,"
        ' with: {namespace: "${ns}", name: b, replicas: 2}}\n'
        '        - {id: wait-b, type: kube.wait_ready, context: dr, with: {namespace: "${ns}"}}\n'
        "  verify:\n"
        '    - {id: late, type: kube.job, context: dr, with: {namespace: "${ns}", image: i, '
        'command: ["true"]}}\n'
    )
    loaded = load_text(tmp_path, text)
    # The parallel wait is beside scale-b (not after it) and after scale-up: it covers only
    # scale-up; the Job checks the namespace, not whether b is ready.
    assert sorted(
        (w.mode, w.problem.message.split(" step ")[1].split()[0]) for w in loaded.warnings
    ) == [
        ("drill", "scale-b"),
        ("live", "scale-b"),
    ]


def test_the_held_back_payments_plan_is_warned_about_both_scale_ups(tmp_path: Path) -> None:
    loaded = load_plan(PAYMENTS, DEFAULT_TIERS)
    text = PAYMENTS.read_text()
    found = [(w.mode, w.problem.line, w.problem.column, w.problem.field) for w in loaded.warnings]
    api, worker = at(text, "scale-api"), at(text, "scale-worker")
    assert found == [
        ("drill", *api, "phases.failover[0].id"),
        ("live", *api, "phases.failover[0].id"),
        ("drill", *worker, "phases.failover[1].id"),
        ("live", *worker, "phases.failover[1].id"),
    ]
    worded = str(loaded.warnings[3])
    assert worded.startswith(f"{PAYMENTS}:{worker[0]}:{worker[1]}: warning: phases.failover[1].id:")
    assert "in live mode step scale-worker scales Deployment payments/payments-worker" in worded
    # The restore is covered: something waits in the namespace it fills.
    assert not any("restores into" in str(w) for w in loaded.warnings)
    with pytest.raises(PlanError) as refused:
        loaded.refuse_warnings()
    assert len(refused.value.problems) == 4


def test_switches_and_restores_nothing_checks_are_warned_about_per_mode() -> None:
    loaded = load_plan(SWITCHES, DEFAULT_TIERS)
    said = {(w.mode, w.problem.message.split(", and no later")[0]) for w in loaded.warnings}
    assert said == {
        ("drill", "in drill mode step switch-dns switches DNS record drill-api.example.com."),
        ("live", "in live mode step switch-dns switches DNS record api.example.com."),
        ("drill", "in drill mode step switch-backend switches backend service api-backend-drill"),
        ("live", "in live mode step switch-backend switches backend service api-backend"),
        # The only wait in production is skipped in live mode: it checks nothing there.
        ("live", "in live mode step restore-production restores into namespace production"),
    }
    remedies = " ".join(str(w) for w in loaded.warnings)
    assert "`verify: {nameservers: [...], within: 2m}`" in remedies
    assert "`wait_healthy: 5m`" in remedies


def test_a_switch_that_checks_itself_or_is_checked_later_is_covered(tmp_path: Path) -> None:
    text = SWITCHES.read_text()
    text = text.replace(
        "        rrdatas: [203.0.113.7]\n",
        "        rrdatas: [203.0.113.7]\n"
        "        verify: {nameservers: [ns1.example.com.], within: 1m}\n",
    )
    text = text.replace(
        "          - target: projects/example/zones/us-east1-b/instanceGroups/api\n",
        "          - target: projects/example/zones/us-east1-b/instanceGroups/api\n"
        "        wait_healthy: 2m\n",
    )
    text = text.replace(
        'with: {url: "https://status.example.com/"}',
        'with: {url: "https://status.example.com/"}\n'
        "    - {id: live-ready, type: kube.job, context: dr, drill: {skip: x},"
        ' with: {namespace: "${ns}", image: i, command: ["true"]}}',
    )
    assert load_text(tmp_path, text).warnings == ()


def test_an_http_check_of_the_switched_name_verifies_the_record(tmp_path: Path) -> None:
    text = SWITCHES.read_text().replace("https://status.example.com/", "https://API.example.com/x")
    modes = {w.mode for w in load_text(tmp_path, text).warnings if "DNS record" in str(w)}
    assert modes == {"drill"}  # the drill's shadow record is still unchecked
