"""The dnspython resolver against the Cloud DNS emulator's UDP nameserver.

A switch made through the Cloud DNS adapter must show at the nameserver only after the change
is done and has propagated; time is a FakeClock, so that is checked without sleeping.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from drill.clock import FakeClock
from drill.errors import TransientError
from drill.sandbox.gcp import CloudDnsEmulator, DnsResponder
from providers.cloud import CloudSettings
from providers.gcp_dns import CloudDnsAdapter
from providers.protocols import RecordSet
from providers.resolver import DnsPythonResolver
from tests.threads import wait_threads_gone

PROJECT = "example-prod"
ZONE = "prod"
CHANGE_DELAY_S = 0.5
PROPAGATION_S = 3.0
WWW = RecordSet("www.example.com.", "A", 300, ("10.0.0.2", "10.0.0.1"))


@pytest.fixture(autouse=True)
def _no_thread_leaks() -> Iterator[None]:
    yield
    wait_threads_gone("cloud-dns")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def emulator(clock: FakeClock) -> Iterator[CloudDnsEmulator]:
    emulator = CloudDnsEmulator(clock, CHANGE_DELAY_S, PROPAGATION_S)
    emulator.add_zone(PROJECT, ZONE, "example.com.")
    emulator.set_record(PROJECT, ZONE, WWW.name, WWW.type, WWW.ttl, WWW.rrdatas)
    emulator.set_record(PROJECT, ZONE, "app.example.com.", "CNAME", 60, ["www.example.com."])
    with emulator:
        yield emulator
    assert emulator.errors == []


@pytest.fixture
def nameserver(emulator: CloudDnsEmulator) -> Iterator[str]:
    with DnsResponder(emulator) as responder:
        yield responder.address
    assert responder.errors == []


@pytest.fixture
def resolver() -> DnsPythonResolver:
    return DnsPythonResolver(CloudSettings())


def closed_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_answer_is_the_sorted_rrdatas(resolver: DnsPythonResolver, nameserver: str) -> None:
    assert resolver.resolve("www.example.com.", "A", [nameserver]) == ("10.0.0.1", "10.0.0.2")
    assert resolver.resolve("www.example.com", "A", [nameserver]) == ("10.0.0.1", "10.0.0.2")


def test_a_cname_target_keeps_its_trailing_dot(
    resolver: DnsPythonResolver, nameserver: str
) -> None:
    assert resolver.resolve("app.example.com.", "CNAME", [nameserver]) == ("www.example.com.",)


def test_a_switch_is_answered_only_after_it_is_done_and_propagated(
    resolver: DnsPythonResolver, nameserver: str, emulator: CloudDnsEmulator, clock: FakeClock
) -> None:
    dns_api = CloudDnsAdapter(CloudSettings(dns_endpoint=emulator.url, anonymous=True), PROJECT)
    change = dns_api.change_record(ZONE, WWW, RecordSet(WWW.name, "A", 60, ("10.9.9.9",)))
    clock.advance(CHANGE_DELAY_S)
    assert dns_api.change_status(ZONE, change.id).done
    assert resolver.resolve(WWW.name, "A", [nameserver]) == ("10.0.0.1", "10.0.0.2")
    clock.advance(PROPAGATION_S - 0.01)
    assert resolver.resolve(WWW.name, "A", [nameserver]) == ("10.0.0.1", "10.0.0.2")
    clock.advance(0.01)
    assert resolver.resolve(WWW.name, "A", [nameserver]) == ("10.9.9.9",)


@pytest.mark.parametrize(
    ("name", "type_"),
    [("nope.example.com.", "A"), ("www.example.com.", "AAAA")],
    ids=["nxdomain", "no-data"],
)
def test_a_name_or_type_that_does_not_exist_answers_nothing(
    resolver: DnsPythonResolver, nameserver: str, name: str, type_: str
) -> None:
    assert resolver.resolve(name, type_, [nameserver]) == ()


def test_the_sandbox_nameserver_stands_in_for_the_plans(nameserver: str) -> None:
    resolver = DnsPythonResolver(CloudSettings(nameserver=nameserver))
    answer = resolver.resolve("www.example.com.", "A", ["ns-cloud-a1.googledomains.com"])
    assert answer == ("10.0.0.1", "10.0.0.2")


def test_a_nameserver_may_be_a_host_name(resolver: DnsPythonResolver, nameserver: str) -> None:
    by_name = nameserver.replace("127.0.0.1", "localhost")
    assert resolver.resolve("www.example.com.", "A", [by_name]) == ("10.0.0.1", "10.0.0.2")


def test_a_silent_nameserver_is_transient_and_quick() -> None:
    silent = f"127.0.0.1:{closed_udp_port()}"
    resolver = DnsPythonResolver(CloudSettings(), timeout_s=0.2)
    started = time.monotonic()
    with pytest.raises(TransientError, match=rf"from {silent}: no answer within 0\.2 s"):
        resolver.resolve("www.example.com.", "A", [silent])
    assert time.monotonic() - started < 1.5


def test_a_refusing_nameserver_is_transient_and_says_so(
    resolver: DnsPythonResolver, nameserver: str
) -> None:
    with pytest.raises(TransientError, match=rf"{nameserver} answered REFUSED"):
        resolver.resolve("www.example.org.", "A", [nameserver])


def test_a_nameserver_host_that_does_not_resolve_is_named() -> None:
    resolver = DnsPythonResolver(CloudSettings(), timeout_s=0.2)
    with pytest.raises(TransientError, match=r"nameserver no-such-host\.invalid did not resolve"):
        resolver.resolve("www.example.com.", "A", ["no-such-host.invalid:53"])
