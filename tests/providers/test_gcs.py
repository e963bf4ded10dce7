"""The GCS adapter through google-cloud-storage against gcp-storage-emulator over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from drill.clock import SystemClock
from drill.errors import NotFound, PermanentError, TransientError
from drill.sandbox.gcs import GcsSandbox
from providers.cloud import CloudSettings
from providers.gcs import GcsObjectStore


@pytest.fixture(scope="module")
def gcs() -> Iterator[GcsSandbox]:
    with GcsSandbox(SystemClock()) as sandbox:
        sandbox.create_bucket("prod-backups")
        for index in range(1, 5):
            sandbox.put_object(
                "prod-backups", f"db/2026-11-24/dump-{index}.sql.gz", 1000 * index, 60.0 * index,
                {"backup-time": f"2026-11-24T00:0{index}:00Z"},
            )  # fmt: skip
        sandbox.put_object("prod-backups", "logs/app.log", 10, 5, {})
        yield sandbox


def store(gcs: GcsSandbox) -> GcsObjectStore:
    return GcsObjectStore(CloudSettings(gcs_endpoint=gcs.url, anonymous=True), "example-prod")


def test_lists_every_object_under_the_prefix_with_size_time_and_metadata(gcs: GcsSandbox) -> None:
    found = sorted(store(gcs).list_objects("prod-backups", "db/"), key=lambda o: o.name)
    assert [o.name for o in found] == [f"db/2026-11-24/dump-{i}.sql.gz" for i in range(1, 5)]
    assert [o.size for o in found] == [1000, 2000, 3000, 4000]
    assert found[0].metadata == {"backup-time": "2026-11-24T00:01:00Z"}
    expected = gcs.created_at("prod-backups", "db/2026-11-24/dump-2.sql.gz")
    assert found[1].created_at == expected
    assert abs(SystemClock().now() - timedelta(seconds=120) - expected) < timedelta(seconds=30)


def test_a_missing_bucket_is_not_found(gcs: GcsSandbox) -> None:
    with pytest.raises(NotFound, match="gs://no-such-bucket/db/"):
        list(store(gcs).list_objects("no-such-bucket", "db/"))


def test_an_endpoint_that_refuses_is_a_transient_error_saying_so() -> None:
    settings = CloudSettings(gcs_endpoint="http://127.0.0.1:9", anonymous=True)
    with pytest.raises(TransientError, match="connection refused or host unreachable"):
        list(GcsObjectStore(settings, "p").list_objects("prod-backups", ""))


def test_no_credentials_names_what_to_set(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, gcs: GcsSandbox
) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    settings = CloudSettings(gcs_endpoint=gcs.url)
    with pytest.raises(PermanentError, match="GOOGLE_APPLICATION_CREDENTIALS"):
        list(GcsObjectStore(settings, "p").list_objects("prod-backups", ""))


def test_a_broken_key_file_names_the_file(tmp_path: Path, gcs: GcsSandbox) -> None:
    key = tmp_path / "key.json"
    key.write_text('{"type": "service_account"}')
    settings = CloudSettings(gcs_endpoint=gcs.url, gcp_credentials_file=str(key))
    with pytest.raises(PermanentError, match=f"service-account key file {key}"):
        list(GcsObjectStore(settings, "p").list_objects("prod-backups", ""))


def test_reads_no_more_than_asked_of_an_object(gcs: GcsSandbox) -> None:
    gcs.put_object("prod-backups", "heartbeats/a", 0, 1, {}, b"2026-11-24T00:10:00.250000+00:00")
    adapter = store(gcs)
    assert adapter.read_object("prod-backups", "heartbeats/a", 1024) == (
        b"2026-11-24T00:10:00.250000+00:00"
    )
    assert adapter.read_object("prod-backups", "heartbeats/a", 10) == b"2026-11-24"
    with pytest.raises(NotFound, match="gs://prod-backups/heartbeats/none"):
        adapter.read_object("prod-backups", "heartbeats/none", 1024)
