"""Kubernetes and Velero step logic: waits resume after faults, retries adopt what the run made,
drills never restore over what exists, and undo never overwrites someone else's change."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from pydantic import JsonValue

from drill.errors import Conflict, StepFailed, TransientError
from drill.steps import StepTimedOut
from drill.steps.kube_job import KubeJob, KubeJobParams
from drill.steps.kube_namespace import KubeNamespace, KubeNamespaceParams
from drill.steps.kube_scale import KubeScale, KubeScaleParams
from drill.steps.kube_wait_ready import KubeWaitReady, KubeWaitReadyParams
from drill.steps.velero_restore import VeleroRestore, VeleroRestoreParams
from providers.protocols import (
    AutoscalerInfo,
    BackupInfo,
    JobSpec,
    JobStatus,
    NamespaceInfo,
    RestoreRequest,
    RestoreStatus,
    WorkloadStatus,
)
from tests.steps.cloudfakes import START
from tests.steps.kubefakes import CLOCK, FakeCluster, kube_env

BACKUP = BackupInfo("daily-1", "Completed", "default", START, START, "daily", ("production",))
RESTORE = VeleroRestoreParams.model_validate(
    {
        "schedule": "daily",
        "include_namespaces": ["production"],
        "namespace_mapping": {"production": "dr-test"},
    }
)


def restoring(*script: object) -> FakeCluster:
    cluster = FakeCluster()
    cluster.velero_api.backups_.append(BACKUP)
    cluster.velero_api.restore_script.extend(script)
    return cluster


def status(phase: str, items: int = 0) -> RestoreStatus:
    return RestoreStatus(name="r", phase=phase, items_restored=items, total_items=10)


def test_a_restore_wait_resumes_after_5xx_and_429_honouring_retry_after() -> None:
    cluster = restoring(
        status("InProgress", 2),
        TransientError("503 Service Unavailable"),
        status("InProgress", 6),
        TransientError("429 Too Many Requests", retry_after_s=7.0),
        status("Completed", 10),
    )
    env = kube_env(cluster)
    started = CLOCK.monotonic()
    result = VeleroRestore().run(RESTORE, env)
    assert result.facts["phase"] == "Completed"
    assert cluster.velero_api.creates == 1  # resumed the wait; never made a second Restore
    assert CLOCK.monotonic() - started >= 7.0  # waited as the server asked


def test_a_retried_restore_adopts_the_one_its_first_try_created() -> None:
    cluster = restoring(TransientError("connection reset"))
    env = kube_env(cluster, timeout_s=0.001)
    with pytest.raises(StepTimedOut):
        VeleroRestore().run(RESTORE, env)
    cluster.velero_api.restore_script.append(status("Completed", 10))
    result = VeleroRestore().run(RESTORE, kube_env(cluster))
    assert result.facts["phase"] == "Completed"
    assert cluster.velero_api.creates == 2
    assert len(cluster.velero_api.restores) == 1  # the second create adopted the first


def test_a_restore_that_never_finishes_says_where_it_stuck() -> None:
    cluster = restoring(status("InProgress", 4))
    with pytest.raises(StepTimedOut, match=r"stuck in phase InProgress \(4/10 items restored\)"):
        VeleroRestore().run(RESTORE, kube_env(cluster, timeout_s=30))


def test_a_drill_never_restores_into_a_namespace_that_exists() -> None:
    cluster = restoring(status("Completed", 10))
    cluster.kube_api.namespaces["dr-test"] = NamespaceInfo("dr-test", "Active", {})
    with pytest.raises(StepFailed, match="refused: namespace dr-test already exists"):
        VeleroRestore().run(RESTORE, kube_env(cluster))
    assert cluster.velero_api.restores == {}


def test_live_mode_may_restore_into_an_existing_namespace() -> None:
    cluster = restoring(status("Completed", 10))
    cluster.kube_api.namespaces["dr-test"] = NamespaceInfo("dr-test", "Active", {})
    VeleroRestore().run(RESTORE, kube_env(cluster, mode="live"))
    assert len(cluster.velero_api.restores) == 1


def test_a_drill_restores_into_a_namespace_this_run_created() -> None:
    cluster = restoring(status("Completed", 10))
    owned = {"drill.dev/run-id": "run-1"}
    cluster.kube_api.namespaces["dr-test"] = NamespaceInfo("dr-test", "Active", owned)
    VeleroRestore().run(RESTORE, kube_env(cluster))
    assert len(cluster.velero_api.restores) == 1


JOB = KubeJobParams.model_validate({"namespace": "dr-test", "image": "curl", "command": ["true"]})


def test_a_retried_job_adopts_the_one_already_running() -> None:
    cluster = FakeCluster()
    cluster.kube_api.job_script.extend(
        [JobStatus("j", "running"), TransientError("410 Gone"), JobStatus("j", "succeeded")]
    )
    env = kube_env(cluster)
    name = env.object_name(JOB.name_prefix)
    cluster.kube_api.jobs[name] = JobSpec("dr-test", name, "curl", ["true"], {}, {}, 60)
    result = KubeJob().run(JOB, env)
    assert result.summary == f"job {name} succeeded"
    assert cluster.kube_api.created_jobs == 0  # adopted, not run twice
    assert name not in cluster.kube_api.jobs  # removed once finished


PULL_BACKOFF = 'j-x7k2p: ImagePullBackOff: Back-off pulling image "curl"'


def test_a_job_that_runs_out_its_deadline_says_what_its_pods_waited_on() -> None:
    """Kubernetes deletes the pods of a Job past its deadline: what they waited on is only
    known from before, and is what the operator needs to read."""
    cluster = FakeCluster()
    cluster.kube_api.job_script.extend(
        [
            JobStatus("j", "running"),
            JobStatus("j", "running", waiting=(PULL_BACKOFF,)),
            JobStatus("j", "failed", "Job was active longer than specified deadline"),
        ]
    )
    with pytest.raises(StepFailed) as failed:
        KubeJob().run(JOB, kube_env(cluster))
    assert (
        "failed: Job was active longer than specified deadline "
        f"(its pods waited on: {PULL_BACKOFF})\n"
    ) in str(failed.value)


def test_a_job_still_running_at_the_timeout_says_what_its_pods_wait_on() -> None:
    cluster = FakeCluster()
    cluster.kube_api.job_script.extend([JobStatus("j", "running", waiting=(PULL_BACKOFF,))])
    with pytest.raises(StepTimedOut) as timed_out:
        KubeJob().run(JOB, kube_env(cluster))
    assert str(timed_out.value).endswith(f"still running (its pods waited on: {PULL_BACKOFF})")


def test_a_job_whose_pods_run_again_says_nothing_of_an_earlier_wait() -> None:
    cluster = FakeCluster()
    cluster.kube_api.job_script.extend(
        [
            JobStatus("j", "running", waiting=(PULL_BACKOFF,)),
            JobStatus("j", "running"),
            JobStatus("j", "failed", "BackoffLimitExceeded"),
        ]
    )
    with pytest.raises(StepFailed) as failed:
        KubeJob().run(JOB, kube_env(cluster))
    assert "waited on" not in str(failed.value)
    assert "failed: BackoffLimitExceeded\n" in str(failed.value)


def test_readiness_waits_through_faults() -> None:
    cluster = FakeCluster()
    ready = WorkloadStatus("Deployment", "dr-test", "api", 3, 3, 3, 3)
    not_yet = WorkloadStatus("Deployment", "dr-test", "api", 3, 1, 1, 1)
    cluster.kube_api.workload_script.extend(
        [[not_yet], TransientError("500 Internal Server Error"), [ready]]
    )
    params = KubeWaitReadyParams.model_validate({"namespace": "dr-test", "selector": "app=api"})
    result = KubeWaitReady().run(params, kube_env(cluster))
    assert result.facts["ready_replicas"] == 3


@pytest.mark.parametrize(
    ("last", "said"),
    [
        # Mid-rollout every replica is ready, old ones among them: the rollout says what is left.
        (
            WorkloadStatus("Deployment", "dr-test", "api", 3, 3, 3, 3, pods=4),
            "not ready: Deployment api 3/3 ready, 1 old replicas pending termination",
        ),
        # Replicas missing: the count says so, and nothing more is added...
        (
            WorkloadStatus("Deployment", "dr-test", "api", 3, 1, 3, 1, pods=3),
            "not ready: Deployment api 1/3 ready",
        ),
        # ...unless the Deployment is paused: then none will come until it is resumed.
        (
            WorkloadStatus("Deployment", "dr-test", "api", 3, 0, 0, 0, pods=0, paused=True),
            "not ready: Deployment api 0/3 ready, paused (spec.paused): nothing rolls out until "
            "it is resumed",
        ),
    ],
)
def test_a_wait_that_times_out_says_what_each_workload_still_lacks(
    last: WorkloadStatus, said: str
) -> None:
    cluster = FakeCluster()
    cluster.kube_api.workload_script.append([last])
    params = KubeWaitReadyParams.model_validate({"namespace": "dr-test", "selector": "app=api"})
    with pytest.raises(StepTimedOut) as timed_out:
        KubeWaitReady().run(params, kube_env(cluster))
    assert str(timed_out.value) == said


SCALE = KubeScaleParams.model_validate({"namespace": "dr-test", "name": "api", "replicas": 20})


@pytest.mark.parametrize("replicas", [1, 11])
def test_a_scale_an_autoscaler_would_put_back_is_refused_before_anything_changes(
    replicas: int,
) -> None:
    cluster = FakeCluster()
    cluster.kube_api.replicas["dr-test/api"] = 3
    cluster.kube_api.autoscalers["dr-test/api"] = [AutoscalerInfo("api", 2, 10)]
    params = SCALE.model_copy(update={"replicas": replicas})
    with pytest.raises(StepFailed) as refused:
        KubeScale().run(params, kube_env(cluster))
    assert str(refused.value) == (
        "Deployment dr-test/api is scaled by HorizontalPodAutoscaler api (min 2, max 10): it "
        f"would move {replicas} replicas back within those bounds; scale it to a count within "
        "them, or change the autoscaler's bounds first; nothing changed"
    )
    assert cluster.kube_api.replicas["dr-test/api"] == 3


@pytest.mark.parametrize(
    ("replicas", "autoscaled", "noted"),
    [(10, True, True), (0, True, False), (20, False, False)],  # at 0 an autoscaler stands aside
)
def test_a_scale_within_an_autoscaler_s_bounds_or_to_zero_goes_ahead(
    replicas: int, autoscaled: bool, noted: bool
) -> None:
    cluster = FakeCluster()
    cluster.kube_api.replicas["dr-test/api"] = 3
    if autoscaled:
        cluster.kube_api.autoscalers["dr-test/api"] = [AutoscalerInfo("api", 2, 10)]
    result = KubeScale().run(SCALE.model_copy(update={"replicas": replicas}), kube_env(cluster))
    assert cluster.kube_api.replicas["dr-test/api"] == replicas
    assert result.summary.startswith(f"Deployment dr-test/api scaled 3 -> {replicas}")
    note = "; HorizontalPodAutoscaler api (min 2, max 10) may move it"
    assert result.summary.endswith(note) == noted


def test_scale_undo_puts_back_only_what_drill_set() -> None:
    cluster = FakeCluster()
    cluster.kube_api.replicas["dr-test/api"] = 2
    env = kube_env(cluster)
    prior = KubeScale().capture_prior_state(SCALE, env)
    KubeScale().run(SCALE, env)
    assert KubeScale().undo(SCALE, prior, env) == "Deployment dr-test/api back to 2 replicas"
    assert cluster.kube_api.replicas["dr-test/api"] == 2


def test_scale_undo_leaves_an_operators_later_count_alone() -> None:
    cluster = FakeCluster()
    cluster.kube_api.replicas["dr-test/api"] = 2
    env = kube_env(cluster)
    prior = KubeScale().capture_prior_state(SCALE, env)
    KubeScale().run(SCALE, env)
    cluster.kube_api.replicas["dr-test/api"] = 30  # an operator scaled it further
    with pytest.raises(StepFailed, match="now has 30 replicas, not the 20 drill set"):
        KubeScale().undo(SCALE, prior, env)
    assert cluster.kube_api.replicas["dr-test/api"] == 30


def test_scale_undo_of_a_scale_that_never_applied_changes_nothing() -> None:
    cluster = FakeCluster()
    cluster.kube_api.replicas["dr-test/api"] = 2
    env = kube_env(cluster)
    prior = KubeScale().capture_prior_state(SCALE, env)
    assert "already at 2 replicas" in KubeScale().undo(SCALE, prior, env)


CREATE = KubeNamespaceParams.model_validate({"action": "create", "name": "dr-test"})


def test_creating_a_namespace_waits_for_an_earlier_runs_copy_to_terminate() -> None:
    cluster = FakeCluster()
    old = {"drill.dev/run-id": "run-0"}
    cluster.kube_api.namespaces["dr-test"] = NamespaceInfo("dr-test", "Terminating", old)
    cluster.kube_api.terminating_polls = 3
    result = KubeNamespace().run(CREATE, kube_env(cluster))
    assert result.summary == "created namespace dr-test"
    assert cluster.kube_api.namespaces["dr-test"].labels["drill.dev/run-id"] == "run-1"


def test_a_retried_namespace_creation_adopts_its_own_namespace() -> None:
    cluster = FakeCluster()
    owned = {"drill.dev/run-id": "run-1"}
    cluster.kube_api.namespaces["dr-test"] = NamespaceInfo("dr-test", "Active", owned)
    result = KubeNamespace().run(CREATE, kube_env(cluster))
    assert "created by this run's earlier try" in result.summary


def test_an_existing_namespace_of_someone_else_is_never_taken_over() -> None:
    cluster = FakeCluster()
    cluster.kube_api.namespaces["dr-test"] = NamespaceInfo("dr-test", "Active", {})
    with pytest.raises(StepFailed, match=r"already exists, created \(not by drill\)"):
        KubeNamespace().run(CREATE, kube_env(cluster))


# --- what a restore brought, and the smoke Job, removed by undo ---------------------------------

LIVE_RESTORE = VeleroRestoreParams.model_validate(
    {"schedule": "daily", "include_namespaces": ["production"]}
)
BEFORE = START - timedelta(days=30)
AFTER = START + timedelta(seconds=5)


def production_after_a_restore(restore: str) -> FakeCluster:
    """Production existed; the restore added a Deployment and a ConfigMap, labelled with its
    name; an operator's ConfigMap and an object of another restore are there too."""
    cluster = FakeCluster()
    cluster.kube_api.namespaces["production"] = NamespaceInfo("production", "Active", {})
    cluster.velero_api.restores[restore] = _request_named(restore)
    ours = {"velero.io/restore-name": restore}
    cluster.kube_api.objects["production"] = [
        ("Deployment", "api", ours, AFTER),
        ("ConfigMap", "settings", ours, AFTER),
        ("ConfigMap", "updated-by-restore", ours, BEFORE),
        ("ConfigMap", "operator-notes", {}, BEFORE),
        ("Secret", "other", {"velero.io/restore-name": "someone-elses"}, AFTER),
    ]
    return cluster


def _request_named(name: str) -> RestoreRequest:
    return RestoreRequest(
        name, "daily-1", None, ["production"], [], {}, [], [], None, True, False, "none", {}
    )


def left_in_production(cluster: FakeCluster) -> list[str]:
    return [name for _, name, _, _ in cluster.kube_api.objects["production"]]


def test_live_rollback_removes_only_what_the_restore_labelled_in_production() -> None:
    restore = kube_env(FakeCluster()).object_name("drill")
    cluster = production_after_a_restore(restore)
    env = kube_env(cluster, mode="live")
    prior: JsonValue = {"restore": restore, "existing_namespaces": ["production"]}
    detail = VeleroRestore().undo(LIVE_RESTORE, prior, env)
    assert left_in_production(cluster) == ["operator-notes", "other"]
    assert "production" in cluster.kube_api.namespaces  # never the namespace itself
    assert cluster.kube_api.deleted_namespaces == []
    assert restore not in cluster.velero_api.restores
    assert "3 object(s) it restored" in detail
    assert "Deployment api in production" in detail


def test_with_update_policy_only_objects_created_since_the_restore_started_go() -> None:
    restore = kube_env(FakeCluster()).object_name("drill")
    cluster = production_after_a_restore(restore)
    params = LIVE_RESTORE.model_copy(update={"existing_resource_policy": "update"})
    prior: JsonValue = {"restore": restore, "existing_namespaces": ["production"]}
    VeleroRestore().undo(params, prior, kube_env(cluster, mode="live"))
    assert left_in_production(cluster) == ["updated-by-restore", "operator-notes", "other"]


def test_with_update_policy_and_the_restore_gone_nothing_is_deleted_and_undo_says_so() -> None:
    restore = kube_env(FakeCluster()).object_name("drill")
    cluster = production_after_a_restore(restore)
    del cluster.velero_api.restores[restore]
    params = LIVE_RESTORE.model_copy(update={"existing_resource_policy": "update"})
    prior: JsonValue = {"restore": restore, "existing_namespaces": ["production"]}
    with pytest.raises(StepFailed, match="cannot be told from what it updated"):
        VeleroRestore().undo(params, prior, kube_env(cluster, mode="live"))
    assert len(left_in_production(cluster)) == 5


def test_a_drills_own_namespace_is_left_to_the_undo_that_deletes_it_whole() -> None:
    restore = kube_env(FakeCluster()).object_name("drill")
    cluster = FakeCluster()
    owned = {"drill.dev/run-id": "run-1"}
    cluster.kube_api.namespaces["dr-test"] = NamespaceInfo("dr-test", "Active", owned)
    cluster.kube_api.objects["dr-test"] = [
        ("Deployment", "api", {"velero.io/restore-name": restore}, AFTER)
    ]
    prior: JsonValue = {"restore": restore, "existing_namespaces": ["dr-test"]}
    detail = VeleroRestore().undo(RESTORE, prior, kube_env(cluster))
    assert detail == f"deleted restore {restore}"
    assert len(cluster.kube_api.objects["dr-test"]) == 1
    assert cluster.kube_api.deleted_namespaces == []


def test_excluded_namespaces_and_item_operation_timeout_are_requested() -> None:
    cluster = restoring(status("Completed", 10))
    params = VeleroRestoreParams.model_validate(
        {
            "schedule": "daily",
            "namespace_mapping": {"production": "dr-test"},
            "exclude_namespaces": ["kube-system"],
            "item_operation_timeout": "2h",
        }
    )
    VeleroRestore().run(params, kube_env(cluster))
    [request] = cluster.velero_api.restores.values()
    assert list(request.excluded_namespaces) == ["kube-system"]
    assert request.item_operation_timeout_s == 7200.0


def test_the_smoke_job_is_undone_only_while_it_is_this_runs() -> None:
    cluster = FakeCluster()
    env = kube_env(cluster)
    prior = KubeJob().capture_prior_state(JOB, env)
    name = env.object_name(JOB.name_prefix)
    assert prior == {"job": name, "existed": False}
    assert KubeJob().undo(JOB, prior, env) == f"job dr-test/{name} already gone"
    labels = env.run_labels()
    cluster.kube_api.jobs[name] = JobSpec("dr-test", name, "curl", ["true"], {}, labels, 60)
    assert KubeJob().undo(JOB, prior, env) == f"deleted job dr-test/{name}"
    assert name not in cluster.kube_api.jobs
    cluster.kube_api.jobs[name] = JobSpec("dr-test", name, "curl", ["true"], {}, {}, 60)
    assert "left alone: not started by this run" in KubeJob().undo(JOB, prior, env)
    assert name in cluster.kube_api.jobs


def test_a_scale_someone_made_after_drill_read_it_is_refused_not_overwritten() -> None:
    cluster = FakeCluster()
    cluster.kube_api.replicas["dr-test/api"] = 2
    env = kube_env(cluster)
    prior = KubeScale().capture_prior_state(SCALE, env)
    cluster.kube_api.replicas["dr-test/api"] = 5  # an operator, between read and change
    with pytest.raises(Conflict, match="has 5 replicas, not the 2 drill read"):
        KubeScale().run(SCALE, replace(env, prior=prior))
    assert cluster.kube_api.replicas["dr-test/api"] == 5


def test_a_drill_restore_waits_for_an_earlier_runs_namespace_to_finish_terminating() -> None:
    cluster = restoring(status("Completed", 10))
    earlier = {"drill.dev/run-id": "run-0"}
    cluster.kube_api.namespaces["dr-test"] = NamespaceInfo("dr-test", "Terminating", earlier)
    cluster.kube_api.terminating_polls = 4
    env = kube_env(cluster)
    prior = VeleroRestore().capture_prior_state(RESTORE, env)
    assert prior == {"restore": env.object_name("drill"), "existing_namespaces": []}
    result = VeleroRestore().run(RESTORE, env)
    assert result.facts["phase"] == "Completed"
    assert "dr-test" not in cluster.kube_api.namespaces  # gone before the restore was made
    cluster.kube_api.namespaces["dr-test"] = NamespaceInfo("dr-test", "Active", {})  # Velero's
    VeleroRestore().undo(RESTORE, prior, env)
    assert cluster.kube_api.deleted_namespaces == ["dr-test"]  # made by this run: goes whole
