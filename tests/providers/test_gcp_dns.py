"""The Cloud DNS adapter through google-cloud-dns against the sandbox's Cloud DNS emulator.

Time is a FakeClock, so "pending, then done" is checked by moving it; the emulator's ground
truth (``record``) shows what the API really holds after each refusal.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from drill.clock import FakeClock
from drill.errors import Conflict, NotFound, PermanentError, TransientError
from drill.sandbox.gcp import CloudDnsEmulator, DnsRecord
from providers.cloud import CloudSettings
from providers.gcp_dns import CloudDnsAdapter
from providers.protocols import PendingChange, RecordSet
from tests.threads import wait_threads_gone

PROJECT = "example-prod"
ZONE = "prod"
CHANGE_DELAY_S = 0.5
WWW = RecordSet("www.example.com.", "A", 300, ("10.0.0.1", "10.0.0.2"))
NEW_WWW = RecordSet("www.example.com.", "A", 60, ("10.9.9.9",))


@pytest.fixture(autouse=True)
def _no_thread_leaks() -> Iterator[None]:
    yield
    wait_threads_gone("cloud-dns")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def emulator(clock: FakeClock) -> Iterator[CloudDnsEmulator]:
    emulator = CloudDnsEmulator(clock, CHANGE_DELAY_S, page_size=2)
    emulator.add_zone(PROJECT, ZONE, "example.com.")
    emulator.set_record(PROJECT, ZONE, WWW.name, WWW.type, WWW.ttl, WWW.rrdatas)
    for index in range(5):
        emulator.set_record(PROJECT, ZONE, f"h{index}.example.com.", "A", 60, [f"10.1.0.{index}"])
    with emulator:
        yield emulator
    assert emulator.errors == []


@pytest.fixture
def adapter(emulator: CloudDnsEmulator) -> CloudDnsAdapter:
    return CloudDnsAdapter(CloudSettings(dns_endpoint=emulator.url, anonymous=True), PROJECT)


def live(emulator: CloudDnsEmulator, name: str = WWW.name) -> DnsRecord | None:
    return emulator.record(PROJECT, ZONE, name, "A")


# --- reading ----------------------------------------------------------------------------------


def test_get_record_reads_the_one_record_asked_for(adapter: CloudDnsAdapter) -> None:
    assert adapter.get_record(ZONE, "www.example.com.", "A") == WWW
    assert adapter.get_record(ZONE, "h4.example.com", "A") == RecordSet(
        "h4.example.com.", "A", 60, ("10.1.0.4",)
    )


def test_get_record_of_an_absent_record_is_none(adapter: CloudDnsAdapter) -> None:
    assert adapter.get_record(ZONE, "www.example.com.", "AAAA") is None
    assert adapter.get_record(ZONE, "nope.example.com.", "A") is None


def test_get_record_in_an_unknown_zone_is_not_found_naming_it(adapter: CloudDnsAdapter) -> None:
    with pytest.raises(NotFound, match=rf"in zone nope \(project {PROJECT}\)"):
        adapter.get_record("nope", "www.example.com.", "A")


# --- changing ---------------------------------------------------------------------------------


def test_a_switch_is_one_change_pending_then_done(
    adapter: CloudDnsAdapter, emulator: CloudDnsEmulator, clock: FakeClock
) -> None:
    change = adapter.change_record(ZONE, WWW, NEW_WWW)
    assert change == PendingChange(id="1", done=False, status="pending")
    assert live(emulator) == DnsRecord(NEW_WWW.name, "A", 60, NEW_WWW.rrdatas)
    (truth,) = emulator.truth
    assert ([r.rrdatas for r in truth.deletions], [r.ttl for r in truth.additions]) == (
        [WWW.rrdatas],
        [60],
    )
    assert adapter.change_status(ZONE, "1").done is False
    clock.advance(CHANGE_DELAY_S)
    assert adapter.change_status(ZONE, "1") == PendingChange(id="1", done=True, status="done")


def test_a_record_is_created_and_deleted_by_one_sided_changes(
    adapter: CloudDnsAdapter, emulator: CloudDnsEmulator
) -> None:
    api_record = RecordSet("api.example.com.", "A", 30, ("10.2.0.1",))
    adapter.change_record(ZONE, None, api_record)
    assert adapter.get_record(ZONE, "api.example.com.", "A") == api_record
    adapter.change_record(ZONE, api_record, None)
    assert live(emulator, "api.example.com.") is None


def test_rrdata_order_does_not_make_a_conflict(
    adapter: CloudDnsAdapter, emulator: CloudDnsEmulator
) -> None:
    reordered = RecordSet(WWW.name, "A", 300, tuple(reversed(WWW.rrdatas)))
    adapter.change_record(ZONE, reordered, NEW_WWW)
    now = live(emulator)
    assert now is not None
    assert now.rrdatas == NEW_WWW.rrdatas


def test_a_record_changed_since_it_was_read_is_a_conflict_and_nothing_applies(
    adapter: CloudDnsAdapter, emulator: CloudDnsEmulator
) -> None:
    read = adapter.get_record(ZONE, WWW.name, "A")
    emulator.set_record(PROJECT, ZONE, WWW.name, "A", 300, ["10.5.5.5"])  # someone else
    with pytest.raises(Conflict, match=r"no longer matches what drill read.*nothing was applied"):
        adapter.change_record(ZONE, read, NEW_WWW)
    assert live(emulator) == DnsRecord(WWW.name, "A", 300, ("10.5.5.5",))
    assert emulator.truth == []


def test_a_record_deleted_since_it_was_read_is_a_conflict(
    adapter: CloudDnsAdapter, emulator: CloudDnsEmulator
) -> None:
    ghost = RecordSet("ghost.example.com.", "A", 60, ("10.0.0.7",))
    with pytest.raises(Conflict, match="no longer exists"):
        adapter.change_record(ZONE, ghost, NEW_WWW)
    assert live(emulator) == DnsRecord(WWW.name, "A", 300, WWW.rrdatas)


def test_a_record_created_since_drill_read_none_is_a_conflict(
    adapter: CloudDnsAdapter, emulator: CloudDnsEmulator
) -> None:
    with pytest.raises(Conflict, match="a record exists where drill read none"):
        adapter.change_record(ZONE, None, NEW_WWW)
    assert live(emulator) == DnsRecord(WWW.name, "A", 300, WWW.rrdatas)


def test_a_change_in_an_unknown_zone_is_not_found(adapter: CloudDnsAdapter) -> None:
    with pytest.raises(NotFound, match="zone nope"):
        adapter.change_record("nope", WWW, NEW_WWW)


def test_a_change_with_nothing_to_do_is_refused(adapter: CloudDnsAdapter) -> None:
    with pytest.raises(ValueError, match="needs a record"):
        adapter.change_record(ZONE, None, None)


def test_an_unknown_change_id_is_not_found(adapter: CloudDnsAdapter) -> None:
    with pytest.raises(NotFound, match="read change 42 in zone prod"):
        adapter.change_status(ZONE, "42")


def test_a_stuck_change_stays_pending(
    adapter: CloudDnsAdapter, emulator: CloudDnsEmulator, clock: FakeClock
) -> None:
    emulator.stuck_changes()
    change = adapter.change_record(ZONE, WWW, NEW_WWW)
    clock.advance(3600)
    assert adapter.change_status(ZONE, change.id) == PendingChange(change.id, False, "pending")


# --- errors -----------------------------------------------------------------------------------


def test_a_503_burst_is_transient_and_names_the_zone(
    adapter: CloudDnsAdapter, emulator: CloudDnsEmulator
) -> None:
    emulator.fail_requests(2, 503, "*/changes")
    for _ in range(2):
        with pytest.raises(TransientError, match=rf"change A www\.example\.com\. in zone {ZONE}"):
            adapter.change_record(ZONE, WWW, NEW_WWW)
    assert live(emulator) == DnsRecord(WWW.name, "A", 300, WWW.rrdatas)
    assert adapter.change_record(ZONE, WWW, NEW_WWW).status == "pending"


def test_a_403_is_permission_denied_naming_the_permission(
    adapter: CloudDnsAdapter, emulator: CloudDnsEmulator
) -> None:
    emulator.deny("dns.changes.create", f"projects/{PROJECT}/managedZones/{ZONE}", method="POST")
    with pytest.raises(PermanentError, match="permission denied") as caught:
        adapter.change_record(ZONE, WWW, NEW_WWW)
    assert not isinstance(caught.value, Conflict | NotFound)
    assert "Permission 'dns.changes.create' denied" in str(caught.value)


def test_without_credentials_the_error_says_what_to_set(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, emulator: CloudDnsEmulator
) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    adapter = CloudDnsAdapter(CloudSettings(dns_endpoint=emulator.url), PROJECT)
    with pytest.raises(PermanentError, match="GOOGLE_APPLICATION_CREDENTIALS"):
        adapter.get_record(ZONE, WWW.name, "A")
