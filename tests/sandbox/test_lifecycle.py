"""Starting and stopping emulators, binding, kubeconfig contexts for several clusters."""

from __future__ import annotations

import base64
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import urllib3
import yaml
from kubernetes import client, config, watch

from drill.sandbox.kube import kubeconfig, write_kubeconfig
from tests.sandbox.helpers import ROOT_CA, Cluster, MakeCluster, raw_http


def test_the_server_binds_loopback_on_an_ephemeral_port(still_cluster: Cluster) -> None:
    url = urlsplit(still_cluster.emulator.url)
    assert (url.scheme, url.hostname) == ("https", "127.0.0.1")
    assert url.port
    version = raw_http(still_cluster.emulator, still_cluster.emulator.admin_token).request(
        "GET", f"{still_cluster.emulator.url}/version"
    )
    assert version.status == 200


def test_version_and_discovery_through_the_client(still_cluster: Cluster) -> None:
    assert client.VersionApi(still_cluster.api_client).get_code().git_version.startswith("v1.32")
    groups = {g.name for g in client.ApisApi(still_cluster.api_client).get_api_versions().groups}
    assert groups == {
        "apps",
        "authentication.k8s.io",
        "authorization.k8s.io",
        "autoscaling",
        "batch",
        "coordination.k8s.io",
        "rbac.authorization.k8s.io",
        "velero.io",
    }
    resources = client.AppsV1Api(still_cluster.api_client).get_api_resources().resources
    by_name = {r.name: r for r in resources}
    assert by_name["deployments"].short_names == ["deploy"]
    assert by_name["deployments/scale"].kind == "Scale"
    assert by_name["deployments/scale"].group == "autoscaling"
    assert "deployments/status" in by_name


def test_stopping_ends_open_watches_and_refuses_new_requests(make_cluster: MakeCluster) -> None:
    cluster = make_cluster()
    ended: list[Any] = []

    def run() -> None:
        try:
            ended.extend(watch.Watch().stream(cluster.core.list_namespace, timeout_seconds=30))
        except urllib3.exceptions.HTTPError as error:
            ended.append(error)
        ended.append("ended")

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    cluster.emulator.stop()
    thread.join(5)
    assert not thread.is_alive()
    assert ended[-1] == "ended"
    cluster.emulator.stop()  # idempotent
    with pytest.raises(urllib3.exceptions.HTTPError):
        raw_http(cluster.emulator).request("GET", f"{cluster.emulator.url}/version")


def test_one_kubeconfig_reaches_two_clusters(make_cluster: MakeCluster, tmp_path: Path) -> None:
    primary = make_cluster(auto_tick=False).emulator
    dr = make_cluster(auto_tick=False, namespaces=("default",)).emulator
    path = write_kubeconfig(
        tmp_path / "config", {"primary": primary.url, "dr": dr.url}, current="dr"
    )
    assert path.stat().st_mode & 0o077 == 0
    document = yaml.safe_load(path.read_text())
    assert document["current-context"] == "dr"
    assert document["clusters"][0]["cluster"]["server"] == primary.url
    # Each cluster is under a CA of its own, as real ones are; the clients verify each server
    # against its cluster's, and one cluster's does not verify the other.
    authorities = [
        base64.b64decode(c["cluster"]["certificate-authority-data"]).decode()
        for c in document["clusters"]
    ]
    assert authorities == [primary.ca_pem, dr.ca_pem]
    assert primary.ca_pem != dr.ca_pem
    with pytest.raises(urllib3.exceptions.SSLError):
        urllib3.PoolManager(retries=False, ca_cert_data=dr.ca_pem).request(
            "GET", f"{primary.url}/version"
        )
    primary.apply(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "only-here", "namespace": "default"},
        }
    )
    for context, expected in (("primary", [ROOT_CA, "only-here"]), ("dr", [ROOT_CA])):
        api_client = config.new_client_from_config(config_file=str(path), context=context)
        try:
            found = client.CoreV1Api(api_client).list_namespaced_config_map("default").items
            assert [c.metadata.name for c in found] == expected
        finally:
            api_client.close()


def test_kubeconfig_rejects_an_unknown_current_context() -> None:
    with pytest.raises(ValueError, match="current context"):
        kubeconfig({"a": "http://127.0.0.1:1"}, current="b")
    with pytest.raises(ValueError, match="at least one"):
        kubeconfig({})


def test_apply_creates_the_namespace_and_replaces_on_second_call(make_cluster: MakeCluster) -> None:
    cluster = make_cluster(auto_tick=False)
    manifest = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c", "namespace": "new"},
        "data": {"a": "1"},
    }
    cluster.emulator.apply(manifest)
    manifest["data"] = {"a": "2"}
    cluster.emulator.apply(manifest)
    assert cluster.core.read_namespaced_config_map("c", "new").data == {"a": "2"}
    cluster.emulator.faults.fail_requests(5)  # Python-level reads do not go through faults
    found = cluster.emulator.get("v1", "ConfigMap", "c", "new")
    assert [c["metadata"]["name"] for c in cluster.emulator.list("v1", "ConfigMap", "new")] == ["c"]
    cluster.emulator.faults.clear()
    assert found is not None
    assert found["data"] == {"a": "2"}


def test_unknown_paths_and_methods_answer_like_the_real_server(still_cluster: Cluster) -> None:
    http = raw_http(still_cluster.emulator, still_cluster.emulator.admin_token)
    base = still_cluster.emulator.url
    missing = http.request("GET", f"{base}/apis/example.com/v1/widgets")
    assert missing.status == 404
    assert missing.json()["reason"] == "NotFound"
    assert http.request("GET", f"{base}/openapi/v2").status == 404
    protobuf = http.request(
        "POST",
        f"{base}/api/v1/namespaces",
        body=b"k8s\x00",
        headers={**http.headers, "Content-Type": "application/vnd.kubernetes.protobuf"},
    )
    assert protobuf.status == 415
    http.clear()
