"""dns.switch logic: prior state, one precise change, waiting, verify, undo that never clobbers."""

from __future__ import annotations

from dataclasses import replace

import pytest
from pydantic import JsonValue, ValidationError

from drill.errors import Conflict, StepFailed
from drill.steps import Cutover, StepTimedOut
from drill.steps.dns_switch import DnsSwitch, DnsSwitchParams
from providers.protocols import RecordSet
from tests.steps.cloudfakes import FakeClouds, FakeDns, FakeResolver, cloud_env, noting

NAME = "api.example.com."
OLD = RecordSet(NAME, "A", 300, ("10.0.0.1",))


def params(**values: object) -> DnsSwitchParams:
    base = {
        "provider": "gcp",
        "project": "example-prod",
        "zone": "example-com",
        "record": "api.example.com",
        "rrdatas": ["34.56.78.90"],
    }
    return DnsSwitchParams.model_validate({**base, **values})


def clouds_with(record: RecordSet | None = OLD) -> FakeClouds:
    clouds = FakeClouds()
    if record:
        clouds.dns_api.records[(record.name, record.type)] = record
    return clouds


def test_switch_keeps_the_ttl_waits_for_done_and_undo_restores() -> None:
    clouds, step = clouds_with(), DnsSwitch()
    env = cloud_env(clouds)
    prior = step.capture_prior_state(params(), env)
    result = step.run(params(), env)
    live = clouds.dns_api.records[(NAME, "A")]
    assert live == RecordSet(NAME, "A", 300, ("34.56.78.90",))
    assert result.facts["from"] == "10.0.0.1 ttl 300"
    assert clouds.dns_api._polls["1"] == 2  # polled until done
    assert "back to 10.0.0.1 ttl 300" in step.undo(params(), prior, env)
    assert clouds.dns_api.records[(NAME, "A")] == OLD
    assert clouds.dns_api.changes[1] == (live, OLD)  # the undo names what drill set


def test_new_ttl_and_an_absent_record_are_created_then_deleted() -> None:
    clouds, step = clouds_with(None), DnsSwitch()
    env = cloud_env(clouds)
    creating = params(ttl=60, create=True)
    prior = step.capture_prior_state(creating, env)
    assert prior == {"record": None}
    step.run(creating, env)
    assert clouds.dns_api.records[(NAME, "A")].ttl == 60
    step.undo(creating, prior, env)
    assert (NAME, "A") not in clouds.dns_api.records


def test_a_missing_record_is_not_created_unless_asked() -> None:
    """A misspelt record name is a plan bug: the switch says so rather than create it."""
    clouds = clouds_with(None)
    with pytest.raises(StepFailed, match=r"api\.example\.com\. A does not exist in zone "):
        DnsSwitch().run(params(), cloud_env(clouds))
    assert clouds.dns_api.changes == []
    assert clouds.dns_api.records == {}


def test_a_record_already_switched_is_left_alone() -> None:
    switched = RecordSet(NAME, "A", 300, ("34.56.78.90",))
    clouds = clouds_with(switched)
    result = DnsSwitch().run(params(), cloud_env(clouds))
    assert result.summary.startswith(f"{NAME} already")
    assert clouds.dns_api.changes == []


def test_a_record_already_switched_is_still_verified_before_it_counts() -> None:
    """A retry after a change stuck pending sees the record at its target: it must still wait
    until the nameservers serve it, or the run would report an RTO for an unserved change."""
    switched = RecordSet(NAME, "A", 300, ("34.56.78.90",))
    clouds = clouds_with(switched)
    clouds.resolver_api = FakeResolver(clouds.dns_api, stale=("10.0.0.1",), stale_answers=10**9)
    check = {"nameservers": ["ns-cloud-a1.googledomains.com"], "within": "30s"}
    with pytest.raises(StepFailed, match=r"still answers 10\.0\.0\.1"):
        DnsSwitch().run(params(verify=check), cloud_env(clouds))
    clouds.resolver_api = FakeResolver(clouds.dns_api)
    result = DnsSwitch().run(params(verify=check), cloud_env(clouds))
    assert result.summary.startswith(f"{NAME} already 34.56.78.90 ttl 300; answered by")
    assert clouds.dns_api.changes == []


def test_undo_refuses_when_someone_changed_the_record_since() -> None:
    clouds, step = clouds_with(), DnsSwitch()
    env = cloud_env(clouds)
    prior = step.capture_prior_state(params(), env)
    step.run(params(), env)
    someone = RecordSet(NAME, "A", 300, ("192.0.2.7",))
    clouds.dns_api.records[(NAME, "A")] = someone
    with pytest.raises(StepFailed, match=r"now holds 192\.0\.2\.7 ttl 300.*left as is"):
        step.undo(params(), prior, env)
    assert clouds.dns_api.records[(NAME, "A")] == someone


def test_a_mismatched_deletion_is_reported_and_nothing_applied() -> None:
    clouds = clouds_with()

    class Racing(FakeDns):
        def get_record(self, zone: str, name: str, type_: str) -> RecordSet | None:
            return RecordSet(NAME, "A", 60, ("10.0.0.1",))  # a stale read: TTL differs

    clouds.dns_api = Racing(records=dict(clouds.dns_api.records))
    with pytest.raises(Conflict, match="no longer matches"):
        DnsSwitch().run(params(), cloud_env(clouds))
    assert clouds.dns_api.records[(NAME, "A")] == OLD


def test_a_change_that_stays_pending_times_out_naming_it() -> None:
    clouds = clouds_with()
    clouds.dns_api.polls_until_done = 10**9
    with pytest.raises(StepTimedOut, match="DNS change 1 to be done"):
        DnsSwitch().run(params(), cloud_env(clouds, timeout_s=5))


def test_verify_measures_time_until_the_nameservers_answer() -> None:
    clouds = clouds_with()
    clouds.resolver_api = FakeResolver(clouds.dns_api, stale=("10.0.0.1",), stale_answers=3)
    result = DnsSwitch().run(
        params(verify={"nameservers": ["ns-cloud-a1.googledomains.com"], "within": "1m"}),
        cloud_env(clouds),
    )
    visible_after_s = result.facts["visible_after_s"]
    assert visible_after_s == pytest.approx(0.25 + 0.375 + 0.5625, abs=0.001)
    assert clouds.resolver_api.asked == 4
    # clients may keep the old answer for the old record's TTL after that
    assert isinstance(visible_after_s, float)
    assert result.cutover == Cutover(NAME, visible_after_s, 300)


def test_a_switch_without_verify_has_a_cutover_whose_visibility_was_not_measured() -> None:
    result = DnsSwitch().run(params(ttl=60), cloud_env(clouds_with()))
    assert result.cutover == Cutover(NAME, None, 300)  # the old TTL, not the new one
    absent = DnsSwitch().run(params(create=True), cloud_env(clouds_with(None)))
    assert absent.cutover == Cutover(NAME, None, None)


def test_a_record_already_as_wanted_has_no_cutover() -> None:
    switched = RecordSet(NAME, "A", 300, ("34.56.78.90",))
    assert DnsSwitch().run(params(), cloud_env(clouds_with(switched))).cutover is None


def test_verify_fails_with_the_last_answer() -> None:
    clouds = clouds_with()
    clouds.resolver_api = FakeResolver(clouds.dns_api, stale=("10.0.0.1",), stale_answers=10**6)
    with pytest.raises(StepFailed, match=r"still answers 10\.0\.0\.1 from ns1 after 10.0s"):
        DnsSwitch().run(params(verify={"nameservers": ["ns1"], "within": "10s"}), cloud_env(clouds))


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"project": None}, "Cloud DNS zones live in a project"),
        ({"rrdatas": ["not-an-ip"]}, "is not an IP address"),
        ({"type": "AAAA", "rrdatas": ["10.0.0.1"]}, "is not an IPv6 address"),
        ({"type": "CNAME", "rrdatas": ["a.example.", "b.example."]}, "exactly one target"),
        ({"ttl": 90000}, "less than or equal to 86400"),
        ({"verify": {"nameservers": [""]}}, "should match pattern"),
        ({"verify": {"nameservers": ["ns1 ns2"]}}, "should match pattern"),
    ],
)
def test_params_are_checked(values: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        params(**values)


def test_cname_targets_are_fully_qualified() -> None:
    assert params(type="CNAME", rrdatas=["dr.example.com"]).answer() == ("dr.example.com.",)
    assert params(provider="aws", project=None).record == NAME


def test_a_change_made_after_drill_read_the_record_is_refused_not_reverted() -> None:
    clouds, step = clouds_with(), DnsSwitch()
    env = cloud_env(clouds)
    prior = step.capture_prior_state(params(), env)
    someone = RecordSet(NAME, "A", 300, ("192.0.2.7",))
    clouds.dns_api.records[(NAME, "A")] = someone  # between drill's read and its switch
    notes: dict[str, JsonValue] = {}
    with pytest.raises(Conflict, match="no longer matches"):
        step.run(params(), replace(env, prior=prior, **noting(notes)))
    assert step.undo(params(), prior, replace(env, **noting(notes))).endswith(
        "drill's change was never made"
    )
    assert clouds.dns_api.records[(NAME, "A")] == someone


def test_a_retry_after_a_stuck_change_waits_for_it_and_verifies() -> None:
    clouds, step = clouds_with(), DnsSwitch()
    clouds.dns_api.polls_until_done = 10**9  # stuck pending
    check = {"nameservers": ["ns-cloud-a1.googledomains.com"], "within": "30s"}
    env = cloud_env(clouds, timeout_s=2)
    prior = step.capture_prior_state(params(verify=check), env)
    notes: dict[str, JsonValue] = {}
    with pytest.raises(StepTimedOut):
        step.run(params(verify=check), replace(env, prior=prior, **noting(notes)))
    assert notes == {"change": "1"}
    with pytest.raises(StepTimedOut, match="DNS change 1 to be done"):
        step.run(params(verify=check), replace(env, prior=prior, **noting(notes)))
    clouds.dns_api.polls_until_done = 0
    result = step.run(
        params(verify=check), replace(cloud_env(clouds), prior=prior, **noting(notes))
    )
    assert result.facts["change"] == "1"
    assert "visible_after_s" in result.facts
    assert len(clouds.dns_api.changes) == 1


@pytest.mark.parametrize(
    ("written", "seconds"), [("60s", 60), ("5m", 300), (60, 60), ("60", 60), (0, 0)]
)
def test_ttl_is_written_like_every_other_duration(written: object, seconds: int) -> None:
    assert params(ttl=written).ttl == seconds


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("1500ms", "is not whole seconds"),
        ("60.5", "is not a duration"),
        ("2d", "less than or equal to 86400"),
        (True, "whole seconds"),
    ],
)
def test_ttl_that_is_no_whole_seconds_is_refused(written: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        params(ttl=written)
