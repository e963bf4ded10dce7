"""A plan's ``probes:``: validated in each mode at the right spot, resolved per mode."""

from __future__ import annotations

from pathlib import Path

from drill.plan import resolve, service_address
from drill.tiers import DEFAULT_TIERS
from tests.plan.helpers import SHIPPED_PLANS, at, load_text, only, problems_of, spot

HEADER = """\
version: 1
name: demo
service: api
tier: high
names:
  probe_url:
    drill: https://drill-api.example.com/healthz
    live: https://api.example.com/healthz
"""
VERIFY = """\
phases:
  verify:
    - {id: check, type: http.check, with: {url: "https://a.example.com/"}}
"""


def plan_with(probes: str) -> str:
    return HEADER + "probes:\n" + probes + VERIFY


def test_a_probe_takes_each_modes_values(tmp_path: Path) -> None:
    text = plan_with(
        "  - name: users\n"
        "    url: ${probe_url}\n"
        "    interval: 250ms\n"
        "    expect_status: [200, 204]\n"
        "    live: {successes: 5}\n"
    )
    loaded = load_text(tmp_path, text)
    drill = resolve(loaded.plan, loaded.source, "drill", DEFAULT_TIERS, {})
    live = resolve(loaded.plan, loaded.source, "live", DEFAULT_TIERS, {})
    (in_drill,) = drill.probes
    (in_live,) = live.probes
    assert in_drill.settings is not None
    assert in_live.settings is not None
    assert in_drill.settings.url == "https://drill-api.example.com/healthz"
    assert in_live.settings.url == "https://api.example.com/healthz"
    assert (in_drill.settings.interval, in_drill.settings.successes) == (0.25, 3)
    assert (in_live.settings.successes, in_live.settings.expect_status) == (5, [200, 204])


def test_a_probe_skipped_in_one_mode_says_why(tmp_path: Path) -> None:
    text = plan_with(
        "  - name: users\n"
        "    url: https://api.example.com/healthz\n"
        "    drill: {skip: users never reach the drill's copy}\n"
    )
    loaded = load_text(tmp_path, text)
    (probe,) = resolve(loaded.plan, loaded.source, "drill", DEFAULT_TIERS, {}).probes
    assert probe.settings is None
    assert probe.skip_reason == "users never reach the drill's copy"
    assert "SKIPPED - users never reach" in probe.describe()


def test_bad_probe_settings_point_at_their_values(tmp_path: Path) -> None:
    text = plan_with(
        "  - name: users\n"
        "    url: ${probe_url}\n"
        "    interval: 0s\n"
        "    timeout: 5\n"
        "    successes: 0\n"
        "    intervall: 1s\n"
    )
    problems = problems_of(tmp_path, text)
    assert only(problems, "probes[0].interval").message == (
        "must be at least 100ms: a probe must not load what it measures"
    )
    assert spot(only(problems, "probes[0].interval")) == at(text, "0s")
    assert "has no unit" in only(problems, "probes[0].timeout").message
    assert "greater than or equal to 1" in only(problems, "probes[0].successes").message
    unknown = only(problems, "probes[0].intervall")
    assert unknown.message == "unknown field; did you mean 'interval'?"
    assert spot(unknown) == at(text, "intervall")
    assert len(problems) == 4


def test_a_problem_of_one_mode_names_that_mode(tmp_path: Path) -> None:
    text = plan_with("  - name: users\n    url: ${probe_url}\n    live: {url: not-a-url}\n")
    (problem,) = problems_of(tmp_path, text)
    assert problem.field == "probes[0].live.url"
    assert problem.message == "must be an http:// or https:// URL (in live mode)"
    assert spot(problem) == at(text, "not-a-url")


def test_a_probe_without_a_url_and_a_duplicate_name(tmp_path: Path) -> None:
    text = plan_with("  - name: users\n    url: ${probe_url}\n  - name: users\n    method: GET\n")
    problems = problems_of(tmp_path, text)
    duplicate = only(problems, "probes[1].name")
    assert duplicate.message == "duplicate probe 'users' (first at line 10)"
    assert spot(duplicate) == at(text, "users", 1)
    assert only(problems, "probes[1].url").message == "required field is missing"


def test_an_unknown_name_in_a_probe_and_a_bad_probe_name(tmp_path: Path) -> None:
    text = plan_with("  - name: Users!\n    url: ${nope}/healthz\n")
    problems = problems_of(tmp_path, text)
    assert only(problems, "probes[0].url").message.startswith("unknown name ${nope}")
    assert "is not a valid id" in only(problems, "probes[0].name").message


def test_skip_and_settings_together_are_refused(tmp_path: Path) -> None:
    text = plan_with(
        "  - name: users\n    url: ${probe_url}\n    drill: {skip: why, interval: 1s}\n"
    )
    (problem,) = problems_of(tmp_path, text)
    assert problem.field == "probes[0].drill"
    assert problem.message == "give either skip (with its reason) or settings, not both"


def test_shipped_plans_probe_the_drill_target_in_drill_mode(tmp_path: Path) -> None:
    """Where a shipped plan switches a record, its drill-mode probe asks that record's host."""
    for path in SHIPPED_PLANS:
        loaded = load_text(tmp_path, path.read_text())
        drill = resolve(loaded.plan, loaded.source, "drill", DEFAULT_TIERS, {})
        records = {
            str(getattr(step.params, "record", "")).rstrip(".")
            for step in drill.steps()
            if step.type.name == "dns.switch" and step.params is not None
        }
        restored_into = {
            target
            for step in drill.steps()
            if step.type.name == "velero.restore" and step.params is not None
            for target in getattr(step.params, "namespace_mapping", {}).values()
        }
        for probe in drill.probes:
            if probe.settings is None:
                continue
            address = service_address(probe.settings.url)
            if probe.settings.through is not None:
                # no public address: the Service restored into the drill's namespace
                assert address is not None, (path.name, probe.settings.url)
                assert address.namespace in restored_into, (path.name, address, restored_into)
            else:
                host = probe.settings.url.split("/")[2]
                assert host in records, (path.name, host, records)


CONTEXTS = """contexts:
  dr: {kubecontext: dr-cluster}
"""


def test_a_probe_through_a_cluster_names_a_service_and_a_declared_role(tmp_path: Path) -> None:
    text = (
        HEADER
        + CONTEXTS
        + (
            "probes:\n"
            "  - name: public\n"
            "    url: https://api.example.com/healthz\n"
            "    through: dr\n"
            "  - name: elsewhere\n"
            "    url: http://api.dr-test.svc/healthz\n"
            "    through: primary\n"
        )
        + VERIFY
    )
    problems = problems_of(tmp_path, text)
    public = only(problems, "probes[0]")
    assert "url must name a Service by its cluster DNS name" in public.message
    role = only(problems, "probes[1].through")
    assert role.message == "context role 'primary' is not defined under contexts (defined: dr)"
    assert spot(role) == at(text, "primary")
    assert len(problems) == 2


def test_a_probe_through_a_cluster_resolves_to_the_services_port(tmp_path: Path) -> None:
    text = (
        HEADER
        + CONTEXTS
        + (
            "probes:\n"
            "  - name: restored\n"
            "    url: https://api.dr-test.svc.cluster.local/healthz?deep=1\n"
            "    through: dr\n"
        )
        + VERIFY
    )
    loaded = load_text(tmp_path, text)
    (probe,) = resolve(loaded.plan, loaded.source, "drill", DEFAULT_TIERS, {}).probes
    assert probe.settings is not None
    address = service_address(probe.settings.url)
    assert address is not None
    assert (address.namespace, address.name, address.port) == ("dr-test", "api", 443)
    assert address.proxy_segment() == "https:api:443"
    assert address.path == "/healthz?deep=1"
    assert "through context role dr" in probe.describe()
