"""Velero restores: phases, namespace mapping, validation, schedules, faults and ground truth."""

from __future__ import annotations

import gzip
import json
from datetime import timedelta
from typing import Any

import pytest
from kubernetes import watch

from drill.clock import FakeClock
from drill.sandbox.kube.controllers.contents import restore_log_key, restore_resource_list_key
from tests.sandbox.helpers import Cluster, MakeCluster, autoscaler, deployment, wait_for

GROUP, VERSION, NS = "velero.io", "v1", "velero"


def shop_manifests() -> list[dict[str, Any]]:
    web = deployment("web", replicas=2)
    web["metadata"].update(namespace="shop", uid="old-uid", resourceVersion="42")
    web["status"] = {"replicas": 2, "readyReplicas": 2}
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": "web",
            "namespace": "shop",
            "ownerReferences": [{"apiVersion": "v1", "kind": "X", "name": "x", "uid": "u"}],
        },
        "spec": {
            "clusterIP": "10.0.0.99",
            "clusterIPs": ["10.0.0.99"],
            "ports": [{"port": 80, "nodePort": 30080}],
            "type": "NodePort",
        },
    }
    config = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "settings", "namespace": "shop"},
        "data": {"mode": "prod"},
    }
    other = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "other", "namespace": "billing"},
        "data": {},
    }
    return [web, service, config, other]


def create_restore(cluster: Cluster, name: str, **spec: Any) -> None:
    body = {
        "apiVersion": "velero.io/v1",
        "kind": "Restore",
        "metadata": {"name": name},
        "spec": spec,
    }
    cluster.custom.create_namespaced_custom_object(GROUP, VERSION, NS, "restores", body)


def restore_status(cluster: Cluster, name: str) -> dict[str, Any]:
    status: dict[str, Any] = cluster.velero("restores", name).get("status", {})
    return status


def step(cluster: Cluster, clock: FakeClock, seconds: float) -> None:
    clock.advance(seconds)
    cluster.emulator.tick()


def test_a_restore_maps_namespaces_and_creates_the_objects(
    still_cluster: Cluster, fake_clock: FakeClock
) -> None:
    emulator = still_cluster.emulator
    backup = emulator.velero.register_backup("nightly-1", shop_manifests(), duration_s=30)
    assert backup["status"]["phase"] == "Completed"
    create_restore(
        still_cluster,
        "r1",
        backupName="nightly-1",
        includedNamespaces=["shop"],
        namespaceMapping={"shop": "dr-test"},
    )

    step(still_cluster, fake_clock, 0)
    status = restore_status(still_cluster, "r1")
    assert status["phase"] == "InProgress"
    assert status["progress"] == {"totalItems": 3, "itemsRestored": 0}
    step(still_cluster, fake_clock, 5)
    assert restore_status(still_cluster, "r1")["progress"]["itemsRestored"] == 1
    assert still_cluster.apps.list_namespaced_deployment("shop").items == []

    step(still_cluster, fake_clock, 5)
    status = restore_status(still_cluster, "r1")
    assert status["phase"] == "Completed"
    assert status["progress"] == {"totalItems": 3, "itemsRestored": 3}
    assert "warnings" not in status
    assert "errors" not in status
    assert status["completionTimestamp"] > status["startTimestamp"]

    labels = {"velero.io/backup-name": "nightly-1", "velero.io/restore-name": "r1"}
    assert labels.items() <= still_cluster.core.read_namespace("dr-test").metadata.labels.items()
    web = still_cluster.apps.read_namespaced_deployment("web", "dr-test")
    assert labels.items() <= web.metadata.labels.items()
    assert web.metadata.uid != "old-uid"
    assert web.status.ready_replicas in (None, 0)
    service = still_cluster.core.read_namespaced_service("web", "dr-test")
    assert service.spec.cluster_ip != "10.0.0.99"
    assert service.metadata.owner_references is None
    # Velero drops the backed-up node port; the API server allocates another.
    assert service.spec.ports[0].node_port in range(30000, 30080)
    assert still_cluster.core.read_namespaced_config_map("settings", "dr-test").data == {
        "mode": "prod"
    }
    assert still_cluster.core.list_namespaced_config_map("billing").items == []

    truth = emulator.truth.restore("r1")
    assert truth is not None
    assert truth.phase == "Completed"
    assert truth.finished_at == fake_clock.now()
    assert truth.started_at == fake_clock.now() - timedelta(seconds=10)
    assert truth.items_restored == 3


def test_existing_objects_are_skipped_with_warnings(
    still_cluster: Cluster, fake_clock: FakeClock
) -> None:
    still_cluster.emulator.velero.register_backup("nightly-1", shop_manifests())
    still_cluster.namespace("shop")
    still_cluster.core.create_namespaced_config_map(
        "shop", {"metadata": {"name": "settings"}, "data": {"mode": "dr"}}
    )
    create_restore(still_cluster, "r1", backupName="nightly-1", includedNamespaces=["shop"])
    step(still_cluster, fake_clock, 0)
    step(still_cluster, fake_clock, 10)
    status = restore_status(still_cluster, "r1")
    assert (status["phase"], status["warnings"]) == ("Completed", 1)
    assert still_cluster.core.read_namespaced_config_map("settings", "shop").data == {"mode": "dr"}


def finished_and_mirror_pods() -> list[dict[str, Any]]:
    def pod(name: str, phase: str, **annotations: str) -> dict[str, Any]:
        return {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": "shop", "annotations": annotations},
            "spec": {"containers": [{"name": "c", "image": "registry.example.com/c:1"}]},
            "status": {"phase": phase},
        }

    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "migrate", "namespace": "shop"},
        "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": []}}},
        "status": {"succeeded": 1, "completionTime": "2026-12-01T03:00:40Z"},
    }
    return [
        job,
        pod("migrate-x7k2p", "Succeeded"),
        pod("cleanup-9qv4d", "Failed"),
        pod("etcd-node-1", "Running", **{"kubernetes.io/config.mirror": "abc"}),
    ]


def test_finished_pods_and_jobs_are_passed_over_and_only_logged(
    still_cluster: Cluster, fake_clock: FakeClock
) -> None:
    """Velero's isCompleted: a Succeeded or Failed pod and a Job with a completionTime are not
    restored and not listed, only logged; a mirror pod is listed as skipped."""
    emulator = still_cluster.emulator
    emulator.velero.register_backup("nightly-1", shop_manifests() + finished_and_mirror_pods())
    create_restore(still_cluster, "r1", backupName="nightly-1", includedNamespaces=["shop"])
    step(still_cluster, fake_clock, 0)
    step(still_cluster, fake_clock, 10)
    assert restore_status(still_cluster, "r1")["phase"] == "Completed"
    assert still_cluster.core.list_namespaced_pod("shop").items == []
    assert still_cluster.batch.list_namespaced_job("shop").items == []
    contents = emulator.velero.contents
    listed = json.loads(gzip.decompress(contents.file(restore_resource_list_key("r1")) or b""))
    assert "batch/v1/Job" not in listed
    assert listed["v1/Pod"] == ["shop/etcd-node-1(skipped)"]
    log = gzip.decompress(contents.file(restore_log_key("r1")) or b"").decode()
    skipped = [line for line in log.splitlines() if "is complete - skipping" in line]
    assert sorted(line.split('msg="')[1].split('"')[0] for line in skipped) == [
        "shop/cleanup-9qv4d is complete - skipping",
        "shop/migrate is complete - skipping",
        "shop/migrate-x7k2p is complete - skipping",
    ]
    assert all(line.startswith('time="') and "level=info" in line for line in log.splitlines())


def test_items_are_restored_in_velero_s_order(
    still_cluster: Cluster, fake_clock: FakeClock
) -> None:
    """Velero's priorities first (config maps, pods, services), then by RESOURCE.GROUP."""
    scaler = autoscaler("web", 1, 3)
    scaler["metadata"]["namespace"] = "shop"
    running = finished_and_mirror_pods()[1]
    running["metadata"]["name"] = "debug"
    running["status"] = {"phase": "Running"}
    backed_up = [scaler, *shop_manifests(), running]  # in no particular order
    still_cluster.emulator.velero.register_backup("nightly-1", backed_up)
    create_restore(still_cluster, "r1", backupName="nightly-1", includedNamespaces=["shop"])
    before = still_cluster.emulator.api.store.current_rv()
    step(still_cluster, fake_clock, 0)
    step(still_cluster, fake_clock, 10)
    assert restore_status(still_cluster, "r1")["phase"] == "Completed"
    emulator = still_cluster.emulator
    api = emulator.api
    made = {}  # kind -> resource version of the restore's creation of it in shop
    for api_version, kind in (
        ("v1", "ConfigMap"),
        ("v1", "Pod"),
        ("v1", "Service"),
        ("apps/v1", "Deployment"),
        ("autoscaling/v2", "HorizontalPodAutoscaler"),
    ):
        rt = api.registry.by_kind(api_version, kind)
        assert rt is not None
        events, subscription = api.store.subscribe(rt, "shop", before)
        api.store.unsubscribe(subscription)
        made[kind] = min(e.rv for e in events if e.type == "ADDED")
    assert sorted(made, key=made.__getitem__) == [
        "ConfigMap",
        "Pod",
        "Service",
        "Deployment",
        "HorizontalPodAutoscaler",
    ]


def test_resource_and_label_filters(still_cluster: Cluster, fake_clock: FakeClock) -> None:
    still_cluster.emulator.velero.register_backup("nightly-1", shop_manifests())
    create_restore(
        still_cluster,
        "r1",
        backupName="nightly-1",
        includedResources=["configmaps", "deploy"],
        labelSelector={"matchLabels": {"app": "web"}},
        namespaceMapping={"shop": "dr"},
    )
    step(still_cluster, fake_clock, 0)
    step(still_cluster, fake_clock, 10)
    assert restore_status(still_cluster, "r1")["progress"]["totalItems"] == 1
    assert [d.metadata.name for d in still_cluster.apps.list_namespaced_deployment("dr").items] == [
        "web"
    ]


def test_a_missing_backup_fails_validation(still_cluster: Cluster) -> None:
    create_restore(still_cluster, "r1", backupName="ghost")
    still_cluster.emulator.tick()
    status = restore_status(still_cluster, "r1")
    assert status["phase"] == "FailedValidation"
    assert status["validationErrors"] == [
        'Error retrieving backup: backups.velero.io "ghost" not found'
    ]
    truth = still_cluster.emulator.truth.restore("r1")
    assert truth is not None
    assert truth.phase == "FailedValidation"


def test_an_unavailable_storage_location_fails_validation(still_cluster: Cluster) -> None:
    still_cluster.emulator.velero.register_backup("nightly-1", shop_manifests())
    still_cluster.emulator.velero.set_storage_location("default", available=False)
    assert (
        still_cluster.velero("backupstoragelocations", "default")["status"]["phase"]
        == "Unavailable"
    )
    create_restore(still_cluster, "r1", backupName="nightly-1")
    still_cluster.emulator.tick()
    status = restore_status(still_cluster, "r1")
    assert status["phase"] == "FailedValidation"
    assert "unavailable" in status["validationErrors"][0]


def test_both_or_neither_source_fails_validation(still_cluster: Cluster) -> None:
    create_restore(still_cluster, "r1")
    still_cluster.emulator.tick()
    assert restore_status(still_cluster, "r1")["phase"] == "FailedValidation"


def test_schedule_name_picks_the_newest_completed_backup(
    still_cluster: Cluster, fake_clock: FakeClock
) -> None:
    velero = still_cluster.emulator.velero
    velero.add_schedule("hourly", included_namespaces=["shop"], objects=shop_manifests()[:1])
    first = velero.run_schedule("hourly")
    fake_clock.advance(3600)
    second = velero.run_schedule("hourly")
    assert first == "hourly-20260101000000"
    assert second == "hourly-20260101010000"
    backup = still_cluster.velero("backups", second)
    assert backup["metadata"]["labels"]["velero.io/schedule-name"] == "hourly"
    assert backup["status"]["phase"] == "Completed"
    assert (
        still_cluster.velero("schedules", "hourly")["status"]["lastBackup"]
        == "2026-01-01T01:00:00Z"
    )
    velero.register_backup(
        "hourly-failed", [], schedule="hourly", phase="Failed", started_at=fake_clock.now()
    )

    create_restore(still_cluster, "r1", scheduleName="hourly", namespaceMapping={"shop": "dr"})
    step(still_cluster, fake_clock, 0)
    assert still_cluster.velero("restores", "r1")["spec"]["backupName"] == second
    step(still_cluster, fake_clock, 10)
    assert restore_status(still_cluster, "r1")["phase"] == "Completed"
    assert [b.name for b in still_cluster.emulator.truth.backups()] == [first, second]


def test_restores_run_one_at_a_time(still_cluster: Cluster, fake_clock: FakeClock) -> None:
    still_cluster.emulator.velero.register_backup("nightly-1", shop_manifests())
    create_restore(still_cluster, "r1", backupName="nightly-1", namespaceMapping={"shop": "a"})
    create_restore(still_cluster, "r2", backupName="nightly-1", namespaceMapping={"shop": "b"})
    step(still_cluster, fake_clock, 0)
    assert (
        restore_status(still_cluster, "r1")["phase"],
        restore_status(still_cluster, "r2")["phase"],
    ) == ("InProgress", "New")
    step(still_cluster, fake_clock, 10)
    assert (
        restore_status(still_cluster, "r1")["phase"],
        restore_status(still_cluster, "r2")["phase"],
    ) == ("Completed", "InProgress")


def test_a_restore_with_real_timings_completes(cluster: Cluster) -> None:
    cluster.emulator.velero.register_backup("nightly-1", shop_manifests())
    rv = cluster.custom.list_namespaced_custom_object(GROUP, VERSION, NS, "restores")["metadata"][
        "resourceVersion"
    ]
    create_restore(cluster, "r1", backupName="nightly-1", namespaceMapping={"shop": "dr-test"})
    phases = []
    watcher = watch.Watch()
    for event in watcher.stream(
        cluster.custom.list_namespaced_custom_object,
        GROUP,
        VERSION,
        NS,
        "restores",
        resource_version=rv,
        timeout_seconds=5,
    ):
        phases.append(event["object"].get("status", {}).get("phase"))
        if phases[-1] == "Completed":
            watcher.stop()
    assert [p for i, p in enumerate(phases) if i == 0 or p != phases[i - 1]] == [
        None,
        "New",
        "InProgress",
        "Completed",
    ]
    wait_for(
        lambda: cluster.apps.read_namespaced_deployment("web", "dr-test").status.ready_replicas == 2
    )


@pytest.mark.parametrize(
    ("phase", "errors", "created"), [("PartiallyFailed", 2, True), ("Failed", 1, False)]
)
def test_fault_restores_end_badly(
    still_cluster: Cluster, fake_clock: FakeClock, phase: str, errors: int, created: bool
) -> None:
    still_cluster.emulator.velero.register_backup("nightly-1", shop_manifests())
    still_cluster.emulator.faults.fail_restore("r1", phase=phase, errors=errors)
    create_restore(
        still_cluster,
        "r1",
        backupName="nightly-1",
        includedNamespaces=["shop"],
        namespaceMapping={"shop": "dr"},
    )
    step(still_cluster, fake_clock, 0)
    step(still_cluster, fake_clock, 10)
    status = restore_status(still_cluster, "r1")
    assert (status["phase"], status["errors"]) == (phase, errors)
    assert ("failureReason" in status) == (phase == "Failed")
    restored = still_cluster.core.list_namespaced_config_map("dr").items
    assert ("settings" in [c.metadata.name for c in restored]) == created


def test_a_hung_restore_stays_in_its_phase_and_blocks_the_queue(
    still_cluster: Cluster, fake_clock: FakeClock
) -> None:
    still_cluster.emulator.velero.register_backup("nightly-1", shop_manifests())
    still_cluster.emulator.faults.hang_restore(phase="Finalizing")
    create_restore(still_cluster, "r1", backupName="nightly-1", namespaceMapping={"shop": "dr"})
    create_restore(still_cluster, "r2", backupName="nightly-1", namespaceMapping={"shop": "dr2"})
    for _ in range(3):
        step(still_cluster, fake_clock, 60)
    assert restore_status(still_cluster, "r1")["phase"] == "Finalizing"
    assert restore_status(still_cluster, "r2")["phase"] == "New"
    restored = still_cluster.core.list_namespaced_config_map("dr").items
    assert "settings" in [c.metadata.name for c in restored], "items are restored before Finalizing"
    assert still_cluster.emulator.truth.restores() == []


def test_backups_taken_in_one_cluster_sync_to_another(
    make_cluster: MakeCluster, fake_clock: FakeClock
) -> None:
    primary = make_cluster(clock=fake_clock, auto_tick=False).emulator
    dr_cluster = make_cluster(clock=fake_clock, auto_tick=False)
    primary.velero.add_schedule("hourly", included_namespaces=["shop"], objects=shop_manifests())
    taken = primary.velero.run_schedule("hourly")
    assert dr_cluster.emulator.velero.sync_backups(primary.velero) == [taken]
    assert dr_cluster.emulator.velero.sync_backups(primary.velero) == []
    create_restore(dr_cluster, "r1", backupName=taken, includedNamespaces=["shop"])
    step(dr_cluster, fake_clock, 0)
    step(dr_cluster, fake_clock, 10)
    assert restore_status(dr_cluster, "r1")["phase"] == "Completed"
    assert (
        dr_cluster.apps.read_namespaced_deployment("web", "shop").metadata.labels[
            "velero.io/backup-name"
        ]
        == taken
    )
