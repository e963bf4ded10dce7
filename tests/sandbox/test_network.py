"""The cluster's network as a Job's container meets it, from plain objects: DNS names,
Service -> selector -> ready pods -> port, and what each workload answers."""

from __future__ import annotations

import pytest

from drill.sandbox.kube.controllers.network import (
    HttpAnswers,
    Network,
    Outcome,
    Refused,
    Reply,
    Unresolved,
)
from tests.sandbox.helpers import pod, service


class PublicSite:
    """The world outside the cluster: one host, answering 200."""

    def resolves(self, host: str) -> bool:
        return host == "api.example.com"

    def answer(self, method: str, host: str, path: str) -> tuple[int, str]:
        return 200, f"{method} {host}{path}"


def get(network: Network, host: str, port: int = 80, path: str = "/healthz") -> Outcome:
    return network.request("GET", host, port, path, "dr-test")


@pytest.fixture
def network() -> Network:
    services = [service("api"), service("api", "production", cluster_ip="10.96.0.20")]
    pods = [pod("api-1"), pod("api-1", "production", ip="10.244.0.9")]
    return Network(services, pods, HttpAnswers(), PublicSite())


@pytest.mark.parametrize(
    "host",
    [
        "api",
        "api.dr-test",
        "api.dr-test.svc",
        "api.dr-test.svc.cluster.local",
        "api.dr-test.svc.cluster.local.",
        "API.DR-TEST.SVC",
        "10.96.0.10",
    ],
)
def test_a_service_is_found_by_every_name_cluster_dns_answers(network: Network, host: str) -> None:
    outcome = get(network, host)
    assert isinstance(outcome, Reply)
    assert outcome.status == 200
    assert outcome.address == "10.96.0.10"
    assert '"pod": "api-1"' in outcome.body


def test_the_jobs_own_namespace_comes_first_and_others_need_theirs(network: Network) -> None:
    elsewhere = get(network, "api.production")
    assert isinstance(elsewhere, Reply)
    assert elsewhere.address == "10.96.0.20"
    assert isinstance(network.request("GET", "api", 80, "/", "staging"), Unresolved)


@pytest.mark.parametrize("host", ["nosuch", "nosuch.dr-test.svc", "api.nowhere", "api.dr-test.pod"])
def test_unknown_names_do_not_resolve(network: Network, host: str) -> None:
    assert isinstance(get(network, host), Unresolved)


def test_a_port_the_service_does_not_serve_is_refused(network: Network) -> None:
    assert get(network, "api", 8080) == Refused("10.96.0.10")


def test_only_ready_running_pods_are_endpoints() -> None:
    answers = HttpAnswers()
    unready = Network([service("api")], [pod("api-1", ready=False)], answers)
    assert get(unready, "api") == Refused("10.96.0.10")
    leaving = Network([service("api")], [pod("api-1", deleting=True)], answers)
    assert get(leaving, "api") == Refused("10.96.0.10")
    published = service("api", publishNotReadyAddresses=True)
    assert isinstance(get(Network([published], [pod("api-1", ready=False)], answers), "api"), Reply)
    other_app = Network([service("api")], [pod("web-1", app="web")], answers)
    assert get(other_app, "api") == Refused("10.96.0.10")


def test_target_ports_by_number_and_by_name() -> None:
    answers = HttpAnswers()
    named_pod = pod("api-1", ports=[{"name": "http", "containerPort": 9000}])
    by_name = Network([service("api", target="http")], [named_pod], answers)
    assert isinstance(get(by_name, "api"), Reply)
    wrong_name = Network([service("api", target="metrics")], [named_pod], answers)
    assert get(wrong_name, "api") == Refused("10.96.0.10")
    not_listening = Network([service("api", target=9000)], [pod("api-1")], answers)
    assert get(not_listening, "api") == Refused("10.96.0.10")
    udp = pod("api-1", ports=[{"containerPort": 8080, "protocol": "UDP"}])
    assert get(Network([service("api")], [udp], answers), "api") == Refused("10.96.0.10")


def test_headless_services_lead_to_pods_and_their_own_ports() -> None:
    headless = service("db", cluster_ip="None", app="api")
    network = Network([headless], [pod("db-0", ip="10.244.0.7")], HttpAnswers())
    for host in ("db", "db-0.db.dr-test.svc.cluster.local"):
        outcome = get(network, host, 8080)
        assert isinstance(outcome, Reply), host
        assert outcome.address == "10.244.0.7"
    assert get(network, "db", 80) == Refused("10.244.0.7")
    assert isinstance(get(network, "db-1.db.dr-test.svc.cluster.local", 8080), Unresolved)
    empty = Network([headless], [], HttpAnswers())
    assert isinstance(get(empty, "db", 8080), Unresolved)  # no records at all


def test_pods_are_reached_by_ip(network: Network) -> None:
    assert isinstance(get(network, "10.244.0.5", 8080), Reply)
    assert get(network, "10.244.0.5", 80) == Refused("10.244.0.5")


def test_names_outside_the_cluster_go_to_the_world_outside(network: Network) -> None:
    outcome = get(network, "api.example.com", 443)
    assert isinstance(outcome, Reply)
    assert outcome.body == "GET api.example.com/healthz"
    assert isinstance(get(network, "www.example.com"), Unresolved)
    alias = service("public", type="ExternalName", externalName="api.example.com")
    aliased = Network([alias], [], HttpAnswers(), PublicSite())
    assert isinstance(get(aliased, "public"), Reply)
    isolated = Network([], [], HttpAnswers())
    assert isinstance(get(isolated, "api.example.com"), Unresolved)


def test_workloads_answer_what_they_were_told_on_the_paths_they_were_told() -> None:
    answers = HttpAnswers()
    network = Network([service("api")], [pod("api-1")], answers)
    answers.set("dr-test", "api", 500, path="/healthz")
    answers.set("dr-test", "ap*", 503)
    answers.set("production", "api", 404)
    failing = get(network, "api", path="/healthz?verbose=1")
    assert isinstance(failing, Reply)
    assert (failing.status, failing.reason) == (500, "Internal Server Error")
    assert '"status": "error"' in failing.body
    other = get(network, "api", path="/")
    assert isinstance(other, Reply)
    assert other.status == 503
    answers.set("dr-test", "api-1", 200, body="fine\n")  # a pod by its own name
    fine = get(network, "api", path="/")
    assert isinstance(fine, Reply)
    assert (fine.status, fine.body) == (200, "fine\n")
    head = network.request("HEAD", "api", 80, "/", "dr-test")
    assert isinstance(head, Reply)
    assert head.body == ""
    answers.clear()
    cleared = get(network, "api")
    assert isinstance(cleared, Reply)
    assert cleared.status == 200
