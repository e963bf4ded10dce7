"""Server-side Tables: what the emulator answers when a client asks for ``as=Table``, and that
every other client still gets plain objects and lists."""

from __future__ import annotations

import json
from typing import Any

import pytest

from drill.clock import FakeClock
from drill.sandbox.kube.api.tables import human_duration
from tests.sandbox.helpers import ROOT_CA, Cluster, raw_http

KUBECTL_ACCEPT = (
    "application/json;as=Table;v=v1;g=meta.k8s.io,"
    "application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
)


def get_raw(cluster: Cluster, path: str, accept: str) -> bytes:
    """The body of a GET sending ``accept`` (the request's headers replace the pool's)."""
    token = cluster.emulator.admin_token
    headers = {"Accept": accept, "Authorization": f"Bearer {token}"}
    answer = raw_http(cluster.emulator).request(
        "GET", f"{cluster.emulator.url}{path}", headers=headers
    )
    assert answer.status == 200, answer.data
    return bytes(answer.data)


def get(cluster: Cluster, path: str, accept: str) -> Any:
    return json.loads(get_raw(cluster, path, accept))


def configmap(cluster: Cluster, name: str) -> None:
    body = {"metadata": {"name": name}, "data": {"a": "1", "b": "2"}}
    cluster.core.create_namespaced_config_map("default", body)


@pytest.mark.parametrize(
    ("seconds", "printed"),
    [
        (-5, "<invalid>"),
        (-1, "0s"),
        (5, "5s"),
        (119, "119s"),
        (182, "3m2s"),
        (240, "4m"),
        (725, "12m"),
        (3 * 3600 + 180, "3h3m"),
        (20 * 3600, "20h"),
        (3 * 86400 + 4 * 3600, "3d4h"),
        (40 * 86400, "40d"),
        (3 * 365 * 86400 + 10 * 86400, "3y10d"),
        (9 * 365 * 86400, "9y"),
    ],
)
def test_ages_are_kubernetes_human_durations(seconds: float, printed: str) -> None:
    assert human_duration(seconds) == printed


def test_a_plain_json_client_still_gets_a_plain_list(still_cluster: Cluster) -> None:
    configmap(still_cluster, "plain")
    listed = get(still_cluster, "/api/v1/namespaces/default/configmaps", "application/json")
    assert listed["kind"] == "ConfigMapList"
    assert [item["metadata"]["name"] for item in listed["items"]] == [ROOT_CA, "plain"]
    assert get(still_cluster, "/api/v1/namespaces/default/configmaps/plain", "*/*")["data"] == {
        "a": "1",
        "b": "2",
    }
    typed = still_cluster.core.list_namespaced_config_map("default")
    assert [item.metadata.name for item in typed.items] == [ROOT_CA, "plain"]


def test_a_table_client_gets_a_table(still_cluster: Cluster, fake_clock: FakeClock) -> None:
    configmap(still_cluster, "printed")
    fake_clock.advance(182)
    table = get(still_cluster, "/api/v1/namespaces/default/configmaps", KUBECTL_ACCEPT)
    assert (table["kind"], table["apiVersion"]) == ("Table", "meta.k8s.io/v1")
    assert table["metadata"]["resourceVersion"]
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Data", "Age"]
    root_ca, row = table["rows"]  # the namespace's CA bundle, one key, as old as the cluster
    assert root_ca["cells"] == [ROOT_CA, 1, "3m2s"]
    assert row["cells"] == ["printed", 2, "3m2s"]
    assert row["object"]["kind"] == "PartialObjectMetadata"
    assert row["object"]["metadata"]["name"] == "printed"
    assert "data" not in row["object"]

    one = get(still_cluster, "/api/v1/namespaces/default/configmaps/printed", KUBECTL_ACCEPT)
    assert [r["cells"] for r in one["rows"]] == [["printed", 2, "3m2s"]]
    path = "/api/v1/namespaces/default/configmaps?includeObject=Object"
    assert get(still_cluster, path, KUBECTL_ACCEPT)["rows"][1]["object"]["data"] == {
        "a": "1",
        "b": "2",
    }
    path = "/api/v1/namespaces/default/configmaps?includeObject=None"
    assert get(still_cluster, path, KUBECTL_ACCEPT)["rows"][1]["object"] is None
    beta = "application/json;as=Table;v=v1beta1;g=meta.k8s.io"
    assert get(still_cluster, path, beta)["apiVersion"] == "meta.k8s.io/v1beta1"


def test_wide_columns_have_priority_one(still_cluster: Cluster) -> None:
    table = get(still_cluster, "/apis/apps/v1/deployments", KUBECTL_ACCEPT)
    priorities = {c["name"]: c["priority"] for c in table["columnDefinitions"]}
    assert priorities == {
        "Name": 0,
        "Ready": 0,
        "Up-to-date": 0,
        "Available": 0,
        "Age": 0,
        "Containers": 1,
        "Images": 1,
        "Selector": 1,
    }


def test_a_table_watch_sends_the_columns_with_its_first_event(still_cluster: Cluster) -> None:
    configmap(still_cluster, "first")
    configmap(still_cluster, "second")
    path = "/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=1"
    answer = get_raw(still_cluster, path, KUBECTL_ACCEPT)
    events = [json.loads(line) for line in answer.splitlines()]
    assert [e["type"] for e in events] == ["ADDED", "ADDED", "ADDED"]
    assert [e["object"]["kind"] for e in events] == ["Table", "Table", "Table"]
    assert [e["object"]["rows"][0]["cells"][0] for e in events] == ["first", ROOT_CA, "second"]
    assert "columnDefinitions" in events[0]["object"]
    assert all("columnDefinitions" not in e["object"] for e in events[1:])
