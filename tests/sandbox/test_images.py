"""Container images: the API server takes any image without whitespace at its ends; the
kubelet parses each before pulling, and a pod with one it cannot parse stays Pending with the
container waiting on ``InvalidImageName``, so its Deployment never gets ready and its Job
runs out its deadline."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from kubernetes.client.exceptions import ApiException

from drill.clock import FakeClock
from drill.sandbox.kube.controllers.images import unparseable
from tests.sandbox.helpers import Cluster, deployment


def advance(cluster: Cluster, clock: FakeClock, seconds: float) -> None:
    clock.advance(seconds)
    cluster.emulator.tick()
    cluster.emulator.tick()


@pytest.mark.parametrize(
    "image",
    [
        "busybox",
        "busybox:1.36",
        "curlimages/curl:8.10.1",
        "MyRegistry/tools",  # a capital in the first part: a registry's name
        "localhost:5000/tools:v1",
        "index.docker.io/library/nginx",
        "[::1]:5000/tools",
        "nginx@sha256:" + "0" * 64,
    ],
)
def test_images_the_kubelet_parses(image: str) -> None:
    assert unparseable(image) is None


@pytest.mark.parametrize(
    ("image", "why"),
    [
        ("Nginx", "repository name (library/Nginx) must be lowercase"),
        ("gcr.io/Proj/app", "repository name (Proj/app) must be lowercase"),
        ("nginx: 1.27", "invalid reference format"),
        ("nginx:1.27:x", "invalid reference format"),
        ("nginx@sha256:abc", "invalid reference format"),
        ("a" * 64, "cannot specify 64-byte hexadecimal strings"),
        ("registry.example.com/" + "a" * 240, "must not be more than 255 characters"),
    ],
)
def test_images_the_kubelet_cannot_parse(image: str, why: str) -> None:
    said = unparseable(image)
    assert said is not None
    assert said.startswith(f'Failed to apply default image tag "{image}": couldn\'t parse')
    assert said.endswith(why)


def test_a_pod_with_an_image_the_kubelet_cannot_parse_stays_pending(
    still_cluster: Cluster, fake_clock: FakeClock, tmp_path: Path
) -> None:
    manifest = deployment("web", replicas=1)
    manifest["spec"]["template"]["spec"]["containers"][0]["image"] = "Nginx:1.27"
    still_cluster.apps.create_namespaced_deployment("default", manifest)
    for _ in range(3):
        advance(still_cluster, fake_clock, 10)
    [pod] = still_cluster.core.list_namespaced_pod("default").items
    assert pod.status.phase == "Pending"
    waiting = pod.status.container_statuses[0].state.waiting
    assert waiting.reason == "InvalidImageName"
    assert "must be lowercase" in waiting.message
    status = still_cluster.apps.read_namespaced_deployment_status("web", "default").status
    assert not status.ready_replicas
    kubectl = ["kubectl", "--kubeconfig", str(still_cluster.kubeconfig), "--context", "sandbox"]
    listed = subprocess.run(
        [*kubectl, "get", "pods", "--no-headers"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert listed.stdout.split()[2] == "InvalidImageName"


def test_a_job_with_an_image_the_kubelet_cannot_parse_runs_out_its_deadline(
    still_cluster: Cluster, fake_clock: FakeClock
) -> None:
    container = {"name": "smoke", "image": "curlimages/curl: 8.10.1", "command": ["true"]}
    job = {
        "metadata": {"name": "smoke"},
        "spec": {
            "activeDeadlineSeconds": 30,
            "template": {"spec": {"restartPolicy": "Never", "containers": [container]}},
        },
    }
    still_cluster.batch.create_namespaced_job("default", job)
    advance(still_cluster, fake_clock, 0)
    advance(still_cluster, fake_clock, 20)
    assert not still_cluster.batch.read_namespaced_job_status("smoke", "default").status.succeeded
    advance(still_cluster, fake_clock, 15)
    status = still_cluster.batch.read_namespaced_job_status("smoke", "default").status
    failed = [c for c in status.conditions or [] if c.type == "Failed"]
    assert [c.reason for c in failed] == ["DeadlineExceeded"]


@pytest.mark.parametrize("image", [" nginx", "nginx\n"])
def test_an_image_with_whitespace_at_its_ends_is_refused(
    still_cluster: Cluster, image: str
) -> None:
    manifest = deployment("web")
    manifest["spec"]["template"]["spec"]["containers"][0]["image"] = image
    with pytest.raises(ApiException) as refused:
        still_cluster.apps.create_namespaced_deployment("default", manifest)
    assert refused.value.status == 422
    causes = json.loads(refused.value.body)["details"]["causes"]
    assert causes == [
        {
            "reason": "FieldValueInvalid",
            "message": f"Invalid value: {json.dumps(image)}: must not have leading or "
            "trailing whitespace",
            "field": "spec.template.spec.containers[0].image",
        }
    ]
