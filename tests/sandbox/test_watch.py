"""Watches through ``kubernetes.watch.Watch().stream``: resourceVersion, timeout, selectors, 410."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
import urllib3
from kubernetes import watch
from kubernetes.client.exceptions import ApiException

from drill.sandbox.kube import Profile
from tests.sandbox.helpers import ROOT_CA, Cluster, MakeCluster, deployment


def collect(cluster: Cluster, count: int, **kwargs: Any) -> list[tuple[str, str]]:
    """The first ``count`` (type, name) events of a config-map watch on ``default``."""
    watcher = watch.Watch()
    found = []
    for event in watcher.stream(cluster.core.list_namespaced_config_map, "default", **kwargs):
        found.append((event["type"], event["object"].metadata.name))
        if len(found) == count:
            watcher.stop()
    return found


def test_watch_replays_events_after_a_resource_version(still_cluster: Cluster) -> None:
    core = still_cluster.core
    core.create_namespaced_config_map("default", {"metadata": {"name": "before"}})
    rv = core.list_namespaced_config_map("default").metadata.resource_version
    core.create_namespaced_config_map("default", {"metadata": {"name": "a"}})
    core.patch_namespaced_config_map("a", "default", {"data": {"k": "v"}})
    core.delete_namespaced_config_map("a", "default")
    events = collect(still_cluster, 3, resource_version=rv, timeout_seconds=5)
    assert events == [("ADDED", "a"), ("MODIFIED", "a"), ("DELETED", "a")]


def test_watch_without_a_resource_version_starts_with_current_objects(
    still_cluster: Cluster,
) -> None:
    for name in ("x", "y"):
        still_cluster.core.create_namespaced_config_map("default", {"metadata": {"name": name}})
    assert collect(still_cluster, 3, timeout_seconds=5) == [
        ("ADDED", ROOT_CA),
        ("ADDED", "x"),
        ("ADDED", "y"),
    ]


def test_watch_follows_live_changes(still_cluster: Cluster) -> None:
    rv = still_cluster.core.list_namespaced_config_map("default").metadata.resource_version
    timer = threading.Timer(
        0.2,
        lambda: still_cluster.core.create_namespaced_config_map(
            "default", {"metadata": {"name": "late"}}
        ),
    )
    timer.start()
    try:
        assert collect(still_cluster, 1, resource_version=rv, timeout_seconds=5) == [
            ("ADDED", "late")
        ]
    finally:
        timer.join()


def test_timeout_seconds_ends_a_quiet_watch(still_cluster: Cluster) -> None:
    rv = still_cluster.core.list_namespaced_config_map("default").metadata.resource_version
    started = time.monotonic()
    events = list(
        watch.Watch().stream(
            still_cluster.core.list_namespaced_config_map,
            "default",
            resource_version=rv,
            timeout_seconds=1,
        )
    )
    assert events == []
    assert 0.9 < time.monotonic() - started < 3


def test_a_compacted_resource_version_is_an_expired_error_event(still_cluster: Cluster) -> None:
    """As the watch cache answers (Cacher.Watch, newErrWatcher): the watch starts (200) and
    its one event is an ERROR carrying a 410 Expired Status; the client raises a 410."""
    rv = still_cluster.core.list_namespaced_config_map("default").metadata.resource_version
    still_cluster.core.create_namespaced_config_map("default", {"metadata": {"name": "a"}})
    still_cluster.emulator.compact_events()
    response = still_cluster.core.list_namespaced_config_map(
        "default", watch=True, resource_version=rv, timeout_seconds=5, _preload_content=False
    )
    assert response.status == 200
    [line] = [line for line in response.read().decode().splitlines() if line]
    event = json.loads(line)
    assert event["type"] == "ERROR"
    status = event["object"]
    assert (status["kind"], status["reason"], status["code"]) == ("Status", "Expired", 410)
    assert status["message"].startswith(f"too old resource version: {rv} (")
    with pytest.raises(ApiException) as caught:
        collect(still_cluster, 1, resource_version=rv, timeout_seconds=1)
    assert caught.value.status == 410
    assert str(caught.value.reason).startswith("Expired: too old resource version")


def test_events_beyond_the_window_are_gone(make_cluster: MakeCluster) -> None:
    small = make_cluster(profile=Profile(event_window=3), auto_tick=False)
    rv = small.core.list_namespaced_config_map("default").metadata.resource_version
    for name in ("a", "b", "c", "d"):
        small.core.create_namespaced_config_map("default", {"metadata": {"name": name}})
    with pytest.raises(ApiException) as caught:
        collect(small, 1, resource_version=rv, timeout_seconds=1)
    assert caught.value.status == 410
    recent = small.core.read_namespaced_config_map("b", "default").metadata.resource_version
    assert collect(small, 2, resource_version=recent, timeout_seconds=1) == [
        ("ADDED", "c"),
        ("ADDED", "d"),
    ]


def test_a_label_selected_watch_sees_objects_leave_and_enter(still_cluster: Cluster) -> None:
    core = still_cluster.core
    rv = core.list_namespaced_config_map("default").metadata.resource_version
    core.create_namespaced_config_map(
        "default", {"metadata": {"name": "a", "labels": {"app": "web"}}}
    )
    core.patch_namespaced_config_map("a", "default", {"metadata": {"labels": {"app": "other"}}})
    core.patch_namespaced_config_map("a", "default", {"metadata": {"labels": {"app": "web"}}})
    core.create_namespaced_config_map(
        "default", {"metadata": {"name": "b", "labels": {"app": "other"}}}
    )
    events = collect(
        still_cluster, 3, resource_version=rv, label_selector="app=web", timeout_seconds=2
    )
    assert events == [("ADDED", "a"), ("DELETED", "a"), ("ADDED", "a")]


def test_deployment_events_deserialise_into_models(cluster: Cluster) -> None:
    rv = cluster.apps.list_namespaced_deployment("default").metadata.resource_version
    cluster.apps.create_namespaced_deployment("default", deployment("web", replicas=1))
    watcher = watch.Watch()
    for event in watcher.stream(
        cluster.apps.list_namespaced_deployment, "default", resource_version=rv, timeout_seconds=5
    ):
        if event["object"].status and event["object"].status.ready_replicas == 1:
            watcher.stop()
    assert type(event["object"]).__name__ == "V1Deployment"
    assert event["type"] == "MODIFIED"


def test_a_field_selected_watch_follows_one_object(still_cluster: Cluster) -> None:
    rv = still_cluster.core.list_namespaced_config_map("default").metadata.resource_version
    for name in ("a", "b"):
        still_cluster.core.create_namespaced_config_map("default", {"metadata": {"name": name}})
    assert collect(
        still_cluster, 1, resource_version=rv, field_selector="metadata.name=b", timeout_seconds=2
    ) == [("ADDED", "b")]


def test_a_balancers_idle_timeout_cuts_only_a_quiet_watch(make_cluster: MakeCluster) -> None:
    """The realistic profile's balancer drops a connection idle for ``watch_idle_cut_s``: a
    watch that keeps receiving events lives on, a quiet one is cut mid-stream (no end of the
    chunked answer: the client sees a broken connection and must list and watch again)."""
    cluster = make_cluster(profile=Profile(watch_idle_cut_s=0.5), auto_tick=False)
    core = cluster.core
    rv = core.list_namespaced_config_map("default").metadata.resource_version

    def busy() -> None:
        for index in range(5):
            time.sleep(0.2)
            core.create_namespaced_config_map("default", {"metadata": {"name": f"cm-{index}"}})

    writer = threading.Thread(target=busy)
    writer.start()
    seen: list[str] = []

    def follow() -> None:
        for event in watch.Watch().stream(
            core.list_namespaced_config_map, "default", resource_version=rv, timeout_seconds=10
        ):
            seen.append(event["object"].metadata.name)

    with pytest.raises(urllib3.exceptions.ProtocolError):
        follow()
    writer.join()
    # every event of the busy second arrived; the cut came once the writer had stopped
    assert seen == [f"cm-{index}" for index in range(5)]
    assert cluster.emulator.watches_cut_idle == 1
