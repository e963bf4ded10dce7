"""One table turns HTTP statuses into drill's errors, and every adapter agrees with it.

The first half checks the table itself; the second drives each adapter through its real SDK
(kubernetes, google-cloud-dns, google-auth's session for Compute, botocore for S3 and Route53)
against the sandbox's emulators with the status injected, and expects the same kind of error
from all of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from drill.clock import FakeClock, SystemClock
from drill.errors import Conflict, NotFound, PermanentError, TransientError
from drill.sandbox.aws import AwsSandbox
from drill.sandbox.gcp import CloudDnsEmulator, ComputeEmulator
from drill.sandbox.kube import KubeEmulator, write_kubeconfig
from providers import kube
from providers._status import MAX_RETRY_AFTER_S, retry_after_s, status_error
from providers.aws import Route53Dns, S3ObjectStore
from providers.cloud import CloudSettings
from providers.gcp_compute import ComputeBackendsAdapter
from providers.gcp_dns import CloudDnsAdapter
from providers.protocols import BackendRef
from tests.threads import wait_threads_gone

WHAT = "Compute: read backend service web"


def kind(error: BaseException) -> str:
    """What a caller does with it: retry, re-read after a conflict, give up."""
    if isinstance(error, TransientError):
        return "transient"
    if isinstance(error, Conflict):
        return "conflict"
    if isinstance(error, NotFound):
        return "not found"
    if isinstance(error, PermanentError):
        return "permanent"
    return type(error).__name__


# The statuses the agreement tests inject, and what each must mean everywhere.
AGREED = {
    400: "permanent",
    408: "transient",
    409: "conflict",
    412: "conflict",
    429: "transient",
    500: "transient",
    501: "permanent",
    502: "transient",
    503: "transient",
    504: "transient",
}


# --- the table ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        *AGREED.items(),
        (0, "transient"),  # no status at all: a cut stream
        (401, "permanent"),
        (403, "permanent"),
        (404, "not found"),
        (410, "permanent"),
        (422, "permanent"),
        (505, "permanent"),
        (507, "transient"),
    ],
)
def test_each_status_has_one_meaning(status: int, expected: str) -> None:
    error = status_error(WHAT, status, "the server's words")
    assert kind(error) == expected
    assert str(error).startswith(f"{WHAT}: ")


def test_a_refused_permission_keeps_the_clouds_message_naming_it() -> None:
    message = "Required 'compute.backendServices.update' permission for 'projects/p/x'"
    error = status_error(WHAT, 403, message)
    assert str(error) == f"{WHAT}: permission denied: {message}"
    assert kind(error) == "permanent"


def test_rejected_credentials_say_so() -> None:
    assert str(status_error(WHAT, 401, "")) == f"{WHAT}: credentials were rejected (401)"
    assert str(status_error(WHAT, 401, "token expired")).endswith("(401): token expired")


def test_a_message_less_answer_names_its_status() -> None:
    assert str(status_error(WHAT, 502, "")) == f"{WHAT}: HTTP 502"


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "7"}, 7.0),
        ({"retry-after": "2.5"}, 2.5),
        ({"Retry-After": "-3"}, 0.0),
        ({"Retry-After": "86400"}, MAX_RETRY_AFTER_S),
        ({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, None),
        ({"Retry-After": "nan"}, None),
        ({}, None),
    ],
)
def test_retry_after_is_read_in_seconds(headers: dict[str, str], expected: float | None) -> None:
    assert retry_after_s(headers) == expected


def test_a_429_that_says_when_carries_the_wait() -> None:
    error = status_error(WHAT, 429, "slow down", {"Retry-After": "7"})
    assert isinstance(error, TransientError)  # retried like any other transient error
    assert error.retry_after_s == 7.0


def test_a_429_that_does_not_say_is_plainly_transient() -> None:
    error = status_error(WHAT, 429, "slow down", {"Content-Type": "application/json"})
    assert type(error) is TransientError


# --- every adapter agrees -------------------------------------------------------------------


@dataclass(frozen=True)
class Probe:
    """One adapter call, and how to make the emulator refuse the next request with a status."""

    inject: Callable[[int], None]
    call: Callable[[], object]


@pytest.fixture(scope="module")
def aws() -> Iterator[AwsSandbox]:
    with AwsSandbox(SystemClock()) as sandbox:
        sandbox.create_bucket("prod-backups")
        sandbox.create_zone("example.com.")
        yield sandbox


@pytest.fixture
def kube_probe(tmp_path: Path) -> Iterator[Probe]:
    emulator = KubeEmulator()
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", {"sandbox": emulator.start()})
    adapter = kube.connect("sandbox", str(kubeconfig), SystemClock())

    def inject(status: int) -> None:
        emulator.faults.fail_requests(1, status=status, path_contains="/deployments")

    yield Probe(inject, lambda: adapter.workloads("default", ""))
    adapter.api_client.close()
    emulator.stop()
    assert emulator.errors == []


@pytest.fixture
def compute_probe() -> Iterator[Probe]:
    emulator = ComputeEmulator(FakeClock())
    emulator.add_backend_service("example-prod", "web")
    adapter = ComputeBackendsAdapter(CloudSettings(compute_endpoint=emulator.url, anonymous=True))
    ref = BackendRef("gcp", "backend_service", "web", "example-prod")
    with emulator:
        yield Probe(lambda s: emulator.fail_requests(1, s), lambda: adapter.get_backends(ref))
    assert emulator.errors == []
    wait_threads_gone("gcp-compute")


@pytest.fixture
def cloud_dns_probe() -> Iterator[Probe]:
    emulator = CloudDnsEmulator(FakeClock(), 0.5)
    emulator.add_zone("example-prod", "prod", "example.com.")
    with emulator:
        settings = CloudSettings(dns_endpoint=emulator.url, anonymous=True)
        adapter = CloudDnsAdapter(settings, "example-prod")
        yield Probe(
            lambda s: emulator.fail_requests(1, s),
            lambda: adapter.get_record("prod", "www.example.com.", "A"),
        )
    assert emulator.errors == []
    wait_threads_gone("cloud-dns")


def aws_inject(aws: AwsSandbox, service: str) -> Callable[[int], None]:
    """An error code no adapter has a rule for, so the status alone decides."""

    def inject(status: int) -> None:
        aws.faults.fail(1, status=status, code=f"Injected{status}", service=service)

    return inject


@pytest.fixture
def s3_probe(aws: AwsSandbox) -> Iterator[Probe]:
    store = S3ObjectStore(CloudSettings(aws_endpoint=aws.endpoint, anonymous=True), None)
    yield Probe(aws_inject(aws, "s3"), lambda: list(store.list_objects("prod-backups", "db/")))
    aws.faults.clear()


@pytest.fixture
def route53_probe(aws: AwsSandbox) -> Iterator[Probe]:
    dns = Route53Dns(CloudSettings(aws_endpoint=aws.endpoint, anonymous=True))
    zone = aws.zone_id("example.com.")
    yield Probe(aws_inject(aws, "route53"), lambda: dns.get_record(zone, "www.example.com.", "A"))
    aws.faults.clear()


ADAPTERS = ["kube", "compute", "cloud_dns", "s3", "route53"]


@pytest.mark.parametrize("status", sorted(AGREED))
@pytest.mark.parametrize("adapter", ADAPTERS)
def test_every_adapter_gives_a_status_the_same_meaning(
    adapter: str, status: int, request: pytest.FixtureRequest
) -> None:
    probe: Probe = request.getfixturevalue(f"{adapter}_probe")
    probe.call()  # signed in and answering before the fault
    probe.inject(status)
    with pytest.raises((PermanentError, TransientError)) as raised:
        probe.call()
    assert kind(raised.value) == AGREED[status], str(raised.value)
    probe.call()  # one request refused, the next one served


def test_kube_passes_on_how_long_the_api_server_asked_to_wait(kube_probe: Probe) -> None:
    probe = kube_probe
    probe.inject(429)  # the emulator sends Retry-After: 1 with a 429, as API servers do
    with pytest.raises(TransientError) as raised:
        probe.call()
    assert raised.value.retry_after_s == 1.0
