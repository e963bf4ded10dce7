"""Report stores: a local directory, GCS (google-cloud-storage against the GCS sandbox) and S3
(botocore against the AWS sandbox), and how --history locations are read."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from drill.clock import SystemClock
from drill.errors import NotFound, PermanentError, UsageError
from drill.history import load_history, store_report
from drill.sandbox.aws import AwsSandbox
from drill.sandbox.gcs import GcsSandbox
from providers.cloud import CloudSettings
from providers.protocols import ReportStore
from providers.report_store import (
    DirectoryReportStore,
    GcsReportStore,
    S3ReportStore,
    open_report_store,
)
from tests.history.builders import PLAN, report, run_id, steady

BUCKET = "drill-history"

# --- locations --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("location", "bucket", "prefix"),
    [
        ("gs://drill-history/prod/drills/", "drill-history", "prod/drills/"),
        ("gs://drill-history", "drill-history", ""),
        ("gs://drill-history/", "drill-history", ""),
    ],
)
def test_a_gs_location_names_bucket_and_prefix(location: str, bucket: str, prefix: str) -> None:
    store = open_report_store(location, CloudSettings())
    assert isinstance(store, GcsReportStore)
    assert (store.bucket, store.prefix) == (bucket, prefix)


def test_an_s3_location_names_bucket_and_prefix() -> None:
    store = open_report_store("s3://drill.history/team/a", CloudSettings())
    assert isinstance(store, S3ReportStore)
    assert (store.bucket, store.prefix) == ("drill.history", "team/a/")


def test_anything_else_is_a_directory(tmp_path: Path) -> None:
    store = open_report_store(str(tmp_path / "runs"), CloudSettings())
    assert isinstance(store, DirectoryReportStore)
    assert store.root == tmp_path / "runs"


@pytest.mark.parametrize(
    ("location", "message"),
    [
        ("gs://", "'gs://' names no bucket"),
        ("s3:///prefix", "'s3:///prefix' names no bucket"),
        ("gs://Not_A_Bucket/x", "'gs://Not_A_Bucket/x': that is not a bucket name"),
        ("s3://b", "'s3://b': that is not a bucket name (3 to 222 lowercase letters"),
        ("gs://user:secret@bucket/x", "'gs://***@bucket/x': that is not a bucket name"),
        ("https://user:secret@example.com/h", "'https://***@example.com/h': use a directory"),
        ("gs://bucket?token=abc", "'gs://bucket?token=***': that is not a bucket name"),
        ("gs:/drill-history", "use a directory, gs://BUCKET[/PREFIX] or s3://BUCKET[/PREFIX]"),
        ("https://example.com/history", "use a directory, gs://BUCKET"),
        ("", "history location is empty"),
    ],
)
def test_a_malformed_location_is_a_usage_error(location: str, message: str) -> None:
    with pytest.raises(UsageError, match=re.escape(message)):
        open_report_store(location, CloudSettings())


# --- a local directory ------------------------------------------------------------------------


@pytest.fixture
def directory(tmp_path: Path) -> DirectoryReportStore:
    return DirectoryReportStore(tmp_path / "deep" / "history")


def test_put_creates_the_directories_and_says_where(directory: DirectoryReportStore) -> None:
    where = directory.put("plan-a/1.json", b"one")
    assert where == str(directory.root / "plan-a" / "1.json")
    assert Path(where).read_bytes() == b"one"
    assert directory.get("plan-a/1.json") == b"one"


def test_put_replaces_whole_and_leaves_no_temporary_file(directory: DirectoryReportStore) -> None:
    directory.put("plan-a/1.json", b"a long first version")
    directory.put("plan-a/1.json", b"short")
    assert directory.get("plan-a/1.json") == b"short"
    assert os.listdir(directory.root / "plan-a") == ["1.json"]


def test_names_lists_matches_sorted_and_never_hidden_files(
    directory: DirectoryReportStore,
) -> None:
    for name in ("plan-a/2.json", "plan-a/1.json", "plan-ab/1.json", "plan-b/1.json"):
        directory.put(name, b"{}")
    (directory.root / "plan-a" / ".2.json.0a1b.tmp").write_bytes(b"half a rep")
    assert directory.names("plan-a/") == ["plan-a/1.json", "plan-a/2.json"]
    assert directory.names("plan-a") == ["plan-a/1.json", "plan-a/2.json", "plan-ab/1.json"]
    assert len(directory.names("")) == 4


def test_a_missing_directory_is_an_empty_store(tmp_path: Path) -> None:
    assert DirectoryReportStore(tmp_path / "none").names("plan-a/") == []


def test_a_missing_report_is_not_found(directory: DirectoryReportStore) -> None:
    with pytest.raises(NotFound, match=r"no report .*plan-a/9\.json"):
        directory.get("plan-a/9.json")


@pytest.mark.parametrize("name", ["../escape.json", "/etc/passwd", "a//b.json", "a/./b", ""])
def test_names_cannot_leave_the_directory(directory: DirectoryReportStore, name: str) -> None:
    with pytest.raises(PermanentError, match="is not a report name"):
        directory.put(name, b"x")
    with pytest.raises(PermanentError, match="is not a report name"):
        directory.names("../")


def test_a_file_in_the_way_is_a_permanent_error_naming_the_path(tmp_path: Path) -> None:
    (tmp_path / "history").write_text("a file, not a directory")
    store = DirectoryReportStore(tmp_path / "history")
    with pytest.raises(
        PermanentError, match=re.escape(f"history: write {tmp_path}/history/plan-a/1.json")
    ):
        store.put("plan-a/1.json", b"{}")


# --- the clouds -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gcs() -> Iterator[GcsSandbox]:
    with GcsSandbox(SystemClock()) as sandbox:
        sandbox.create_bucket(BUCKET)
        yield sandbox


@pytest.fixture(scope="module")
def aws() -> Iterator[AwsSandbox]:
    with AwsSandbox(SystemClock()) as sandbox:
        sandbox.create_bucket(BUCKET)
        yield sandbox


def gcs_store(gcs: GcsSandbox, bucket: str = BUCKET, prefix: str = "") -> GcsReportStore:
    return GcsReportStore(CloudSettings(gcs_endpoint=gcs.url, anonymous=True), bucket, prefix)


def s3_store(aws: AwsSandbox, bucket: str = BUCKET, prefix: str = "") -> S3ReportStore:
    return S3ReportStore(CloudSettings(aws_endpoint=aws.endpoint, anonymous=True), bucket, prefix)


def test_gcs_put_get_and_list_under_the_prefix(gcs: GcsSandbox) -> None:
    store = open_report_store(
        f"gs://{BUCKET}/gcs-case/", CloudSettings(gcs_endpoint=gcs.url, anonymous=True)
    )
    where = store.put("plan-a/1.json", b'{"n": 1}')
    store.put("plan-a/2.json", b'{"n": 2}')
    store.put("plan-b/1.json", b'{"n": 3}')
    assert where == f"gs://{BUCKET}/gcs-case/plan-a/1.json"
    assert sorted(gcs.objects(BUCKET)) == [f"gcs-case/plan-{n}.json" for n in ("a/1", "a/2", "b/1")]
    assert gcs.objects(BUCKET)["gcs-case/plan-a/1.json"]["contentType"] == "application/json"
    assert store.names("plan-a/") == ["plan-a/1.json", "plan-a/2.json"]
    assert store.get("plan-a/2.json") == b'{"n": 2}'


def test_s3_put_get_and_list_under_the_prefix(aws: AwsSandbox) -> None:
    store = open_report_store(
        f"s3://{BUCKET}/s3-case", CloudSettings(aws_endpoint=aws.endpoint, anonymous=True)
    )
    where = store.put("plan-a/1.json", b'{"n": 1}')
    store.put("plan-a/2.json", b'{"n": 2}')
    store.put("plan-b/1.json", b'{"n": 3}')
    assert where == f"s3://{BUCKET}/s3-case/plan-a/1.json"
    assert [n for n in aws.object_names(BUCKET) if n.startswith("s3-case/")] == [
        f"s3-case/plan-{n}.json" for n in ("a/1", "a/2", "b/1")
    ]
    assert store.names("plan-a/") == ["plan-a/1.json", "plan-a/2.json"]
    assert store.get("plan-a/2.json") == b'{"n": 2}'


def cloud_stores(gcs: GcsSandbox, aws: AwsSandbox, prefix: str) -> list[ReportStore]:
    return [gcs_store(gcs, prefix=prefix), s3_store(aws, prefix=prefix)]


def test_several_reports_read_back_as_history(gcs: GcsSandbox, aws: AwsSandbox) -> None:
    for store in cloud_stores(gcs, aws, "history/"):
        for stored in steady(4):
            store_report(stored, store)
        store_report(report(0, plan="other-plan"), store)
        history = load_history(store, PLAN, last=3)
        assert [r.run_id for r in history.reports] == [run_id(i) for i in range(1, 4)]
        assert history.reports[-1] == steady(4)[-1]


def test_a_missing_bucket_is_not_found_in_plain_words(gcs: GcsSandbox, aws: AwsSandbox) -> None:
    for store, url in (
        (gcs_store(gcs, "no-such-bucket"), "gs://no-such-bucket"),
        (s3_store(aws, "no-such-bucket"), "s3://no-such-bucket"),
    ):
        plain = "bucket no-such-bucket does not exist, or these credentials cannot see it"
        with pytest.raises(NotFound, match=re.escape(f"write {url}/plan-a/1.json: {plain}")):
            store.put("plan-a/1.json", b"{}")
        with pytest.raises(NotFound, match=re.escape(f"list {url}/plan-a/: {plain}")):
            store.names("plan-a/")


def test_a_missing_object_is_not_found(gcs: GcsSandbox, aws: AwsSandbox) -> None:
    for store in cloud_stores(gcs, aws, "missing/"):
        with pytest.raises(NotFound, match=re.escape("missing/plan-a/9.json: no such object")):
            store.get("plan-a/9.json")


def test_cloud_names_cannot_hold_dot_dot(gcs: GcsSandbox, aws: AwsSandbox) -> None:
    for store in cloud_stores(gcs, aws, ""):
        with pytest.raises(PermanentError, match="is not a report name"):
            store.put("../x.json", b"{}")
