"""Services as core ValidateService and the Service registry take them: types, ports, node
ports (allocated, in range, never shared), an ExternalName's name."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from kubernetes.client.exceptions import ApiException

from tests.sandbox.helpers import Cluster
from tests.sandbox.test_kubectl import kubectl

TCP80 = (
    'core.ServicePort{Name:"", Protocol:"TCP", AppProtocol:(*string)(nil), Port:80, '
    'TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}'
)


def svc(name: str = "web", **spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": name}, "spec": {"ports": [{"port": 80}], **spec}}


def refusal(cluster: Cluster, body: dict[str, Any]) -> str:
    with pytest.raises(ApiException) as refused:
        cluster.core.create_namespaced_service("default", body)
    assert refused.value.status == 422
    message: str = json.loads(refused.value.body)["message"]
    return message.removeprefix(f'Service "{body["metadata"]["name"]}" is invalid: ')


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        (
            {"type": "Internal"},
            'spec.type: Unsupported value: "Internal": supported values: '
            '"ClusterIP", "ExternalName", "LoadBalancer", "NodePort"',
        ),
        (
            {"ports": [{"port": 80, "nodePort": 30080}]},
            "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'",
        ),
        (
            {"type": "ExternalName", "ports": []},
            "spec.externalName: Required value",
        ),
        (
            {"type": "ExternalName", "externalName": "db_host.example.com"},
            'spec.externalName: Invalid value: "db_host.example.com": a lowercase RFC 1123 '
            "subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
            "start and end with an alphanumeric character (e.g. 'example.com', regex used for "
            "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
        ),
        (
            {"ports": [{"port": 0}]},
            "[spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive, "
            "spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive]",
        ),
        (
            {"ports": [{"port": 80, "targetPort": 70000}]},
            "spec.ports[0].targetPort: Invalid value: 70000: must be between 1 and 65535, "
            "inclusive",
        ),
        (
            {"ports": [{"port": 80, "protocol": "HTTP"}]},
            'spec.ports[0].protocol: Unsupported value: "HTTP": supported values: '
            '"SCTP", "TCP", "UDP"',
        ),
        (
            {"ports": [{"name": "a", "port": 80}, {"name": "a", "port": 81}]},
            'spec.ports[1].name: Duplicate value: "a"',
        ),
        (
            {"ports": [{"name": "a", "port": 80}, {"name": "b", "port": 80}]},
            f"spec.ports[1]: Duplicate value: {TCP80}",
        ),
        (
            {
                "type": "NodePort",
                "ports": [
                    {"name": "a", "port": 80, "nodePort": 30080},
                    {"name": "b", "port": 81, "nodePort": 30080},
                ],
            },
            "spec.ports[1].nodePort: Duplicate value: 30080",
        ),
        (
            {"type": "NodePort", "clusterIP": "None"},
            "spec.clusterIPs[0]: Invalid value: \"None\": may not be set to 'None' for "
            "NodePort services",
        ),
        (
            {"type": "NodePort", "ports": [{"port": 80, "nodePort": 8080}]},
            "spec.ports[0].nodePort: Invalid value: 8080: provided port is not in the valid "
            "range. The range of valid ports is 30000-32767",
        ),
    ],
)
def test_a_service_the_api_server_refuses_is_invalid(
    cluster: Cluster, spec: dict[str, Any], problem: str
) -> None:
    assert refusal(cluster, svc(**spec)) == problem


def test_node_ports_are_allocated_held_and_released(cluster: Cluster) -> None:
    core = cluster.core
    made = core.create_namespaced_service("default", svc(type="NodePort"))
    port = made.spec.ports[0].node_port
    assert 30000 <= port <= 32767
    balanced = core.create_namespaced_service("default", svc("lb", type="LoadBalancer"))
    assert balanced.spec.ports[0].node_port not in (None, port)

    taken = svc("other", type="NodePort", ports=[{"port": 80, "nodePort": port}])
    assert refusal(cluster, taken) == (
        f"spec.ports[0].nodePort: Invalid value: {port}: provided port is already allocated"
    )
    kept = core.patch_namespaced_service("web", "default", {"spec": {"selector": {"a": "b"}}})
    assert kept.spec.ports[0].node_port == port  # its own port is no conflict

    cleared = core.patch_namespaced_service("web", "default", {"spec": {"type": "ClusterIP"}})
    assert cleared.spec.ports[0].node_port is None  # dropped with the type that needed it
    assert core.create_namespaced_service("default", taken).spec.ports[0].node_port == port


def test_a_service_keeps_its_node_port_by_port_name(cluster: Cluster) -> None:
    ports = [{"name": "http", "port": 80}, {"name": "https", "port": 443}]
    made = cluster.core.create_namespaced_service("default", svc(type="NodePort", ports=ports))
    given = {p.name: p.node_port for p in made.spec.ports}
    assert None not in given.values()
    body = made.to_dict(serialize=True)
    body["spec"]["ports"] = [{"name": "https", "port": 8443}]
    replaced = cluster.core.replace_namespaced_service("web", "default", body)
    assert [(p.name, p.node_port) for p in replaced.spec.ports] == [("https", given["https"])]


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not on PATH")
def test_kubectl_shows_and_is_refused_node_ports(cluster: Cluster, tmp_path: Path) -> None:
    made = kubectl(cluster, tmp_path, "create", "service", "nodeport", "web", "--tcp=80:8080")
    assert made.returncode == 0, made.stderr
    listed = kubectl(cluster, tmp_path, "get", "svc", "web", "--no-headers")
    assert "80:30000/TCP" in listed.stdout
    again = kubectl(
        cluster, tmp_path, "create", "service", "nodeport", "x", "--tcp=80", "--node-port=30000"
    )
    assert again.returncode != 0
    assert "provided port is already allocated" in again.stderr
