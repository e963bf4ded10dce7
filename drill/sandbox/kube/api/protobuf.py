"""Reading the few protobuf bodies kubectl sends that the sandbox must understand.

kubectl's typed commands send ``application/vnd.kubernetes.protobuf``: the 4-byte ``k8s\\0``
magic, then a ``runtime.Unknown`` (its typeMeta, then the object's own bytes). Decoding every
kind would need every type's schema; the sandbox reads only the request kinds behind
``kubectl create token``, ``kubectl auth can-i`` (with ``--list``) and ``kubectl auth whoami``,
whose field numbers are those of Kubernetes' ``generated.proto`` files, into the JSON shape the
rest of the emulator reads. Fields it does not know are skipped, as protobuf decoders do.

This module must not know about HTTP or act on what it decodes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from drill.sandbox.kube.api.errors import ApiError, bad_request
from drill.sandbox.kube.api.objects import Obj

MAGIC = b"k8s\x00"
_VARINT, _FIXED64, _BYTES, _FIXED32 = 0, 1, 2, 5


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # string | bytes | int | message
    shape: tuple[tuple[int, Field], ...] = ()
    repeated: bool = False


Shape = tuple[tuple[int, Field], ...]


def _message(name: str, shape: Shape) -> Field:
    return Field(name, "message", shape)


_TYPE_META: Shape = ((1, Field("apiVersion", "string")), (2, Field("kind", "string")))
_UNKNOWN: Shape = ((1, _message("typeMeta", _TYPE_META)), (2, Field("raw", "bytes")))
_OBJECT_META: Shape = (
    (1, Field("name", "string")),
    (2, Field("generateName", "string")),
    (3, Field("namespace", "string")),
)
_RESOURCE_ATTRIBUTES: Shape = tuple(
    (number, Field(name, "string"))
    for number, name in enumerate(
        ("namespace", "verb", "group", "version", "resource", "subresource", "name"), start=1
    )
)
_NON_RESOURCE_ATTRIBUTES: Shape = ((1, Field("path", "string")), (2, Field("verb", "string")))
_BOUND_OBJECT: Shape = tuple(
    (number, Field(name, "string"))
    for number, name in enumerate(("kind", "apiVersion", "name", "uid"), start=1)
)

# (apiVersion, kind) -> the fields of the object, by field number.
KINDS: dict[tuple[str, str], Shape] = {
    ("authentication.k8s.io/v1", "TokenRequest"): (
        (1, _message("metadata", _OBJECT_META)),
        (
            2,
            _message(
                "spec",
                (
                    (1, Field("audiences", "string", repeated=True)),
                    (3, _message("boundObjectRef", _BOUND_OBJECT)),
                    (4, Field("expirationSeconds", "int")),
                ),
            ),
        ),
    ),
    ("authentication.k8s.io/v1", "SelfSubjectReview"): ((1, _message("metadata", _OBJECT_META)),),
    ("authorization.k8s.io/v1", "SelfSubjectAccessReview"): (
        (1, _message("metadata", _OBJECT_META)),
        (
            2,
            _message(
                "spec",
                (
                    (1, _message("resourceAttributes", _RESOURCE_ATTRIBUTES)),
                    (2, _message("nonResourceAttributes", _NON_RESOURCE_ATTRIBUTES)),
                ),
            ),
        ),
    ),
    ("authorization.k8s.io/v1", "SelfSubjectRulesReview"): (
        (1, _message("metadata", _OBJECT_META)),
        (2, _message("spec", ((1, Field("namespace", "string")),))),
    ),
}


def decode(body: bytes) -> Obj:
    """The object in a protobuf request body, as JSON-shaped data; 415 for kinds not read."""
    if not body.startswith(MAGIC):
        raise bad_request("the protobuf body does not start with the Kubernetes magic")
    envelope = _decode(body[len(MAGIC) :], _UNKNOWN)
    type_meta = envelope.get("typeMeta") or {}
    key = (str(type_meta.get("apiVersion", "")), str(type_meta.get("kind", "")))
    shape = KINDS.get(key)
    if shape is None:
        # A clear 415 beats a confusing parse error; kubectl create -f (JSON) works for these.
        raise ApiError(415, f"the sandbox accepts {key[1] or 'this kind'} as JSON or YAML only")
    raw = envelope.get("raw", b"")
    found = _decode(raw if isinstance(raw, bytes) else b"", shape)
    return {"apiVersion": key[0], "kind": key[1], **found}


def _decode(data: bytes, shape: Shape) -> Obj:
    fields = dict(shape)
    found: Obj = {}
    for number, value in _fields(data):
        spec = fields.get(number)
        if spec is None:
            continue
        decoded = _value(spec, value)
        if spec.repeated:
            found.setdefault(spec.name, []).append(decoded)
        else:
            found[spec.name] = decoded
    return found


def _value(spec: Field, value: int | bytes) -> object:
    if spec.kind == "int":
        if not isinstance(value, int):
            raise bad_request(f"protobuf field {spec.name} is not a varint")
        return value
    if not isinstance(value, bytes):
        raise bad_request(f"protobuf field {spec.name} is not length-delimited")
    if spec.kind == "message":
        return _decode(value, spec.shape)
    if spec.kind == "bytes":
        return value
    try:
        return value.decode()
    except UnicodeDecodeError:
        raise bad_request(f"protobuf field {spec.name} is not UTF-8") from None


def _fields(data: bytes) -> Iterator[tuple[int, int | bytes]]:
    """(field number, value) pairs of one message: varints as ints, the rest as bytes."""
    position = 0
    while position < len(data):
        key, position = _varint(data, position)
        number, wire = key >> 3, key & 7
        if wire == _VARINT:
            value, position = _varint(data, position)
            yield number, value
        elif wire == _BYTES:
            length, position = _varint(data, position)
            if position + length > len(data):
                raise bad_request("the protobuf body is truncated")
            yield number, data[position : position + length]
            position += length
        elif wire in (_FIXED64, _FIXED32):
            position += 8 if wire == _FIXED64 else 4
        else:
            raise bad_request(f"the protobuf body has an unsupported wire type {wire}")


def _varint(data: bytes, position: int) -> tuple[int, int]:
    result, shift = 0, 0
    while position < len(data):
        byte = data[position]
        position += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, position
        shift += 7
    raise bad_request("the protobuf body is truncated")
