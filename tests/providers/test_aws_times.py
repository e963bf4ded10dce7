"""Times in AWS responses: drill's parser reads each as botocore's own does, and every client
of a run's session uses it. Sessions share botocore's parsed models, not their credentials."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC

import pytest
from botocore.utils import parse_timestamp as botocore_parse_timestamp

from drill.clock import SystemClock
from drill.sandbox.aws import AwsSandbox
from providers._aws import AwsClients, parse_timestamp
from providers.cloud import SANDBOX_AWS_KEY, CloudSettings

SAME_INSTANT_AS_BOTOCORE = [
    "2026-12-01T02:00:00.000Z",  # S3's LastModified in a listing
    "2026-12-01T02:00:00Z",
    "2026-12-01T02:00:00.123456Z",
    "2026-12-01T04:00:00+02:00",
    "2026-12-01T02:00:00.5-07:30",
    "Tue, 01 Dec 2026 02:00:00 GMT",  # RFC 822, HeadObject's Last-Modified header
    "1796090400",  # epoch seconds, as text
    1796090400,
    1796090400.25,
]


@pytest.mark.parametrize("value", SAME_INSTANT_AS_BOTOCORE, ids=str)
def test_a_time_means_the_instant_botocore_reads(value: str | float) -> None:
    ours = parse_timestamp(value)
    assert ours.tzinfo is not None
    assert ours == botocore_parse_timestamp(value)


def test_a_time_without_an_offset_is_read_by_botocore_as_it_reads_it() -> None:
    # No offset: what it means is botocore's call (its tz rules), not the standard library's.
    value = "2026-12-01T02:00:00"
    assert parse_timestamp(value) == botocore_parse_timestamp(value)


def test_a_time_no_parser_reads_is_refused_as_botocore_refuses_it() -> None:
    with pytest.raises(ValueError, match="Invalid timestamp"):
        botocore_parse_timestamp("not a time")
    with pytest.raises(ValueError, match="Invalid timestamp"):
        parse_timestamp("not a time")


@pytest.fixture(scope="module")
def aws() -> Iterator[AwsSandbox]:
    with AwsSandbox(SystemClock()) as sandbox:
        sandbox.create_bucket("times", "us-west-2")
        sandbox.put_object("times", "heartbeats/0001", 10, 90.0, {})
        yield sandbox


def test_the_sessions_clients_read_listed_times_with_drills_parser(aws: AwsSandbox) -> None:
    clients = AwsClients(CloudSettings(aws_endpoint=aws.endpoint, anonymous=True))
    s3 = clients.client("s3", "us-west-2", "S3: list")
    listed = s3.list_objects_v2(Bucket="times")["Contents"]
    # The standard library's UTC, where botocore's own parser gives dateutil's tzutc().
    assert [o["LastModified"].tzinfo for o in listed] == [UTC]
    assert botocore_parse_timestamp("2026-12-01T02:00:00Z").tzinfo is not UTC


def test_sessions_share_one_loader_but_each_resolves_its_own_credentials(
    aws: AwsSandbox,
) -> None:
    settings = CloudSettings(aws_endpoint=aws.endpoint, anonymous=True)
    first, second = AwsClients(settings).session(), AwsClients(settings).session()
    assert first is not second
    assert first.get_component("data_loader") is second.get_component("data_loader")
    assert first.get_credentials() is not second.get_credentials()
    # Each run's session still names its own credentials and region.
    assert first.get_credentials().access_key == SANDBOX_AWS_KEY
    assert first.get_config_variable("region") == "us-east-1"
