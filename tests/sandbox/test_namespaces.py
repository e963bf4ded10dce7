"""Namespaces terminate as in a cluster, through the real kubernetes client (and kubectl):
Terminating with the ``kubernetes`` finalizer for the profile's time, content deleted first
(pods shutting down), new content refused with the real 403, then gone; Velero restoring into
a Terminating namespace waits for it to go and creates it afresh."""

from __future__ import annotations

import gzip
import json
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from kubernetes import watch
from kubernetes.client.exceptions import ApiException

from drill.clock import FakeClock
from drill.sandbox.kube import Profile
from drill.sandbox.kube.controllers.contents import restore_results_key
from tests.sandbox.helpers import Cluster, MakeCluster, deployment
from tests.sandbox.test_kubectl import kubectl
from tests.sandbox.test_velero import create_restore, restore_status

# Slow enough to watch: 20 s Terminating, as a namespace with running pods often is.
PROFILE = Profile(
    ready_after_s=1, job_duration_s=1, restore_duration_s=2, namespace_delete_s=20,
    restore_namespace_wait_s=60,
)  # fmt: skip


@pytest.fixture
def terminating(make_cluster: MakeCluster, fake_clock: FakeClock) -> Cluster:
    return make_cluster(clock=fake_clock, profile=PROFILE, auto_tick=False)


def advance(cluster: Cluster, clock: FakeClock, seconds: float) -> None:
    clock.advance(seconds)
    cluster.emulator.tick()
    cluster.emulator.tick()


def populate(cluster: Cluster, clock: FakeClock, namespace: str) -> None:
    cluster.namespace(namespace)
    cluster.apps.create_namespaced_deployment(namespace, deployment("web", replicas=2))
    cluster.core.create_namespaced_config_map(namespace, {"metadata": {"name": "cfg"}})
    advance(cluster, clock, 0)
    advance(cluster, clock, 1)


def exists(cluster: Cluster, namespace: str) -> bool:
    return namespace in {n.metadata.name for n in cluster.core.list_namespace().items}


def test_a_deleted_namespace_terminates_for_the_profiles_time(
    terminating: Cluster, fake_clock: FakeClock
) -> None:
    core = terminating.core
    populate(terminating, fake_clock, "scratch")
    core.delete_namespace("scratch")
    advance(terminating, fake_clock, 0)  # the controller sees it: the time runs from here

    found = core.read_namespace("scratch")
    assert (found.status.phase, found.spec.finalizers) == ("Terminating", ["kubernetes"])
    assert found.metadata.deletion_timestamp is not None
    conditions = {c.type: (c.status, c.reason) for c in found.status.conditions}
    assert conditions["NamespaceContentRemaining"] == ("True", "SomeResourcesRemain")
    assert conditions["NamespaceDeletionContentFailure"] == ("False", "ContentDeleted")
    # Content goes first; pods shut down gracefully, out of their Services' endpoints.
    assert terminating.apps.list_namespaced_deployment("scratch").items == []
    assert terminating.core.list_namespaced_config_map("scratch").items == []
    pods = core.list_namespaced_pod("scratch").items
    assert len(pods) == 2
    assert all(p.metadata.deletion_timestamp is not None for p in pods)
    assert all(p.metadata.deletion_grace_period_seconds == 30 for p in pods)
    advance(terminating, fake_clock, 1)
    pods = core.list_namespaced_pod("scratch").items
    assert [c.status for p in pods for c in p.status.conditions if c.type == "Ready"] == [
        "False",
        "False",
    ]

    with pytest.raises(ApiException) as refused:
        core.create_namespaced_config_map("scratch", {"metadata": {"name": "late"}})
    assert refused.value.status == 403
    assert json.loads(refused.value.body)["message"] == (
        'configmaps "late" is forbidden: unable to create new content in namespace scratch '
        "because it is being terminated"
    )

    advance(terminating, fake_clock, 18.9)
    assert exists(terminating, "scratch")
    advance(terminating, fake_clock, 0.1)
    assert not exists(terminating, "scratch")
    assert core.list_namespaced_pod("scratch").items == []
    (gone,) = terminating.emulator.truth.namespaces_gone("scratch")
    assert gone.deleted_at is not None
    assert gone.gone_at - gone.deleted_at == timedelta(seconds=20)
    core.create_namespace({"metadata": {"name": "scratch"}})  # the name is free again


def test_the_finalizer_goes_before_the_namespace(
    terminating: Cluster, fake_clock: FakeClock
) -> None:
    terminating.namespace("scratch")
    since = terminating.core.list_namespace().metadata.resource_version
    terminating.core.delete_namespace("scratch")
    advance(terminating, fake_clock, 0)
    advance(terminating, fake_clock, 20)
    events = watch.Watch().stream(
        terminating.core.list_namespace,
        field_selector="metadata.name=scratch",
        resource_version=since,
        timeout_seconds=1,
    )
    seen = [(e["type"], e["object"].status.phase, e["object"].spec.finalizers) for e in events]
    assert seen[0] == ("MODIFIED", "Terminating", ["kubernetes"])
    assert seen[-2:] == [("MODIFIED", "Terminating", []), ("DELETED", "Terminating", [])]


def restore_into(cluster: Cluster, name: str, target: str) -> None:
    manifests = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": "shop"},
         "data": {"restored": "yes"}},
    ]  # fmt: skip
    cluster.emulator.velero.register_backup(f"{name}-backup", manifests)
    create_restore(cluster, name, backupName=f"{name}-backup", namespaceMapping={"shop": target})


def test_velero_waits_for_a_terminating_target_and_creates_it_afresh(
    terminating: Cluster, fake_clock: FakeClock
) -> None:
    populate(terminating, fake_clock, "dr-test")
    terminating.core.delete_namespace("dr-test")
    advance(terminating, fake_clock, 0)
    restore_into(terminating, "r1", "dr-test")
    advance(terminating, fake_clock, 0)
    advance(terminating, fake_clock, 2)  # its own work is done: now it waits
    advance(terminating, fake_clock, 10)
    assert restore_status(terminating, "r1")["phase"] == "InProgress"
    advance(terminating, fake_clock, 8)  # the namespace goes...
    advance(terminating, fake_clock, 0)  # ...and the restore makes it anew
    status = restore_status(terminating, "r1")
    assert status["phase"] == "Completed", status
    assert "errors" not in status
    found = terminating.core.read_namespace("dr-test")
    assert found.status.phase == "Active"
    assert found.metadata.labels["velero.io/restore-name"] == "r1"
    assert terminating.core.read_namespaced_config_map("cfg", "dr-test").data == {"restored": "yes"}
    record = terminating.emulator.truth.restore("r1")
    (gone,) = terminating.emulator.truth.namespaces_gone("dr-test")
    assert record is not None
    assert record.finished_at >= gone.gone_at


def test_velero_gives_up_on_a_namespace_terminating_past_its_timeout(
    make_cluster: MakeCluster, fake_clock: FakeClock
) -> None:
    stuck = Profile(restore_duration_s=2, namespace_delete_s=1000, restore_namespace_wait_s=60)
    cluster = make_cluster(clock=fake_clock, profile=stuck, auto_tick=False)
    cluster.namespace("dr-test")
    cluster.core.delete_namespace("dr-test")
    advance(cluster, fake_clock, 0)
    restore_into(cluster, "r1", "dr-test")
    advance(cluster, fake_clock, 0)
    advance(cluster, fake_clock, 2)
    advance(cluster, fake_clock, 59)
    assert restore_status(cluster, "r1")["phase"] == "InProgress"
    advance(cluster, fake_clock, 1)
    status = restore_status(cluster, "r1")
    assert (status["phase"], status["errors"]) == ("PartiallyFailed", 1)
    results = cluster.emulator.velero.contents.file(restore_results_key("r1"))
    assert results is not None
    assert json.loads(gzip.decompress(results))["errors"]["velero"] == [
        "error getting namespace dr-test: timed out waiting for the condition"
    ]


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not on PATH")
def test_kubectl_sees_terminating_then_gone(
    terminating: Cluster, fake_clock: FakeClock, tmp_path: Path
) -> None:
    populate(terminating, fake_clock, "scratch")
    deleted = kubectl(terminating, tmp_path, "delete", "ns", "scratch", "--wait=false")
    assert deleted.returncode == 0, deleted.stderr
    advance(terminating, fake_clock, 0)
    advance(terminating, fake_clock, 10)
    shown = kubectl(terminating, tmp_path, "get", "ns", "scratch", "-o", "jsonpath={.status.phase}")
    assert shown.stdout == "Terminating"
    late = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "late"}}
    refused = kubectl(
        terminating, tmp_path, "apply", "--validate=false", "-n", "scratch", "-f", "-",
        input_text=json.dumps(late),
    )  # fmt: skip
    assert refused.returncode == 1
    assert "unable to create new content in namespace scratch because it is being terminated" in (
        refused.stderr
    )
    advance(terminating, fake_clock, 10)
    gone = kubectl(terminating, tmp_path, "get", "ns", "scratch")
    assert gone.returncode == 1
    assert 'namespaces "scratch" not found' in gone.stderr


@pytest.mark.parametrize("namespace", ["default", "kube-system", "kube-public"])
def test_the_namespaces_a_cluster_cannot_do_without_may_not_be_deleted(
    terminating: Cluster, namespace: str
) -> None:
    for dry_run in (None, "All"):
        with pytest.raises(ApiException) as refused:
            terminating.core.delete_namespace(namespace, dry_run=dry_run)
        assert refused.value.status == 403
        message = json.loads(refused.value.body)["message"]
        assert (
            message == f'namespaces "{namespace}" is forbidden: this namespace may not be deleted'
        )
    assert terminating.core.read_namespace(namespace).status.phase == "Active"


def test_kube_node_lease_and_others_may_be_deleted(terminating: Cluster) -> None:
    terminating.core.delete_namespace("kube-node-lease")
    assert terminating.core.read_namespace("kube-node-lease").status.phase == "Terminating"
