"""Rollouts: a changed pod template replaces a workload's pods as its strategy says."""

from __future__ import annotations

from typing import Any

from drill.clock import FakeClock
from tests.sandbox.helpers import Cluster, deployment


def advance(cluster: Cluster, clock: FakeClock, seconds: float) -> None:
    """Move the fake clock, then let every controller take two passes (create, then react)."""
    clock.advance(seconds)
    cluster.emulator.tick()
    cluster.emulator.tick()


def change_template(cluster: Cluster, kind: str, name: str) -> None:
    patch = {"spec": {"template": {"metadata": {"annotations": {"restartedAt": "now"}}}}}
    if kind == "Deployment":
        cluster.apps.patch_namespaced_deployment(name, "default", patch)
    else:
        cluster.apps.patch_namespaced_stateful_set(name, "default", patch)


def pod_revisions(cluster: Cluster, label: str) -> dict[str, str]:
    pods = cluster.core.list_namespaced_pod("default").items
    return {p.metadata.name: p.metadata.labels[label] for p in pods}


def deployment_counts(cluster: Cluster, name: str) -> tuple[int, int, int, int]:
    """replicas, updatedReplicas, readyReplicas, availableReplicas."""
    status = cluster.apps.read_namespaced_deployment_status(name, "default").status
    return (
        status.replicas or 0,
        status.updated_replicas or 0,
        status.ready_replicas or 0,
        status.available_replicas or 0,
    )


def progressing_reason(cluster: Cluster, name: str) -> str:
    status = cluster.apps.read_namespaced_deployment_status(name, "default").status
    return str(next(c.reason for c in status.conditions if c.type == "Progressing"))


def rolled_deployment(cluster: Cluster, clock: FakeClock, strategy: dict[str, Any]) -> None:
    manifest = deployment("web", replicas=3)
    manifest["spec"]["strategy"] = strategy
    cluster.apps.create_namespaced_deployment("default", manifest)
    advance(cluster, clock, 0)
    advance(cluster, clock, 5)
    assert deployment_counts(cluster, "web") == (3, 3, 3, 3)


def test_a_rolling_update_surges_then_retires_old_pods_only_as_new_ones_get_ready(
    still_cluster: Cluster, fake_clock: FakeClock
) -> None:
    rolled_deployment(
        still_cluster,
        fake_clock,
        {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
    )
    before = set(pod_revisions(still_cluster, "pod-template-hash").values())
    change_template(still_cluster, "Deployment", "web")
    advance(still_cluster, fake_clock, 0)
    # One new pod above the three; no old pod goes while it is not ready.
    assert deployment_counts(still_cluster, "web") == (4, 1, 3, 3)
    assert progressing_reason(still_cluster, "web") == "ReplicaSetUpdated"
    seen = [deployment_counts(still_cluster, "web")]
    for _ in range(6):
        advance(still_cluster, fake_clock, 5)
        seen.append(deployment_counts(still_cluster, "web"))
        # maxUnavailable 0: never fewer than three ready, never more than four pods.
        assert seen[-1][2] >= 3
        assert seen[-1][0] <= 4
    assert seen[-1] == (3, 3, 3, 3)
    assert progressing_reason(still_cluster, "web") == "NewReplicaSetAvailable"
    after = set(pod_revisions(still_cluster, "pod-template-hash").values())
    assert len(after) == 1
    assert after.isdisjoint(before)


def test_the_rollout_is_ground_truth_only_when_it_is_done(
    still_cluster: Cluster, fake_clock: FakeClock
) -> None:
    rolled_deployment(still_cluster, fake_clock, {"type": "RollingUpdate"})
    truth = still_cluster.emulator.truth
    assert len(truth.ready_events("default", "web")) == 1
    change_template(still_cluster, "Deployment", "web")
    advance(still_cluster, fake_clock, 0)
    assert len(truth.ready_events("default", "web")) == 1
    for _ in range(6):
        advance(still_cluster, fake_clock, 5)
    events = truth.ready_events("default", "web")
    assert len(events) == 2
    assert deployment_counts(still_cluster, "web") == (3, 3, 3, 3)


def test_recreate_deletes_every_old_pod_before_making_new_ones(
    still_cluster: Cluster, fake_clock: FakeClock
) -> None:
    rolled_deployment(still_cluster, fake_clock, {"type": "Recreate"})
    change_template(still_cluster, "Deployment", "web")
    advance(still_cluster, fake_clock, 0)
    assert deployment_counts(still_cluster, "web") == (3, 3, 0, 0)
    available = still_cluster.apps.read_namespaced_deployment_status("web", "default")
    assert [c.status for c in available.status.conditions if c.type == "Available"] == ["False"]
    advance(still_cluster, fake_clock, 5)
    assert deployment_counts(still_cluster, "web") == (3, 3, 3, 3)


def statefulset(cluster: Cluster, clock: FakeClock, update_strategy: dict[str, Any]) -> None:
    """Three pods, made one after the other (OrderedReady), all ready."""
    manifest = deployment("db", replicas=3)
    manifest["kind"] = "StatefulSet"
    manifest["spec"]["updateStrategy"] = update_strategy
    cluster.apps.create_namespaced_stateful_set("default", manifest)
    advance(cluster, clock, 0)
    for _ in range(3):
        advance(cluster, clock, 5)
    status = cluster.apps.read_namespaced_stateful_set_status("db", "default").status
    assert (status.replicas, status.ready_replicas) == (3, 3)


def test_a_statefulset_replaces_one_pod_at_a_time_from_the_highest_ordinal(
    still_cluster: Cluster, fake_clock: FakeClock
) -> None:
    statefulset(still_cluster, fake_clock, {"type": "RollingUpdate"})
    old = set(pod_revisions(still_cluster, "controller-revision-hash").values())
    change_template(still_cluster, "StatefulSet", "db")
    advance(still_cluster, fake_clock, 0)
    revisions = pod_revisions(still_cluster, "controller-revision-hash")
    [old_revision] = old
    assert [n for n, r in sorted(revisions.items()) if r != old_revision] == ["db-2"]
    status = still_cluster.apps.read_namespaced_stateful_set_status("db", "default").status
    assert (status.replicas, status.updated_replicas, status.ready_replicas) == (3, 1, 2)
    assert status.current_revision == old_revision
    assert status.update_revision == revisions["db-2"]
    assert status.current_replicas == 2
    for _ in range(3):
        advance(still_cluster, fake_clock, 5)
    status = still_cluster.apps.read_namespaced_stateful_set_status("db", "default").status
    assert (status.replicas, status.updated_replicas, status.ready_replicas) == (3, 3, 3)
    assert status.current_revision == status.update_revision
    assert status.current_replicas == 3


def test_a_statefulset_partition_keeps_the_lower_ordinals_on_the_old_template(
    still_cluster: Cluster, fake_clock: FakeClock
) -> None:
    statefulset(
        still_cluster, fake_clock, {"type": "RollingUpdate", "rollingUpdate": {"partition": 2}}
    )
    [old_revision] = set(pod_revisions(still_cluster, "controller-revision-hash").values())
    change_template(still_cluster, "StatefulSet", "db")
    for _ in range(4):
        advance(still_cluster, fake_clock, 5)
    revisions = pod_revisions(still_cluster, "controller-revision-hash")
    assert (revisions["db-0"], revisions["db-1"]) == (old_revision, old_revision)
    assert revisions["db-2"] != old_revision
    status = still_cluster.apps.read_namespaced_stateful_set_status("db", "default").status
    assert (status.updated_replicas, status.current_revision) == (1, old_revision)


def test_on_delete_leaves_every_pod_on_the_old_template(
    still_cluster: Cluster, fake_clock: FakeClock
) -> None:
    statefulset(still_cluster, fake_clock, {"type": "OnDelete"})
    old = pod_revisions(still_cluster, "controller-revision-hash")
    change_template(still_cluster, "StatefulSet", "db")
    for _ in range(3):
        advance(still_cluster, fake_clock, 5)
    assert pod_revisions(still_cluster, "controller-revision-hash") == old
    status = still_cluster.apps.read_namespaced_stateful_set_status("db", "default").status
    assert (status.updated_replicas, status.ready_replicas) == (0, 3)


def progressing(cluster: Cluster, name: str) -> tuple[str, str]:
    status = cluster.apps.read_namespaced_deployment_status(name, "default").status
    found = next(c for c in status.conditions if c.type == "Progressing")
    return str(found.status), str(found.reason)


def test_a_rollout_that_stops_moving_exceeds_its_progress_deadline(
    still_cluster: Cluster, fake_clock: FakeClock
) -> None:
    still_cluster.emulator.faults.never_ready("default", "stuck")
    manifest = deployment("stuck", replicas=2)
    manifest["spec"]["progressDeadlineSeconds"] = 30
    still_cluster.apps.create_namespaced_deployment("default", manifest)
    advance(still_cluster, fake_clock, 0)
    assert progressing(still_cluster, "stuck") == ("True", "ReplicaSetUpdated")
    advance(still_cluster, fake_clock, 29)
    assert progressing(still_cluster, "stuck") == ("True", "ReplicaSetUpdated")
    advance(still_cluster, fake_clock, 2)
    assert progressing(still_cluster, "stuck") == ("False", "ProgressDeadlineExceeded")
    advance(still_cluster, fake_clock, 60)
    assert progressing(still_cluster, "stuck") == ("False", "ProgressDeadlineExceeded")


def test_a_slow_rollout_that_keeps_moving_stays_within_its_deadline(
    still_cluster: Cluster, fake_clock: FakeClock
) -> None:
    """Each step renews the deadline: a pod at a time, five seconds each, fifteen in all,
    under an eight-second deadline."""
    rolled_deployment(
        still_cluster,
        fake_clock,
        {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
    )
    still_cluster.apps.patch_namespaced_deployment(
        "web", "default", {"spec": {"progressDeadlineSeconds": 8}}
    )
    advance(still_cluster, fake_clock, 0)
    change_template(still_cluster, "Deployment", "web")
    advance(still_cluster, fake_clock, 0)
    started = fake_clock.now()
    while progressing(still_cluster, "web") != ("True", "NewReplicaSetAvailable"):
        assert progressing(still_cluster, "web") == ("True", "ReplicaSetUpdated")
        advance(still_cluster, fake_clock, 5)
    assert (fake_clock.now() - started).total_seconds() >= 15
    # Never False in between, not even for a pass: the condition has been True since before.
    status = still_cluster.apps.read_namespaced_deployment_status("web", "default").status
    [condition] = [c for c in status.conditions if c.type == "Progressing"]
    assert condition.last_transition_time < started


def test_a_pod_is_available_only_once_ready_for_min_ready_seconds(
    still_cluster: Cluster, fake_clock: FakeClock
) -> None:
    manifest = deployment("web", replicas=3)
    manifest["spec"]["minReadySeconds"] = 10
    still_cluster.apps.create_namespaced_deployment("default", manifest)
    advance(still_cluster, fake_clock, 0)
    advance(still_cluster, fake_clock, 5)
    assert deployment_counts(still_cluster, "web") == (3, 3, 3, 0)
    status = still_cluster.apps.read_namespaced_deployment_status("web", "default").status
    assert [c.status for c in status.conditions if c.type == "Available"] == ["False"]
    assert progressing(still_cluster, "web") == ("True", "ReplicaSetUpdated")
    for _ in range(3):  # until a pass finds nothing to do: the store stays as it is
        still_cluster.emulator.tick()
    # Nothing is written meanwhile: the pass that counts them available is due all the same.
    fake_clock.advance(10)
    still_cluster.emulator.tick()
    assert deployment_counts(still_cluster, "web") == (3, 3, 3, 3)
    still_cluster.emulator.tick()
    assert progressing(still_cluster, "web") == ("True", "NewReplicaSetAvailable")


def test_a_paused_deployment_restored_or_created_afresh_has_no_pods_until_resumed(
    still_cluster: Cluster, fake_clock: FakeClock
) -> None:
    manifest = deployment("web", replicas=3)
    manifest["spec"]["paused"] = True
    still_cluster.apps.create_namespaced_deployment("default", manifest)
    for _ in range(3):
        advance(still_cluster, fake_clock, 5)
    assert still_cluster.core.list_namespaced_pod("default").items == []
    status = still_cluster.apps.read_namespaced_deployment_status("web", "default").status
    [paused] = [c for c in status.conditions if c.type == "Progressing"]
    assert (paused.status, paused.reason, paused.message) == (
        "Unknown",
        "DeploymentPaused",
        "Deployment is paused",
    )
    still_cluster.apps.patch_namespaced_deployment("web", "default", {"spec": {"paused": False}})
    advance(still_cluster, fake_clock, 0)
    assert len(still_cluster.core.list_namespaced_pod("default").items) == 3
    advance(still_cluster, fake_clock, 5)
    assert progressing(still_cluster, "web") == ("True", "NewReplicaSetAvailable")


def test_a_paused_deployment_rolls_out_no_new_template_but_still_scales(
    still_cluster: Cluster, fake_clock: FakeClock
) -> None:
    rolled_deployment(still_cluster, fake_clock, {"type": "RollingUpdate"})
    before = set(pod_revisions(still_cluster, "pod-template-hash").values())
    still_cluster.apps.patch_namespaced_deployment("web", "default", {"spec": {"paused": True}})
    change_template(still_cluster, "Deployment", "web")
    for _ in range(3):
        advance(still_cluster, fake_clock, 5)
    assert set(pod_revisions(still_cluster, "pod-template-hash").values()) == before
    assert deployment_counts(still_cluster, "web")[:2] == (3, 0)  # none of the new template
    still_cluster.apps.patch_namespaced_deployment_scale(
        "web", "default", {"spec": {"replicas": 1}}
    )
    advance(still_cluster, fake_clock, 0)
    assert len(pod_revisions(still_cluster, "pod-template-hash")) == 1
