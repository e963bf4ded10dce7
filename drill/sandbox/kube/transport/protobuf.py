"""Request bodies in Kubernetes' protobuf encoding, read into the JSON form the API stores.

kubectl's typed commands send protobuf for built-in kinds: ``kubectl create deployment``,
``job`` (also ``--from=cronjob/NAME``), ``cronjob``, ``namespace``, ``configmap``, ``secret``
(generic, tls, docker-registry), ``service`` (clusterip, nodeport, loadbalancer, externalname),
``serviceaccount``, ``role``, ``rolebinding``, ``clusterrole`` and ``clusterrolebinding``
(``kubectl run`` and ``kubectl expose`` send JSON). A body is the ``k8s\\0`` magic followed by
a ``runtime.Unknown`` envelope (its type's apiVersion and kind, and the raw message). This
module reads those kinds, and Pods, with the fields they can carry, by the field numbers of
Kubernetes' ``generated.proto`` schemas (k8s.io/api core/v1, apps/v1, batch/v1, rbac/v1;
k8s.io/apimachinery meta/v1, intstr, resource), into what kubectl would have sent as JSON: an
IntOrString is its number or string, a Quantity its string, bytes base64. A kind or a field it
does not know is refused with a 415 naming it, never dropped: a body must be stored whole or
not at all. It must not know about HTTP or the store.
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
# "map:V" (string keys, values read as V); IntOrString and Quantity are messages that JSON
# writes as a scalar, so they are read as one; "*" before it marks a repeated field, "?" after
# it a pointer in Go's type (its zero value was set on purpose: kept). Go writes every
# non-pointer field, set or not; a zero one is what JSON leaves out, so it is left out.
_Field = tuple[str, str]
_META_AND_STATUS: dict[int, _Field] = {1: ("metadata", "ObjectMeta"), 3: ("status", "Empty")}
_SCHEMAS: dict[str, dict[int, _Field]] = {
    # k8s.io/apimachinery pkg/apis/meta/v1 and pkg/util/intstr
    "ObjectMeta": {
        1: ("name", "string"),
        2: ("generateName", "string"),
        3: ("namespace", "string"),
        8: ("creationTimestamp", "time"),
        11: ("labels", "map:string"),
        12: ("annotations", "map:string"),
        13: ("ownerReferences", "*OwnerReference"),
        14: ("finalizers", "*string"),
    },
    "OwnerReference": {
        1: ("kind", "string"),
        3: ("name", "string"),
        4: ("uid", "string"),
        5: ("apiVersion", "string"),
        6: ("controller", "bool?"),
        7: ("blockOwnerDeletion", "bool?"),
    },
    "LabelSelector": {
        1: ("matchLabels", "map:string"),
        2: ("matchExpressions", "*LabelSelectorRequirement"),
    },
    "LabelSelectorRequirement": {
        1: ("key", "string"),
        2: ("operator", "string"),
        3: ("values", "*string"),
    },
    "IntOrString": {1: ("type", "int"), 2: ("intVal", "int"), 3: ("strVal", "string")},
    # k8s.io/api apps/v1
    "Deployment": {**_META_AND_STATUS, 2: ("spec", "DeploymentSpec")},
    "DeploymentSpec": {
        1: ("replicas", "int?"),
        2: ("selector", "LabelSelector"),
        3: ("template", "PodTemplateSpec"),
        4: ("strategy", "DeploymentStrategy"),
        5: ("minReadySeconds", "int"),
        6: ("revisionHistoryLimit", "int?"),
        7: ("paused", "bool"),
        9: ("progressDeadlineSeconds", "int?"),
    },
    "DeploymentStrategy": {1: ("type", "string"), 2: ("rollingUpdate", "RollingUpdateDeployment")},
    "RollingUpdateDeployment": {
        1: ("maxUnavailable", "IntOrString?"),
        2: ("maxSurge", "IntOrString?"),
    },
    # k8s.io/api batch/v1
    "Job": {**_META_AND_STATUS, 2: ("spec", "JobSpec")},
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
    "CronJob": {**_META_AND_STATUS, 2: ("spec", "CronJobSpec")},
    "CronJobSpec": {
        1: ("schedule", "string"),
        2: ("startingDeadlineSeconds", "int?"),
        3: ("concurrencyPolicy", "string"),
        4: ("suspend", "bool?"),
        5: ("jobTemplate", "JobTemplateSpec"),
        6: ("successfulJobsHistoryLimit", "int?"),
        7: ("failedJobsHistoryLimit", "int?"),
        8: ("timeZone", "string?"),
    },
    "JobTemplateSpec": {1: ("metadata", "ObjectMeta"), 2: ("spec", "JobSpec")},
    # k8s.io/api core/v1
    "Pod": {**_META_AND_STATUS, 2: ("spec", "PodSpec")},
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
        10: ("nodeName", "string"),
        15: ("imagePullSecrets", "*LocalObjectReference"),
        16: ("hostname", "string"),
        17: ("subdomain", "string"),
        19: ("schedulerName", "string"),
        20: ("initContainers", "*Container"),
        21: ("automountServiceAccountToken", "bool?"),
        24: ("priorityClassName", "string"),
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
        16: ("stdin", "bool"),
        17: ("stdinOnce", "bool"),
        18: ("tty", "bool"),
        20: ("terminationMessagePolicy", "string"),
    },
    "ContainerPort": {
        1: ("name", "string"),
        2: ("hostPort", "int"),
        3: ("containerPort", "int"),
        4: ("protocol", "string"),
        5: ("hostIP", "string"),
    },
    "EnvVar": {1: ("name", "string"), 2: ("value", "string")},
    "ResourceRequirements": {1: ("limits", "map:Quantity"), 2: ("requests", "map:Quantity")},
    "LocalObjectReference": {1: ("name", "string")},
    "ObjectReference": {
        1: ("kind", "string"),
        2: ("namespace", "string"),
        3: ("name", "string"),
        4: ("uid", "string"),
        5: ("apiVersion", "string"),
        6: ("resourceVersion", "string"),
        7: ("fieldPath", "string"),
    },
    "Namespace": {**_META_AND_STATUS, 2: ("spec", "NamespaceSpec")},
    "NamespaceSpec": {1: ("finalizers", "*string")},
    "ConfigMap": {
        1: ("metadata", "ObjectMeta"),
        2: ("data", "map:string"),
        3: ("binaryData", "map:bytes"),
        4: ("immutable", "bool?"),
    },
    "Secret": {
        1: ("metadata", "ObjectMeta"),
        2: ("data", "map:bytes"),
        3: ("type", "string"),
        4: ("stringData", "map:string"),
        5: ("immutable", "bool?"),
    },
    "ServiceAccount": {
        1: ("metadata", "ObjectMeta"),
        2: ("secrets", "*ObjectReference"),
        3: ("imagePullSecrets", "*LocalObjectReference"),
        4: ("automountServiceAccountToken", "bool?"),
    },
    "Service": {**_META_AND_STATUS, 2: ("spec", "ServiceSpec")},
    "ServiceSpec": {
        1: ("ports", "*ServicePort"),
        2: ("selector", "map:string"),
        3: ("clusterIP", "string"),
        4: ("type", "string"),
        5: ("externalIPs", "*string"),
        7: ("sessionAffinity", "string"),
        8: ("loadBalancerIP", "string"),
        9: ("loadBalancerSourceRanges", "*string"),
        10: ("externalName", "string"),
        11: ("externalTrafficPolicy", "string"),
        12: ("healthCheckNodePort", "int"),
        13: ("publishNotReadyAddresses", "bool"),
        17: ("ipFamilyPolicy", "string?"),
        18: ("clusterIPs", "*string"),
        19: ("ipFamilies", "*string"),
        20: ("allocateLoadBalancerNodePorts", "bool?"),
        21: ("loadBalancerClass", "string?"),
        22: ("internalTrafficPolicy", "string?"),
        23: ("trafficDistribution", "string?"),
    },
    "ServicePort": {
        1: ("name", "string"),
        2: ("protocol", "string"),
        3: ("port", "int"),
        4: ("targetPort", "IntOrString"),
        5: ("nodePort", "int"),
        6: ("appProtocol", "string?"),
    },
    # k8s.io/api rbac/v1
    "Role": {1: ("metadata", "ObjectMeta"), 2: ("rules", "*PolicyRule")},
    "ClusterRole": {
        1: ("metadata", "ObjectMeta"),
        2: ("rules", "*PolicyRule"),
        3: ("aggregationRule", "AggregationRule"),
    },
    "PolicyRule": {
        1: ("verbs", "*string"),
        2: ("apiGroups", "*string"),
        3: ("resources", "*string"),
        4: ("resourceNames", "*string"),
        5: ("nonResourceURLs", "*string"),
    },
    "AggregationRule": {1: ("clusterRoleSelectors", "*LabelSelector")},
    "RoleBinding": {
        1: ("metadata", "ObjectMeta"),
        2: ("subjects", "*Subject"),
        3: ("roleRef", "RoleRef"),
    },
    "Subject": {
        1: ("kind", "string"),
        2: ("apiGroup", "string"),
        3: ("name", "string"),
        4: ("namespace", "string"),
    },
    "RoleRef": {1: ("apiGroup", "string"), 2: ("kind", "string"), 3: ("name", "string")},
    "Empty": {},  # a status sent on create: whatever it holds, the server sets its own
}
_SCHEMAS["ClusterRoleBinding"] = _SCHEMAS["RoleBinding"]
_RBAC = "rbac.authorization.k8s.io/v1"
# (apiVersion, kind) -> the schema of the message: every kind a typed kubectl command creates.
_KINDS = {
    ("v1", "Namespace"): "Namespace",
    ("v1", "ConfigMap"): "ConfigMap",
    ("v1", "Secret"): "Secret",
    ("v1", "Service"): "Service",
    ("v1", "ServiceAccount"): "ServiceAccount",
    ("v1", "Pod"): "Pod",
    ("apps/v1", "Deployment"): "Deployment",
    ("batch/v1", "Job"): "Job",
    ("batch/v1", "CronJob"): "CronJob",
    (_RBAC, "Role"): "Role",
    (_RBAC, "RoleBinding"): "RoleBinding",
    (_RBAC, "ClusterRole"): "ClusterRole",
    (_RBAC, "ClusterRoleBinding"): "ClusterRoleBinding",
}
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
        return _bytes(_plain_fields(value).get(1, b"")).decode()  # resource.Quantity: 1 string
    if reading == "IntOrString":
        return _int_or_string(_message(value, reading))
    return _message(value, reading)


def _int_or_string(fields: Obj) -> object:
    """An intstr.IntOrString as JSON writes it: the number, or the string if type is 1."""
    return fields.get("strVal", "") if fields.get("type", 0) == 1 else fields.get("intVal", 0)


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
