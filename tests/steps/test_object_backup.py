"""gcs.backup_fresh and s3.backup_fresh: the newest object decides, templates cover max_age."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

import pytest
from pydantic import ValidationError

from drill.errors import NotFound, StepFailed
from drill.steps._object_backup import rendered_prefixes
from drill.steps.gcs_backup_fresh import GcsBackupFresh, GcsBackupFreshParams
from drill.steps.s3_backup_fresh import S3BackupFresh, S3BackupFreshParams
from providers.protocols import StoredObject
from tests.steps.cloudfakes import START, FakeClouds, cloud_env


def stored(
    name: str, age_s: float, size: int = 2048, metadata: Mapping[str, str] | None = None
) -> StoredObject:
    return StoredObject(
        bucket="prod-backups",
        name=name,
        size=size,
        created_at=START - timedelta(seconds=age_s),
        metadata=dict(metadata or {}),
    )


def gcs(**values: object) -> GcsBackupFreshParams:
    return GcsBackupFreshParams.model_validate({"bucket": "prod-backups", **values})


def test_newest_object_sets_the_recovery_point() -> None:
    clouds = FakeClouds()
    clouds.objects.objects = [stored("db/a.sql", 900), stored("db/b.sql", 120), stored("x", 1)]
    result = GcsBackupFresh().run(gcs(prefix="db/", max_age="10m"), cloud_env(clouds))
    assert result.facts["object"] == "gs://prod-backups/db/b.sql"
    assert result.facts["objects_seen"] == 2
    assert result.recovery_point is not None
    assert result.recovery_point.at == START - timedelta(seconds=120)
    assert "creation time" in result.recovery_point.source


def test_too_old_names_the_object_and_both_ages() -> None:
    clouds = FakeClouds()
    clouds.objects.objects = [stored("db/a.sql", 3 * 3600)]
    with pytest.raises(StepFailed, match=r"db/a\.sql is 3h00m old, over max_age 10m00s"):
        GcsBackupFresh().run(gcs(prefix="db/", max_age="10m"), cloud_env(clouds))


def test_a_small_newest_object_fails_even_when_older_ones_are_big() -> None:
    clouds = FakeClouds()
    clouds.objects.objects = [stored("db/a.sql", 600, size=10**7), stored("db/b.sql", 60, size=12)]
    with pytest.raises(StepFailed, match=r"db/b\.sql is 12 bytes, under min_size 1048576"):
        GcsBackupFresh().run(gcs(prefix="db/", max_age="1h", min_size="1MiB"), cloud_env(clouds))


def test_empty_prefix_and_missing_bucket_are_failures() -> None:
    clouds = FakeClouds()
    clouds.objects.objects = [stored("other/a", 1)]
    with pytest.raises(StepFailed, match="no object under gs://prod-backups/db/"):
        GcsBackupFresh().run(gcs(prefix="db/", max_age="1h"), cloud_env(clouds))
    with pytest.raises(NotFound):
        GcsBackupFresh().run(gcs(bucket="elsewhere", max_age="1m"), cloud_env(clouds))


def test_metadata_timestamp_is_the_recovery_point_when_named() -> None:
    clouds = FakeClouds()
    taken = (START - timedelta(minutes=7)).isoformat().replace("+00:00", "Z")
    clouds.objects.objects = [
        stored("db/a.sql", 30, metadata={"backup-time": taken}),
        stored("db/newer-without-stamp.sql", 5),
    ]
    result = GcsBackupFresh().run(
        gcs(prefix="db/", max_age="10m", timestamp_metadata="backup-time"), cloud_env(clouds)
    )
    assert result.recovery_point is not None
    assert result.recovery_point.at == START - timedelta(minutes=7)
    assert "metadata backup-time" in result.recovery_point.source


@pytest.mark.parametrize(
    ("stamp", "message"),
    [("yesterday", "not an ISO 8601 time"), ("2026-11-24T00:00:00", "has no time zone")],
)
def test_bad_metadata_timestamps_name_the_object(stamp: str, message: str) -> None:
    clouds = FakeClouds()
    clouds.objects.objects = [stored("db/a.sql", 30, metadata={"stamp": stamp})]
    with pytest.raises(StepFailed, match=message):
        GcsBackupFresh().run(
            gcs(prefix="db/", max_age="10m", timestamp_metadata="stamp"), cloud_env(clouds)
        )


def test_date_template_lists_yesterdays_folder_just_after_midnight() -> None:
    now = datetime.fromisoformat("2026-11-24T00:05:00+00:00")
    assert rendered_prefixes("db/{date:%Y-%m-%d}/", now, 600) == [
        "db/2026-11-24/",
        "db/2026-11-23/",
    ]
    assert rendered_prefixes("db/{date:%Y/%m/%d/%H}/", now, 3 * 3600) == [
        "db/2026/11/24/00/",
        "db/2026/11/23/23/",
        "db/2026/11/23/22/",
        "db/2026/11/23/21/",
    ]
    assert rendered_prefixes("plain/", now, 600) == ["plain/"]


def test_template_step_finds_the_backup_in_yesterdays_folder() -> None:
    clouds = FakeClouds()
    # START is 00:30 UTC: a dump from 23:58 the day before sits in yesterday's folder.
    clouds.objects.objects = [stored("db/2026-11-23/dump.sql", 32 * 60)]
    result = GcsBackupFresh().run(
        gcs(prefix="db/{date:%Y-%m-%d}/", max_age="1h"), cloud_env(clouds)
    )
    assert result.facts["object"] == "gs://prod-backups/db/2026-11-23/dump.sql"
    assert clouds.objects.listed == [
        ("prod-backups", "db/2026-11-24/"),
        ("prod-backups", "db/2026-11-23/"),
    ]


def test_a_template_spanning_too_many_folders_fails_clearly() -> None:
    with pytest.raises(StepFailed, match=r"spans .* folders within max_age"):
        rendered_prefixes("db/{date:%Y%m%d%H}/", START, 30 * 86400)


@pytest.mark.parametrize(
    ("prefix", "message"),
    [
        ("db/{hour}/", "the only template is"),
        ("db/{date:%H%M}/", "finer than an hour"),
        ("db/{date:%Y/", "the only template is"),
    ],
)
def test_bad_templates_are_plan_errors(prefix: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        gcs(prefix=prefix, max_age="1h")


def test_s3_uses_the_aws_store_in_the_named_region() -> None:
    clouds = FakeClouds()
    clouds.objects.objects = [stored("db/a.sql", 60)]
    params = S3BackupFreshParams.model_validate(
        {"bucket": "prod-backups", "prefix": "db/", "max_age": "5m", "region": "eu-west-1"}
    )
    result = S3BackupFresh().run(params, cloud_env(clouds))
    assert result.facts["object"] == "s3://prod-backups/db/a.sql"
    assert clouds.asked == [("object_store", "aws", "None", "eu-west-1")]
