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


@pytest.mark.parametrize(
    ("body", "named"),
    [
        (envelope("apps/v1", "Deployment", text(1, META)), "Deployment (apps/v1) in protobuf"),
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
