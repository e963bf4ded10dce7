"""The Kubernetes adapter through the kubernetes client (kubeconfig, ApiClient, REST transport,
Watch) against the sandbox's emulator, over real HTTP.

The adapter asks for its paths itself and reads JSON; these check that what it reads and
writes is what the typed API would have: scale, workload status, namespaces, jobs and their
logs, leases with their times, and that it loads none of the generated API or model classes.
"""

from __future__ import annotations

import functools
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from drill.clock import SystemClock
from drill.errors import Conflict, NotFound, PermanentError, TransientError
from drill.executor import RunLease
from drill.logs import build_logger
from drill.sandbox.kube import KubeEmulator, write_kubeconfig
from providers import kube
from providers.protocols import AutoscalerInfo, JobSpec
from tests.providers.fresh import modules_loaded_by
from tests.sandbox.helpers import deployment, wait_for


def test_an_unknown_context_is_a_permanent_error_naming_it(tmp_path: Path) -> None:
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", {"sandbox": "http://127.0.0.1:1"})
    with pytest.raises(PermanentError, match="kube context 'nope'"):
        kube.connect("nope", str(kubeconfig), SystemClock())


def test_the_server_version_is_read(adapter: kube.KubeAdapter) -> None:
    assert adapter.server_version().startswith("v1.")


def test_scale_is_read_and_written_through_the_subresource(
    adapter: kube.KubeAdapter, emulator: KubeEmulator
) -> None:
    manifest = deployment("api", replicas=2)
    manifest["metadata"]["namespace"] = "default"
    emulator.apply(manifest)
    assert adapter.get_replicas("Deployment", "default", "api") == 2
    adapter.set_replicas("Deployment", "default", "api", 5)
    assert adapter.get_replicas("Deployment", "default", "api") == 5
    live = emulator.get("apps/v1", "Deployment", "api", "default")
    assert live is not None
    assert live["spec"]["replicas"] == 5
    assert live["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"


def test_scaling_a_missing_workload_is_not_found(adapter: kube.KubeAdapter) -> None:
    with pytest.raises(NotFound, match="sandbox: read scale of StatefulSet default/db"):
        adapter.get_replicas("StatefulSet", "default", "db")


def test_workloads_report_their_rollout_and_a_watch_sees_them_ready(
    adapter: kube.KubeAdapter, emulator: KubeEmulator
) -> None:
    manifest = deployment("api", replicas=2, labels={"app": "api", "tier": "web"})
    manifest["metadata"]["namespace"] = "default"
    emulator.apply(manifest)
    [fresh] = adapter.workloads("default", "tier=web")
    assert (fresh.kind, fresh.namespace, fresh.name, fresh.desired) == (
        "Deployment",
        "default",
        "api",
        2,
    )
    assert adapter.workloads("default", "tier=db") == []
    for listed in adapter.watch_workloads("default", "tier=web", timeout_s=5):
        if listed and listed[0].rolled_out:
            break
    else:
        pytest.fail("the deployment never rolled out")
    [ready] = listed
    assert (ready.ready, ready.available, ready.updated) == (2, 2, 2)
    assert any(c.startswith("Available=True") for c in ready.conditions)


def test_namespaces_are_created_read_and_deleted(adapter: kube.KubeAdapter) -> None:
    assert adapter.get_namespace("dr-test") is None
    adapter.create_namespace("dr-test", {"drill.dev/run": "r1"})
    found = adapter.get_namespace("dr-test")
    assert found is not None
    assert (found.phase, found.labels["drill.dev/run"]) == ("Active", "r1")
    with pytest.raises(Conflict, match="create namespace dr-test"):
        adapter.create_namespace("dr-test", {})
    adapter.delete_namespace("dr-test")
    adapter.delete_namespace("never-there")  # nothing to do
    wait_for(lambda: adapter.get_namespace("dr-test") is None)


def job(name: str) -> JobSpec:
    return JobSpec(
        namespace="default",
        name=name,
        image="busybox:1.36",
        command=("sh", "-c", "echo ok"),
        env={"TARGET": "http://api"},
        labels={"drill.dev/run": "r1"},
        active_deadline_s=60,
    )


def test_a_job_is_watched_to_success_and_its_log_read(
    adapter: kube.KubeAdapter, emulator: KubeEmulator
) -> None:
    adapter.create_job(job("smoke"))
    emulator.set_job_log("default", "smoke", "line 1\nline 2\nline 3\n")
    states = []
    for status in adapter.watch_job("default", "smoke", timeout_s=5):
        states.append(status.state)
        if status.state != "running":
            break  # as kube.job does: the watch itself goes on until its timeout
    assert states[-1] == "succeeded", states
    assert adapter.job_logs("default", "smoke", tail_lines=2) == "line 2\nline 3\n"
    adapter.delete_job("default", "smoke")
    adapter.delete_job("default", "smoke")  # already gone: nothing to do
    assert adapter.job_logs("default", "never-ran", tail_lines=5) == ""


def test_a_failed_job_says_so(adapter: kube.KubeAdapter, emulator: KubeEmulator) -> None:
    emulator.faults.fail_job("default", "broken")
    adapter.create_job(job("broken"))
    last = None
    for last in adapter.watch_job("default", "broken", timeout_s=5):
        if last.state != "running":
            break
    assert last is not None
    assert last.state == "failed"
    assert last.message


def test_a_running_job_says_what_its_pods_wait_on(
    adapter: kube.KubeAdapter, emulator: KubeEmulator
) -> None:
    """The kubelet cannot parse the image: the pod waits on InvalidImageName for good, and
    the Job's status says so while it runs (Kubernetes deletes its pods at the deadline)."""
    adapter.create_job(replace(job("stuck"), image="Curlimages/curl: 8.10.1"))
    waiting: tuple[str, ...] = ()
    for status in adapter.watch_job("default", "stuck", timeout_s=5):
        assert status.state == "running"
        waiting = tuple(status.waiting)
        if waiting:
            break
    [said] = waiting
    pod = emulator.list("v1", "Pod", "default")[0]["metadata"]["name"]
    assert said.startswith(f"{pod}: InvalidImageName: Failed to apply default image tag ")


def test_a_job_whose_pods_run_has_nothing_to_say_of_them(
    adapter: kube.KubeAdapter, emulator: KubeEmulator
) -> None:
    adapter.create_job(job("smoke"))
    for status in adapter.watch_job("default", "smoke", timeout_s=5):
        assert status.waiting == ()
        if status.state != "running":
            break


def test_the_autoscalers_of_a_workload_are_those_that_target_it(
    adapter: kube.KubeAdapter, emulator: KubeEmulator
) -> None:
    for name, kind, target in (
        ("api", "Deployment", "api"),
        ("api-too", "Deployment", "api"),
        ("db", "StatefulSet", "api"),  # another kind, the same name
        ("web", "Deployment", "web"),
    ):
        emulator.apply(
            {
                "apiVersion": "autoscaling/v2",
                "kind": "HorizontalPodAutoscaler",
                "metadata": {"name": name, "namespace": "default"},
                "spec": {
                    "scaleTargetRef": {"apiVersion": "apps/v1", "kind": kind, "name": target},
                    "minReplicas": 2,
                    "maxReplicas": 6,
                },
            }
        )
    found = adapter.autoscalers_of("Deployment", "default", "api")
    assert sorted(found, key=lambda a: a.name) == [
        AutoscalerInfo("api", 2, 6),
        AutoscalerInfo("api-too", 2, 6),
    ]
    assert adapter.autoscalers_of("Deployment", "other", "api") == []


def test_a_lease_is_taken_held_against_others_and_released(
    adapter: kube.KubeAdapter, emulator: KubeEmulator
) -> None:
    taken = adapter.acquire_lease("default", "drill-api", "run-1", 60)
    assert taken.holder == "run-1"
    with pytest.raises(Conflict, match="another run holds lease default/drill-api: run-1") as held:
        adapter.acquire_lease("default", "drill-api", "run-2", 60)
    assert "expires 60s after that" in str(held.value)
    live = emulator.get("coordination.k8s.io/v1", "Lease", "drill-api", "default")
    assert live is not None
    renewed = datetime.fromisoformat(live["spec"]["renewTime"])
    assert abs(renewed - datetime.now(UTC)) < timedelta(minutes=1)
    adapter.release_lease("default", "drill-api", "run-2")  # not its lease: kept
    assert emulator.get("coordination.k8s.io/v1", "Lease", "drill-api", "default") is not None
    adapter.release_lease("default", "drill-api", "run-1")
    assert emulator.get("coordination.k8s.io/v1", "Lease", "drill-api", "default") is None


def test_an_expired_lease_is_taken_over(adapter: kube.KubeAdapter) -> None:
    adapter.acquire_lease("default", "drill-api", "crashed-run", 1)
    stale = datetime.now(UTC) - timedelta(seconds=5)
    # Renewed long ago: written as a crashed run would have left it.
    adapter.request(
        "age the lease",
        "PATCH",
        kube.LEASES_PATH + "/{name}",
        params={"namespace": "default", "name": "drill-api"},
        body={"spec": {"renewTime": stale.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}},
        content_type=kube.STRATEGIC_MERGE,
    )
    taken = adapter.acquire_lease("default", "drill-api", "run-2", 60)
    assert taken.holder == "run-2"


def test_the_run_lease_rides_out_a_429_and_a_503_on_reading_it(
    adapter: kube.KubeAdapter, emulator: KubeEmulator
) -> None:
    emulator.faults.fail_requests(1, status=429, path_contains="/leases", retry_after_s=0)
    emulator.faults.fail_requests(1, status=503, path_contains="/leases")
    lease = RunLease(
        lambda: adapter, "default", "drill-api", "run-1", SystemClock(), build_logger(-1)
    )
    with lease:
        live = emulator.get("coordination.k8s.io/v1", "Lease", "drill-api", "default")
        assert live is not None
        assert live["spec"]["holderIdentity"] == "run-1"
    assert not lease.lost.is_set()
    assert emulator.get("coordination.k8s.io/v1", "Lease", "drill-api", "default") is None


def test_the_adapter_loads_no_generated_api_or_model_class(
    emulator: KubeEmulator, tmp_path: Path
) -> None:
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", {"sandbox": emulator.url})
    code = (
        "from drill.clock import SystemClock\n"
        "from providers import kube\n"
        f"adapter = kube.connect('sandbox', {str(kubeconfig)!r}, SystemClock())\n"
        "adapter.server_version(); adapter.workloads('default', '')\n"
        "list(adapter.watch_workloads('default', '', 0.5))\n"
        "adapter.acquire_lease('default', 'probe', 'me', 60)\n"
    )
    generated = ("kubernetes.client.api.", "kubernetes.client.models.")
    assert modules_loaded_by(code, generated) == []


def test_a_config_map_key_is_created_then_patched_keeping_the_others(
    adapter: kube.KubeAdapter, emulator: KubeEmulator
) -> None:
    assert adapter.config_map_data("default", "drill-heartbeat") is None
    labels = {"app.kubernetes.io/name": "drill-heartbeat"}
    adapter.put_config_map_value("default", "drill-heartbeat", "timestamp", "t1", labels)
    created = emulator.get("v1", "ConfigMap", "drill-heartbeat", "default")
    assert created is not None
    assert (created["data"], created["metadata"]["labels"]) == ({"timestamp": "t1"}, labels)
    created["data"]["owner"] = "someone else"
    emulator.apply(created)
    adapter.put_config_map_value("default", "drill-heartbeat", "timestamp", "t2", labels)
    assert adapter.config_map_data("default", "drill-heartbeat") == {
        "timestamp": "t2",
        "owner": "someone else",
    }


def test_writing_a_config_map_in_a_missing_namespace_says_so(adapter: kube.KubeAdapter) -> None:
    with pytest.raises(NotFound, match="create configmap nowhere/drill-heartbeat"):
        adapter.put_config_map_value("nowhere", "drill-heartbeat", "timestamp", "t1", {})


def web_service(namespace: str = "default") -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": namespace},
        "spec": {
            "selector": {"app": "web"},
            "ports": [{"name": "http", "port": 8080, "targetPort": 80}],
        },
    }


def test_a_service_is_asked_through_the_api_server_proxy(
    adapter: kube.KubeAdapter, emulator: KubeEmulator
) -> None:
    ask = functools.partial(
        adapter.service_request, "default", method="GET", headers={}, timeout_s=5
    )
    with pytest.raises(NotFound, match='services "web" not found'):
        ask("web:8080", path="/healthz")
    emulator.apply(web_service())
    with pytest.raises(TransientError, match='no endpoints available for service "web"'):
        ask("web:8080", path="/healthz")
    manifest = deployment("web")
    manifest["metadata"]["namespace"] = "default"
    emulator.apply(manifest)
    assert wait_for(lambda: emulator.ready_since("default", "web") is not None)
    # by the port's number or its name; the path and its query reach the pod
    answered = ask("web:8080", path="/healthz?verbose=1")
    assert answered.status == 200
    assert json.loads(answered.body)["path"] == "/healthz?verbose=1"
    assert ask("http:web:http", path="/").status == 200
    # what the pod answers is the answer, whatever its status
    emulator.programs.http.set("default", "web", 500, "/broken")
    assert ask("web:8080", path="/broken").status == 500


@pytest.mark.parametrize(
    ("status", "said"),
    [
        (
            {"conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                             "message": "0/3 nodes are available: 3 Insufficient cpu."}]},
            "p: Unschedulable: 0/3 nodes are available: 3 Insufficient cpu.",
        ),
        (
            {"initContainerStatuses": [{"state": {"waiting": {
                "reason": "CreateContainerConfigError", "message": 'secret "db" not found'}}}]},
            'p: CreateContainerConfigError: secret "db" not found',
        ),
        ({"containerStatuses": [{"state": {"waiting": {"reason": "ContainerCreating"}}}]}, None),
        ({"containerStatuses": [{"state": {"running": {}}}]}, None),
        ({}, None),
    ],
)  # fmt: skip
def test_what_a_pod_waits_on_is_read_from_its_status(
    status: dict[str, object], said: str | None
) -> None:
    assert kube._pod_waiting({"metadata": {"name": "p"}, "status": status}) == said
