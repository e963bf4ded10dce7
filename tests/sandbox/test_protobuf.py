"""Protobuf request bodies (what kubectl's typed commands send) read into JSON objects."""

from __future__ import annotations

import pytest

from drill.sandbox.kube import ApiError
from drill.sandbox.kube.transport.protobuf import MAGIC, decode


def varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def number(field: int, value: int) -> bytes:
    return varint(field << 3) + varint(value)


def text(field: int, value: str | bytes) -> bytes:
    data = value.encode() if isinstance(value, str) else value
    return varint(field << 3 | 2) + varint(len(data)) + data


def envelope(api_version: str, kind: str, raw: bytes) -> bytes:
    return MAGIC + text(1, text(1, api_version) + text(2, kind)) + text(2, raw)


def entry(key: str, value: bytes) -> bytes:
    return text(1, key) + text(2, value)


# ObjectMeta as Go writes it: every non-pointer field, set or not (selfLink, uid, ...).
META = (
    text(1, "smoke") + text(2, "") + text(3, "") + text(4, "") + text(5, "") + text(6, "")
    + number(7, 0) + text(8, number(1, (-62135596800) & ((1 << 64) - 1)) + number(2, 0))
    + text(11, entry("app", b"smoke"))
)  # fmt: skip
CONTAINER = (
    text(1, "smoke") + text(2, "curlimages/curl") + text(3, "curl") + text(3, "-f")
    + text(3, "http://nosuch") + text(5, "") + text(8, b"") + text(13, "") + text(14, "")
    + text(20, "")
)  # fmt: skip
POD_SPEC = text(2, CONTAINER) + text(3, "Never") + text(6, "") + number(11, 0)
JOB_SPEC = number(7, 0) + text(6, text(1, text(1, "")) + text(2, POD_SPEC))
JOB = text(1, META) + text(2, JOB_SPEC) + text(3, text(4, b""))


def test_a_job_from_kubectl_create_job_reads_as_its_json() -> None:
    assert decode(envelope("batch/v1", "Job", JOB)) == {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "smoke", "labels": {"app": "smoke"}},
        "spec": {
            "backoffLimit": 0,  # a pointer set to 0 on purpose stays
            "template": {
                "metadata": {},
                "spec": {
                    "containers": [
                        {
                            "name": "smoke",
                            "image": "curlimages/curl",
                            "command": ["curl", "-f", "http://nosuch"],
                            "resources": {},
                        }
                    ],
                    "restartPolicy": "Never",
                },
            },
        },
    }


def test_namespaces_and_config_maps() -> None:
    namespace = decode(envelope("v1", "Namespace", text(1, text(1, "scratch")) + text(2, b"")))
    assert namespace == {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "scratch"},
        "spec": {},
    }
    data = text(2, entry("a", b"b")) + text(3, entry("bin", b"\x00\x01"))
    config = decode(envelope("v1", "ConfigMap", text(1, text(1, "cfg")) + data))
    assert (config["data"], config["binaryData"]) == ({"a": "b"}, {"bin": "AAE="})


def int_or_string(value: int | str) -> bytes:
    """An intstr.IntOrString as Go writes it: type 0 with intVal, or type 1 with strVal."""
    if isinstance(value, str):
        return number(1, 1) + number(2, 0) + text(3, value)
    return number(1, 0) + number(2, value) + text(3, "")


def service_port(name: str, port: int, target: int | str, node_port: int = 0) -> bytes:
    fields = text(1, name) + text(2, "TCP") + number(3, port)
    return text(1, fields + text(4, int_or_string(target)) + number(5, node_port))


# What ``kubectl create deployment web --image=nginx:1.27 --replicas=2 --port=80`` sends, the
# zero fields Go writes included (strategy's empty type, the status's zero counts).
WEB_PORT = text(1, "") + number(2, 0) + number(3, 80) + text(4, "") + text(5, "")
WEB_CONTAINER = (
    text(1, "nginx") + text(2, "nginx:1.27") + text(5, "") + text(6, WEB_PORT) + text(8, b"")
    + number(16, 0) + number(17, 0) + number(18, 0)
)  # fmt: skip
WEB_POD_SPEC = text(2, WEB_CONTAINER) + text(3, "") + number(11, 0)
WEB_TEMPLATE = text(1, text(8, b"") + text(11, entry("app", b"web"))) + text(2, WEB_POD_SPEC)
DEPLOYMENT_SPEC = (
    number(1, 2) + text(2, text(1, entry("app", b"web"))) + text(3, WEB_TEMPLATE)
    + text(4, text(1, "")) + number(5, 0) + number(7, 0)
)  # fmt: skip
DEPLOYMENT = text(1, META) + text(2, DEPLOYMENT_SPEC) + text(3, number(2, 0) + number(7, 0))


def test_a_deployment_from_kubectl_create_deployment_reads_as_its_json() -> None:
    assert decode(envelope("apps/v1", "Deployment", DEPLOYMENT)) == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "smoke", "labels": {"app": "smoke"}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [
                        {
                            "name": "nginx",
                            "image": "nginx:1.27",
                            "ports": [{"containerPort": 80}],
                            "resources": {},
                        }
                    ]
                },
            },
            "strategy": {},  # a struct, not a pointer: JSON writes it empty too
        },
    }


def test_rolling_update_bounds_are_pointers_to_int_or_string() -> None:
    percent, zero = text(1, int_or_string("25%")), text(2, int_or_string(0))
    spec = text(4, text(1, "RollingUpdate") + text(2, percent + zero))
    deployment = decode(envelope("apps/v1", "Deployment", text(2, spec)))
    assert deployment["spec"] == {
        "strategy": {
            "type": "RollingUpdate",
            "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": 0},
        }
    }


def test_services_from_kubectl_create_service_and_their_target_ports() -> None:
    by_number = service_port("80-8080", 80, 8080, node_port=30080)
    by_name = service_port("443-https", 443, "https")
    spec = by_number + by_name + text(2, entry("app", b"web")) + text(3, "") + text(4, "NodePort")
    service = decode(envelope("v1", "Service", text(1, META) + text(2, spec)
                              + text(3, text(1, b""))))  # fmt: skip
    assert service["spec"] == {
        "ports": [
            {"name": "80-8080", "protocol": "TCP", "port": 80, "targetPort": 8080,
             "nodePort": 30080},
            {"name": "443-https", "protocol": "TCP", "port": 443, "targetPort": "https"},
        ],
        "selector": {"app": "web"},
        "type": "NodePort",
    }  # fmt: skip
    assert "status" not in service


def test_secrets_carry_bytes_as_base64_and_accounts_their_references() -> None:
    data = text(2, entry("password", b"s3cr\xffet")) + text(2, entry("empty", b""))
    secret = decode(envelope("v1", "Secret", text(1, text(1, "db")) + data + text(3, "")))
    assert secret == {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db"},
        "data": {"password": "czNjcv9ldA==", "empty": ""},
    }
    account = text(1, text(1, "robot")) + text(3, text(1, "registry")) + number(4, 0)
    assert decode(envelope("v1", "ServiceAccount", account)) == {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": "robot"},
        "imagePullSecrets": [{"name": "registry"}],
        "automountServiceAccountToken": False,  # a pointer: false on purpose
    }


def test_roles_and_bindings_keep_the_core_groups_empty_name() -> None:
    rule = text(2, text(1, "get") + text(1, "list") + text(2, "") + text(3, "pods"))
    role = decode(envelope("rbac.authorization.k8s.io/v1", "Role", text(1, META) + rule))
    assert role["rules"] == [{"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods"]}]
    subject = text(1, "ServiceAccount") + text(2, "") + text(3, "robot") + text(4, "team")
    role_ref = text(1, "rbac.authorization.k8s.io") + text(2, "ClusterRole") + text(3, "view")
    binding = text(1, META) + text(2, subject) + text(3, role_ref)
    assert decode(envelope("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", binding)) == {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": "smoke", "labels": {"app": "smoke"}},
        "subjects": [{"kind": "ServiceAccount", "name": "robot", "namespace": "team"}],
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
    }


def test_pods_read_as_their_json() -> None:
    spec = POD_SPEC + text(10, "") + text(15, text(1, "registry")) + number(21, 0)
    pod = decode(envelope("v1", "Pod", text(1, text(1, "once")) + text(2, spec)))
    assert pod["spec"]["containers"][0]["command"] == ["curl", "-f", "http://nosuch"]
    assert pod["spec"]["imagePullSecrets"] == [{"name": "registry"}]
    assert pod["spec"]["automountServiceAccountToken"] is False
    assert "nodeName" not in pod["spec"]


def test_cron_jobs_and_the_jobs_made_from_them() -> None:
    template = text(1, text(1, "nightly")) + text(2, text(6, text(2, POD_SPEC)))
    spec = text(1, "*/5 * * * *") + text(3, "") + text(5, template)
    cron_job = decode(envelope("batch/v1", "CronJob", text(1, META) + text(2, spec)))
    assert cron_job["spec"]["schedule"] == "*/5 * * * *"
    assert cron_job["spec"]["jobTemplate"]["metadata"] == {"name": "nightly"}
    job_spec = cron_job["spec"]["jobTemplate"]["spec"]
    assert job_spec["template"]["spec"]["containers"][0]["image"] == "curlimages/curl"

    owner = (text(1, "CronJob") + text(3, "nightly") + text(4, "u-1") + text(5, "batch/v1")
             + number(6, 1) + number(7, 1))  # fmt: skip
    job = decode(envelope("batch/v1", "Job", text(1, text(1, "manual") + text(13, owner))))
    assert job["metadata"]["ownerReferences"] == [
        {"kind": "CronJob", "name": "nightly", "uid": "u-1", "apiVersion": "batch/v1",
         "controller": True, "blockOwnerDeletion": True}
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("body", "named"),
    [
        (envelope("policy/v1", "PodDisruptionBudget", text(1, META)),
         "PodDisruptionBudget (policy/v1) in protobuf"),
        (envelope("v1", "Service", text(2, text(14, text(1, number(1, 60))))),
         "field 14 of ServiceSpec"),
        (envelope("batch/v1", "Job", text(1, META + text(17, text(1, "kubectl")))),
         "field 17 of ObjectMeta"),
        (envelope("batch/v1", "Job", text(1, META)[:-3]), "a truncated protobuf body"),
        (b"\x0a\x00", "the k8s protobuf magic"),
    ],
)  # fmt: skip
def test_what_it_cannot_read_is_refused_not_dropped(body: bytes, named: str) -> None:
    with pytest.raises(ApiError) as refused:
        decode(body)
    assert refused.value.code == 415
    assert named in str(refused.value)
