"""Simulated controllers: workloads get ready, jobs finish, namespaces terminate; ground truth."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from kubernetes.client.exceptions import ApiException

from drill.clock import FakeClock
from drill.sandbox.kube.controllers.workloads import RESYNC_PASSES, template_hash
from tests.sandbox.helpers import Cluster, deployment, wait_for


def advance(cluster: Cluster, clock: FakeClock, seconds: float) -> None:
    """Move the fake clock, then let every controller take two passes (create, then react)."""
    clock.advance(seconds)
    cluster.emulator.tick()
    cluster.emulator.tick()


def job(name: str) -> dict[str, Any]:
    container = {"name": "smoke", "image": "busybox:1.36", "command": ["sh", "-c", "echo ok"]}
    return {
        "metadata": {"name": name},
        "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [container]}}},
    }


def test_a_deployment_becomes_ready_after_ready_after_s(
    still_cluster: Cluster, fake_clock: FakeClock
) -> None:
    apps, core = still_cluster.apps, still_cluster.core
    created = apps.create_namespaced_deployment("default", deployment("web", replicas=2))
    advance(still_cluster, fake_clock, 0)
    status = apps.read_namespaced_deployment_status("web", "default").status
    assert (status.replicas, status.ready_replicas, status.observed_generation) == (2, 0, 1)
    assert [(c.type, c.status) for c in status.conditions] == [
        ("Available", "False"),
        ("Progressing", "True"),
    ]
    pods = core.list_namespaced_pod("default", label_selector="app=web").items
    assert len(pods) == 2
    assert {p.status.phase for p in pods} == {"Pending"}
    assert pods[0].metadata.owner_references[0].uid == created.metadata.uid

    advance(still_cluster, fake_clock, 5)
    status = apps.read_namespaced_deployment("web", "default").status
    assert (status.ready_replicas, status.available_replicas, status.updated_replicas) == (2, 2, 2)
    assert status.conditions[0].type == "Available"
    assert status.conditions[0].status == "True"
    pods = core.list_namespaced_pod("default", label_selector="app=web").items
    assert {p.status.phase for p in pods} == {"Running"}
    assert all(c.status == "True" for p in pods for c in p.status.conditions if c.type == "Ready")

    ready_at = still_cluster.emulator.truth.ready_at("default", "web")
    assert ready_at == fake_clock.now()


def test_scaling_up_waits_for_new_pods_and_records_ready_again(
    still_cluster: Cluster, fake_clock: FakeClock
) -> None:
    apps = still_cluster.apps
    apps.create_namespaced_deployment("default", deployment("web", replicas=1))
    advance(still_cluster, fake_clock, 0)
    advance(still_cluster, fake_clock, 5)
    apps.patch_namespaced_deployment_scale("web", "default", {"spec": {"replicas": 3}})
    advance(still_cluster, fake_clock, 1)
    status = apps.read_namespaced_deployment("web", "default").status
    assert (status.replicas, status.ready_replicas, status.observed_generation) == (3, 1, 2)
    advance(still_cluster, fake_clock, 5)
    assert apps.read_namespaced_deployment("web", "default").status.ready_replicas == 3
    events = still_cluster.emulator.truth.ready_events("default", "web")
    assert [e.replicas for e in events] == [1, 3]
    assert events[1].ready_at - events[0].ready_at == timedelta(seconds=6)


def test_a_change_after_many_idle_passes_is_reconciled_at_the_next_one(
    still_cluster: Cluster, fake_clock: FakeClock
) -> None:
    """Passes over an unchanged store change nothing (and are skipped); the first pass after
    a write reconciles it, with the hash of the template as it is now."""
    apps, core = still_cluster.apps, still_cluster.core
    apps.create_namespaced_deployment("default", deployment("web", replicas=1))
    advance(still_cluster, fake_clock, 0)
    first = core.list_namespaced_pod("default").items[0].metadata.labels["pod-template-hash"]
    for _ in range(3 * RESYNC_PASSES):
        still_cluster.emulator.tick()
    changed = deployment("web", replicas=3)
    changed["spec"]["template"]["metadata"]["annotations"] = {"rev": "2"}
    apps.replace_namespaced_deployment("web", "default", changed)
    still_cluster.emulator.tick()
    pods = core.list_namespaced_pod("default").items
    api = still_cluster.emulator.api
    template = api.get(api.registry.get("apps/v1", "Deployment"), "default", "web")["spec"][
        "template"
    ]
    hashes = sorted(p.metadata.labels["pod-template-hash"] for p in pods)
    # The pod made before keeps its hash until the new ones are ready; three new ones carry
    # the new template's (maxSurge 25% of 3 rounds up to one pod above the three).
    assert hashes == sorted([first] + [template_hash(template)] * 3)
    assert first != template_hash(template)


def test_scaling_down_removes_pods(still_cluster: Cluster, fake_clock: FakeClock) -> None:
    still_cluster.apps.create_namespaced_deployment("default", deployment("web", replicas=3))
    advance(still_cluster, fake_clock, 0)
    still_cluster.apps.patch_namespaced_deployment_scale(
        "web", "default", {"spec": {"replicas": 1}}
    )
    advance(still_cluster, fake_clock, 0)
    assert len(still_cluster.core.list_namespaced_pod("default").items) == 1


def pod_names(cluster: Cluster) -> list[str]:
    return sorted(p.metadata.name for p in cluster.core.list_namespaced_pod("default").items)


def test_statefulset_pods_come_one_at_a_time_each_once_the_one_before_is_ready(
    still_cluster: Cluster, fake_clock: FakeClock
) -> None:
    """podManagementPolicy OrderedReady, the default: ordinal N waits for 0..N-1 to be ready;
    a scale down removes the highest ordinal first, one at a time."""
    sts = deployment("db", replicas=3)
    sts["kind"] = "StatefulSet"
    still_cluster.apps.create_namespaced_stateful_set("default", sts)
    advance(still_cluster, fake_clock, 0)
    assert pod_names(still_cluster) == ["db-0"]
    advance(still_cluster, fake_clock, 5)
    assert pod_names(still_cluster) == ["db-0", "db-1"]
    advance(still_cluster, fake_clock, 5)
    advance(still_cluster, fake_clock, 5)
    assert pod_names(still_cluster) == ["db-0", "db-1", "db-2"]
    status = still_cluster.apps.read_namespaced_stateful_set("db", "default").status
    assert (status.replicas, status.ready_replicas, status.available_replicas) == (3, 3, 3)
    still_cluster.apps.patch_namespaced_stateful_set_scale(
        "db", "default", {"spec": {"replicas": 1}}
    )
    still_cluster.emulator.tick()
    assert pod_names(still_cluster) == ["db-0", "db-1"]
    still_cluster.emulator.tick()
    assert pod_names(still_cluster) == ["db-0"]


def test_a_parallel_statefulset_makes_its_pods_at_once(
    still_cluster: Cluster, fake_clock: FakeClock
) -> None:
    sts = deployment("db", replicas=3)
    sts["kind"] = "StatefulSet"
    sts["spec"]["podManagementPolicy"] = "Parallel"
    still_cluster.apps.create_namespaced_stateful_set("default", sts)
    advance(still_cluster, fake_clock, 0)
    assert pod_names(still_cluster) == ["db-0", "db-1", "db-2"]
    advance(still_cluster, fake_clock, 5)
    status = still_cluster.apps.read_namespaced_stateful_set("db", "default").status
    assert status.ready_replicas == 3


def test_a_deployment_with_real_timings_becomes_ready(cluster: Cluster) -> None:
    cluster.apps.create_namespaced_deployment("default", deployment("web", replicas=2))
    wait_for(
        lambda: cluster.apps.read_namespaced_deployment("web", "default").status.ready_replicas == 2
    )
    assert cluster.emulator.truth.ready_at("default", "web") is not None


def test_a_job_succeeds_and_serves_its_log(still_cluster: Cluster, fake_clock: FakeClock) -> None:
    still_cluster.emulator.set_job_log("default", "smoke", "line 1\nline 2\nall good\n")
    still_cluster.batch.create_namespaced_job("default", job("smoke"))
    advance(still_cluster, fake_clock, 0)
    status = still_cluster.batch.read_namespaced_job_status("smoke", "default").status
    assert status.active == 1
    assert status.start_time is not None
    pod = still_cluster.core.list_namespaced_pod("default", label_selector="job-name=smoke").items[
        0
    ]
    assert pod.status.phase == "Running"

    advance(still_cluster, fake_clock, 3)
    status = still_cluster.batch.read_namespaced_job("smoke", "default").status
    assert status.succeeded == 1
    assert status.active is None
    assert status.completion_time is not None
    assert [c.type for c in status.conditions] == ["SuccessCriteriaMet", "Complete"]
    log = still_cluster.core.read_namespaced_pod_log(pod.metadata.name, "default", tail_lines=2)
    assert log == "line 2\nall good\n"
    finished = still_cluster.emulator.truth.job("default", "smoke")
    assert finished is not None
    assert finished.succeeded
    assert finished.finished_at == fake_clock.now()


def test_a_job_past_its_active_deadline_fails(
    still_cluster: Cluster, fake_clock: FakeClock
) -> None:
    body = job("slow")
    body["spec"]["activeDeadlineSeconds"] = 1
    still_cluster.batch.create_namespaced_job("default", body)
    advance(still_cluster, fake_clock, 0)
    advance(still_cluster, fake_clock, 1)
    status = still_cluster.batch.read_namespaced_job("slow", "default").status
    assert status.failed == 1
    assert [(c.type, c.reason) for c in status.conditions][-1] == ("Failed", "DeadlineExceeded")
    assert still_cluster.core.list_namespaced_pod("default").items == []


def test_the_log_of_a_missing_pod_is_404(still_cluster: Cluster) -> None:
    with pytest.raises(ApiException) as caught:
        still_cluster.core.read_namespaced_pod_log("ghost", "default")
    assert caught.value.status == 404


def test_deleting_a_job_with_propagation_removes_its_pods(
    still_cluster: Cluster, fake_clock: FakeClock
) -> None:
    for name in ("kept", "gone"):
        still_cluster.batch.create_namespaced_job("default", job(name))
    advance(still_cluster, fake_clock, 0)
    still_cluster.batch.delete_namespaced_job("kept", "default")  # default policy for jobs: orphan
    still_cluster.batch.delete_namespaced_job("gone", "default", propagation_policy="Background")
    pods = still_cluster.core.list_namespaced_pod("default").items
    assert [p.metadata.labels["job-name"] for p in pods] == ["kept"]
    assert pods[0].metadata.owner_references == []


def test_deleting_a_deployment_removes_its_pods(
    still_cluster: Cluster, fake_clock: FakeClock
) -> None:
    still_cluster.apps.create_namespaced_deployment("default", deployment("web", replicas=2))
    advance(still_cluster, fake_clock, 0)
    still_cluster.apps.delete_namespaced_deployment("web", "default")
    assert still_cluster.core.list_namespaced_pod("default").items == []


def test_namespace_termination_cascades(still_cluster: Cluster, fake_clock: FakeClock) -> None:
    core = still_cluster.core
    ns = still_cluster.namespace("drill-run-1")
    still_cluster.apps.create_namespaced_deployment(ns, deployment("web"))
    core.create_namespaced_config_map(ns, {"metadata": {"name": "cfg"}})
    advance(still_cluster, fake_clock, 0)

    core.delete_namespace(ns)
    advance(still_cluster, fake_clock, 0)  # the controller notices; the delay runs from here
    assert core.read_namespace(ns).status.phase == "Terminating"
    assert core.read_namespace(ns).metadata.deletion_timestamp is not None
    with pytest.raises(ApiException) as caught:
        core.create_namespaced_config_map(ns, {"metadata": {"name": "late"}})
    assert caught.value.status == 403

    advance(still_cluster, fake_clock, 1)
    with pytest.raises(ApiException) as gone:
        core.read_namespace(ns)
    assert gone.value.status == 404
    assert core.list_pod_for_all_namespaces().items == []
    assert still_cluster.apps.list_deployment_for_all_namespaces().items == []


def test_namespace_termination_with_real_timings(cluster: Cluster) -> None:
    ns = cluster.namespace("temp")
    cluster.core.create_namespaced_config_map(ns, {"metadata": {"name": "cfg"}})
    cluster.core.delete_namespace(ns)

    def gone() -> bool:
        return ns not in [n.metadata.name for n in cluster.core.list_namespace().items]

    wait_for(gone)
    assert (
        cluster.core.list_config_map_for_all_namespaces(
            field_selector="metadata.namespace=temp"
        ).items
        == []
    )
