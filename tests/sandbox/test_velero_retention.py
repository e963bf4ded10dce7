"""Velero's backup TTL and garbage collection: a schedule's backups expire and are deleted.

Read through the API as Velero's clients see them; time moves only with the fake clock.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from drill.clock import FakeClock
from tests.sandbox.helpers import Cluster
from tests.sandbox.test_velero import create_restore, restore_status, shop_manifests, step

GROUP, VERSION, NS = "velero.io", "v1", "velero"
HOUR_S = 3600.0


def backup_names(cluster: Cluster) -> list[str]:
    found: dict[str, Any] = cluster.custom.list_namespaced_custom_object(
        GROUP, VERSION, NS, "backups"
    )
    return sorted(item["metadata"]["name"] for item in found["items"])


def restore_names(cluster: Cluster) -> list[str]:
    found: dict[str, Any] = cluster.custom.list_namespaced_custom_object(
        GROUP, VERSION, NS, "restores"
    )
    return sorted(item["metadata"]["name"] for item in found["items"])


def hourly(cluster: Cluster, *, storage_location: str = "default") -> None:
    cluster.emulator.velero.add_schedule(
        "hourly",
        included_namespaces=["shop"],
        objects=shop_manifests(),
        storage_location=storage_location,
        ttl_s=HOUR_S,
    )


def test_a_schedule_backup_carries_the_schedule_ttl_and_expires_that_long_after_it_starts(
    still_cluster: Cluster,
) -> None:
    hourly(still_cluster)
    taken = still_cluster.emulator.velero.run_schedule("hourly")
    schedule = still_cluster.velero("schedules", "hourly")
    backup = still_cluster.velero("backups", taken)
    assert schedule["spec"]["template"]["ttl"] == "1h0m0s"
    assert backup["spec"]["ttl"] == "1h0m0s"
    assert backup["status"]["startTimestamp"] == "2026-01-01T00:00:00Z"
    assert backup["status"]["expiration"] == "2026-01-01T01:00:00Z"


def test_an_expired_backup_goes_with_its_contents_and_its_restores(
    still_cluster: Cluster, fake_clock: FakeClock
) -> None:
    velero = still_cluster.emulator.velero
    hourly(still_cluster)
    old = velero.run_schedule("hourly")
    create_restore(still_cluster, "r1", backupName=old, namespaceMapping={"shop": "dr"})
    step(still_cluster, fake_clock, 0)
    step(still_cluster, fake_clock, 10)
    assert restore_status(still_cluster, "r1")["phase"] == "Completed"
    assert velero.contents.file("restores/r1/restore-r1-results.gz") is not None
    fake_clock.advance(HOUR_S / 2)
    young = velero.run_schedule("hourly")

    step(still_cluster, fake_clock, HOUR_S / 2)  # the first is now an hour old: expired

    assert backup_names(still_cluster) == [young]
    assert velero.contents.backup(old) is None
    assert velero.contents.file(f"backups/{old}/{old}-resource-list.json.gz") is None
    assert restore_names(still_cluster) == []
    assert velero.contents.file("restores/r1/restore-r1-results.gz") is None
    assert velero.contents.backup(young) is not None


def test_an_expired_backup_a_restore_is_reading_stays_until_the_restore_ends(
    still_cluster: Cluster, fake_clock: FakeClock
) -> None:
    velero = still_cluster.emulator.velero
    hourly(still_cluster)
    taken = velero.run_schedule("hourly")
    fake_clock.advance(HOUR_S - 5)
    create_restore(still_cluster, "r1", backupName=taken, namespaceMapping={"shop": "dr"})
    step(still_cluster, fake_clock, 0)
    assert restore_status(still_cluster, "r1")["phase"] == "InProgress"

    step(still_cluster, fake_clock, 6)  # expired, and the restore still reads it
    assert backup_names(still_cluster) == [taken]
    step(still_cluster, fake_clock, 5)  # the restore ends in this pass
    assert restore_status(still_cluster, "r1")["phase"] == "Completed"
    step(still_cluster, fake_clock, 0)

    assert backup_names(still_cluster) == []


def test_an_expired_backup_stays_while_its_location_is_unavailable(
    still_cluster: Cluster, fake_clock: FakeClock
) -> None:
    velero = still_cluster.emulator.velero
    hourly(still_cluster)
    taken = velero.run_schedule("hourly")
    velero.set_storage_location("default", available=False)
    step(still_cluster, fake_clock, 2 * HOUR_S)
    assert backup_names(still_cluster) == [taken]
    velero.set_storage_location("default", available=True)
    step(still_cluster, fake_clock, 0)
    assert backup_names(still_cluster) == []


def test_an_expired_backup_of_a_missing_location_stays_labelled_why(
    still_cluster: Cluster, fake_clock: FakeClock
) -> None:
    hourly(still_cluster, storage_location="gone")
    taken = still_cluster.emulator.velero.run_schedule("hourly")
    step(still_cluster, fake_clock, 2 * HOUR_S)
    labels = still_cluster.velero("backups", taken)["metadata"]["labels"]
    assert labels["velero.io/gc-failure"] == "BSLNotFound"


def test_a_backup_made_by_hand_keeps_velero_default_ttl(
    still_cluster: Cluster, fake_clock: FakeClock
) -> None:
    still_cluster.emulator.velero.register_backup("nightly-1", shop_manifests(), duration_s=0)
    backup = still_cluster.velero("backups", "nightly-1")
    assert (backup["spec"]["ttl"], backup["status"]["expiration"]) == (
        "720h0m0s",
        "2026-01-31T00:00:00Z",
    )
    step(still_cluster, fake_clock, timedelta(days=29).total_seconds())
    assert backup_names(still_cluster) == ["nightly-1"]
    step(still_cluster, fake_clock, timedelta(days=1).total_seconds())
    assert backup_names(still_cluster) == []
