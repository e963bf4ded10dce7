"""The real gcloud against the sandbox's Cloud Storage: what an operator does by hand to stage
a backup (or look at one) while a sandbox is up."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from drill.clock import FakeClock
from drill.sandbox.gcs import GcsSandbox
from tests.sandbox.gcp.gcloud import Gcloud, gcloud_for, needs_gcloud

pytestmark = [needs_gcloud, pytest.mark.slow]

BUCKET = "prod-backups"


@pytest.fixture
def gcs(clock: FakeClock) -> Iterator[GcsSandbox]:
    with GcsSandbox(clock) as sandbox:
        sandbox.create_bucket(BUCKET)
        sandbox.put_object(BUCKET, "db/dump-1.sql.gz", 0, 3600.0, {}, content=b"old dump")
        yield sandbox


@pytest.fixture
def gcloud(tmp_path: Path, gcs: GcsSandbox) -> Gcloud:
    return gcloud_for(tmp_path, "example-prod", storage=gcs.url)


def test_an_object_copied_in_with_gcloud_is_stored_and_read_back(
    gcloud: Gcloud, gcs: GcsSandbox, tmp_path: Path
) -> None:
    # gcloud uploads a small file as one multipart/related request whose boundary it quotes
    # with single quotes; Cloud Storage takes that, and so must the sandbox.
    staged = tmp_path / "dump-2.sql.gz"
    staged.write_bytes(b"new dump\n")
    copied = gcloud("storage", "cp", str(staged), f"gs://{BUCKET}/db/dump-2.sql.gz")
    assert copied.returncode == 0, copied.stderr
    assert gcs.objects(BUCKET)["db/dump-2.sql.gz"]["size"] == "9"
    read = gcloud("storage", "cat", f"gs://{BUCKET}/db/dump-2.sql.gz")
    assert (read.returncode, read.stdout) == (0, "new dump\n"), read.stderr
    listed = gcloud("storage", "ls", f"gs://{BUCKET}/db/")
    assert listed.stdout.split() == [
        f"gs://{BUCKET}/db/dump-1.sql.gz",
        f"gs://{BUCKET}/db/dump-2.sql.gz",
    ], listed.stderr


def test_an_object_moved_with_gcloud_is_there_under_its_new_name_only(
    gcloud: Gcloud, gcs: GcsSandbox
) -> None:
    # gcloud storage mv first asks the bucket's storage layout (flat or hierarchical), then
    # copies and deletes.
    moved = gcloud("storage", "mv", f"gs://{BUCKET}/db/dump-1.sql.gz", f"gs://{BUCKET}/old/1.gz")
    assert moved.returncode == 0, moved.stderr
    assert sorted(gcs.objects(BUCKET)) == ["old/1.gz"]
    read = gcloud("storage", "cat", f"gs://{BUCKET}/old/1.gz")
    assert (read.returncode, read.stdout) == (0, "old dump"), read.stderr


def test_the_storage_layout_of_a_missing_bucket_is_not_found(
    gcloud: Gcloud, gcs: GcsSandbox
) -> None:
    moved = gcloud("storage", "mv", "gs://no-such-bucket/a", "gs://no-such-bucket/b")
    assert moved.returncode != 0
    answer = requests.get(f"{gcs.url}/storage/v1/b/no-such-bucket/storageLayout", timeout=5)
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == 404
    layout = requests.get(f"{gcs.url}/storage/v1/b/{BUCKET}/storageLayout", timeout=5).json()
    assert layout["hierarchicalNamespace"] == {"enabled": False}
    assert layout["bucket"] == BUCKET
