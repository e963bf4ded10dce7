"""The Route53 adapter through botocore against moto (the AWS sandbox) over HTTP.

Whatever "someone else" does to a zone goes through a plain boto3 client, as another tool
would; what the zone really holds is read from the sandbox's ground truth.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest

from drill.clock import FakeClock
from drill.errors import Conflict, NotFound, PermanentError, TransientError
from drill.sandbox.aws import AwsSandbox
from providers.aws import Route53Dns
from providers.aws_route53 import same_name
from providers.cloud import SANDBOX_AWS_KEY, CloudSettings
from providers.protocols import PendingChange, RecordSet

DOMAIN = "example.com."
RACE_EVENT = "before-call.route53.ChangeResourceRecordSets"  # botocore's hook before a call
SHADOW = RecordSet("drill-api.example.com.", "CNAME", 300, ("primary.example.com.",))
DR = RecordSet("drill-api.example.com.", "CNAME", 60, ("dr-alb.us-west-2.elb.amazonaws.com.",))


@pytest.fixture(scope="module")
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="module")
def aws(clock: FakeClock) -> Iterator[AwsSandbox]:
    with AwsSandbox(clock) as sandbox:
        sandbox.create_zone(DOMAIN)
        yield sandbox


@pytest.fixture
def zone(aws: AwsSandbox) -> str:
    """The zone's id, holding the shadow record as seeded (and nothing from earlier tests)."""
    zone_id = aws.zone_id(DOMAIN)
    aws.set_record(zone_id, SHADOW.name, SHADOW.type, SHADOW.ttl, SHADOW.rrdatas)
    return zone_id


@pytest.fixture(scope="module")
def api(aws: AwsSandbox) -> Route53Dns:
    """drill's adapter; one for the module, as drill keeps one per run (sessions are slow)."""
    return Route53Dns(CloudSettings(aws_endpoint=aws.endpoint, anonymous=True))


@pytest.fixture(scope="module")
def route53(aws: AwsSandbox) -> Any:
    """Someone else's client."""
    return boto3.client(
        "route53",
        endpoint_url=aws.endpoint,
        region_name="us-east-1",
        aws_access_key_id=SANDBOX_AWS_KEY,
        aws_secret_access_key=SANDBOX_AWS_KEY,
    )


def upsert(route53: Any, zone_id: str, record: dict[str, Any]) -> None:
    route53.change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={"Changes": [{"Action": "UPSERT", "ResourceRecordSet": record}]},
    )


@pytest.mark.parametrize(
    "by", ["id", "/hostedzone/id", "example.com.", "example.com", "EXAMPLE.com."]
)
def test_reads_a_record_by_zone_id_or_domain(
    aws: AwsSandbox, zone: str, by: str, api: Route53Dns
) -> None:
    name = by.replace("id", zone) if "id" in by else by
    assert api.get_record(name, "drill-api.example.com.", "CNAME") == SHADOW


def test_the_name_may_omit_the_trailing_dot(aws: AwsSandbox, zone: str, api: Route53Dns) -> None:
    assert api.get_record(zone, "drill-api.example.com", "CNAME") == SHADOW


def test_an_absent_record_is_none_even_when_a_neighbour_exists(
    aws: AwsSandbox, zone: str, api: Route53Dns
) -> None:
    assert api.get_record(zone, "drill-api.example.com.", "A") is None
    assert api.get_record(zone, "drill-ap.example.com.", "CNAME") is None
    assert api.get_record(zone, "nothing.example.com.", "CNAME") is None


def test_values_are_compared_as_dns_sees_them(
    aws: AwsSandbox, zone: str, api: Route53Dns, route53: Any
) -> None:
    upsert(route53, zone, {
        "Name": "multi.example.com.", "Type": "A", "TTL": 60,
        "ResourceRecords": [{"Value": "203.0.113.11"}, {"Value": "203.0.113.10"}],
    })  # fmt: skip
    upsert(route53, zone, {
        "Name": "bare.example.com.", "Type": "CNAME", "TTL": 60,
        "ResourceRecords": [{"Value": "target.example.com"}],
    })  # fmt: skip
    multi = api.get_record(zone, "multi.example.com.", "A")
    assert multi is not None
    assert multi.same_as(RecordSet("multi.example.com.", "A", 60, ("203.0.113.10", "203.0.113.11")))
    bare = api.get_record(zone, "bare.example.com.", "CNAME")
    assert bare == RecordSet("bare.example.com.", "CNAME", 60, ("target.example.com.",))


def test_switch_is_one_change_batch_that_is_insync(
    aws: AwsSandbox, zone: str, api: Route53Dns
) -> None:
    change = api.change_record(DOMAIN, SHADOW, DR)
    assert (change.done, change.status) == (True, "INSYNC")
    assert not change.id.startswith("/change/")
    assert api.change_status(DOMAIN, change.id).status == "INSYNC"
    assert aws.record(zone, DR.name, "CNAME") == DR
    back = api.change_record(zone, DR, SHADOW)
    assert back.done
    assert aws.record(zone, SHADOW.name, "CNAME") == SHADOW


def test_a_change_is_pending_until_route53_says_insync(
    aws: AwsSandbox, zone: str, api: Route53Dns, clock: FakeClock
) -> None:
    aws.changes.delay_s = 30.0
    try:
        change = api.change_record(zone, SHADOW, DR)
        assert (change.done, change.status) == (False, "PENDING")
        assert aws.record(zone, DR.name, "CNAME") == DR  # the zone changes at once, as in AWS
        clock.advance(29)
        assert api.change_status(zone, change.id) == change
        clock.advance(1)
        assert api.change_status(zone, change.id) == PendingChange(change.id, True, "INSYNC")
        again = api.change_record(zone, DR, SHADOW)
        assert again.id != change.id
        assert api.change_status(zone, again.id).status == "PENDING"
    finally:
        aws.changes.delay_s = 0.0


def test_a_record_changed_since_it_was_read_is_a_conflict_and_nothing_applies(
    aws: AwsSandbox, zone: str, api: Route53Dns, route53: Any
) -> None:
    read = api.get_record(zone, SHADOW.name, "CNAME")
    assert read == SHADOW
    theirs = {"Name": SHADOW.name, "Type": "CNAME", "TTL": 300,
              "ResourceRecords": [{"Value": "someone-else.example.com."}]}  # fmt: skip
    upsert(route53, zone, theirs)
    with pytest.raises(Conflict, match=r"changed since drill read it.*nothing applied"):
        api.change_record(DOMAIN, read, DR)
    assert aws.record(zone, SHADOW.name, "CNAME") == RecordSet(
        SHADOW.name, "CNAME", 300, ("someone-else.example.com.",)
    )


@contextmanager
def someone_else_first(
    api: Route53Dns, route53: Any, zone: str, record: dict[str, Any]
) -> Iterator[list[bool]]:
    """Someone else's UPSERT of ``record`` lands after drill's read, just before its change
    batch is sent; yields a list that holds True once it has."""
    landed: list[bool] = []

    def upsert_once(**_: Any) -> None:
        if not landed:
            landed.append(True)
            upsert(route53, zone, record)

    client = api._route53("race")
    client.meta.events.register(RACE_EVENT, upsert_once, unique_id="race")
    try:
        yield landed
    finally:
        client.meta.events.unregister(RACE_EVENT, unique_id="race")


def test_a_change_landing_between_the_read_and_the_batch_is_refused_by_route53(
    aws: AwsSandbox, zone: str, api: Route53Dns, route53: Any
) -> None:
    """The precondition is part of the batch: the DELETE of the record set drill read fails
    when someone changed it after the read, and the whole batch with it."""
    theirs = {"Name": SHADOW.name, "Type": "CNAME", "TTL": 300,
              "ResourceRecords": [{"Value": "someone-else.example.com."}]}  # fmt: skip
    with (
        someone_else_first(api, route53, zone, theirs) as landed,
        pytest.raises(Conflict, match=r"do not match the current values; nothing applied"),
    ):
        api.change_record(zone, SHADOW, DR)
    assert landed == [True]
    assert aws.record(zone, SHADOW.name, "CNAME") == RecordSet(
        SHADOW.name, "CNAME", 300, ("someone-else.example.com.",)
    )


def test_a_creation_racing_someone_elses_is_refused_by_route53(
    aws: AwsSandbox, zone: str, api: Route53Dns, route53: Any
) -> None:
    new = RecordSet("raced.example.com.", "A", 60, ("198.51.100.7",))
    theirs = {"Name": new.name, "Type": "A", "TTL": 60,
              "ResourceRecords": [{"Value": "198.51.100.99"}]}  # fmt: skip
    with (
        someone_else_first(api, route53, zone, theirs) as landed,
        pytest.raises(Conflict, match=r"already exists; nothing applied"),
    ):
        api.change_record(zone, None, new)
    assert landed == [True]
    assert aws.record(zone, new.name, "A") == RecordSet(new.name, "A", 60, ("198.51.100.99",))


def test_a_ttl_change_alone_is_also_a_conflict(
    aws: AwsSandbox, zone: str, api: Route53Dns, route53: Any
) -> None:
    upsert(route53, zone, {"Name": SHADOW.name, "Type": "CNAME", "TTL": 30,
                       "ResourceRecords": [{"Value": SHADOW.rrdatas[0]}]})  # fmt: skip
    with pytest.raises(Conflict):
        api.change_record(DOMAIN, SHADOW, DR)
    assert aws.record(zone, SHADOW.name, "CNAME") == RecordSet(
        SHADOW.name, "CNAME", 30, SHADOW.rrdatas
    )


def test_creating_over_a_record_that_appeared_is_a_conflict(
    aws: AwsSandbox, zone: str, api: Route53Dns, route53: Any
) -> None:
    new = RecordSet("fresh.example.com.", "A", 60, ("198.51.100.7",))
    upsert(route53, zone, {"Name": new.name, "Type": "A", "TTL": 60,
                       "ResourceRecords": [{"Value": "198.51.100.99"}]})  # fmt: skip
    with pytest.raises(Conflict, match=r"drill read no record"):
        api.change_record(zone, None, new)
    assert aws.record(zone, new.name, "A") == RecordSet(new.name, "A", 60, ("198.51.100.99",))


def test_creates_an_absent_record_and_deletes_it_when_new_is_none(
    aws: AwsSandbox, zone: str, api: Route53Dns
) -> None:
    new = RecordSet("created.example.com.", "AAAA", 120, ("2001:db8::7",))
    assert api.change_record(zone, None, new).done
    assert aws.record(zone, new.name, "AAAA") == new
    assert api.change_record(zone, new, None).done
    assert aws.record(zone, new.name, "AAAA") is None
    assert api.get_record(zone, new.name, "AAAA") is None


def test_weighted_and_alias_records_are_refused(
    aws: AwsSandbox, zone: str, api: Route53Dns, route53: Any
) -> None:
    for identifier, weight in (("east", 100), ("west", 0)):
        upsert(route53, zone, {
            "Name": "weighted.example.com.", "Type": "A", "TTL": 60, "SetIdentifier": identifier,
            "Weight": weight, "ResourceRecords": [{"Value": "203.0.113.10"}],
        })  # fmt: skip
    upsert(route53, zone, {
        "Name": "alias.example.com.", "Type": "A",
        "AliasTarget": {"HostedZoneId": "Z35SXDOTRQ7X7K", "EvaluateTargetHealth": False,
                        "DNSName": "dr-alb.us-west-2.elb.amazonaws.com."},
    })  # fmt: skip
    with pytest.raises(PermanentError, match=r"routing policy.*simple records only"):
        api.get_record(zone, "weighted.example.com.", "A")
    wanted = RecordSet("weighted.example.com.", "A", 60, ("203.0.113.20",))
    with pytest.raises(PermanentError, match=r"simple records only"):
        api.change_record(zone, wanted, wanted)
    with pytest.raises(PermanentError, match=r"an alias record.*simple records only"):
        api.get_record(zone, "alias.example.com.", "A")


def test_an_unknown_zone_is_not_found(aws: AwsSandbox, api: Route53Dns) -> None:
    with pytest.raises(NotFound, match=r"no hosted zone is named nowhere.example."):
        api.get_record("nowhere.example.", "a.nowhere.example.", "A")
    with pytest.raises(NotFound, match=r"zone Z0000000000000NOPE"):
        api.get_record("Z0000000000000NOPE", "a.example.com.", "A")


def test_two_zones_with_one_name_must_be_named_by_id(
    aws: AwsSandbox, api: Route53Dns, route53: Any
) -> None:
    for reference in ("one", "two"):
        route53.create_hosted_zone(Name="twice.example.", CallerReference=reference)
    with pytest.raises(PermanentError, match=r"2 hosted zones are named twice.example.*by its id"):
        api.get_record("twice.example.", "a.twice.example.", "A")


def test_a_refused_change_names_the_permission(
    aws: AwsSandbox, zone: str, api: Route53Dns, route53: Any
) -> None:
    denied = (
        "User: arn:aws:iam::123456789012:user/drill is not authorized to perform: "
        f"route53:ChangeResourceRecordSets on resource: arn:aws:route53:::hostedzone/{zone}"
    )
    aws.faults.fail(1, status=403, code="AccessDenied", message=denied,
                    service="route53", operation="POST */rrset*")  # fmt: skip
    with pytest.raises(PermanentError, match=r"permission denied: .*route53:ChangeResourceRecord"):
        api.change_record(zone, SHADOW, DR)
    assert aws.record(zone, SHADOW.name, "CNAME") == SHADOW


def test_throttling_and_a_change_in_flight_are_transient(
    aws: AwsSandbox, zone: str, api: Route53Dns, route53: Any
) -> None:
    aws.faults.fail(1, status=400, code="Throttling", message="Rate exceeded", service="route53")
    with pytest.raises(TransientError, match=r"Throttling: Rate exceeded"):
        api.get_record(zone, SHADOW.name, "CNAME")
    aws.faults.fail(1, status=400, code="PriorRequestNotComplete", service="route53",
                    operation="POST */rrset*")  # fmt: skip
    with pytest.raises(TransientError, match=r"PriorRequestNotComplete"):
        api.change_record(zone, SHADOW, DR)


@pytest.mark.parametrize(
    ("listed", "asked", "same"),
    [
        ("\\052.example.com.", "*.example.com", True),
        ("api.example.com.", "API.Example.Com", True),
        ("a\\100b.example.com.", "a@b.example.com.", True),
        ("api.example.com.", "api.example.org.", False),
    ],
)
def test_names_match_as_dns_names(listed: str, asked: str, same: bool) -> None:
    assert same_name(listed, asked) is same
