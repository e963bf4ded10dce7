"""Each fault hook, seen through the real client."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
import urllib3
from kubernetes import watch
from kubernetes.client.exceptions import ApiException

from drill.clock import FakeClock
from tests.sandbox.helpers import ROOT_CA, Cluster, deployment


@pytest.mark.parametrize(("code", "reason"), [(500, "InternalError"), (503, "ServiceUnavailable")])
def test_the_next_requests_fail_then_recover(
    still_cluster: Cluster, code: int, reason: str
) -> None:
    still_cluster.emulator.faults.fail_requests(2, status=code)
    for _ in range(2):
        with pytest.raises(ApiException) as caught:
            still_cluster.core.list_namespace()
        assert caught.value.status == code
        status = json.loads(caught.value.body)
        assert (status["kind"], status["reason"], status["code"]) == ("Status", reason, code)
        assert "Retry-After" not in caught.value.headers
    assert still_cluster.core.list_namespace().items


def test_a_429_burst_within_urllib3_retries_is_invisible_to_reads(still_cluster: Cluster) -> None:
    # The client's urllib3 honours Retry-After on GET up to 3 times: what drill sees depends on it.
    still_cluster.emulator.faults.fail_requests(3, status=429, retry_after_s=0)
    assert still_cluster.core.list_namespace().items
    still_cluster.emulator.faults.fail_requests(4, status=429, retry_after_s=0)
    with pytest.raises(ApiException) as caught:
        still_cluster.core.list_namespace()
    assert caught.value.status == 429
    assert caught.value.headers["Retry-After"] == "0"
    assert json.loads(caught.value.body)["reason"] == "TooManyRequests"


def test_a_429_on_a_write_is_not_retried(still_cluster: Cluster) -> None:
    still_cluster.emulator.faults.fail_requests(1, status=429, method="POST")
    with pytest.raises(ApiException) as caught:
        still_cluster.core.create_namespaced_config_map("default", {"metadata": {"name": "c"}})
    assert caught.value.status == 429
    assert caught.value.headers["Retry-After"] == "1"


def test_request_faults_can_target_a_path(still_cluster: Cluster) -> None:
    still_cluster.emulator.faults.fail_requests(
        1, status=503, path_contains="/deployments", method="GET"
    )
    listed = still_cluster.core.list_namespaced_config_map("default").items
    assert [c.metadata.name for c in listed] == [ROOT_CA]
    with pytest.raises(ApiException) as caught:
        still_cluster.apps.list_namespaced_deployment("default")
    assert caught.value.status == 503
    assert still_cluster.apps.list_namespaced_deployment("default").items == []


def test_latency_is_added_to_matching_requests(still_cluster: Cluster) -> None:
    still_cluster.emulator.faults.add_latency(0.3, path_contains="configmaps")
    started = time.monotonic()
    still_cluster.core.list_namespace()
    fast = time.monotonic() - started
    started = time.monotonic()
    still_cluster.core.list_namespaced_config_map("default")
    assert fast < 0.2
    assert time.monotonic() - started >= 0.3


def open_watch(cluster: Cluster, out: list[Any], **kwargs: Any) -> threading.Thread:
    """Run a config-map watch in a thread; events, then "ended" or the error, land in ``out``."""

    def run() -> None:
        try:
            for event in watch.Watch().stream(
                cluster.core.list_namespaced_config_map, "default", timeout_seconds=10, **kwargs
            ):
                out.append(event["object"].metadata.name)
            out.append("ended")
        except urllib3.exceptions.ProtocolError as error:
            out.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_dropping_open_watches_ends_them_at_once(still_cluster: Cluster) -> None:
    out: list[Any] = []
    thread = open_watch(still_cluster, out)
    time.sleep(0.2)
    started = time.monotonic()
    still_cluster.emulator.faults.drop_watches()
    thread.join(5)
    assert out == [ROOT_CA, "ended"]  # the namespace's one ConfigMap, then the end
    assert time.monotonic() - started < 1


def test_dropping_after_n_events(still_cluster: Cluster) -> None:
    rv = still_cluster.core.list_namespaced_config_map("default").metadata.resource_version
    still_cluster.emulator.faults.drop_new_watches(after_events=2)
    for name in ("a", "b", "c"):
        still_cluster.core.create_namespaced_config_map("default", {"metadata": {"name": name}})
    out: list[Any] = []
    open_watch(still_cluster, out, resource_version=rv).join(5)
    assert out == ["a", "b", "ended"]


def test_an_abrupt_drop_breaks_the_connection(still_cluster: Cluster) -> None:
    out: list[Any] = []
    thread = open_watch(still_cluster, out)
    time.sleep(0.2)
    still_cluster.emulator.faults.drop_watches(abrupt=True)
    thread.join(5)
    assert len(out) == 2
    assert out[0] == ROOT_CA
    assert isinstance(out[1], urllib3.exceptions.ProtocolError)


def test_pods_that_never_become_ready(still_cluster: Cluster, fake_clock: FakeClock) -> None:
    still_cluster.emulator.faults.never_ready("default", "web")
    still_cluster.apps.create_namespaced_deployment("default", deployment("web", replicas=2))
    for seconds in (0, 60, 60):
        fake_clock.advance(seconds)
        still_cluster.emulator.tick()
    status = still_cluster.apps.read_namespaced_deployment("web", "default").status
    assert (status.replicas, status.ready_replicas, status.unavailable_replicas) == (2, 0, 2)
    assert status.conditions[0].status == "False"
    pods = still_cluster.core.list_namespaced_pod("default").items
    assert {p.status.phase for p in pods} == {"Running"}
    assert still_cluster.emulator.truth.ready_at("default", "web") is None


def test_a_job_that_fails(still_cluster: Cluster, fake_clock: FakeClock) -> None:
    still_cluster.emulator.faults.fail_job("default", "smoke")
    container = {"name": "t", "image": "busybox"}
    pod_spec = {"restartPolicy": "Never", "containers": [container]}
    body = {
        "metadata": {"name": "smoke"},
        "spec": {"backoffLimit": 0, "template": {"spec": pod_spec}},
    }
    still_cluster.batch.create_namespaced_job("default", body)
    for seconds in (0, 3, 0):
        fake_clock.advance(seconds)
        still_cluster.emulator.tick()
    status = still_cluster.batch.read_namespaced_job("smoke", "default").status
    assert status.failed == 1
    assert status.succeeded is None
    assert [(c.type, c.reason) for c in status.conditions][-1] == ("Failed", "BackoffLimitExceeded")
    pod = still_cluster.core.list_namespaced_pod("default").items[0]
    assert pod.status.phase == "Failed"
    assert pod.status.container_statuses[0].state.terminated.exit_code == 1
    finished = still_cluster.emulator.truth.job("default", "smoke")
    assert finished is not None
    assert not finished.succeeded


def test_clear_forgets_pending_faults(still_cluster: Cluster) -> None:
    still_cluster.emulator.faults.fail_requests(5)
    still_cluster.emulator.faults.clear()
    assert still_cluster.core.list_namespace().items


def test_an_expired_watch_ends_with_an_error_event_carrying_410(still_cluster: Cluster) -> None:
    rv = still_cluster.core.list_namespaced_config_map("default").metadata.resource_version
    still_cluster.emulator.faults.expire_watches(after_events=1)
    for name in ("a", "b"):
        still_cluster.core.create_namespaced_config_map("default", {"metadata": {"name": name}})
    seen: list[str] = []
    events = watch.Watch().stream(
        still_cluster.core.list_namespaced_config_map,
        "default",
        resource_version=rv,
        timeout_seconds=5,
    )
    seen.append(next(events)["object"].metadata.name)
    with pytest.raises(ApiException) as caught:
        next(events)
    assert seen == ["a"]
    assert caught.value.status == 410
    assert "too old resource version" in str(caught.value.reason)
    assert still_cluster.emulator.faults.watch_faults_left() == 0


def test_the_raw_error_event_is_an_expired_status(still_cluster: Cluster) -> None:
    still_cluster.emulator.faults.expire_watches()
    response = still_cluster.core.list_namespaced_config_map(
        "default", watch=True, timeout_seconds=5, _preload_content=False
    )
    [line] = [line for line in response.read().decode().splitlines() if line]
    event = json.loads(line)
    assert event["type"] == "ERROR"
    status = event["object"]
    assert (status["kind"], status["reason"], status["code"]) == ("Status", "Expired", 410)


def test_an_expired_watch_request_is_answered_410_and_lists_are_not(
    still_cluster: Cluster,
) -> None:
    still_cluster.emulator.faults.expire_watches(2, in_stream=False)
    listed = still_cluster.core.list_namespaced_config_map("default").items
    assert [c.metadata.name for c in listed] == [ROOT_CA]
    for _ in range(2):
        with pytest.raises(ApiException) as caught:
            list(
                watch.Watch().stream(
                    still_cluster.core.list_namespaced_config_map, "default", timeout_seconds=1
                )
            )
        assert caught.value.status == 410
        assert json.loads(caught.value.body)["reason"] == "Expired"
    assert still_cluster.emulator.faults.watch_faults_left() == 0
    served = watch.Watch().stream(  # the next watch is served as usual
        still_cluster.core.list_namespaced_config_map, "default", timeout_seconds=1
    )
    assert [event["object"].metadata.name for event in served] == [ROOT_CA]
