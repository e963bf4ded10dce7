"""The S3 adapter through botocore against moto (the AWS sandbox) over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from drill.clock import SystemClock
from drill.errors import NotFound, PermanentError, TransientError
from drill.sandbox.aws import AwsSandbox
from providers.aws import S3ObjectStore
from providers.cloud import CloudSettings

BUCKET = "prod-backups"
BIG_BUCKET = "many-backups"
DUMPS = [f"db/2026-11-24/dump-{index}.sql.gz" for index in range(1, 6)]


@pytest.fixture(scope="module")
def aws() -> Iterator[AwsSandbox]:
    with AwsSandbox(SystemClock()) as sandbox:
        sandbox.create_bucket(BUCKET, "us-west-2")
        for index, name in enumerate(DUMPS, start=1):
            metadata = {"Backup-Time": f"2026-11-24T00:0{index}:00Z"}
            sandbox.put_object(BUCKET, name, 1000 * index, 3600.0 * index, metadata)
        sandbox.put_object(BUCKET, "logs/app.log", 10, 5, {})
        sandbox.create_bucket(BIG_BUCKET)
        for index in range(1001):
            sandbox.put_object(BIG_BUCKET, f"wal/{index:05d}", 1, 60, {})
        yield sandbox


def new_store(aws: AwsSandbox, page_size: int | None = None) -> S3ObjectStore:
    settings = CloudSettings(aws_endpoint=aws.endpoint, anonymous=True)
    return S3ObjectStore(settings, "us-west-2", page_size=page_size)


@pytest.fixture(scope="module")
def store(aws: AwsSandbox) -> S3ObjectStore:
    """drill's adapter; one for the module, as drill keeps one per run (sessions are slow)."""
    return new_store(aws)


def listings(aws: AwsSandbox, bucket: str, since: int) -> list[str]:
    """The query strings of ListObjectsV2 requests to ``bucket`` after request ``since``."""
    requests = aws.requests()[since:]
    return [
        r.query for r in requests if r.operation == f"GET /{bucket}" and "list-type=2" in r.query
    ]


def test_reads_every_page_of_a_listing(aws: AwsSandbox) -> None:
    since = len(aws.requests())
    found = list(new_store(aws, page_size=2).list_objects(BUCKET, "db/"))
    assert sorted(o.name for o in found) == DUMPS
    pages = listings(aws, BUCKET, since)
    assert len(pages) == 3
    assert ["continuation-token" in page for page in pages] == [False, True, True]


def test_reads_past_the_first_thousand_keys_with_s3s_own_page_size(
    aws: AwsSandbox, store: S3ObjectStore
) -> None:
    since = len(aws.requests())
    found = list(store.list_objects(BIG_BUCKET, "wal/"))
    assert len(found) == 1001
    assert found[-1].name == "wal/01000"
    assert len(listings(aws, BIG_BUCKET, since)) == 2


def test_created_at_is_the_backdated_last_modified(aws: AwsSandbox, store: S3ObjectStore) -> None:
    found = {o.name: o for o in store.list_objects(BUCKET, "db/")}
    second = found[DUMPS[1]]
    assert second.created_at == aws.last_modified(BUCKET, DUMPS[1])
    expected = SystemClock().now() - timedelta(hours=2)
    assert abs(second.created_at - expected) < timedelta(seconds=30)
    assert second.created_at.utcoffset() == timedelta(0)
    assert second.size == 2000
    assert second.bucket == BUCKET


def test_metadata_is_read_only_when_asked_for(aws: AwsSandbox, store: S3ObjectStore) -> None:
    since = len(aws.requests())
    found = sorted(store.list_objects(BUCKET, "db/"), key=lambda o: o.name)
    assert not [r for r in aws.requests()[since:] if r.operation.startswith("HEAD ")]
    assert found[0].metadata.get("backup-time") == "2026-11-24T00:01:00Z"
    assert found[0].metadata["Backup-Time"] == "2026-11-24T00:01:00Z"  # S3 keys ignore case
    assert dict(found[2].metadata) == {"backup-time": "2026-11-24T00:03:00Z"}
    heads = [r.operation for r in aws.requests()[since:] if r.operation.startswith("HEAD ")]
    assert heads == [f"HEAD /{BUCKET}/{DUMPS[0]}", f"HEAD /{BUCKET}/{DUMPS[2]}"]


def test_only_the_prefix_is_listed(aws: AwsSandbox, store: S3ObjectStore) -> None:
    assert [o.name for o in store.list_objects(BUCKET, "logs/")] == ["logs/app.log"]
    assert list(store.list_objects(BUCKET, "nothing-here/")) == []


def test_a_missing_bucket_is_not_found(aws: AwsSandbox, store: S3ObjectStore) -> None:
    with pytest.raises(NotFound, match=r"S3: list s3://no-such-bucket/db/: "):
        list(store.list_objects("no-such-bucket", "db/"))


def test_a_refused_listing_names_the_permission(aws: AwsSandbox, store: S3ObjectStore) -> None:
    denied = (
        "User: arn:aws:sts::123456789012:assumed-role/drill/run is not authorized to perform: "
        f"s3:ListBucket on resource: arn:aws:s3:::{BUCKET}"
    )
    aws.faults.fail(1, status=403, code="AccessDenied", message=denied, service="s3")
    with pytest.raises(PermanentError, match=r"permission denied: .* s3:ListBucket") as refused:
        list(store.list_objects(BUCKET, "db/"))
    assert not isinstance(refused.value, NotFound)


def test_a_refused_metadata_read_is_permission_denied(
    aws: AwsSandbox, store: S3ObjectStore
) -> None:
    found = next(iter(store.list_objects(BUCKET, "db/")))
    aws.faults.fail(1, status=403, code="AccessDenied", service="s3", operation="HEAD *")
    with pytest.raises(PermanentError, match=rf"metadata of s3://{BUCKET}/.*permission denied"):
        dict(found.metadata)


def test_slow_down_is_transient(aws: AwsSandbox, store: S3ObjectStore) -> None:
    aws.faults.fail(1, status=503, code="SlowDown", message="Please reduce your request rate.")
    with pytest.raises(TransientError, match=r"SlowDown: Please reduce your request rate"):
        list(store.list_objects(BUCKET, "db/"))
    assert len(list(store.list_objects(BUCKET, "db/"))) == len(DUMPS)


def test_reads_no_more_than_asked_of_an_object(aws: AwsSandbox, store: S3ObjectStore) -> None:
    aws.put_object(BUCKET, "heartbeats/a", 0, 1, {}, b"2026-11-24T00:10:00.250000+00:00")
    assert store.read_object(BUCKET, "heartbeats/a", 1024) == b"2026-11-24T00:10:00.250000+00:00"
    assert store.read_object(BUCKET, "heartbeats/a", 10) == b"2026-11-24"
    with pytest.raises(NotFound, match=f"s3://{BUCKET}/heartbeats/none"):
        store.read_object(BUCKET, "heartbeats/none", 1024)
