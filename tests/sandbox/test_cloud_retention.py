"""The sandbox's buckets keep what a lifecycle rule would: each writer's newest objects.

A backup job and a heartbeat writer per bucket, on GCS and on S3, run for eight hours of a fake
clock (crossing midnight, so a dated prefix has two folders); what they wrote before the
retention window is deleted from the bucket and from the ground truth alike.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from drill.clock import FakeClock
from drill.sandbox.clouds import CloudProfile, CloudSandbox
from drill.sandbox.worlds.clouds import BackupSeed, BucketWorld, CloudWorld, HeartbeatSeed
from drill.sandbox.worlds.retention import KEPT_AT_LEAST_S, PERIODS_KEPT

BACKUP_PERIOD_S = 120.0  # a backup every two minutes: kept for the hour's floor, 30 of them
HEARTBEAT_S = 30.0
HOURS = 8


def bucket(cloud: str, name: str) -> BucketWorld:
    backups = {"db/{date:%Y-%m-%d}/": BackupSeed("db/{date:%Y-%m-%d}/", 1024, 60.0)}
    return BucketWorld(
        cloud,
        name,
        region="us-west-2" if cloud == "aws" else None,
        backups=backups,
        heartbeats={"beats/": HeartbeatSeed("beats/", HEARTBEAT_S)},
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 1, 1, 20, 0, 0, tzinfo=UTC))


@pytest.fixture
def cloud(clock: FakeClock) -> Iterator[CloudSandbox]:
    world = CloudWorld()
    for where, name in (("gcp", "gcs-backups"), ("aws", "s3-backups")):
        world.buckets[(where, name)] = bucket(where, name)
    sandbox = CloudSandbox(world, clock, CloudProfile()).start()
    yield sandbox
    sandbox.stop()


def held(cloud: CloudSandbox, bucket: str) -> list[str]:
    """Every object name in ``bucket``, as its store holds it."""
    if bucket.startswith("gcs"):
        assert cloud.gcs is not None
        return sorted(cloud.gcs.objects(bucket))
    assert cloud.aws is not None
    return cloud.aws.object_names(bucket)


def expected(newest: datetime, period_s: float, name_at: Callable[[datetime], str]) -> list[str]:
    """The names a writer keeps whose newest write was at ``newest``, one every ``period_s``."""
    kept = max(PERIODS_KEPT, int(KEPT_AT_LEAST_S // period_s))
    return sorted(name_at(newest - timedelta(seconds=i * period_s)) for i in range(kept))


@pytest.mark.parametrize("name", ["gcs-backups", "s3-backups"])
def test_eight_hours_later_each_writer_holds_its_newest_objects_and_truth_agrees(
    cloud: CloudSandbox, clock: FakeClock, name: str
) -> None:
    world = cloud.world.buckets[("gcp" if name.startswith("gcs") else "aws", name)]
    backup, beat = world.backups["db/{date:%Y-%m-%d}/"], world.heartbeats["beats/"]
    start = clock.now()
    clock.advance(HOURS * 3600)
    cloud.catch_up()

    # The first backup was a minute old at the start, and one came every two minutes since.
    newest = start - timedelta(seconds=60) + timedelta(seconds=HOURS * 3600 // 120 * 120)
    backups = expected(newest, BACKUP_PERIOD_S, lambda at: backup.object_at(at)[0])
    last_beat = max(cloud.heartbeats(name, "beats/"))
    beats = expected(last_beat, HEARTBEAT_S, lambda at: beat.object_at(at)[0])
    assert held(cloud, name) == sorted(backups + beats)
    assert {n.split("/")[1] for n in backups} == {"2026-01-02"}
    assert all(cloud.backup_taken_at(name, n) is not None for n in backups)
    assert cloud.backup_taken_at(name, backup.object_at(start - timedelta(seconds=60))[0]) is None
    written = cloud.heartbeats(name, "beats/")
    assert sorted(beat.object_at(at)[0] for at in written) == beats


def test_an_s3_object_the_retention_deletes_frees_its_bytes(
    cloud: CloudSandbox, clock: FakeClock
) -> None:
    """moto lists every key it makes in a registry of its own too: a key left there keeps its
    bytes in memory after the bucket lost it."""
    from moto.s3.models import FakeKey

    clock.advance(HOURS * 3600)
    cloud.catch_up()
    tracked = [k for k in FakeKey.instances_tracked if k.bucket_name == "s3-backups"]
    assert len(tracked) == len(held(cloud, "s3-backups"))
    assert not any(k.disposed for k in tracked)
