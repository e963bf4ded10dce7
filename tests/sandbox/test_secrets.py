"""A Secret's ``type`` says what it must hold (core ValidateSecret), and never changes."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from kubernetes.client.exceptions import ApiException

from tests.sandbox.helpers import Cluster
from tests.sandbox.test_kubectl import kubectl

CONFIG = '{"auths": {}}'


def secret(name: str, kind: str, **data: str) -> Any:
    return {
        "metadata": {"name": name},
        "type": kind,
        "stringData": data,
    }


def refusal(cluster: Cluster, body: Any) -> str:
    with pytest.raises(ApiException) as refused:
        cluster.core.create_namespaced_secret("default", body)
    assert refused.value.status == 422
    message: str = json.loads(refused.value.body)["message"]
    return message


@pytest.mark.parametrize(
    ("body", "problems"),
    [
        (
            secret("t", "kubernetes.io/tls", a="b"),
            "[data[tls.crt]: Required value, data[tls.key]: Required value]",
        ),
        (secret("t", "kubernetes.io/tls", **{"tls.crt": "c"}), "data[tls.key]: Required value"),
        (
            secret("d", "kubernetes.io/dockerconfigjson"),
            "data[.dockerconfigjson]: Required value",
        ),
        (
            secret("d", "kubernetes.io/dockerconfigjson", **{".dockerconfigjson": "{nope"}),
            'data[.dockerconfigjson]: Invalid value: "<secret contents redacted>": '
            "invalid character 'n' looking for beginning of object key string",
        ),
        (
            secret("d", "kubernetes.io/dockerconfigjson", **{".dockerconfigjson": "[1]"}),
            'data[.dockerconfigjson]: Invalid value: "<secret contents redacted>": '
            "json: cannot unmarshal array into Go value of type map[string]interface {}",
        ),
        (secret("c", "kubernetes.io/dockercfg"), "data[.dockercfg]: Required value"),
        (
            secret("c", "kubernetes.io/dockercfg", **{".dockercfg": ""}),
            'data[.dockercfg]: Invalid value: "<secret contents redacted>": '
            "unexpected end of JSON input",
        ),
        (
            secret("b", "kubernetes.io/basic-auth"),
            "[data[username]: Required value, data[password]: Required value]",
        ),
        (
            secret("s", "kubernetes.io/ssh-auth", **{"ssh-privatekey": ""}),
            "data[ssh-privatekey]: Required value",
        ),
        (
            secret("a", "kubernetes.io/service-account-token"),
            "metadata.annotations[kubernetes.io/service-account.name]: Required value",
        ),
    ],
)
def test_a_secret_lacking_what_its_type_requires_is_invalid(
    cluster: Cluster, body: Any, problems: str
) -> None:
    name = body["metadata"]["name"]
    assert refusal(cluster, body) == f'Secret "{name}" is invalid: {problems}'


@pytest.mark.parametrize(
    "body",
    [
        secret("t", "kubernetes.io/tls", **{"tls.crt": "c", "tls.key": ""}),
        secret("d", "kubernetes.io/dockerconfigjson", **{".dockerconfigjson": CONFIG}),
        secret("c", "kubernetes.io/dockercfg", **{".dockercfg": "null"}),
        secret("b", "kubernetes.io/basic-auth", password=""),
        secret("s", "kubernetes.io/ssh-auth", **{"ssh-privatekey": "k"}),
        {
            **secret("a", "kubernetes.io/service-account-token"),
            "metadata": {
                "name": "a",
                "annotations": {"kubernetes.io/service-account.name": "default"},
            },
        },
        secret("o", "example.com/anything"),
    ],
)
def test_a_secret_holding_what_its_type_requires_is_stored(cluster: Cluster, body: Any) -> None:
    made = cluster.core.create_namespaced_secret("default", body)
    assert made.type == body["type"]


def test_a_secret_keeps_its_type_and_what_the_type_requires(cluster: Cluster) -> None:
    tls = {"tls.crt": "c", "tls.key": "k"}
    made = cluster.core.create_namespaced_secret("default", secret("t", "kubernetes.io/tls", **tls))
    body = made.to_dict(serialize=True)
    body["type"] = "Opaque"
    with pytest.raises(ApiException) as retyped:
        cluster.core.replace_namespaced_secret("t", "default", body)
    assert json.loads(retyped.value.body)["message"] == (
        'Secret "t" is invalid: type: Invalid value: "Opaque": field is immutable'
    )
    with pytest.raises(ApiException) as emptied:
        cluster.core.patch_namespaced_secret("t", "default", {"data": {"tls.key": None}})
    assert json.loads(emptied.value.body)["message"] == (
        'Secret "t" is invalid: data[tls.key]: Required value'
    )
    key = cluster.core.read_namespaced_secret("t", "default").data["tls.key"]
    assert base64.b64decode(key) == b"k"


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not on PATH")
def test_kubectl_create_secret_of_a_type_is_checked(cluster: Cluster, tmp_path: Path) -> None:
    tried = kubectl(
        cluster,
        tmp_path,
        "create",
        "secret",
        "generic",
        "bad",
        "--type=kubernetes.io/tls",
        "--from-literal=a=b",
    )
    assert tried.returncode != 0
    assert tried.stderr.strip() == (
        'error: failed to create secret Secret "bad" is invalid: '
        "[data[tls.crt]: Required value, data[tls.key]: Required value]"
    )
