"""HorizontalPodAutoscalers: served as autoscaling/v2, validated as the API server does, and
holding their target within bounds (the sandbox has no metrics, so only the bounds act)."""

from __future__ import annotations

import json
import subprocess

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from drill.clock import FakeClock
from tests.sandbox.helpers import Cluster, autoscaler, deployment


def scaled(cluster: Cluster, name: str, count: int) -> int:
    """Scale Deployment ``name`` to ``count`` (as `kubectl scale` does); its replicas after
    one pass of the controllers."""
    cluster.apps.patch_namespaced_deployment_scale(name, "default", {"spec": {"replicas": count}})
    cluster.emulator.tick()
    return replicas(cluster, name)


def replicas(cluster: Cluster, name: str) -> int:
    # A Scale leaves a count of 0 out (omitempty).
    return int(cluster.apps.read_namespaced_deployment_scale(name, "default").spec.replicas or 0)


@pytest.fixture
def hpa(still_cluster: Cluster) -> client.AutoscalingV2Api:
    return client.AutoscalingV2Api(still_cluster.api_client)


def test_a_scale_past_the_autoscaler_s_maximum_is_put_back_with_an_event(
    still_cluster: Cluster, fake_clock: FakeClock, hpa: client.AutoscalingV2Api
) -> None:
    still_cluster.apps.create_namespaced_deployment("default", deployment("api", replicas=3))
    hpa.create_namespaced_horizontal_pod_autoscaler("default", autoscaler("api", 2, 5))
    still_cluster.emulator.tick()
    assert replicas(still_cluster, "api") == 3
    assert scaled(still_cluster, "api", 20) == 5
    status = hpa.read_namespaced_horizontal_pod_autoscaler_status("api", "default").status
    assert (status.current_replicas, status.desired_replicas) == (20, 5)
    events = still_cluster.core.list_namespaced_event("default").items
    said = "New size: 5; reason: Current number of replicas above Spec.MaxReplicas"
    assert [
        (e.type, e.reason, e.message)
        for e in events
        if e.involved_object.kind == "HorizontalPodAutoscaler"
    ] == [("Normal", "SuccessfulRescale", said)]


def test_a_scale_below_the_minimum_is_put_back_and_zero_disables_scaling(
    still_cluster: Cluster, hpa: client.AutoscalingV2Api
) -> None:
    still_cluster.apps.create_namespaced_deployment("default", deployment("api", replicas=3))
    hpa.create_namespaced_horizontal_pod_autoscaler("default", autoscaler("api", 2, 5))
    assert scaled(still_cluster, "api", 1) == 2
    assert scaled(still_cluster, "api", 0) == 0
    status = hpa.read_namespaced_horizontal_pod_autoscaler_status("api", "default").status
    active = next(c for c in status.conditions if c.type == "ScalingActive")
    assert (active.status, active.reason) == ("False", "ScalingDisabled")


def test_an_autoscaler_is_defaulted_and_shown_by_kubectl(
    still_cluster: Cluster, hpa: client.AutoscalingV2Api
) -> None:
    still_cluster.apps.create_namespaced_deployment("default", deployment("api", replicas=3))
    created = hpa.create_namespaced_horizontal_pod_autoscaler("default", autoscaler("api", None, 4))
    assert created.spec.min_replicas == 1
    assert created.spec.metrics[0].resource.name == "cpu"
    still_cluster.emulator.tick()
    kubectl = ["kubectl", "--kubeconfig", str(still_cluster.kubeconfig), "--context", "sandbox"]
    shown = subprocess.run([*kubectl, "get", "hpa"], capture_output=True, text=True, timeout=30)
    assert shown.returncode == 0, shown.stderr
    header, row = shown.stdout.splitlines()
    assert header.split() == [
        "NAME", "REFERENCE", "TARGETS", "MINPODS", "MAXPODS", "REPLICAS", "AGE"
    ]  # fmt: skip
    assert row.split()[:7] == ["api", "Deployment/api", "cpu:", "<unknown>/80%", "1", "4", "3"]


@pytest.mark.parametrize(
    ("least", "most", "causes"),
    [
        (0, 3, [("spec.minReplicas", "Invalid value: 0: must be greater than or equal to 1")]),
        (1, 0, [("spec.maxReplicas", "Invalid value: 0: must be greater than 0")]),
        (4, 3, [("spec.maxReplicas",
                 "Invalid value: 3: must be greater than or equal to `minReplicas`")]),
    ],
)  # fmt: skip
def test_bounds_the_api_server_refuses(
    hpa: client.AutoscalingV2Api, least: int, most: int, causes: list[tuple[str, str]]
) -> None:
    with pytest.raises(ApiException) as refused:
        hpa.create_namespaced_horizontal_pod_autoscaler("default", autoscaler("api", least, most))
    assert refused.value.status == 422
    found = json.loads(refused.value.body)["details"]["causes"]
    assert [(c["field"], c["message"]) for c in found] == causes


def test_kubectl_get_events_shows_the_rescale_with_the_api_server_s_columns(
    still_cluster: Cluster, hpa: client.AutoscalingV2Api
) -> None:
    still_cluster.apps.create_namespaced_deployment("default", deployment("api", replicas=9))
    hpa.create_namespaced_horizontal_pod_autoscaler("default", autoscaler("api", 2, 5))
    still_cluster.emulator.tick()
    kubectl = ["kubectl", "--kubeconfig", str(still_cluster.kubeconfig), "--context", "sandbox"]
    shown = subprocess.run(
        [*kubectl, "get", "events", "--field-selector", "reason=SuccessfulRescale"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert shown.returncode == 0, shown.stderr
    header, row = shown.stdout.splitlines()
    assert header.split() == ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    assert row.split()[1:5] == ["Normal", "SuccessfulRescale", "horizontalpodautoscaler/api", "New"]
    assert row.endswith("New size: 5; reason: Current number of replicas above Spec.MaxReplicas")
    wide = subprocess.run(
        [*kubectl, "get", "events", "-o", "wide", "--field-selector", "reason=SuccessfulRescale"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert wide.stdout.split()[:10] == [
        "LAST", "SEEN", "TYPE", "REASON", "OBJECT",
        "SUBOBJECT", "SOURCE", "MESSAGE", "FIRST", "SEEN",
    ]  # fmt: skip
    assert "horizontal-pod-autoscaler" in wide.stdout
