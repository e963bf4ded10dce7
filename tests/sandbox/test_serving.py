"""What serves users in a sandbox world: sites derived from plans, each emulator's "since when",
the public endpoint's answers, and the monitor's records of when each host served."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import timedelta

import pytest

from drill.clock import FakeClock
from drill.sandbox.aws import RecordChange, Route53Changes
from drill.sandbox.gateway import Gateway
from drill.sandbox.kube import KubeEmulator, Profile
from drill.sandbox.serving import ServingMonitor, ServingTruth, Verdict
from drill.sandbox.worlds.clusters import derive
from drill.sandbox.worlds.plans import resolve_both_modes
from drill.sandbox.worlds.serving import ServingWorld, Site, WorkloadBehind
from providers.http import Urllib3Http
from tests.child import REPO
from tests.sandbox.helpers import deployment

GCP_PLAN = REPO / "plans" / "region-failure.yaml"
AWS_PLAN = REPO / "plans" / "region-failure-aws.yaml"


def test_each_switched_record_leads_to_what_its_mode_brings_up() -> None:
    world = derive(resolve_both_modes([GCP_PLAN]))
    drill, live = (
        world.serving.sites_of("drill-api.example.com"),
        world.serving.sites_of("API.example.com."),
    )
    assert [s.addresses for s in (*drill, *live)] == [frozenset({"34.56.78.90"})] * 2
    assert drill[0].workloads == (WorkloadBehind("dr", "dr-test", "api-server"),)
    assert live[0].workloads == (WorkloadBehind("dr", "production", "api-server-standby"),)
    assert [(b.ref.name, b.targets) for b in drill[0].backends] == [
        (
            "api-backend-drill",
            ("projects/example-prod/zones/us-east1-b/instanceGroups/api-us-east1",),
        )
    ]
    # the drill's shadow record starts parked; the live record at the primary, which serves
    records = {
        name: r.rrdatas for z in world.cloud.zones.values() for (name, _), r in z.records.items()
    }
    assert records == {
        "drill-api.example.com.": ("192.0.2.10",),
        "api.example.com.": ("203.0.113.10",),
    }
    assert world.serving.primary_answers == {"203.0.113.10"}


def test_cname_sites_compare_targets_as_dns_names() -> None:
    world = derive(resolve_both_modes([AWS_PLAN]))
    (site,) = world.serving.sites_of("drill-api.example.com")
    assert site.addresses == {"dr-alb-123456.us-west-2.elb.amazonaws.com."}
    assert [b.ref.kind for b in site.backends] == ["listener"]
    assert world.serving.primary_answers == {"primary.example.com."}


def test_route53_answers_a_change_once_it_is_insync() -> None:
    clock = FakeClock()
    changes = Route53Changes(clock, delay_s=1.0)
    changes.seed("api.example.com", "CNAME", ("primary.example.com.",))
    assert changes.answered("API.example.com.", "CNAME") == (("primary.example.com.",), -math.inf)
    submitted = clock.monotonic()
    batch = [
        RecordChange("DELETE", "api.example.com.", "CNAME", 300, ("primary.example.com.",), True),
        RecordChange("CREATE", "api.example.com.", "CNAME", 60, ("dr.example.com.",), True),
    ]
    changes.submit(batch)
    clock.advance(0.5)
    assert changes.answered("api.example.com.", "CNAME")[0] == ("primary.example.com.",)
    clock.advance(0.7)
    assert changes.answered("api.example.com.", "CNAME") == (("dr.example.com.",), submitted + 1.0)
    changes.submit(
        [RecordChange("DELETE", "api.example.com.", "CNAME", 60, ("dr.example.com.",), True)]
    )
    clock.advance(1.0)
    assert changes.answered("api.example.com.", "CNAME")[0] is None


def test_a_deployment_serves_from_its_first_ready_pod() -> None:
    clock = FakeClock()
    emulator = KubeEmulator(clock=clock, profile=Profile(ready_after_s=2.0))
    emulator.apply(
        {**deployment("web", replicas=2), "metadata": {"name": "web", "namespace": "shop"}}
    )
    emulator.tick()
    assert emulator.ready_since("shop", "web") is None
    clock.advance(2.0)
    ready_at = clock.monotonic()
    emulator.tick()
    clock.advance(5.0)
    emulator.tick()
    assert emulator.ready_since("shop", "web") == ready_at
    assert emulator.ready_since("shop", "nothing") is None


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    why_not = {"down.example.com": "no Ready pod of dr-test/web behind down.example.com."}
    with Gateway(["up.example.com.", "down.example.com"], why_not.get) as started:
        yield started


def test_the_public_endpoint_answers_only_hosts_that_serve(gateway: Gateway) -> None:
    http = Urllib3Http(gateway.url, ["up.example.com", "down.example.com", "gone.example.com"])

    def status(host: str) -> tuple[int, bytes]:
        answer = http.request("GET", f"https://{host}/healthz", headers={}, body=None, timeout_s=5)
        return answer.status, answer.body

    assert status("up.example.com")[0] == 200
    code, body = status("down.example.com")
    assert code == 503
    assert b"no Ready pod of dr-test/web" in body
    assert status("gone.example.com")[0] == 502


class ScriptedTruth(ServingTruth):
    """A truth whose verdicts the test sets."""

    def __init__(self, clock: FakeClock) -> None:
        site = Site("gcp", "www.example.com.", "A", frozenset({"10.0.0.1"}))
        super().__init__(ServingWorld([site]), {}, None, clock)  # type: ignore[arg-type]
        self.now = Verdict(False, why="parked")

    def verdict(self, host: str) -> Verdict:
        return self.now


def test_the_monitor_records_when_serving_really_began_and_when_it_ended() -> None:
    clock = FakeClock()
    truth = ScriptedTruth(clock)
    monitor = ServingMonitor(truth)
    monitor.check()
    assert monitor.periods() == []
    clock.advance(10)
    truth.now = Verdict(True, since=clock.monotonic() - 4)  # began 4 s before anyone looked
    monitor.check()
    monitor.check()
    (period,) = monitor.periods("WWW.example.com")
    assert period.began == clock.now() - timedelta(seconds=4)
    assert period.ended is None
    clock.advance(1)
    truth.now = Verdict(False, why="undone")
    monitor.check()
    (period,) = monitor.periods()
    assert period.ended == clock.now()
