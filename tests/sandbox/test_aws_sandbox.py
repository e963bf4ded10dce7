"""The AWS sandbox: moto over HTTP with an account of its own, seeding, ground truth, faults.

Checked through plain boto3 clients, as any AWS tool would see the sandbox.
"""

from __future__ import annotations

import socket
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import partial
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from drill.clock import FakeClock, SystemClock
from drill.sandbox.aws import TARGETS_PER_GROUP, AwsRequest, AwsSandbox
from providers.cloud import SANDBOX_AWS_KEY
from providers.protocols import RecordSet

NOW = datetime(2026, 11, 24, 0, 30, 15, 600000, tzinfo=UTC)


@pytest.fixture(scope="module")
def aws() -> Iterator[AwsSandbox]:
    with AwsSandbox(FakeClock(NOW), region="us-west-2") as sandbox:
        yield sandbox


def client(aws: AwsSandbox, service: str, region: str = "us-west-2") -> Any:
    return boto3.client(
        service,
        endpoint_url=aws.endpoint,
        region_name=region,
        aws_access_key_id=SANDBOX_AWS_KEY,
        aws_secret_access_key=SANDBOX_AWS_KEY,
        config=Config(retries={"total_max_attempts": 1}),  # each fault seen, none retried
    )


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_stop_closes_the_port_ends_the_thread_and_forgets_the_account() -> None:
    from moto.backends import get_backend
    from moto.s3.models import FakeKey

    sandbox = AwsSandbox().start()
    port = int(sandbox.endpoint.rsplit(":", 1)[1])
    sandbox.create_bucket("short-lived")
    for name in ("a", "b", "c"):
        sandbox.put_object("short-lived", name, 10, 0, {})
    held = len(FakeKey.instances_tracked)
    assert client(sandbox, "s3").list_buckets()["Buckets"][0]["Name"] == "short-lived"
    assert sandbox.account_id in dict.keys(get_backend("s3"))
    sandbox.stop()
    assert not port_open(port)
    assert "sandbox-aws" not in [t.name for t in threading.enumerate()]
    assert sandbox.account_id not in dict.keys(get_backend("s3"))
    assert len(FakeKey.instances_tracked) == held - 3  # the objects' bytes are let go
    with AwsSandbox() as again:  # S3 bucket names are global: the name is free again
        again.create_bucket("short-lived")
        assert again.object_names("short-lived") == []


def test_two_sandboxes_never_see_each_others_state(aws: AwsSandbox) -> None:
    with AwsSandbox() as other:
        mine, theirs = aws.create_zone("shared.example."), other.create_zone("shared.example.")
        aws.set_record(mine, "a.shared.example.", "A", 60, ["192.0.2.1"])
        zones = client(other, "route53").list_hosted_zones()["HostedZones"]
        assert [z["Id"].rsplit("/", 1)[-1] for z in zones] == [theirs]
        assert other.record(theirs, "a.shared.example.", "A") is None
        assert other.account_id != aws.account_id
        group = other.create_target_group("shared-group", 80)
        assert f":{other.account_id}:targetgroup/shared-group/" in group


def test_an_object_is_dated_its_age_ago_in_whole_seconds(aws: AwsSandbox) -> None:
    aws.create_bucket("dated-backups", "us-west-2")
    aws.put_object("dated-backups", "db/dump.gz", 2048, 3600, {"Backup-Time": "2026-11-23"})
    expected = datetime(2026, 11, 23, 23, 30, 15, tzinfo=UTC)
    assert aws.last_modified("dated-backups", "db/dump.gz") == expected
    head = client(aws, "s3").head_object(Bucket="dated-backups", Key="db/dump.gz")
    assert head["LastModified"] == expected
    assert head["ContentLength"] == 2048
    assert head["Metadata"] == {"backup-time": "2026-11-23"}
    listed = client(aws, "s3").list_objects_v2(Bucket="dated-backups")["Contents"]
    assert [(o["Key"], o["LastModified"]) for o in listed] == [("db/dump.gz", expected)]


def test_records_are_seeded_and_read_back_as_route53_holds_them(aws: AwsSandbox) -> None:
    zone_id = aws.create_zone("seeded.example.")
    assert aws.create_zone("seeded.example") == zone_id  # once
    assert aws.zone_id("SEEDED.example.") == zone_id
    aws.set_record(zone_id, "api.seeded.example", "CNAME", 300, ["primary.seeded.example."])
    truth = aws.record(zone_id, "api.seeded.example.", "CNAME")
    assert truth == RecordSet("api.seeded.example.", "CNAME", 300, ("primary.seeded.example.",))
    listed = client(aws, "route53").list_resource_record_sets(HostedZoneId=zone_id)
    assert {"Name": "api.seeded.example.", "Type": "CNAME", "TTL": 300,
            "ResourceRecords": [{"Value": "primary.seeded.example."}]} in listed[
        "ResourceRecordSets"
    ]  # fmt: skip
    # What the seed wrote, a DELETE through the API can name exactly (Route53's own rule).
    client(aws, "route53").change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={"Changes": [{"Action": "DELETE", "ResourceRecordSet": {
            "Name": "api.seeded.example.", "Type": "CNAME", "TTL": 300,
            "ResourceRecords": [{"Value": "primary.seeded.example."}]}}]},
    )  # fmt: skip
    assert aws.record(zone_id, "api.seeded.example.", "CNAME") is None


def test_a_new_zone_has_the_apex_records_route53_writes(aws: AwsSandbox) -> None:
    zone_id = aws.create_zone("apex.example.")
    listed = client(aws, "route53").list_resource_record_sets(HostedZoneId=zone_id)
    apex = {r["Type"]: r for r in listed["ResourceRecordSets"] if r["Name"] == "apex.example."}
    assert sorted(apex) == ["NS", "SOA"]
    servers = [r["Value"] for r in apex["NS"]["ResourceRecords"]]
    assert len(servers) == 4
    assert all(s.endswith(".") and ".awsdns-" in s for s in servers)
    assert apex["NS"]["TTL"] == 172800
    [soa] = apex["SOA"]["ResourceRecords"]
    assert soa["Value"].split() == [
        servers[0], "awsdns-hostmaster.amazon.com.", "1", "7200", "900", "1209600", "86400"
    ]  # fmt: skip
    assert apex["SOA"]["TTL"] == 900


def test_route53_changes_have_their_own_ids_and_stay_pending_for_the_delay() -> None:
    clock = FakeClock(NOW)
    with AwsSandbox(clock, change_delay_s=5.0) as sandbox:
        zone_id = sandbox.create_zone("pending.example.")
        route53 = client(sandbox, "route53")
        record = {"Name": "a.pending.example.", "Type": "A", "TTL": 60,
                  "ResourceRecords": [{"Value": "192.0.2.1"}]}  # fmt: skip
        batch = {"Changes": [{"Action": "UPSERT", "ResourceRecordSet": record}]}
        first = route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch=batch)
        clock.advance(3)
        second = route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch=batch)
        ids = [first["ChangeInfo"]["Id"], second["ChangeInfo"]["Id"]]
        assert ids[0] != ids[1]
        assert [i.removeprefix("/change/") for i in ids] == sandbox.changes.ids()
        assert first["ChangeInfo"]["SubmittedAt"] == NOW.replace(microsecond=0)
        clock.advance(2)
        statuses = [route53.get_change(Id=i)["ChangeInfo"]["Status"] for i in ids]
        assert statuses == ["INSYNC", "PENDING"]
        sandbox.changes.delay_s = float("inf")  # a change that never finishes
        assert route53.get_change(Id=ids[0])["ChangeInfo"]["Status"] == "PENDING"


def _cname(value: str, ttl: int = 300) -> dict[str, Any]:
    return {
        "Name": "batch.example.org.",
        "Type": "CNAME",
        "TTL": ttl,
        "ResourceRecords": [{"Value": value}],
    }


def _batch(aws: AwsSandbox, zone_id: str, *changes: tuple[str, dict[str, Any]]) -> str:
    """Submit the changes in one batch: "ok", or "code: message" of the refusal."""
    try:
        client(aws, "route53").change_resource_record_sets(
            HostedZoneId=zone_id,
            ChangeBatch={"Changes": [{"Action": a, "ResourceRecordSet": r} for a, r in changes]},
        )
    except ClientError as error:
        return f"{error.response['Error']['Code']}: {error.response['Error']['Message']}"
    return "ok"


def test_a_change_batch_is_checked_against_the_zone_as_aws_documents(aws: AwsSandbox) -> None:
    zone_id = aws.create_zone("example.org.")
    aws.set_record(zone_id, "batch.example.org.", "CNAME", 300, ("one.example.org.",))
    held = RecordSet("batch.example.org.", "CNAME", 300, ("one.example.org.",))
    subject = "InvalidChangeBatch: Tried to {} resource record set [name='batch.example.org.'"
    refusals = {
        "values differ": (("DELETE", _cname("two.example.org.")), ("CREATE", _cname("x."))),
        "ttl differs": (("DELETE", _cname("one.example.org.", 60)),),
        "creates what exists": (("CREATE", _cname("three.example.org.")),),
    }
    for why, changes in refusals.items():
        message = _batch(aws, zone_id, *changes)
        assert message.startswith(subject.format(changes[0][0].lower())), why
        assert aws.record(zone_id, "batch.example.org.", "CNAME") == held, why  # all or none
    four = _cname("four.example.org.")
    assert _batch(aws, zone_id, ("DELETE", _cname("one.example.org.")), ("CREATE", four)) == "ok"
    assert aws.record(zone_id, "batch.example.org.", "CNAME") == RecordSet(
        "batch.example.org.", "CNAME", 300, ("four.example.org.",)
    )
    assert _batch(aws, zone_id, ("DELETE", four)) == "ok"
    gone = _batch(aws, zone_id, ("DELETE", four))
    assert gone == subject.format("delete") + ", type='CNAME'] but it was not found"
    assert _batch(aws, zone_id, ("CREATE", four)) == "ok"  # created before, then deleted
    assert aws.record(zone_id, "batch.example.org.", "CNAME") is not None


@pytest.mark.parametrize(
    ("type_", "value", "code"),
    [
        ("A", "300.1.1.1", "ARRDATAIllegalIPv4Address (Value is not a valid IPv4 address)"),
        ("A", "api.example.org.", "ARRDATAIllegalIPv4Address (Value is not a valid IPv4 address)"),
        ("AAAA", "2001:db8::g", "AAAARRDATAIllegalIPv6Address (Value is not a valid IPv6 address)"),
        ("AAAA", "192.0.2.1", "AAAARRDATAIllegalIPv6Address (Value is not a valid IPv6 address)"),
    ],
)
def test_an_address_record_whose_value_is_no_address_is_refused(
    aws: AwsSandbox, type_: str, value: str, code: str
) -> None:
    zone_id = aws.create_zone("values.example.org.")
    record = {"Name": "bad.values.example.org.", "Type": type_, "TTL": 60,
              "ResourceRecords": [{"Value": "192.0.2.7" if type_ == "A" else "2001:db8::7"},
                                  {"Value": value}]}  # fmt: skip
    with pytest.raises(ClientError) as refused:
        client(aws, "route53").change_resource_record_sets(
            HostedZoneId=zone_id,
            ChangeBatch={"Changes": [{"Action": "UPSERT", "ResourceRecordSet": record}]},
        )
    error = refused.value.response["Error"]
    assert error["Code"] == "InvalidChangeBatch"
    assert error["Message"] == (
        f"[Invalid Resource Record: 'FATAL problem: {code} encountered with '{value}'']"
    )
    assert aws.record(zone_id, "bad.values.example.org.", type_) is None


def test_a_listeners_target_groups_are_created_with_healthy_targets(aws: AwsSandbox) -> None:
    arn = aws.create_load_balancer_with_listener(
        "seeded-alb", 443, {"seeded-east": 100, "seeded-west": 0}, stickiness_s=120
    )
    assert aws.listener_arn("seeded-alb:443") == arn
    assert aws.listener_weights(arn) == {"seeded-east": 100, "seeded-west": 0}
    elbv2 = client(aws, "elbv2")
    listener = elbv2.describe_listeners(ListenerArns=[arn])["Listeners"][0]
    config = listener["DefaultActions"][0]["ForwardConfig"]
    assert config["TargetGroupStickinessConfig"] == {"Enabled": True, "DurationSeconds": 120}
    for name in ("seeded-east", "seeded-west"):
        described = elbv2.describe_target_health(TargetGroupArn=aws.target_group_arn(name))
        states = [d["TargetHealth"]["State"] for d in described["TargetHealthDescriptions"]]
        assert states == ["healthy"] * TARGETS_PER_GROUP
    # A second listener on the same load balancer reuses it and its groups.
    aws.create_load_balancer_with_listener("seeded-alb", 80, {"seeded-east": 1})
    balancers = elbv2.describe_load_balancers(Names=["seeded-alb"])["LoadBalancers"]
    found = elbv2.describe_listeners(LoadBalancerArn=balancers[0]["LoadBalancerArn"])
    assert sorted(item["Port"] for item in found["Listeners"]) == [80, 443]
    assert len(aws.targets("seeded-east")) == TARGETS_PER_GROUP


def test_a_listener_cannot_forward_to_a_target_group_its_region_lacks(aws: AwsSandbox) -> None:
    arn = aws.create_load_balancer_with_listener("guarded-alb", 443, {"guarded-east": 1})
    elbv2 = client(aws, "elbv2")
    known = aws.target_group_arn("guarded-east")
    unknown = known.replace("guarded-east", "guarded-none")
    forwards = [
        [{"Type": "forward", "TargetGroupArn": unknown}],
        [{"Type": "forward", "ForwardConfig": {"TargetGroups": [
            {"TargetGroupArn": known, "Weight": 1}, {"TargetGroupArn": unknown, "Weight": 1},
        ]}}],
    ]  # fmt: skip
    for actions in forwards:
        with pytest.raises(ClientError) as refused:
            elbv2.modify_listener(ListenerArn=arn, DefaultActions=actions)
        assert refused.value.response["Error"]["Code"] == "TargetGroupNotFound"
    assert aws.listener_weights(arn) == {"guarded-east": 1}  # unchanged
    elbv2.modify_listener(
        ListenerArn=arn, DefaultActions=[{"Type": "forward", "TargetGroupArn": known}]
    )


@pytest.mark.parametrize(
    # botocore itself refuses a port under 1 before sending anything.
    ("port", "bound"),
    [(65536, "less than or equal to 65535"), (70000, "less than or equal to 65535")],
)
def test_a_listener_port_out_of_range_is_refused(aws: AwsSandbox, port: int, bound: str) -> None:
    arn = aws.create_load_balancer_with_listener(f"ported-{port}", 8443, {f"ported-{port}": 1})
    elbv2 = client(aws, "elbv2")
    with pytest.raises(ClientError) as refused:
        elbv2.modify_listener(ListenerArn=arn, Port=port)
    error = refused.value.response["Error"]
    assert (error["Code"], error["Message"]) == (
        "ValidationError",
        f"1 validation error detected: Value '{port}' at 'port' failed to satisfy constraint: "
        f"Member must have value {bound}",
    )
    assert elbv2.describe_listeners(ListenerArns=[arn])["Listeners"][0]["Port"] == 8443


def test_a_target_group_is_created_once_with_its_targets(aws: AwsSandbox) -> None:
    arn = aws.create_target_group("seeded-ips", 8080, [("10.0.0.10", 8080), "10.0.0.11"])
    assert aws.create_target_group("seeded-ips", 8080) == arn
    assert aws.targets("seeded-ips") == [("10.0.0.10", 8080), ("10.0.0.11", 8080)]
    assert aws.targets(arn) == aws.targets("seeded-ips")
    group = client(aws, "elbv2").describe_target_groups(Names=["seeded-ips"])["TargetGroups"][0]
    assert (group["TargetType"], group["Port"]) == ("ip", 8080)
    instances = aws.create_target_group("seeded-instances", 80, ["i-0123456789abcdef0"])
    group = client(aws, "elbv2").describe_target_groups(TargetGroupArns=[instances])
    assert group["TargetGroups"][0]["TargetType"] == "instance"
    with pytest.raises(KeyError):
        aws.targets("no-such-group")


def test_faults_refuse_only_matching_requests_and_only_as_often_as_asked(
    aws: AwsSandbox,
) -> None:
    elbv2, s3 = client(aws, "elbv2"), client(aws, "s3")
    aws.faults.fail(2, status=400, code="Throttling", message="Rate exceeded",
                    service="elasticloadbalancing", operation="DescribeTarget*")  # fmt: skip
    s3.list_buckets()  # another service: untouched
    elbv2.describe_load_balancers()  # another operation: untouched
    for _ in range(2):
        with pytest.raises(ClientError) as refused:
            elbv2.describe_target_groups()
        assert refused.value.response["Error"] == {
            "Type": "Sender", "Code": "Throttling", "Message": "Rate exceeded"
        }  # fmt: skip
    elbv2.describe_target_groups()  # used up


def test_an_s3_fault_is_worded_as_s3_words_errors(aws: AwsSandbox) -> None:
    aws.faults.fail(1, status=403, code="AccessDenied", message="denied", service="s3")
    with pytest.raises(ClientError) as refused:
        client(aws, "s3").list_objects_v2(Bucket="dated-backups")
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_every_request_is_recorded_with_its_service_and_operation(aws: AwsSandbox) -> None:
    since = len(aws.requests())
    client(aws, "elbv2").describe_load_balancers()
    client(aws, "route53").list_hosted_zones()
    seen = aws.requests()[since:]
    assert [(r.service, r.operation) for r in seen] == [
        ("elasticloadbalancing", "DescribeLoadBalancers"),
        ("route53", "GET /2013-04-01/hostedzone"),
    ]
    assert aws.requests("route53")[-1] == AwsRequest(
        "route53", "GET /2013-04-01/hostedzone", "", region="us-west-2"
    )


def test_the_clock_decides_what_now_is() -> None:
    clock = FakeClock(NOW)
    with AwsSandbox(clock) as sandbox:
        sandbox.create_bucket("clocked-backups")
        clock.advance(600)
        sandbox.put_object("clocked-backups", "a", 1, 60, {})
        written = sandbox.last_modified("clocked-backups", "a")
    assert written == datetime(2026, 11, 24, 0, 39, 15, tzinfo=UTC)


def test_a_listener_change_is_never_seen_before_the_moment_it_applied(
    switch_often: None,
) -> None:
    """The serving monitor reads moto's state and the moment of its last change together: a
    change moto has applied but not yet dated would be dated by the seeding (-inf) instead."""
    with AwsSandbox(SystemClock(), region="us-west-2") as aws:
        aws.create_load_balancer_with_listener("race-alb", 80, {"race-east": 1, "race-west": 0})
        elbv2 = client(aws, "elbv2")
        groups = {name: aws.target_group_arn(name) for name in ("race-east", "race-west")}
        for serving in ["race-west", "race-east"] * 4:
            sent = aws.clock.monotonic()
            weighted = [
                {"TargetGroupArn": arn, "Weight": int(name == serving)}
                for name, arn in groups.items()
            ]
            with watching(partial(aws.forwarding_since, "race-alb:80", [serving])) as seen:
                elbv2.modify_listener(
                    ListenerArn=aws.listener_arn("race-alb:80"),
                    DefaultActions=[
                        {"Type": "forward", "ForwardConfig": {"TargetGroups": weighted}}
                    ],
                )
            seen.append(aws.forwarding_since("race-alb:80", [serving]) or -1.0)
            assert min(seen) >= sent, (serving, min(seen), sent)


@pytest.fixture
def switch_often() -> Iterator[None]:
    """Threads take turns every 10 µs instead of every 5 ms, as on a loaded machine, so a
    window between two steps of a request's handling is seen."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(interval)


@contextmanager
def watching(read: Callable[[], float | None]) -> Iterator[list[float]]:
    """Every value ``read`` gives (None left out) while the block runs, read without pause."""
    seen: list[float] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            value = read()
            if value is not None:
                seen.append(value)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        yield seen
    finally:
        stop.set()
        watcher.join()
