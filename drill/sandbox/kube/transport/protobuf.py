"""Request bodies in Kubernetes' protobuf encoding, read into the JSON form the API stores.

kubectl's typed commands send protobuf (``kubectl create job NAME --image=I -- CMD``,
``kubectl create namespace``, ``kubectl create configmap``). A body is the ``k8s\\0`` magic
followed by a ``runtime.Unknown`` envelope (its type's apiVersion and kind, and the raw
message). This module reads the kinds those commands create (Job, Namespace, ConfigMap) with
the fields they can carry, by the field numbers of Kubernetes' ``generated.proto`` schemas. A
kind or a field it does not know is refused with a 415 naming it, never dropped: a body must
be stored whole or not at all. It must not know about HTTP or the store.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime

from drill.sandbox.kube.api import protobuf as review_kinds
from drill.sandbox.kube.api.errors import ApiError
from drill.sandbox.kube.api.objects import Obj

MAGIC = b"k8s\x00"

# A field: (JSON name, how to read it). A reading is a scalar type, a message name, or
# "map:V" (string keys, values read as V); "*" before it marks a repeated field, "?" after
# it a pointer in Go's type (its zero value was set on purpose: kept). Go writes every
# non-pointer field, set or not; a zero one is what JSON leaves out, so it is left out.
_Field = tuple[str, str]
_SCHEMAS: dict[str, dict[int, _Field]] = {
    "ObjectMeta": {
        1: ("name", "string"),
        2: ("generateName", "string"),
        3: ("namespace", "string"),
        8: ("creationTimestamp", "time"),
        11: ("labels", "map:string"),
        12: ("annotations", "map:string"),
        14: ("finalizers", "*string"),
    },
    "Job": {1: ("metadata", "ObjectMeta"), 2: ("spec", "JobSpec"), 3: ("status", "Empty")},
    "JobSpec": {
        1: ("parallelism", "int?"),
        2: ("completions", "int?"),
        3: ("activeDeadlineSeconds", "int?"),
        4: ("selector", "LabelSelector"),
        5: ("manualSelector", "bool?"),
        6: ("template", "PodTemplateSpec"),
        7: ("backoffLimit", "int?"),
        8: ("ttlSecondsAfterFinished", "int?"),
        9: ("completionMode", "string?"),
        10: ("suspend", "bool?"),
    },
    "LabelSelector": {1: ("matchLabels", "map:string")},
    "PodTemplateSpec": {1: ("metadata", "ObjectMeta"), 2: ("spec", "PodSpec")},
    "PodSpec": {
        2: ("containers", "*Container"),
        3: ("restartPolicy", "string"),
        4: ("terminationGracePeriodSeconds", "int?"),
        5: ("activeDeadlineSeconds", "int?"),
        6: ("dnsPolicy", "string"),
        7: ("nodeSelector", "map:string"),
        8: ("serviceAccountName", "string"),
        9: ("serviceAccount", "string"),
        20: ("initContainers", "*Container"),
    },
    "Container": {
        1: ("name", "string"),
        2: ("image", "string"),
        3: ("command", "*string"),
        4: ("args", "*string"),
        5: ("workingDir", "string"),
        6: ("ports", "*ContainerPort"),
        7: ("env", "*EnvVar"),
        8: ("resources", "ResourceRequirements"),
        13: ("terminationMessagePath", "string"),
        14: ("imagePullPolicy", "string"),
        20: ("terminationMessagePolicy", "string"),
    },
    "ContainerPort": {
        1: ("name", "string"),
        3: ("containerPort", "int"),
        4: ("protocol", "string"),
    },
    "EnvVar": {1: ("name", "string"), 2: ("value", "string")},
    "ResourceRequirements": {1: ("limits", "map:Quantity"), 2: ("requests", "map:Quantity")},
    "Namespace": {
        1: ("metadata", "ObjectMeta"),
        2: ("spec", "NamespaceSpec"),
        3: ("status", "Empty"),
    },
    "NamespaceSpec": {1: ("finalizers", "*string")},
    "ConfigMap": {
        1: ("metadata", "ObjectMeta"),
        2: ("data", "map:string"),
        3: ("binaryData", "map:bytes"),
        4: ("immutable", "bool?"),
    },
    "Empty": {},  # a status sent on create: whatever it holds, the server sets its own
}
_KINDS = {("batch/v1", "Job"): "Job", ("v1", "Namespace"): "Namespace"}
_KINDS[("v1", "ConfigMap")] = "ConfigMap"
_VARINT, _FIXED64, _LENGTH, _FIXED32 = 0, 1, 2, 5


def decode(body: bytes) -> Obj:
    """The object a protobuf request body holds, as JSON would have carried it."""
    if not body.startswith(MAGIC):
        raise _unreadable("the body does not start with the k8s protobuf magic")
    envelope = _plain_fields(body[len(MAGIC) :])  # runtime.Unknown: 1 typeMeta, 2 raw
    type_meta = _plain_fields(_bytes(envelope.get(1, b"")))  # 1 apiVersion, 2 kind
    api_version = _bytes(type_meta.get(1, b"")).decode()
    kind = _bytes(type_meta.get(2, b"")).decode()
    schema = _KINDS.get((api_version, kind))
    if schema is None and (api_version, kind) in review_kinds.KINDS:
        return review_kinds.decode(body)  # tokens and access reviews: read beside RBAC
    if schema is None:
        raise _unreadable(f"{kind or 'an object'} ({api_version}) in protobuf")
    found = _message(_bytes(envelope.get(2, b"")), schema)
    found.pop("status", None)
    return {"apiVersion": api_version, "kind": kind, **found}


def _unreadable(what: str) -> ApiError:
    return ApiError(
        415, f"the sandbox cannot read {what}; send JSON or YAML (kubectl create -f FILE)"
    )


def _message(data: bytes, name: str) -> Obj:
    schema = _SCHEMAS[name]
    found: Obj = {}
    for number, wire, value in _fields(data):
        if name == "Empty" or (number not in schema and _is_zero(value)):
            continue
        if number not in schema:
            raise _unreadable(f"field {number} of {name} in protobuf")
        key, reading = schema[number]
        repeated, pointer = reading.startswith("*"), reading.endswith("?")
        reading = reading.strip("*?")
        if reading.startswith("map:"):
            entry_key, entry_value = _map_entry(value, reading[4:])
            found.setdefault(key, {})[entry_key] = entry_value
            continue
        read = _read(value, wire, reading, f"{name}.{key}")
        if repeated:
            found.setdefault(key, []).append(read)
        elif read is not None and (pointer or read not in ("", 0, False)):
            found[key] = read
    return found


def _is_zero(value: int | bytes) -> bool:
    """Whether a field Go wrote holds only zero values (as every unset non-pointer field)."""
    if isinstance(value, int):
        return value == 0
    try:
        return all(_is_zero(inner) for _, _, inner in _fields(value))
    except ApiError:
        return False  # no message: a non-empty string


def _read(value: int | bytes, wire: int, reading: str, where: str) -> object:
    if reading in ("int", "bool"):
        if wire != _VARINT or not isinstance(value, int):
            raise _unreadable(f"{where} in protobuf (not a varint)")
        signed = value - (1 << 64) if value >= 1 << 63 else value
        return bool(signed) if reading == "bool" else signed
    if not isinstance(value, bytes):
        raise _unreadable(f"{where} in protobuf (not length-delimited)")
    if reading == "string":
        return value.decode()
    if reading == "bytes":
        return base64.b64encode(value).decode()
    if reading == "time":
        return _time(_plain_fields(value))
    if reading == "Quantity":
        return _bytes(_plain_fields(value).get(1, b"")).decode()
    return _message(value, reading)


def _bytes(value: int | bytes) -> bytes:
    if not isinstance(value, bytes):
        raise _unreadable("a protobuf body (a number where bytes belong)")
    return value


def _map_entry(entry: int | bytes, reading: str) -> tuple[str, object]:
    if not isinstance(entry, bytes):
        raise _unreadable("a map entry in protobuf (not length-delimited)")
    fields = _plain_fields(entry)
    key, value = _bytes(fields.get(1, b"")), _bytes(fields.get(2, b""))
    return key.decode(), _read(value, _LENGTH, reading, "a map value")


def _plain_fields(data: bytes) -> dict[int, int | bytes]:
    return {number: value for number, _, value in _fields(data)}


def _time(fields: dict[int, int | bytes]) -> str | None:
    seconds = fields.get(1, 0)
    if not isinstance(seconds, int) or seconds == 0:
        return None  # a zero Time: JSON's null
    if seconds >= 1 << 63:
        return None  # Go's zero time (year 1), negative: also null
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _fields(data: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """(field number, wire type, value) of each field of a protobuf message, in order."""
    at = 0
    while at < len(data):
        tag, at = _varint(data, at)
        number, wire = tag >> 3, tag & 7
        if wire == _VARINT:
            value, at = _varint(data, at)
            yield number, wire, value
        elif wire == _LENGTH:
            length, at = _varint(data, at)
            if at + length > len(data):
                raise _unreadable("a truncated protobuf body")
            yield number, wire, data[at : at + length]
            at += length
        elif wire in (_FIXED64, _FIXED32):
            size = 8 if wire == _FIXED64 else 4
            yield number, wire, int.from_bytes(data[at : at + size], "little")
            at += size
        else:
            raise _unreadable(f"protobuf wire type {wire}")


def _varint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if at >= len(data):
            raise _unreadable("a truncated protobuf body")
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, at
        shift += 7
