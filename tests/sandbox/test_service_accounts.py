"""ServiceAccounts: every namespace's ``default``, and the admission that refuses a pod whose
account does not exist (directly, and for the pods controllers make)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes.client.exceptions import ApiException

from drill.clock import FakeClock
from tests.sandbox.helpers import Cluster, deployment, wait_for
from tests.sandbox.test_controllers import advance, job

MISSING = 'error looking up service account shop/robot: serviceaccount "robot" not found'


def accounts(cluster: Cluster, namespace: str) -> list[str]:
    found = cluster.core.list_namespaced_service_account(namespace).items
    return [a.metadata.name for a in found]


def pod_body(name: str = "p", *, generate: bool = False, **spec: Any) -> dict[str, Any]:
    metadata = {"generateName": name} if generate else {"name": name}
    container = {"name": "app", "image": "nginx:1.27"}
    return {"metadata": metadata, "spec": {"containers": [container], **spec}}


def as_robot(body: dict[str, Any]) -> dict[str, Any]:
    """A workload or Job whose pods run as ServiceAccount ``robot``."""
    body["spec"]["template"]["spec"]["serviceAccountName"] = "robot"
    return body


def events(cluster: Cluster, namespace: str, name: str) -> list[tuple[str, str, str]]:
    found = cluster.core.list_namespaced_event(namespace).items
    return [(e.type, e.reason, e.message) for e in found if e.involved_object.name == name]


def test_every_namespace_has_a_default_service_account(cluster: Cluster) -> None:
    for namespace in ("default", "kube-system", "kube-public", "velero"):
        assert "default" in accounts(cluster, namespace)
    ns = cluster.namespace("shop")
    wait_for(lambda: "default" in accounts(cluster, ns))
    cluster.core.delete_namespaced_service_account("default", ns)
    wait_for(lambda: "default" in accounts(cluster, ns))  # made again, as the controller does


def test_a_pod_runs_as_default_unless_it_names_an_account(still_cluster: Cluster) -> None:
    cluster = still_cluster
    ns = cluster.namespace("shop")
    made = cluster.core.create_namespaced_pod(ns, pod_body())
    assert (made.spec.service_account_name, made.spec.service_account) == ("default", "default")

    with pytest.raises(ApiException) as refused:
        cluster.core.create_namespaced_pod(ns, pod_body("q", serviceAccountName="robot"))
    status = json.loads(refused.value.body)
    assert (refused.value.status, status["reason"]) == (403, "Forbidden")
    assert status["message"] == f'pods "q" is forbidden: {MISSING}'
    body = pod_body("q-", generate=True, serviceAccountName="robot")
    with pytest.raises(ApiException) as generated:
        cluster.core.create_namespaced_pod(ns, body)
    assert json.loads(generated.value.body)["message"] == f'pods "q-" is forbidden: {MISSING}'
    with pytest.raises(ApiException) as deprecated:  # the v1 field it replaced counts too
        cluster.core.create_namespaced_pod(ns, pod_body("q", serviceAccount="robot"))
    assert json.loads(deprecated.value.body)["message"] == f'pods "q" is forbidden: {MISSING}'
    with pytest.raises(ApiException) as dry:
        cluster.core.create_namespaced_pod(
            ns, pod_body("q", serviceAccountName="robot"), dry_run="All"
        )
    assert dry.value.status == 403

    cluster.core.create_namespaced_service_account(ns, {"metadata": {"name": "robot"}})
    robot = cluster.core.create_namespaced_pod(ns, pod_body("q", serviceAccountName="robot"))
    assert robot.spec.service_account_name == "robot"


def test_a_deployment_whose_account_is_missing_never_gets_ready(
    still_cluster: Cluster, fake_clock: FakeClock
) -> None:
    """The ReplicaSet's pod control is refused: a FailedCreate event and the Deployment's
    ReplicaFailure condition, until the account exists."""
    cluster = still_cluster
    ns = cluster.namespace("shop")
    cluster.apps.create_namespaced_deployment(ns, as_robot(deployment("web")))
    advance(cluster, fake_clock, 10)
    status = cluster.apps.read_namespaced_deployment_status("web", ns).status
    assert (status.replicas, status.ready_replicas) == (0, 0)
    failure = [c for c in status.conditions if c.type == "ReplicaFailure"]
    assert [(c.status, c.reason) for c in failure] == [("True", "FailedCreate")]
    assert failure[0].message.endswith(f"is forbidden: {MISSING}")
    assert failure[0].message.startswith('pods "web-')  # its generateName
    [(kind, reason, message)] = events(cluster, ns, "web")  # once, however often it is tried
    assert (kind, reason, message) == (
        "Warning",
        "FailedCreate",
        f"Error creating: {failure[0].message}",
    )
    assert cluster.emulator.truth.ready_at(ns, "web") is None

    cluster.core.create_namespaced_service_account(ns, {"metadata": {"name": "robot"}})
    advance(cluster, fake_clock, 0)
    advance(cluster, fake_clock, 5)
    status = cluster.apps.read_namespaced_deployment_status("web", ns).status
    assert status.ready_replicas == 1
    assert "ReplicaFailure" not in {c.type for c in status.conditions}


def test_a_statefulset_whose_account_is_missing_makes_no_pod(
    still_cluster: Cluster, fake_clock: FakeClock
) -> None:
    cluster = still_cluster
    ns = cluster.namespace("shop")
    sts = as_robot(deployment("db"))
    sts["kind"] = "StatefulSet"
    sts["spec"]["serviceName"] = "db"
    cluster.apps.create_namespaced_stateful_set(ns, sts)
    advance(cluster, fake_clock, 10)
    assert cluster.core.list_namespaced_pod(ns).items == []
    assert events(cluster, ns, "db") == [
        (
            "Warning",
            "FailedCreate",
            f'create Pod db-0 in StatefulSet db failed error: pods "db-0" is forbidden: {MISSING}',
        )
    ]


def test_a_job_whose_account_is_missing_has_no_pod_and_runs_out_its_deadline(
    still_cluster: Cluster, fake_clock: FakeClock
) -> None:
    """The real Job controller sets startTime before it makes a pod: activeDeadlineSeconds
    counts from then, pod or no pod."""
    cluster = still_cluster
    ns = cluster.namespace("shop")
    smoke = as_robot(job("smoke"))
    smoke["spec"]["activeDeadlineSeconds"] = 30
    cluster.batch.create_namespaced_job(ns, smoke)
    advance(cluster, fake_clock, 0)
    advance(cluster, fake_clock, 10)
    found = cluster.batch.read_namespaced_job_status("smoke", ns)
    assert found.status.active is None
    assert found.status.start_time is not None
    assert events(cluster, ns, "smoke") == [
        ("Warning", "FailedCreate", f'Error creating: pods "smoke-" is forbidden: {MISSING}')
    ]
    advance(cluster, fake_clock, 25)
    conditions = cluster.batch.read_namespaced_job_status("smoke", ns).status.conditions or []
    assert [c.reason for c in conditions if c.type == "Failed"] == ["DeadlineExceeded"]
    assert cluster.core.list_namespaced_pod(ns).items == []
