"""Heartbeats on their own schedule, captured by a Velero schedule's backups, read back by a Job.

A writer's moments are known to the microsecond; each backup holds the heartbeat as it was a
quarter of the way through it, and the truth says which. A schedule given a period keeps making
backups. A Job running ``kubectl get configmap ... -o jsonpath`` prints what the cluster holds.
"""

from __future__ import annotations

from datetime import timedelta

from drill.clock import FakeClock
from drill.sandbox.kube import HeartbeatWriter
from drill.sandbox.worlds.clusters import HeartbeatPlan, derive
from drill.sandbox.worlds.plans import resolve_both_modes
from tests.child import REPO
from tests.sandbox.helpers import Cluster

START = FakeClock().now()
WRITER = HeartbeatWriter(
    "production", "drill-heartbeat", "timestamp", 30.0, START - timedelta(seconds=3600.37)
)


def test_a_writer_knows_its_last_write_before_any_moment() -> None:
    assert WRITER.last_write(START - timedelta(hours=2)) is None
    assert WRITER.last_write(START) == START - timedelta(seconds=0.37)
    assert WRITER.last_write(START + timedelta(seconds=29.62)) == START - timedelta(seconds=0.37)
    assert WRITER.last_write(START + timedelta(seconds=29.63)) == START + timedelta(seconds=29.63)
    manifest = WRITER.manifest(START)
    assert manifest["metadata"]["namespace"] == "production"
    assert manifest["data"] == {"timestamp": START.isoformat()}


def test_a_backup_captures_the_heartbeat_a_quarter_through_and_says_so(
    still_cluster: Cluster,
) -> None:
    velero = still_cluster.emulator.velero
    velero.add_heartbeat(WRITER)
    velero.add_heartbeat(HeartbeatWriter("other", "hb", "t", 5.0, START - timedelta(days=1)))
    velero.add_schedule("hourly", included_namespaces=["production"], objects=[])
    started = START - timedelta(seconds=600)
    name = velero.take_backup("hourly", started, 60.0)
    made = still_cluster.emulator.truth.backup(name)
    assert made is not None
    assert (made.started_at, made.completed_at) == (started, started + timedelta(seconds=60))
    (beat,) = made.heartbeats  # only its own namespace's writer
    # Read 15 s in, not at the start: the heartbeat may be younger than startTimestamp says.
    assert beat.written_at == WRITER.last_write(started + timedelta(seconds=15))
    held = velero.contents.backup(name)
    assert held is not None
    assert [o["data"] for o in held] == [{"timestamp": beat.written_at.isoformat()}]
    status = still_cluster.velero("backups", name)["status"]
    assert status["startTimestamp"] == f"{started:%Y-%m-%dT%H:%M:%SZ}"  # whole seconds only


def test_a_schedule_with_a_period_keeps_making_backups(
    still_cluster: Cluster, fake_clock: FakeClock
) -> None:
    velero = still_cluster.emulator.velero
    velero.add_heartbeat(WRITER)
    velero.add_schedule("api-5m", included_namespaces=["production"], objects=[])
    velero.run_every("api-5m", 300.0, duration_s=20.0, next_at=START + timedelta(seconds=100))
    still_cluster.emulator.tick()
    assert still_cluster.emulator.truth.backups() == []
    fake_clock.advance(119.9)
    still_cluster.emulator.tick()
    assert still_cluster.emulator.truth.backups() == []  # started, not yet Completed
    fake_clock.advance(0.1 + 600)  # the first and two more
    still_cluster.emulator.tick()
    made = still_cluster.emulator.truth.backups()
    assert [b.started_at - START for b in made] == [
        timedelta(seconds=100),
        timedelta(seconds=400),
        timedelta(seconds=700),
    ]
    assert all(len(b.heartbeats) == 1 for b in made)
    listed = still_cluster.custom.list_namespaced_custom_object(
        "velero.io", "v1", "velero", "backups"
    )["items"]
    assert {b["status"]["phase"] for b in listed} == {"Completed"}
    assert len(listed) == 3


def kubectl_job(name: str, *command: str) -> dict[str, object]:
    container = {"name": "query", "image": "bitnami/kubectl:1.31", "command": list(command)}
    return {
        "metadata": {"name": name},
        "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [container]}}},
    }


def finish(cluster: Cluster, clock: FakeClock) -> None:
    for seconds in (0, 0, 3, 0):
        clock.advance(seconds)
        cluster.emulator.tick()


def job_log(cluster: Cluster, job: str) -> str:
    pods = cluster.core.list_namespaced_pod("default", label_selector=f"job-name={job}").items
    return str(cluster.core.read_namespaced_pod_log(pods[0].metadata.name, "default"))


def test_a_job_running_kubectl_prints_the_config_map_key(
    still_cluster: Cluster, fake_clock: FakeClock
) -> None:
    still_cluster.emulator.apply(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "hb", "namespace": "default"},
            "data": {"written": "2026-01-01T00:00:00.5+00:00"},
        }
    )
    batch = still_cluster.batch
    batch.create_namespaced_job(
        "default", kubectl_job("q1", "kubectl", "get", "cm", "hb", "-o", "jsonpath={.data.written}")
    )
    batch.create_namespaced_job(
        "default",
        kubectl_job(
            "q2", "/usr/bin/kubectl", "get", "configmap", "hb", "--namespace=default",
            "--output", "jsonpath={.data.missing}",
        ),
    )  # fmt: skip
    batch.create_namespaced_job("default", kubectl_job("q3", "psql", "-c", "select 1"))
    still_cluster.emulator.programs.print_config_map("default", "db-query", "hb", "written")
    batch.create_namespaced_job("default", kubectl_job("db-query-1a2b", "psql", "-c", "select"))
    finish(still_cluster, fake_clock)
    assert batch.read_namespaced_job("q1", "default").status.succeeded == 1
    assert job_log(still_cluster, "q1") == "2026-01-01T00:00:00.5+00:00\n"
    assert job_log(still_cluster, "q2") == ""  # no such key: kubectl prints nothing
    # A program the sandbox cannot run fails its pod, saying so.
    assert job_log(still_cluster, "q3").startswith("drill sandbox: cannot simulate psql: ")
    assert batch.read_namespaced_job("q3", "default").status.failed == 1
    # ...unless the world stood a ConfigMap in for the database that Job queries.
    assert job_log(still_cluster, "db-query-1a2b") == "2026-01-01T00:00:00.5+00:00\n"


def test_a_world_writes_each_probed_heartbeat_where_the_restore_reads_from() -> None:
    plans = [REPO / "plans" / "region-failure-aws.yaml", REPO / "plans" / "namespace-restore.yaml"]
    world = derive(resolve_both_modes(plans))
    # Both modes read it in their own namespace (dr-test, production): both restore production.
    assert world.clusters["dr"].heartbeats == {
        ("production", "drill-heartbeat"): HeartbeatPlan(
            "production", "drill-heartbeat", "timestamp", 30.0
        )
    }
    bucket = world.cloud.buckets[("aws", "example-prod-uploads-us-west-2")]
    assert (bucket.region, list(bucket.heartbeats)) == ("us-west-2", ["heartbeats/"])
    assert bucket.backups == {}


def test_a_recovery_point_query_reads_a_stand_in_for_its_database() -> None:
    plan = REPO / "tests" / "drills" / "plans" / "recovery-points.yaml"
    cluster = derive(resolve_both_modes([plan])).clusters["dr"]
    # The psql query gets a database; the kubectl one reads what the cluster holds.
    assert cluster.database_queries == {
        ("dr-test", "drill-recovery-point"),
        ("production", "drill-recovery-point"),
    }
    assert cluster.heartbeats[("production", "sandbox-database")] == HeartbeatPlan(
        "production", "sandbox-database", "written_at", 10.0
    )
    assert ("production", "app-heartbeat") in cluster.heartbeats
