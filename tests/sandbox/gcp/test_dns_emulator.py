"""The Cloud DNS emulator through the real google-cloud-dns client, and its UDP nameserver.

The clock is a FakeClock: "pending for 0.5 s" is checked by moving time, not by sleeping.
A few requests the client cannot express (filters, a numeric TTL) go over plain HTTP.
"""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest
from google.api_core import exceptions as api
from google.auth.credentials import AnonymousCredentials
from google.cloud import dns as cloud_dns

from drill.clock import FakeClock
from drill.sandbox.gcp import CloudDnsEmulator, DnsRecord, DnsResponder

PROJECT = "example-prod"
ZONE = "prod"
ZONES = f"/dns/v1/projects/{PROJECT}/managedZones/{ZONE}"
CHANGE_DELAY_S = 0.5
PROPAGATION_S = 2.0
WWW = DnsRecord("www.example.com.", "A", 300, ("10.0.0.1", "10.0.0.2"))


@pytest.fixture
def emulator(clock: FakeClock) -> Iterator[CloudDnsEmulator]:
    emulator = CloudDnsEmulator(clock, CHANGE_DELAY_S, PROPAGATION_S, page_size=4)
    emulator.add_zone(PROJECT, ZONE, "example.com.")
    emulator.set_record(PROJECT, ZONE, "www.example.com.", "A", 300, ["10.0.0.1", "10.0.0.2"])
    with emulator:
        yield emulator
    assert emulator.errors == []


@pytest.fixture
def client(emulator: CloudDnsEmulator) -> Any:
    return cloud_dns.Client(
        project=PROJECT,
        credentials=AnonymousCredentials(),
        client_options={"api_endpoint": emulator.url},
    )


@pytest.fixture
def zone(client: Any) -> Any:
    return client.zone(ZONE)


def replace_www(zone: Any, old: tuple[int, list[str]], new: tuple[int, list[str]]) -> Any:
    change = zone.changes()
    change.delete_record_set(zone.resource_record_set("www.example.com.", "A", *old))
    change.add_record_set(zone.resource_record_set("www.example.com.", "A", *new))
    change.create()
    return change


def reloaded(zone: Any, change_id: str) -> Any:
    change = zone.changes()
    change.name = change_id
    change.reload()
    return change


def http(emulator: CloudDnsEmulator, method: str, path: str, body: object = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(emulator.url + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


# --- zones and record sets --------------------------------------------------------------------


def test_a_zone_reads_like_cloud_dns_with_its_soa_and_ns(zone: Any, clock: FakeClock) -> None:
    zone.reload()
    assert zone.dns_name == "example.com."
    assert zone.name_servers == [f"ns-cloud-a{n}.googledomains.com." for n in range(1, 5)]
    assert zone.created == clock.now()
    apex = {r.record_type: r for r in zone.list_resource_record_sets() if r.name == "example.com."}
    assert sorted(apex) == ["NS", "SOA"]
    assert apex["NS"].rrdatas == zone.name_servers


def test_record_sets_come_in_pages_until_the_last(emulator: CloudDnsEmulator, zone: Any) -> None:
    for index in range(10):
        emulator.set_record(PROJECT, ZONE, f"h{index}.example.com.", "A", 60, [f"10.1.0.{index}"])
    iterator = zone.list_resource_record_sets()
    names = [r.name for r in iterator]
    assert iterator.page_number == 4  # 13 record sets, 4 per page
    assert len(names) == 13
    assert {f"h{index}.example.com." for index in range(10)} <= set(names)


def test_max_results_and_page_token_walk_the_pages(emulator: CloudDnsEmulator) -> None:
    status, first = http(emulator, "GET", f"{ZONES}/rrsets?maxResults=2")
    assert status == 200
    assert [r["type"] for r in first["rrsets"]] == ["NS", "SOA"]
    token = first["nextPageToken"]
    _, last = http(emulator, "GET", f"{ZONES}/rrsets?maxResults=2&pageToken={token}")
    assert [r["name"] for r in last["rrsets"]] == ["www.example.com."]
    assert "nextPageToken" not in last


def test_name_and_type_filters_answer_one_record_with_a_numeric_ttl(
    emulator: CloudDnsEmulator,
) -> None:
    status, page = http(emulator, "GET", f"{ZONES}/rrsets?name=www.example.com.&type=A")
    assert status == 200
    assert page["rrsets"] == [
        {
            "kind": "dns#resourceRecordSet",
            "name": "www.example.com.",
            "type": "A",
            "ttl": 300,
            "rrdatas": ["10.0.0.1", "10.0.0.2"],
        }
    ]
    _, other_type = http(emulator, "GET", f"{ZONES}/rrsets?name=www.example.com.&type=AAAA")
    assert other_type["rrsets"] == []
    status, error = http(emulator, "GET", f"{ZONES}/rrsets?type=A")
    assert (status, error["error"]["errors"][0]["reason"]) == (400, "invalid")


def test_unknown_zone_and_project_are_not_found(emulator: CloudDnsEmulator, client: Any) -> None:
    with pytest.raises(api.NotFound, match=r"'parameters\.managedZone' resource named 'nope'"):
        client.zone("nope").reload()
    status, error = http(emulator, "GET", "/dns/v1/projects/other/managedZones/prod/rrsets")
    assert status == 404
    assert "'parameters.project' resource named 'other'" in error["error"]["message"]


# --- changes ----------------------------------------------------------------------------------


def test_a_change_applies_at_once_and_reads_pending_then_done(
    emulator: CloudDnsEmulator, zone: Any, clock: FakeClock
) -> None:
    submitted_at = clock.now()
    change = replace_www(zone, (300, ["10.0.0.2", "10.0.0.1"]), (60, ["10.9.9.9"]))
    assert (change.name, change.status, change.started) == ("1", "pending", submitted_at)
    assert emulator.record(PROJECT, ZONE, "www.example.com.", "A") == DnsRecord(
        "www.example.com.", "A", 60, ("10.9.9.9",)
    )
    clock.advance(CHANGE_DELAY_S - 0.01)
    assert reloaded(zone, "1").status == "pending"
    assert emulator.truth[0].done_at is None
    clock.advance(0.01)
    assert reloaded(zone, "1").status == "done"
    (truth,) = emulator.truth
    assert truth.submitted_at == submitted_at
    assert truth.done_at == submitted_at + timedelta(seconds=CHANGE_DELAY_S)
    assert truth.visible_at is None  # the nameservers follow PROPAGATION_S later


def test_a_numeric_ttl_is_accepted_and_answered_as_a_number(emulator: CloudDnsEmulator) -> None:
    addition = {"name": "api.example.com.", "type": "A", "ttl": 30, "rrdatas": ["10.2.0.1"]}
    status, change = http(emulator, "POST", f"{ZONES}/changes", {"additions": [addition]})
    assert status == 200
    assert change["kind"] == "dns#change"
    assert change["additions"][0]["ttl"] == 30
    assert emulator.record(PROJECT, ZONE, "api.example.com.", "A") is not None


@pytest.mark.parametrize(
    ("ttl", "rrdatas"),
    [(60, ["10.0.0.1", "10.0.0.2"]), (300, ["10.0.0.1"]), (300, ["10.0.0.1", "10.0.0.3"])],
    ids=["ttl-differs", "rrdata-missing", "rrdata-differs"],
)
def test_a_deletion_that_is_not_the_record_fails_412_and_applies_nothing(
    emulator: CloudDnsEmulator, zone: Any, ttl: int, rrdatas: list[str]
) -> None:
    emulator.set_record(PROJECT, ZONE, "old.example.com.", "A", 60, ["10.4.0.1"])
    change = zone.changes()
    change.add_record_set(zone.resource_record_set("new.example.com.", "A", 60, ["10.3.0.1"]))
    change.delete_record_set(zone.resource_record_set("old.example.com.", "A", 60, ["10.4.0.1"]))
    change.delete_record_set(zone.resource_record_set("www.example.com.", "A", ttl, rrdatas))
    change.add_record_set(zone.resource_record_set("www.example.com.", "A", 60, ["10.9.9.9"]))
    with pytest.raises(api.PreconditionFailed, match=r"entity\.change\.deletions\[1\]"):
        change.create()
    assert emulator.record(PROJECT, ZONE, "www.example.com.", "A") == WWW
    assert emulator.record(PROJECT, ZONE, "old.example.com.", "A") is not None  # not half-done
    assert emulator.record(PROJECT, ZONE, "new.example.com.", "A") is None
    assert emulator.truth == []


def test_deleting_a_record_that_is_gone_is_not_found_for_the_deletion(zone: Any) -> None:
    change = zone.changes()
    change.delete_record_set(zone.resource_record_set("gone.example.com.", "A", 60, ["10.0.0.1"]))
    with pytest.raises(api.NotFound, match=r"'entity\.change\.deletions\[0\]'.*gone\.example\.com"):
        change.create()


def test_adding_over_a_record_that_stays_is_409(emulator: CloudDnsEmulator, zone: Any) -> None:
    change = zone.changes()
    change.add_record_set(zone.resource_record_set("www.example.com.", "A", 60, ["10.9.9.9"]))
    with pytest.raises(api.Conflict, match=r"additions\[0\].*already exists"):
        change.create()
    assert emulator.record(PROJECT, ZONE, "www.example.com.", "A") == WWW


def test_a_cname_cannot_sit_beside_other_records(zone: Any) -> None:
    change = zone.changes()
    change.add_record_set(zone.resource_record_set("www.example.com.", "CNAME", 60, ["a.b."]))
    with pytest.raises(api.BadRequest, match="CNAME"):
        change.create()


def test_a_record_outside_the_zone_is_refused(zone: Any) -> None:
    change = zone.changes()
    change.add_record_set(zone.resource_record_set("www.example.org.", "A", 60, ["10.0.0.1"]))
    with pytest.raises(api.BadRequest, match="not within the zone"):
        change.create()


def test_changes_list_from_the_zone_creation_on(zone: Any, clock: FakeClock) -> None:
    replace_www(zone, (300, ["10.0.0.1", "10.0.0.2"]), (60, ["10.9.9.9"]))
    listed = [(c.name, c.status) for c in zone.list_changes()]
    assert listed == [("0", "done"), ("1", "pending")]
    with pytest.raises(api.NotFound, match=r"'parameters\.changeId' resource named '7'"):
        reloaded(zone, "7")


# --- faults -----------------------------------------------------------------------------------


def test_stuck_changes_never_leave_pending(
    emulator: CloudDnsEmulator, zone: Any, clock: FakeClock
) -> None:
    emulator.stuck_changes()
    replace_www(zone, (300, ["10.0.0.1", "10.0.0.2"]), (60, ["10.9.9.9"]))
    clock.advance(3600)
    assert reloaded(zone, "1").status == "pending"
    assert emulator.truth[0].done_at is None


def test_request_faults_fail_the_next_matching_requests_only(
    emulator: CloudDnsEmulator, zone: Any
) -> None:
    emulator.fail_requests(2, 503, "*/rrsets")
    zone.reload()  # another path: untouched
    for _ in range(2):
        with pytest.raises(api.ServiceUnavailable):
            list(zone.list_resource_record_sets())
    assert len(list(zone.list_resource_record_sets())) == 3


def test_deny_refuses_with_403_naming_the_permission(emulator: CloudDnsEmulator, zone: Any) -> None:
    emulator.deny("dns.changes.create", f"projects/{PROJECT}/managedZones/{ZONE}")
    with pytest.raises(api.Forbidden, match=r"Permission 'dns\.changes\.create' denied"):
        replace_www(zone, (300, ["10.0.0.1", "10.0.0.2"]), (60, ["10.9.9.9"]))
    assert emulator.record(PROJECT, ZONE, "www.example.com.", "A") == WWW


# --- the nameservers --------------------------------------------------------------------------


def ask(responder: DnsResponder, name: str, type_: str) -> Any:
    host, port = responder.address.split(":")
    return dns.query.udp(dns.message.make_query(name, type_), host, timeout=2, port=int(port))


def rrdatas(response: Any) -> list[str]:
    return sorted(r.to_text() for rrset in response.answer for r in rrset)


@pytest.fixture
def responder(emulator: CloudDnsEmulator) -> Iterator[DnsResponder]:
    with DnsResponder(emulator) as responder:
        yield responder
    assert responder.errors == []


def test_the_nameserver_answers_authoritatively(responder: DnsResponder) -> None:
    response = ask(responder, "www.example.com.", "A")
    assert response.rcode() == dns.rcode.NOERROR
    assert response.flags & dns.flags.AA
    assert rrdatas(response) == ["10.0.0.1", "10.0.0.2"]
    assert response.answer[0].ttl == 300


def test_unknown_names_are_nxdomain_and_names_elsewhere_refused(responder: DnsResponder) -> None:
    missing = ask(responder, "nope.example.com.", "A")
    assert missing.rcode() == dns.rcode.NXDOMAIN
    assert missing.authority[0].rdtype == dns.rdatatype.SOA
    no_data = ask(responder, "www.example.com.", "AAAA")
    assert (no_data.rcode(), no_data.answer) == (dns.rcode.NOERROR, [])
    assert ask(responder, "www.example.org.", "A").rcode() == dns.rcode.REFUSED


def test_a_cname_is_followed_inside_the_zones(
    emulator: CloudDnsEmulator, responder: DnsResponder
) -> None:
    emulator.set_record(PROJECT, ZONE, "app.example.com.", "CNAME", 60, ["www.example.com."])
    response = ask(responder, "app.example.com.", "A")
    assert rrdatas(response) == ["10.0.0.1", "10.0.0.2", "www.example.com."]


def test_the_longest_zone_answers_across_projects(
    emulator: CloudDnsEmulator, responder: DnsResponder
) -> None:
    emulator.add_zone("team-project", "team", "team.example.com.")
    emulator.set_record("team-project", "team", "api.team.example.com.", "A", 60, ["10.7.0.1"])
    assert rrdatas(ask(responder, "api.team.example.com.", "A")) == ["10.7.0.1"]
    assert ask(responder, "www.team.example.com.", "A").rcode() == dns.rcode.NXDOMAIN


def test_the_nameserver_answers_a_change_only_after_it_propagated(
    responder: DnsResponder, zone: Any, clock: FakeClock, emulator: CloudDnsEmulator
) -> None:
    submitted_at = clock.now()
    replace_www(zone, (300, ["10.0.0.1", "10.0.0.2"]), (60, ["10.9.9.9"]))
    clock.advance(CHANGE_DELAY_S)
    assert reloaded(zone, "1").status == "done"
    assert rrdatas(ask(responder, "www.example.com.", "A")) == ["10.0.0.1", "10.0.0.2"]
    clock.advance(PROPAGATION_S)
    assert rrdatas(ask(responder, "www.example.com.", "A")) == ["10.9.9.9"]
    visible_after = timedelta(seconds=CHANGE_DELAY_S + PROPAGATION_S)
    assert emulator.truth[0].visible_at == submitted_at + visible_after


def test_a_stuck_change_is_never_served(
    responder: DnsResponder, zone: Any, clock: FakeClock, emulator: CloudDnsEmulator
) -> None:
    emulator.stuck_changes()
    change = zone.changes()
    change.add_record_set(zone.resource_record_set("new.example.com.", "A", 60, ["10.3.0.1"]))
    change.create()
    clock.advance(3600)
    assert ask(responder, "new.example.com.", "A").rcode() == dns.rcode.NXDOMAIN


def test_served_says_what_the_nameservers_answer_and_since_when(
    emulator: CloudDnsEmulator, zone: Any, clock: FakeClock
) -> None:
    seeded, since = emulator.served("www.example.com.", "A")
    assert seeded is not None
    assert (seeded.rrdatas, since) == (("10.0.0.1", "10.0.0.2"), -math.inf)
    submitted = clock.monotonic()
    replace_www(zone, (300, ["10.0.0.2", "10.0.0.1"]), (60, ["10.9.9.9"]))
    clock.advance(CHANGE_DELAY_S + PROPAGATION_S - 0.01)
    still, _ = emulator.served("www.example.com.", "A")
    assert still == seeded  # done, not yet answered
    clock.advance(0.5)
    answered, since = emulator.served("WWW.example.com.", "A")
    assert answered is not None
    assert answered.rrdatas == ("10.9.9.9",)
    assert since == submitted + CHANGE_DELAY_S + PROPAGATION_S  # the exact moment, not now
    assert emulator.served("nothing.example.com.", "A") == (None, -math.inf)


# --- one record set at a time (rrsets get, create, patch, delete) -----------------------------

WWW_A = f"{ZONES}/rrsets/www.example.com./A"


def reason(document: Any) -> str:
    return str(document["error"]["errors"][0]["reason"])


def test_an_rrset_is_got_by_name_and_type(emulator: CloudDnsEmulator) -> None:
    assert http(emulator, "GET", WWW_A) == (200, WWW.resource())
    status, error = http(emulator, "GET", f"{ZONES}/rrsets/www.example.com./AAAA")
    assert (status, reason(error)) == (404, "notFound")
    assert "'www.example.com. (AAAA)' does not exist" in error["error"]["message"]
    status, error = http(emulator, "GET", f"/dns/v1/projects/{PROJECT}/managedZones/no/rrsets/a/A")
    assert status == 404
    assert "'parameters.managedZone' resource named 'no'" in error["error"]["message"]


def test_creating_an_rrset_is_a_change_pending_then_done(
    emulator: CloudDnsEmulator, zone: Any, clock: FakeClock
) -> None:
    api = DnsRecord("api.example.com.", "A", 60, ("10.2.0.1",))
    body = {"kind": "dns#resourceRecordSet", **api.resource(), "ttl": "60"}
    assert http(emulator, "POST", f"{ZONES}/rrsets", body) == (200, api.resource())
    assert emulator.record(PROJECT, ZONE, "api.example.com.", "A") == api
    change = reloaded(zone, "1")
    assert change.status == "pending"
    assert [(r.name, r.rrdatas) for r in change.additions] == [(api.name, list(api.rrdatas))]
    clock.advance(CHANGE_DELAY_S)
    assert reloaded(zone, "1").status == "done"
    (truth,) = emulator.truth
    assert (truth.additions, truth.deletions, truth.done_at) == ((api,), (), clock.now())


@pytest.mark.parametrize(
    ("record", "status", "why"),
    [
        (WWW, 409, "alreadyExists"),
        (DnsRecord("www.example.org.", "A", 60, ("10.0.0.1",)), 400, "invalid"),
        (
            DnsRecord("www.example.com.", "CNAME", 60, ("a.b.",)),
            400,
            "cnameResourceRecordSetConflict",
        ),
        (DnsRecord("sub.example.com.", "SOA", 60, ("a. b. 1 2 3 4 5",)), 400, "invalidZoneApex"),
    ],
    ids=["exists", "outside-the-zone", "cname-beside-a", "soa-below-the-apex"],
)
def test_creating_an_rrset_refuses_what_a_change_refuses(
    emulator: CloudDnsEmulator, record: DnsRecord, status: int, why: str
) -> None:
    answered, error = http(emulator, "POST", f"{ZONES}/rrsets", record.resource())
    assert (answered, reason(error)) == (status, why)
    assert "entity.resourceRecordSet" in error["error"]["message"]
    assert emulator.record(PROJECT, ZONE, "www.example.com.", "A") == WWW
    assert emulator.truth == []


def test_a_patch_answers_the_new_rrset_while_its_change_is_pending(
    emulator: CloudDnsEmulator, zone: Any, clock: FakeClock
) -> None:
    submitted = clock.monotonic()
    status, patched = http(emulator, "PATCH", WWW_A, {"rrdatas": ["10.9.9.9"]})
    new = DnsRecord("www.example.com.", "A", 300, ("10.9.9.9",))  # the TTL it left out is kept
    assert (status, patched) == (200, new.resource())
    assert emulator.record(PROJECT, ZONE, "www.example.com.", "A") == new
    assert reloaded(zone, "1").status == "pending"
    (truth,) = emulator.truth
    assert (truth.deletions, truth.additions) == ((WWW,), (new,))
    clock.advance(CHANGE_DELAY_S + PROPAGATION_S)
    assert emulator.served("www.example.com.", "A") == (
        new,
        submitted + CHANGE_DELAY_S + PROPAGATION_S,
    )


@pytest.mark.parametrize(
    "body",
    [
        {"name": "web.example.com.", "rrdatas": ["10.9.9.9"]},
        {"type": "AAAA", "rrdatas": ["::1"]},
        ["10.9.9.9"],
    ],
    ids=["rename", "retype", "not-an-rrset"],
)
def test_a_patch_cannot_move_the_rrset(emulator: CloudDnsEmulator, body: object) -> None:
    status, error = http(emulator, "PATCH", WWW_A, body)
    assert (status, reason(error)) == (400, "invalid")
    assert emulator.record(PROJECT, ZONE, "www.example.com.", "A") == WWW
    assert emulator.truth == []


def test_a_patch_may_name_the_rrset_in_any_case_and_check_its_values(
    emulator: CloudDnsEmulator,
) -> None:
    body = {"name": "WWW.example.com.", "type": "A", "ttl": 30, "rrdatas": ["10.9.9.9"]}
    assert http(emulator, "PATCH", WWW_A, body)[0] == 200
    status, error = http(emulator, "PATCH", WWW_A, {"rrdatas": ["not-an-address"]})
    assert (status, reason(error)) == (400, "invalid")


@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
def test_patching_or_deleting_a_missing_rrset_is_not_found(
    emulator: CloudDnsEmulator, method: str
) -> None:
    body = {"rrdatas": ["10.0.0.9"]} if method == "PATCH" else None
    status, error = http(emulator, method, f"{ZONES}/rrsets/gone.example.com./A", body)
    assert (status, reason(error)) == (404, "notFound")
    assert "'gone.example.com. (A)' does not exist" in error["error"]["message"]
    assert emulator.truth == []


def test_deleting_an_rrset_is_a_change_answered_with_an_empty_response(
    emulator: CloudDnsEmulator, zone: Any
) -> None:
    assert http(emulator, "DELETE", WWW_A) == (200, {})
    assert emulator.record(PROJECT, ZONE, "www.example.com.", "A") is None
    assert [(c.name, c.status) for c in zone.list_changes()] == [("0", "done"), ("1", "pending")]
    assert emulator.truth[0].deletions == (WWW,)


@pytest.mark.parametrize("type_", ["NS", "SOA"])
def test_the_apex_soa_and_ns_may_be_replaced_but_not_removed(
    emulator: CloudDnsEmulator, type_: str
) -> None:
    path = f"{ZONES}/rrsets/example.com./{type_}"
    status, error = http(emulator, "DELETE", path)
    assert (status, reason(error)) == (400, "invalidZoneApex")
    assert (
        f"exactly one resource record set of type '{type_}' at the apex"
        in (error["error"]["message"])
    )
    _, apex = http(emulator, "GET", path)
    status, error = http(emulator, "POST", f"{ZONES}/changes", {"deletions": [apex]})
    assert (status, reason(error)) == (400, "invalidZoneApex")
    assert "'entity.change.deletions[0]'" in error["error"]["message"]
    assert emulator.truth == []
    assert http(emulator, "PATCH", path, {"ttl": 3600})[0] == 200


def test_rrset_writes_meet_the_changes_faults(
    emulator: CloudDnsEmulator, zone: Any, clock: FakeClock
) -> None:
    emulator.fail_requests(1, 503, "*/rrsets/*", method="PATCH")
    assert http(emulator, "PATCH", WWW_A, {"rrdatas": ["10.9.9.9"]})[0] == 503
    assert emulator.record(PROJECT, ZONE, "www.example.com.", "A") == WWW
    emulator.deny("dns.resourceRecordSets.delete", f"projects/{PROJECT}/managedZones/{ZONE}")
    status, error = http(emulator, "DELETE", WWW_A)
    assert status == 403
    assert "'dns.resourceRecordSets.delete' denied" in error["error"]["message"]
    emulator.stuck_changes()
    assert http(emulator, "PATCH", WWW_A, {"rrdatas": ["10.9.9.9"]})[0] == 200
    clock.advance(3600)
    assert reloaded(zone, "1").status == "pending"
    assert emulator.served("www.example.com.", "A")[0] == WWW
