"""Recovery points read inside the recovered data, and backups chosen as they were at t0.

The probes (kube.heartbeat, job.recovery_point, gcs.heartbeat, s3.heartbeat) read a time inside
the data and never accept one later than t0; the backup steps pick what had completed by t0.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Literal

import pytest

from drill.errors import StepFailed
from drill.steps import STEP_TYPES, Resource, StepEnv
from drill.steps.gcs_backup_fresh import GcsBackupFresh, GcsBackupFreshParams
from drill.steps.gcs_heartbeat import GcsHeartbeat, GcsHeartbeatParams
from drill.steps.job_recovery_point import JobRecoveryPoint, JobRecoveryPointParams
from drill.steps.kube_heartbeat import KubeHeartbeat, KubeHeartbeatParams
from drill.steps.s3_heartbeat import S3Heartbeat, S3HeartbeatParams
from drill.steps.velero_backup_fresh import VeleroBackupFresh, VeleroBackupFreshParams
from drill.steps.velero_restore import VeleroRestore, VeleroRestoreParams
from providers.protocols import BackupInfo, JobStatus, RestoreStatus, StoredObject
from tests.steps.cloudfakes import START, FakeClouds, cloud_env
from tests.steps.kubefakes import FakeCluster, kube_env

T0 = START - timedelta(minutes=10)


def at_t0(env: StepEnv, t0: datetime = T0) -> StepEnv:
    return replace(env, disaster_at=t0, disaster_at_source="--disaster-at")


# --- kube.heartbeat ---------------------------------------------------------------------------

HEARTBEAT = KubeHeartbeatParams.model_validate({"namespace": "dr-test", "interval": "30s"})


def heartbeat_cluster(value: str, key: str = "timestamp") -> FakeCluster:
    cluster = FakeCluster()
    cluster.kube_api.config_maps["dr-test/drill-heartbeat"] = {key: value}
    return cluster


def test_the_heartbeat_in_the_restored_configmap_is_a_recovery_point_from_data() -> None:
    written = T0 - timedelta(seconds=95, microseconds=250_000)
    cluster = heartbeat_cluster(written.isoformat())
    result = KubeHeartbeat().run(HEARTBEAT, at_t0(kube_env(cluster)))
    point = result.recovery_point
    assert point is not None
    assert (point.at, point.kind) == (written, "data")
    assert point.source == "heartbeat configmap dr-test/drill-heartbeat key timestamp"
    assert result.facts["age_at_t0_s"] == 95.25
    assert result.facts["interval_s"] == 30.0


def test_a_heartbeat_written_in_utc_with_z_reads_the_same() -> None:
    cluster = heartbeat_cluster("2026-11-24T00:10:00.5Z")
    point = KubeHeartbeat().run(HEARTBEAT, at_t0(kube_env(cluster))).recovery_point
    assert point is not None
    assert point.at == datetime.fromisoformat("2026-11-24T00:10:00.500+00:00")


def test_a_heartbeat_later_than_t0_fails_naming_both_times() -> None:
    cluster = heartbeat_cluster((T0 + timedelta(minutes=7)).isoformat())
    with pytest.raises(StepFailed) as failed:
        KubeHeartbeat().run(HEARTBEAT, at_t0(kube_env(cluster)))
    message = str(failed.value)
    assert "2026-11-24 00:27:00Z" in message  # the heartbeat
    assert "later than t0 2026-11-24 00:20:00Z (--disaster-at)" in message


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("yesterday", "holds 'yesterday', not an ISO 8601 time"),
        ("2026-11-24T00:00:00", "which has no time zone"),
        ("x" * 500, "holds '" + "x" * 120 + "...', not an ISO 8601 time"),
    ],
)
def test_an_unreadable_heartbeat_says_what_it_holds_cut_short(value: str, said: str) -> None:
    with pytest.raises(StepFailed, match="configmap dr-test/drill-heartbeat key timestamp") as e:
        KubeHeartbeat().run(HEARTBEAT, at_t0(kube_env(heartbeat_cluster(value))))
    assert said in str(e.value)
    assert "x" * 121 not in str(e.value)


def test_a_missing_heartbeat_or_key_fails_and_says_which() -> None:
    with pytest.raises(StepFailed, match="no configmap dr-test/drill-heartbeat: the recovered"):
        KubeHeartbeat().run(HEARTBEAT, kube_env(FakeCluster()))
    cluster = heartbeat_cluster(T0.isoformat(), key="written")
    with pytest.raises(StepFailed, match=r"has no key 'timestamp' \(keys: written\)"):
        KubeHeartbeat().run(HEARTBEAT, kube_env(cluster))


def test_probes_are_read_only_and_say_their_kind() -> None:
    heartbeat = STEP_TYPES["kube.heartbeat"]
    assert (heartbeat.mutating, heartbeat.recovery_point_kind) == (False, "data")
    assert heartbeat.writes(HEARTBEAT, "context role dr") == frozenset()
    for name in ("gcs.heartbeat", "s3.heartbeat", "job.recovery_point"):
        assert STEP_TYPES[name].recovery_point_kind == "data"
    for name in ("velero.backup_fresh", "velero.restore", "gcs.backup_fresh", "s3.backup_fresh"):
        assert STEP_TYPES[name].recovery_point_kind == "backup metadata"
    assert "configmap dr-test/drill-heartbeat key timestamp" in heartbeat.describe(HEARTBEAT)


# --- job.recovery_point -----------------------------------------------------------------------

QUERY = JobRecoveryPointParams.model_validate(
    {
        "namespace": "dr-test",
        "image": "postgres:16",
        "command": ["psql", "-Atc", "select max(written_at) from heartbeat"],
    }
)


def job_cluster(
    log: str, state: Literal["running", "succeeded", "failed"] = "succeeded"
) -> FakeCluster:
    cluster = FakeCluster()
    cluster.kube_api.job_log = log
    cluster.kube_api.job_script.append(JobStatus("j", state))
    return cluster


def test_the_last_line_a_job_prints_is_the_recovery_point_and_the_job_goes() -> None:
    cluster = job_cluster("connecting\n2026-11-24 00:18:59.75+00\n\n")
    env = at_t0(kube_env(cluster))
    result = JobRecoveryPoint().run(QUERY, env)
    point = result.recovery_point
    assert point is not None
    assert point.at == datetime.fromisoformat("2026-11-24T00:18:59.750+00:00")
    assert point.kind == "data"
    assert "job dr-test/drill-recovery-point (postgres:16)" in point.source
    assert result.facts["age_at_t0_s"] == 60.25
    name = env.object_name("drill-recovery-point")
    assert cluster.kube_api.jobs == {}  # deleted once read
    assert result.facts["job"] == name
    assert cluster.kube_api.created_jobs == 1


def test_a_job_printing_no_time_fails_saying_what_it_printed_cut_short() -> None:
    printed = "ERROR: relation heartbeat does not exist " + "y" * 300
    with pytest.raises(StepFailed) as failed:
        JobRecoveryPoint().run(QUERY, at_t0(kube_env(job_cluster(f"{printed}\n"))))
    message = str(failed.value)
    assert "the last log line of job drill-recovery-point-" in message
    assert "'ERROR: relation heartbeat does not exist yyy" in message
    assert "not an ISO 8601 time" in message
    assert len(message) < 400
    with pytest.raises(StepFailed, match="printed nothing"):
        JobRecoveryPoint().run(QUERY, at_t0(kube_env(job_cluster("\n  \n"))))


def test_a_failed_job_fails_the_step_and_is_deleted() -> None:
    cluster = job_cluster("psql: could not connect", state="failed")
    with pytest.raises(StepFailed, match="psql: could not connect"):
        JobRecoveryPoint().run(QUERY, at_t0(kube_env(cluster)))
    assert cluster.kube_api.jobs == {}


def test_a_job_is_this_runs_own_to_undo_and_writes_only_its_namespace() -> None:
    step = JobRecoveryPoint()
    assert step.mutating
    assert step.writes(QUERY, "context role dr") == {
        Resource("namespace", "context role dr", "dr-test")
    }
    cluster = FakeCluster()
    env = kube_env(cluster)
    prior = step.capture_prior_state(QUERY, env)
    name = env.object_name("drill-recovery-point")
    assert prior == {"job": name, "existed": False}
    assert step.undo(QUERY, prior, env) == f"job dr-test/{name} already gone"


def test_a_job_reporting_a_time_after_t0_fails() -> None:
    cluster = job_cluster("2026-11-24T00:25:00Z\n")
    with pytest.raises(StepFailed, match="later than t0 2026-11-24 00:20:00Z"):
        JobRecoveryPoint().run(QUERY, at_t0(kube_env(cluster)))


# --- gcs.heartbeat / s3.heartbeat -------------------------------------------------------------


def beat(clouds: FakeClouds, written: datetime, bucket: str = "uploads-replica") -> None:
    name = f"heartbeats/{written:%Y%m%dT%H%M%S.%fZ}"
    # Creation times say nothing here: a replica gives every object its own.
    clouds.objects.objects.append(StoredObject(bucket, name, 32, START, {}))
    clouds.objects.contents[name] = written.isoformat().encode()


def beats(count: int, last: datetime, every_s: float = 30.0) -> FakeClouds:
    clouds = FakeClouds()
    for index in range(count):
        beat(clouds, last - timedelta(seconds=every_s * index))
    return clouds


def gcs_heartbeat(**values: object) -> GcsHeartbeatParams:
    return GcsHeartbeatParams.model_validate(
        {"bucket": "uploads-replica", "prefix": "heartbeats/", **values}
    )


def test_the_newest_heartbeat_object_at_t0_is_read_skipping_later_ones() -> None:
    clouds = beats(10, last=T0 + timedelta(seconds=100))  # four of them after t0
    result = GcsHeartbeat().run(gcs_heartbeat(), at_t0(cloud_env(clouds)))
    point = result.recovery_point
    assert point is not None
    assert point.at == T0 - timedelta(seconds=20)
    assert point.kind == "data"
    assert result.facts["later_than_t0"] == 4
    assert result.facts["heartbeats_seen"] == 10
    assert "4 later heartbeat(s) skipped" in result.summary
    assert all(limit == 1024 for _, limit in clouds.objects.reads)  # never more than 1 KiB
    assert len(clouds.objects.reads) == 5  # newest name first, stopping at the first found


def test_a_bucket_restored_to_t0_may_hold_no_later_heartbeat() -> None:
    clouds = beats(3, last=T0 + timedelta(seconds=5))
    params = gcs_heartbeat(later_heartbeats="fail")
    with pytest.raises(StepFailed, match=r"later than t0 .* so it was not restored to t0"):
        GcsHeartbeat().run(params, at_t0(cloud_env(clouds)))


def test_heartbeats_all_after_t0_or_none_at_all_fail_clearly() -> None:
    clouds = beats(5, last=T0 + timedelta(minutes=5))
    with pytest.raises(StepFailed, match=r"the 3 newest heartbeats .* raise max_reads \(3\)"):
        GcsHeartbeat().run(gcs_heartbeat(max_reads=3), at_t0(cloud_env(clouds)))
    empty = FakeClouds()
    empty.objects.objects.append(StoredObject("uploads-replica", "other/x", 1, START, {}))
    with pytest.raises(StepFailed, match="no heartbeat object under gs://uploads-replica/"):
        GcsHeartbeat().run(gcs_heartbeat(), cloud_env(empty))


def test_an_s3_heartbeat_holding_no_time_says_which_object() -> None:
    clouds = FakeClouds()
    clouds.objects.objects.append(StoredObject("uploads-replica", "heartbeats/b", 3, START, {}))
    clouds.objects.contents["heartbeats/b"] = b"\xffok"
    params = S3HeartbeatParams.model_validate(
        {"bucket": "uploads-replica", "prefix": "heartbeats/"}
    )
    with pytest.raises(StepFailed, match="s3://uploads-replica/heartbeats/b holds '\ufffdok'"):
        S3Heartbeat().run(params, cloud_env(clouds))


# --- backups as they were at t0 -----------------------------------------------------------


def backup(name: str, started: datetime, took_s: float = 60) -> BackupInfo:
    completed = started + timedelta(seconds=took_s)
    return BackupInfo(name, "Completed", "default", started, completed, "daily", ("production",))


RESTORE = VeleroRestoreParams.model_validate(
    {
        "schedule": "daily",
        "include_namespaces": ["production"],
        "namespace_mapping": {"production": "dr-test"},
    }
)


def history(cluster: FakeCluster) -> None:
    cluster.velero_api.backups_ += [
        backup("daily-old", T0 - timedelta(hours=1)),
        backup("daily-before", T0 - timedelta(minutes=5)),
        backup("daily-straddles", T0 - timedelta(seconds=30)),  # completes 30 s after t0
        backup("daily-after", T0 + timedelta(minutes=7)),
    ]


def test_a_restore_at_t0_uses_the_newest_backup_completed_by_then() -> None:
    cluster = FakeCluster()
    history(cluster)
    cluster.velero_api.restore_script.append(RestoreStatus("r", "Completed"))
    result = VeleroRestore().run(RESTORE, at_t0(kube_env(cluster)))
    assert result.facts["backup"] == "daily-before"
    point = result.recovery_point
    assert point is not None
    assert (point.at, point.kind) == (T0 - timedelta(minutes=5), "backup metadata")
    (request,) = cluster.velero_api.restores.values()
    assert request.backup_name == "daily-before"


def test_a_restore_at_t0_earlier_than_every_backup_fails_naming_t0_and_the_oldest() -> None:
    cluster = FakeCluster()
    history(cluster)
    early = T0 - timedelta(days=1)
    with pytest.raises(StepFailed) as failed:
        VeleroRestore().run(RESTORE, at_t0(kube_env(cluster), early))
    message = str(failed.value)
    assert "no backup of schedule daily had completed by t0 2026-11-23 00:20:00Z" in message
    assert "the oldest of 4, daily-old, completed 2026-11-23 23:21:00Z" in message
    assert cluster.velero_api.restores == {}


def test_a_named_backup_completed_after_t0_is_refused() -> None:
    cluster = FakeCluster()
    history(cluster)
    named = VeleroRestoreParams.model_validate(
        {"backup": "daily-after", "include_namespaces": ["production"]}
    )
    with pytest.raises(StepFailed, match="no backup of backup daily-after had completed by t0"):
        VeleroRestore().run(named, at_t0(kube_env(cluster, mode="live")))


def test_backup_freshness_is_judged_at_t0() -> None:
    cluster = FakeCluster()
    history(cluster)
    params = VeleroBackupFreshParams.model_validate({"schedule": "daily", "max_age": "10m"})
    result = VeleroBackupFresh().run(params, at_t0(kube_env(cluster)))
    assert (result.facts["backup"], result.facts["age_s"]) == ("daily-before", 300.0)
    # Before daily-before completed, the newest was an hour older.
    earlier = T0 - timedelta(minutes=4, seconds=30)
    with pytest.raises(StepFailed, match="daily-old is 55m30s old, over max_age 10m00s"):
        VeleroBackupFresh().run(params, at_t0(kube_env(cluster), earlier))


def test_an_object_backup_created_after_t0_did_not_exist_then() -> None:
    clouds = FakeClouds()
    clouds.objects.objects = [
        StoredObject("prod-backups", "db/a.sql", 2048, T0 - timedelta(minutes=4), {}),
        StoredObject("prod-backups", "db/b.sql", 2048, T0 + timedelta(minutes=1), {}),
    ]
    params = GcsBackupFreshParams.model_validate(
        {"bucket": "prod-backups", "prefix": "db/", "max_age": "10m"}
    )
    result = GcsBackupFresh().run(params, at_t0(cloud_env(clouds)))
    assert result.facts["object"] == "gs://prod-backups/db/a.sql"
    assert result.facts["age_s"] == 240.0
    with pytest.raises(StepFailed, match="no object under gs://prod-backups/db/ existed at t0"):
        GcsBackupFresh().run(params, at_t0(cloud_env(clouds), T0 - timedelta(minutes=5)))
