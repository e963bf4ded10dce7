"""Validation: the subset of the real server's checks that clients are likely to trip over.

Names must be DNS-1123 subdomains (a DNS label for a namespace, a DNS-1035 label for a
Service), labels and annotations of an object and of its pod template must be well formed
(apimachinery's ``ValidateLabels`` and ``ValidateAnnotations``: qualified-name keys, label
values of at most 63 bytes, 256 KiB of annotations), workloads need a selector that matches
their template's labels and containers with a name and an image, Job templates need
``restartPolicy`` Never or OnFailure, Service ports need a port number, a Secret holds what
its ``type`` requires. An update may not change what the real server holds immutable: a
workload's selector, most of a StatefulSet's spec, a Job's template (but its scheduling
directives while suspended and never started), selector and completions, a Service's
allocated cluster IPs, a Secret's type. A failure is a 422 ``Invalid`` whose causes name the
fields and quote the values as Go does (a struct is shown as JSON, not Go's ``%#v``), like
the real one. This module must not default or store anything.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from drill.sandbox.kube.api.cron import schedule_error, time_zone_errors
from drill.sandbox.kube.api.errors import invalid
from drill.sandbox.kube.api.formats import (
    config_map_key,
    dns1035_label,
    dns1123_label,
    dns1123_subdomain,
    env_var_name,
    label_key,
    label_value,
    port_name,
)
from drill.sandbox.kube.api.objects import Obj, dig, name_of
from drill.sandbox.kube.api.resources import ResourceType
from drill.sandbox.kube.api.selectors import selector_from_object

_ANNOTATIONS_LIMIT = 256 * 1024  # bytes of keys and values together
# Where each kind keeps the pod template whose labels and annotations are checked too.
_TEMPLATES: dict[str, tuple[str, ...]] = {
    "deployments": ("spec", "template"),
    "statefulsets": ("spec", "template"),
    "daemonsets": ("spec", "template"),
    "replicasets": ("spec", "template"),
    "jobs": ("spec", "template"),
    "cronjobs": ("spec", "jobTemplate", "spec", "template"),
}
# Kinds whose names are not DNS subdomains: a namespace's is a DNS label (NameIsDNSLabel), a
# Service's a DNS-1035 label, starting with a letter (core ValidateServiceName).
_NAME_RULES: dict[str, Callable[[str], list[str]]] = {
    "namespaces": dns1123_label,
    "services": dns1035_label,
}
# RBAC objects take any name that is a valid URL path segment (``system:discovery``).
_PATH_SEGMENT = ("roles", "clusterroles", "rolebindings", "clusterrolebindings")
Cause = tuple[str, str, str]  # (reason, field, message)


def _required(field: str) -> Cause:
    return ("FieldValueRequired", field, "Required value")


def invalid_value(field: str, value: Any, why: str) -> Cause:
    """field.Invalid: the value, quoted as Go quotes it, and why."""
    return ("FieldValueInvalid", field, f"Invalid value: {_go_value(value)}: {why}")


def immutable(field: str, value: Any) -> Cause:
    """ValidateImmutableField's error: the new value, and that it may not change."""
    return invalid_value(field, value, "field is immutable")


def _go_value(value: Any) -> str:
    """A bad value as field.Error prints it: strings quoted, numbers and booleans bare."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if value is None:
        return "null"
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "[]string{" + ", ".join(json.dumps(v, ensure_ascii=False) for v in value) + "}"
    return json.dumps(value, ensure_ascii=False)


def _labels_causes(labels: Any, field: str) -> list[Cause]:
    """ValidateLabels: each key a qualified name, each value a label value."""
    if labels is None:
        return []
    if not isinstance(labels, dict):
        return [invalid_value(field, labels, "must be a map of strings")]
    found: list[Cause] = []
    for key, value in labels.items():
        found += [invalid_value(field, key, why) for why in label_key(key)]
        if not isinstance(value, str):
            found.append(invalid_value(field, value, "must be a string"))
            continue
        found += [invalid_value(field, value, why) for why in label_value(value)]
    return found


def _annotations_causes(annotations: Any, field: str) -> list[Cause]:
    """ValidateAnnotations: keys are qualified names in any case; 256 KiB in all."""
    if annotations is None:
        return []
    if not isinstance(annotations, dict):
        return [invalid_value(field, annotations, "must be a map of strings")]
    found = [
        invalid_value(field, key, why) for key in annotations for why in label_key(key.lower())
    ]
    found += [
        invalid_value(field, value, "must be a string")
        for value in annotations.values()
        if not isinstance(value, str)
    ]
    size = sum(len(str(k).encode()) + len(str(v).encode()) for k, v in annotations.items())
    if size > _ANNOTATIONS_LIMIT:
        found.append(
            (
                "FieldValueTooLong",
                field,
                f"Too long: may not be more than {_ANNOTATIONS_LIMIT} bytes",
            )
        )
    return found


def _metadata_causes(rt: ResourceType, obj: Obj) -> list[Cause]:
    """The labels and annotations of the object (``metadata.``) and of its pod template
    (``spec.template.``, as ValidatePodTemplateSpec names them: no ``metadata``)."""
    found = _labels_causes(dig(obj, "metadata", "labels"), "metadata.labels")
    found += _annotations_causes(dig(obj, "metadata", "annotations"), "metadata.annotations")
    path = _TEMPLATES.get(rt.plural)
    if path is not None:
        template = ".".join(path)
        found += _labels_causes(dig(obj, *path, "metadata", "labels"), f"{template}.labels")
        found += _annotations_causes(
            dig(obj, *path, "metadata", "annotations"), f"{template}.annotations"
        )
    return found


def _name_causes(rt: ResourceType, name: str) -> list[Cause]:
    if not name:
        return [
            (
                "FieldValueRequired",
                "metadata.name",
                "Required value: name or generateName is required",
            )
        ]
    if rt.plural in _PATH_SEGMENT:
        return _path_segment_causes(name)
    check = _NAME_RULES.get(rt.plural, dns1123_subdomain)
    return [invalid_value("metadata.name", name, why) for why in check(name)]


def _path_segment_causes(name: str) -> list[Cause]:
    if name in (".", ".."):
        return [invalid_value("metadata.name", name, f"may not be '{name}'")]
    return [
        invalid_value("metadata.name", name, f"may not contain '{bad}'")
        for bad in ("/", "%")
        if bad in name
    ]


def _container_causes(spec: Any, field: str) -> list[Cause]:
    """core ValidatePodSpec's containers (and init containers): each named with a DNS label
    no other container of the pod has, with an image, its ports 1-65535 (named with a port
    name), and its volume mounts naming volumes of the pod."""
    containers = dig(spec, "containers")
    if not isinstance(containers, list) or not containers:
        return [_required(f"{field}.containers")]
    volumes = {v.get("name") for v in dig(spec, "volumes") or [] if isinstance(v, dict)}
    found: list[Cause] = []
    seen: set[str] = set()
    for group in ("initContainers", "containers"):
        for index, container in enumerate(dig(spec, group) or []):
            where = f"{field}.{group}[{index}]"
            if not isinstance(container, dict):
                found.append(invalid_value(where, container, "must be an object"))
                continue
            found += _one_container_causes(container, where, volumes, seen)
    return found


def _one_container_causes(
    container: Obj, where: str, volumes: set[Any], seen: set[str]
) -> list[Cause]:
    found: list[Cause] = []
    name = container.get("name")
    if not name:
        found.append(_required(f"{where}.name"))
    else:
        found += [invalid_value(f"{where}.name", name, why) for why in dns1123_label(str(name))]
        if name in seen:
            found.append(_duplicate(f"{where}.name", name))
        seen.add(str(name))
    image = container.get("image")
    if not image:
        found.append(_required(f"{where}.image"))
    elif str(image) != str(image).strip():
        found.append(
            invalid_value(f"{where}.image", image, "must not have leading or trailing whitespace")
        )
    for index, port in enumerate(container.get("ports") or []):
        at = f"{where}.ports[{index}]"
        number = port.get("containerPort") if isinstance(port, dict) else None
        if not number:
            found.append(_required(f"{at}.containerPort"))
        else:
            found += _port_number_causes(f"{at}.containerPort", number)
        if isinstance(port, dict) and port.get("name"):
            found += [
                invalid_value(f"{at}.name", port["name"], why)
                for why in port_name(str(port["name"]))
            ]
    found += _env_causes(container.get("env"), f"{where}.env")
    for index, mount in enumerate(container.get("volumeMounts") or []):
        mounted = mount.get("name") if isinstance(mount, dict) else None
        if mounted not in volumes:
            at = f"{where}.volumeMounts[{index}].name"
            found.append(("FieldValueNotFound", at, f"Not found: {_go_value(mounted)}"))
    return found


def _env_causes(env: Any, field: str) -> list[Cause]:
    """ValidateEnv: each variable named (IsRelaxedEnvVarName)."""
    found: list[Cause] = []
    for index, variable in enumerate(env if isinstance(env, list) else []):
        at = f"{field}[{index}].name"
        name = variable.get("name") if isinstance(variable, dict) else None
        if not name:
            found.append(_required(at))
            continue
        found += [invalid_value(at, name, why) for why in env_var_name(str(name))]
    return found


_RESTART_POLICIES = ("Always", "OnFailure", "Never")


def _restart_policy_causes(spec: Any, field: str, allowed: tuple[str, ...]) -> list[Cause]:
    """A pod's restartPolicy is one of Always, OnFailure, Never; a ReplicaSet's, Deployment's
    or StatefulSet's template may only have Always (ValidatePodTemplateSpecForReplicaSet)."""
    policy = dig(spec, "restartPolicy")
    if policy in allowed:
        return []
    return [not_supported(f"{field}.restartPolicy", policy, allowed)]


def _workload_causes(obj: Obj) -> list[Cause]:
    spec = obj.get("spec") or {}
    found: list[Cause] = []
    replicas = spec.get("replicas")
    if not isinstance(replicas, int) or replicas < 0:
        found.append(invalid_value("spec.replicas", replicas, "must be greater than or equal to 0"))
    selector = spec.get("selector")
    if not isinstance(selector, dict) or not (
        selector.get("matchLabels") or selector.get("matchExpressions")
    ):
        found.append(_required("spec.selector"))
    else:
        found += _selector_template_causes(spec, selector)
    pod = dig(spec, "template", "spec")
    found += _restart_policy_causes(pod, "spec.template.spec", ("Always",))
    return found + _container_causes(pod, "spec.template.spec")


# JobSpec fields validateJobSpec holds to ValidateNonnegativeField.
_JOB_COUNTS = (
    "parallelism",
    "completions",
    "activeDeadlineSeconds",
    "backoffLimit",
    "ttlSecondsAfterFinished",
    "backoffLimitPerIndex",
    "maxFailedIndexes",
)


def _job_causes(obj: Obj) -> list[Cause]:
    """batch ValidateJobSpec: validateJobSpec, and a selector that selects the template."""
    spec = obj.get("spec") or {}
    found = _job_spec_causes(spec, "spec")
    selector = spec.get("selector")
    if isinstance(selector, dict):
        found += _selector_template_causes(spec, selector)
    return found


def _selector_template_causes(spec: Obj, selector: Obj) -> list[Cause]:
    """A workload's or Job's selector must select the pods its template makes."""
    if selector_from_object(selector).matches(spec.get("template") or {}):
        return []
    labels = dig(spec, "template", "metadata", "labels")
    return [
        invalid_value(
            "spec.template.metadata.labels", labels, "`selector` does not match template `labels`"
        )
    ]


def _job_spec_causes(spec: Obj, field: str) -> list[Cause]:
    """validateJobSpec: counts that may not be negative, the pod template, and a
    restartPolicy of OnFailure or Never (Always, the pod default, or none is Required)."""
    found = [
        invalid_value(f"{field}.{key}", spec[key], "must be greater than or equal to 0")
        for key in _JOB_COUNTS
        if isinstance(spec.get(key), int) and spec[key] < 0
    ]
    pod = dig(spec, "template", "spec")
    found += _container_causes(pod, f"{field}.template.spec")
    policy = dig(pod, "restartPolicy")
    where = f"{field}.template.spec.restartPolicy"
    if policy in (None, "", "Always"):
        found.append(
            ("FieldValueRequired", where, 'Required value: valid values: "OnFailure", "Never"')
        )
    elif policy not in ("Never", "OnFailure"):
        found.append(
            (
                "FieldValueNotSupported",
                where,
                f'Unsupported value: "{policy}": supported values: "OnFailure", "Never"',
            )
        )
    return found


def _cronjob_causes(obj: Obj) -> list[Cause]:
    """batch validateCronJobSpec: a schedule ParseStandard reads, no TZ in it, a known
    concurrencyPolicy, counts that may not be negative, a Job template as validateJobSpec
    wants it, with no selector of its own (ValidateJobTemplateSpec), and a timeZone that is
    an IANA zone (validateTimeZone)."""
    spec = obj.get("spec") or {}
    schedule = spec.get("schedule")
    found: list[Cause] = []
    if not schedule:
        found.append(_required("spec.schedule"))
    elif (why := schedule_error(str(schedule))) is not None:
        found.append(invalid_value("spec.schedule", schedule, why))
    policy = spec.get("concurrencyPolicy")
    if not policy:
        found.append(_required("spec.concurrencyPolicy"))
    elif policy not in ("Allow", "Forbid", "Replace"):
        found.append(
            (
                "FieldValueNotSupported",
                "spec.concurrencyPolicy",
                f'Unsupported value: "{policy}": supported values: "Allow", "Forbid", "Replace"',
            )
        )
    found += [
        invalid_value(f"spec.{key}", spec[key], "must be greater than or equal to 0")
        for key in (
            "startingDeadlineSeconds",
            "successfulJobsHistoryLimit",
            "failedJobsHistoryLimit",
        )
        if isinstance(spec.get(key), int) and spec[key] < 0
    ]
    job = dig(spec, "jobTemplate", "spec") or {}
    found += _job_spec_causes(job, "spec.jobTemplate.spec")
    if job.get("selector") is not None:
        found.append(
            invalid_value(
                "spec.jobTemplate.spec.selector",
                job["selector"],
                "`selector` will be auto-generated",
            )
        )
    if job.get("manualSelector") is True:
        found.append(
            (
                "FieldValueNotSupported",
                "spec.jobTemplate.spec.manualSelector",
                'Unsupported value: true: supported values: "nil", "false"',
            )
        )
    zone = spec.get("timeZone")
    if zone is not None:
        found += [invalid_value("spec.timeZone", zone, why) for why in time_zone_errors(str(zone))]
    return found


def _cronjob_create_causes(obj: Obj) -> list[Cause]:
    """ValidateCronJobCreate: the controller names its Jobs NAME-TIMESTAMP (11 more
    characters), so a new CronJob's name has at most 52; and no TZ in a new schedule."""
    found: list[Cause] = []
    if len(name_of(obj)) > 52:
        found.append(
            invalid_value("metadata.name", name_of(obj), "must be no more than 52 characters")
        )
    found += _schedule_tz_causes(obj, allowed=False)
    return found


def _cronjob_update_causes(old: Obj, new: Obj) -> list[Cause]:
    """On update a TZ already in the schedule may stay (but not beside spec.timeZone)."""
    return _schedule_tz_causes(new, allowed="TZ" in str(dig(old, "spec", "schedule") or ""))


def _schedule_tz_causes(obj: Obj, *, allowed: bool) -> list[Cause]:
    schedule = str(dig(obj, "spec", "schedule") or "")
    if "TZ" not in schedule:
        return []
    if not allowed:
        why = "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"
        return [invalid_value("spec.schedule", schedule, why)]
    if dig(obj, "spec", "timeZone") is not None:
        why = "cannot use both timeZone field and TZ or CRON_TZ in schedule"
        return [invalid_value("spec.schedule", schedule, why)]
    return []


def _generated_selector_causes(obj: Obj) -> list[Cause]:
    """validateGeneratedSelector: unless ``manualSelector``, the selector must select the
    labels the server gives the Job's pods (its uid and name, legacy and prefixed)."""
    spec = obj.get("spec") or {}
    selector = spec.get("selector")
    if spec.get("manualSelector") is True or not isinstance(selector, dict):
        return []
    uid, name = str(dig(obj, "metadata", "uid") or ""), name_of(obj)
    expected = {
        "controller-uid": uid,
        "job-name": name,
        "batch.kubernetes.io/controller-uid": uid,
        "batch.kubernetes.io/job-name": name,
    }
    if selector_from_object(selector).matches({"metadata": {"labels": expected}}):
        return []
    return [invalid_value("spec.selector", selector, "`selector` not auto-generated")]


_SERVICE_TYPES = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")
_PROTOCOLS = ("SCTP", "TCP", "UDP")


def not_supported(field: str, value: Any, supported: tuple[str, ...]) -> Cause:
    """field.NotSupported: the value, and the values that are."""
    listed = ", ".join(f'"{v}"' for v in supported)
    return (
        "FieldValueNotSupported",
        field,
        f"Unsupported value: {_go_value(value)}: supported values: {listed}",
    )


def _service_causes(obj: Obj) -> list[Cause]:
    """core ValidateService: a known type, an externalName (a DNS name) for an ExternalName
    Service, ports unless headless or ExternalName, each named (a DNS label, unique) when there
    are several, with a port number, a known protocol and a targetPort that is a number or a
    port name; no nodePort on a ClusterIP Service, no port or nodePort twice for a protocol,
    no headless NodePort or LoadBalancer Service."""
    spec = obj.get("spec") or {}
    kind = spec.get("type")
    found: list[Cause] = []
    if kind not in _SERVICE_TYPES:
        found.append(not_supported("spec.type", kind, _SERVICE_TYPES))
    if kind == "ExternalName":
        found += _external_name_causes(spec.get("externalName"))
    elif kind in ("NodePort", "LoadBalancer") and spec.get("clusterIP") == "None":
        why = f"may not be set to 'None' for {kind} services"
        found.append(invalid_value("spec.clusterIPs[0]", "None", why))
    ports = spec.get("ports") or []
    if not ports and kind != "ExternalName" and spec.get("clusterIP") != "None":
        found.append(_required("spec.ports"))
    names: set[str] = set()
    for index, port in enumerate(ports):
        where = f"spec.ports[{index}]"
        if not isinstance(port, dict):
            found.append(invalid_value(where, port, "must be an object"))
            continue
        found += _service_port_causes(port, where, several=len(ports) > 1)
        name = port.get("name")
        if name and name in names:
            found.append(_duplicate(f"{where}.name", name))
        names.add(str(name or ""))
        if kind == "ClusterIP" and port.get("nodePort"):
            why = "Forbidden: may not be used when `type` is 'ClusterIP'"
            found.append(("FieldValueForbidden", f"{where}.nodePort", why))
    return found + _repeated_port_causes(ports)


def _external_name_causes(name: Any) -> list[Cause]:
    """The CNAME an ExternalName Service stands for: a DNS subdomain, a final dot allowed."""
    cname = str(name or "").removesuffix(".")
    if not cname:
        return [_required("spec.externalName")]
    return [invalid_value("spec.externalName", cname, why) for why in dns1123_subdomain(cname)]


def _repeated_port_causes(ports: list[Any]) -> list[Cause]:
    """No two ports share a nodePort, or a port number, for one protocol (the port's error
    shows the pair as Go's ``%#v`` of the internal ServicePort it was keyed by)."""
    found: list[Cause] = []
    node_ports: set[tuple[Any, Any]] = set()
    numbers: set[tuple[Any, Any]] = set()
    for index, port in enumerate(ports):
        if not isinstance(port, dict):
            continue
        protocol, node_port, number = port.get("protocol"), port.get("nodePort"), port.get("port")
        if node_port and (protocol, node_port) in node_ports:
            found.append(_duplicate(f"spec.ports[{index}].nodePort", node_port))
        if (protocol, number) in numbers:
            found.append(_duplicate(f"spec.ports[{index}]", _GoServicePort(protocol, number)))
        node_ports.add((protocol, node_port))
        numbers.add((protocol, number))
    return found


@dataclass(frozen=True)
class _GoServicePort:
    """A (protocol, port) key as Go's ``%#v`` prints the core.ServicePort holding it."""

    protocol: Any
    port: Any

    def __str__(self) -> str:
        return (
            f'core.ServicePort{{Name:"", Protocol:{json.dumps(self.protocol)}, '
            f"AppProtocol:(*string)(nil), Port:{self.port}, "
            'TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}'
        )


def _duplicate(field: str, value: Any) -> Cause:
    """field.Duplicate: the value met again."""
    shown = str(value) if isinstance(value, _GoServicePort) else _go_value(value)
    return ("FieldValueDuplicate", field, f"Duplicate value: {shown}")


def _port_number_causes(field: str, number: Any) -> list[Cause]:
    """IsValidPortNum: a port is a number from 1 to 65535."""
    if isinstance(number, int) and 0 < number < 65536:
        return []
    return [invalid_value(field, number, "must be between 1 and 65535, inclusive")]


def _service_port_causes(port: Obj, where: str, *, several: bool) -> list[Cause]:
    found: list[Cause] = []
    name = port.get("name")
    if several and not name:
        found.append(_required(f"{where}.name"))
    elif name:
        found += [invalid_value(f"{where}.name", name, why) for why in dns1123_label(str(name))]
    found += _port_number_causes(f"{where}.port", port.get("port"))
    protocol = port.get("protocol")
    if protocol not in _PROTOCOLS:
        found.append(not_supported(f"{where}.protocol", protocol, _PROTOCOLS))
    target = port.get("targetPort")
    if isinstance(target, int):
        found += _port_number_causes(f"{where}.targetPort", target)
    elif isinstance(target, str) and not target.isdigit():
        found += [invalid_value(f"{where}.targetPort", target, why) for why in port_name(target)]
    return found


def _string_map_causes(obj: Obj, field: str) -> list[Cause]:
    values = obj.get(field) or {}
    if not isinstance(values, dict):
        return [invalid_value(field, values, "must be a map of strings")]
    return [
        invalid_value(f"{field}[{k}]", v, "must be a string")
        for k, v in values.items()
        if not isinstance(v, str)
    ]


def _pod_causes(obj: Obj) -> list[Cause]:
    spec = obj.get("spec")
    return _restart_policy_causes(spec, "spec", _RESTART_POLICIES) + _container_causes(spec, "spec")


def _data_causes(obj: Obj) -> list[Cause]:
    """core ValidateConfigMap and ValidateSecret: string values, and keys IsConfigMapKey
    accepts (data[KEY]); a ConfigMap's key may not be in both data and binaryData."""
    found = _string_map_causes(obj, "data")
    data, binary = obj.get("data") or {}, obj.get("binaryData") or {}
    for field, keys in (("data", data), ("binaryData", binary)):
        if not isinstance(keys, dict):
            continue
        found += [
            invalid_value(f"{field}[{key}]", key, why)
            for key in keys
            for why in config_map_key(key)
        ]
    if isinstance(data, dict) and isinstance(binary, dict):
        found += [
            invalid_value(f"data[{key}]", key, "duplicate of key present in binaryData")
            for key in data
            if key in binary
        ]
        found += _data_size_causes(obj, data, binary)
    return found


_DATA_LIMIT = 1024 * 1024  # core.MaxSecretSize: a ConfigMap's or Secret's data, in bytes


def _data_size_causes(obj: Obj, data: Obj, binary: Obj) -> list[Cause]:
    """At most 1 MiB of values: a Secret's decoded data (reported on ``data``), a ConfigMap's
    data and binaryData together (reported on the whole object, field "")."""
    secret = obj.get("kind") == "Secret"
    size = sum(_size(v, encoded=secret) for v in data.values())
    size += sum(_size(v, encoded=True) for v in binary.values())
    if size <= _DATA_LIMIT:
        return []
    why = f"Too long: may not be more than {_DATA_LIMIT} bytes"
    return [("FieldValueTooLong", "data" if secret else "", why)]


def _size(value: Any, *, encoded: bool) -> int:
    return len(_decoded(value)) if encoded else len(str(value).encode())


def _decoded(value: Any) -> bytes:
    """A base64 value's bytes (one that does not decode: its own)."""
    text = str(value)
    try:
        return base64.b64decode(text, validate=False)
    except (binascii.Error, ValueError):
        return text.encode()


_SERVICE_ACCOUNT_NAME = "kubernetes.io/service-account.name"
# The keys a Secret of each type must hold (core ValidateSecret); basic-auth's: either one.
_SECRET_KEYS: dict[str, tuple[str, ...]] = {
    "kubernetes.io/tls": ("tls.crt", "tls.key"),
    "kubernetes.io/dockercfg": (".dockercfg",),
    "kubernetes.io/dockerconfigjson": (".dockerconfigjson",),
    "kubernetes.io/basic-auth": ("username", "password"),
    "kubernetes.io/ssh-auth": ("ssh-privatekey",),
}


def _secret_causes(obj: Obj) -> list[Cause]:
    """core ValidateSecret: data as for a ConfigMap, then what its ``type`` requires."""
    found = _data_causes(obj)
    kind, data = obj.get("type"), obj.get("data") or {}
    if not isinstance(data, dict):
        return found
    if kind == "kubernetes.io/service-account-token":
        annotations = dig(obj, "metadata", "annotations") or {}
        if not isinstance(annotations, dict) or not annotations.get(_SERVICE_ACCOUNT_NAME):
            found.append(_required(f"metadata.annotations[{_SERVICE_ACCOUNT_NAME}]"))
        return found
    keys = _SECRET_KEYS.get(str(kind), ())
    if kind == "kubernetes.io/basic-auth":
        missing = [] if any(k in data for k in keys) else list(keys)
    elif kind == "kubernetes.io/ssh-auth":
        missing = [k for k in keys if not _decoded(data.get(k) or "")]
    else:
        missing = [k for k in keys if k not in data]
    found += [_required(f"data[{key}]") for key in missing]
    if kind in ("kubernetes.io/dockercfg", "kubernetes.io/dockerconfigjson") and not missing:
        found += _docker_config_causes(data[keys[0]], f"data[{keys[0]}]")
    return found


def _docker_config_causes(value: Any, field: str) -> list[Cause]:
    """The content must be a JSON object (Go's json.Unmarshal into a map; null passes)."""
    why = _go_json_object_error(_decoded(value))
    return [] if why is None else [invalid_value(field, "<secret contents redacted>", why)]


# Go's scanner's words for where it met a bad character, by Python's words for the same place.
_GO_SYNTAX = {
    "Expecting property name enclosed in double quotes": (
        "looking for beginning of object key string"
    ),
    "Expecting ':' delimiter": "after object key",
    "Expecting ',' delimiter": "after object key:value pair",
    "Extra data": "after top-level value",
}


def _go_json_object_error(raw: bytes) -> str | None:
    """What Go's json.Unmarshal into a map says of ``raw``, None if it takes it."""
    text = raw.decode("utf-8", errors="replace")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        if error.pos >= len(text.rstrip()):
            return "unexpected end of JSON input"
        where = _GO_SYNTAX.get(error.msg, "looking for beginning of value")
        return f"invalid character {_go_quoted_rune(text[error.pos])} {where}"
    if value is None or isinstance(value, dict):
        return None
    kinds = {bool: "bool", str: "string", list: "array", int: "number", float: "number"}
    what = kinds.get(type(value), "value")
    return f"json: cannot unmarshal {what} into Go value of type map[string]interface {{}}"


def _go_quoted_rune(character: str) -> str:
    return "'\\''" if character == "'" else f"'{character}'"


_IMMUTABLE_SET = "Forbidden: field is immutable when `immutable` is set"


def _data_update_causes(old: Obj, new: Obj) -> list[Cause]:
    """ValidateConfigMapUpdate and ValidateSecretUpdate: once ``immutable`` is true, neither it
    nor the data may change; a Secret's type never may."""
    found: list[Cause] = []
    if old.get("immutable") is True:
        if new.get("immutable") is not True:
            found.append(("FieldValueForbidden", "immutable", _IMMUTABLE_SET))
        found += [
            ("FieldValueForbidden", field, _IMMUTABLE_SET)
            for field in ("data", "binaryData")
            if (new.get(field) or {}) != (old.get(field) or {})
        ]
    if old.get("kind") == "Secret" and new.get("type") != old.get("type"):
        found.append(immutable("type", new.get("type")))
    return found


def _autoscaler_causes(obj: Obj) -> list[Cause]:
    """ValidateHorizontalPodAutoscalerSpec: replica bounds and the target's kind and name."""
    spec = obj.get("spec") or {}
    found: list[Cause] = []
    least, most = spec.get("minReplicas"), spec.get("maxReplicas")
    if isinstance(least, int) and least < 1:
        found.append(invalid_value("spec.minReplicas", least, "must be greater than or equal to 1"))
    if not isinstance(most, int) or most < 1:
        found.append(invalid_value("spec.maxReplicas", most or 0, "must be greater than 0"))
    elif isinstance(least, int) and most < least:
        why = "must be greater than or equal to `minReplicas`"
        found.append(invalid_value("spec.maxReplicas", most, why))
    target = spec.get("scaleTargetRef") or {}
    for part in ("kind", "name"):
        if not target.get(part):
            found.append(_required(f"spec.scaleTargetRef.{part}"))
    return found


_BY_PLURAL: dict[str, Callable[[Obj], list[Cause]]] = {
    "horizontalpodautoscalers": _autoscaler_causes,
    "deployments": _workload_causes,
    "statefulsets": _workload_causes,
    "jobs": _job_causes,
    "cronjobs": _cronjob_causes,
    "pods": _pod_causes,
    "services": _service_causes,
    "configmaps": _data_causes,
    "secrets": _secret_causes,
}


def _selector_update_causes(old: Obj, new: Obj) -> list[Cause]:
    """apps/v1 workloads: the selector is immutable (the Deployment, ReplicaSet and DaemonSet
    strategies' ValidateUpdate, for every version but the old beta ones)."""
    return _immutable_causes(old, new, ("selector",))


def _immutable_causes(old: Obj, new: Obj, keys: tuple[str, ...]) -> list[Cause]:
    before, after = old.get("spec") or {}, new.get("spec") or {}
    return [immutable(f"spec.{k}", after.get(k)) for k in keys if after.get(k) != before.get(k)]


# ValidateStatefulSetUpdate: what an update may change in a StatefulSet's spec.
_STATEFULSET_MUTABLE = (
    "replicas",
    "ordinals",
    "template",
    "updateStrategy",
    "revisionHistoryLimit",
    "persistentVolumeClaimRetentionPolicy",
    "minReadySeconds",
)


def _statefulset_update_causes(old: Obj, new: Obj) -> list[Cause]:
    def fixed(obj: Obj) -> Obj:
        spec = obj.get("spec") or {}
        return {k: v for k, v in spec.items() if k not in _STATEFULSET_MUTABLE}

    if fixed(old) == fixed(new):
        return []
    allowed = ", ".join(f"'{k}'" for k in _STATEFULSET_MUTABLE[:-1])
    why = (
        f"Forbidden: updates to statefulset spec for fields other than {allowed} and "
        f"'{_STATEFULSET_MUTABLE[-1]}' are forbidden"
    )
    return [("FieldValueForbidden", "spec", why)]


# What a suspended Job that never started may change in its template (mutable scheduling
# directives): the template's labels and annotations, and these fields of its pod spec.
_SCHEDULING_DIRECTIVES = ("nodeSelector", "tolerations", "affinity", "schedulingGates")


def _job_update_causes(old: Obj, new: Obj) -> list[Cause]:
    """batch ValidateJobSpecUpdate: selector, template (but its scheduling directives while
    suspended and never started), completions (an Indexed Job's in tandem with parallelism),
    completionMode and the failure and success policies are immutable."""
    before, after = old.get("spec") or {}, new.get("spec") or {}
    found = _immutable_causes(
        old,
        new,
        (
            "selector",
            "completionMode",
            "podFailurePolicy",
            "backoffLimitPerIndex",
            "managedBy",
            "successPolicy",
        ),
    )
    completions = after.get("completions")
    if completions != before.get("completions"):
        if after.get("completionMode") != "Indexed":
            found.append(immutable("spec.completions", completions))
        elif completions is not None and completions != after.get("parallelism"):
            found.append(
                invalid_value(
                    "spec.completions",
                    completions,
                    "can only be modified in tandem with spec.parallelism",
                )
            )
    template, old_template = after.get("template"), before.get("template")
    if before.get("suspend") is True and not dig(old, "status", "startTime"):
        template, old_template = _without_directives(template), _without_directives(old_template)
    if template != old_template:
        found.append(immutable("spec.template", after.get("template")))
    return found


def _without_directives(template: Any) -> Any:
    if not isinstance(template, dict):
        return template
    metadata = {
        k: v
        for k, v in (template.get("metadata") or {}).items()
        if k not in ("labels", "annotations")
    }
    spec = {
        k: v for k, v in (template.get("spec") or {}).items() if k not in _SCHEDULING_DIRECTIVES
    }
    return {**template, "metadata": metadata, "spec": spec}


def _service_update_causes(old: Obj, new: Obj) -> list[Cause]:
    """core ValidateServiceUpdate (validateUpgradeDowngradeClusterIPs): an allocated cluster
    IP may not change, unless the Service is or becomes an ExternalName one."""
    before, after = old.get("spec") or {}, new.get("spec") or {}
    if "ExternalName" in (before.get("type"), after.get("type")):
        return []
    old_ips, new_ips = before.get("clusterIPs") or [], after.get("clusterIPs") or []
    if old_ips[:1] == ["None"] and new_ips[:1] == ["None"]:
        return []
    return [
        invalid_value(f"spec.clusterIPs[{i}]", new_ips, "may not change once set")
        for i, ip in enumerate(old_ips)
        if i < len(new_ips) and new_ips[i] != ip
    ]


# What is checked on create only: ValidateJob's generated selector (ValidateJobUpdate has none).
_CREATE_BY_PLURAL: dict[str, Callable[[Obj], list[Cause]]] = {
    "jobs": _generated_selector_causes,
    "cronjobs": _cronjob_create_causes,
}
_UPDATE_BY_PLURAL: dict[str, Callable[[Obj, Obj], list[Cause]]] = {
    "deployments": _selector_update_causes,
    "replicasets": _selector_update_causes,
    "daemonsets": _selector_update_causes,
    "statefulsets": _statefulset_update_causes,
    "jobs": _job_update_causes,
    "cronjobs": _cronjob_update_causes,
    "configmaps": _data_update_causes,
    "secrets": _data_update_causes,
    "services": _service_update_causes,
}


_UPDATES_FIRST = ("configmaps", "secrets")


def validate(rt: ResourceType, obj: Obj, old: Obj | None = None) -> None:
    """Raise a 422 ``Invalid`` listing every problem found in ``obj``, and, for an update of
    ``old``, every field it changes that may not change."""
    causes = _name_causes(rt, name_of(obj)) + _metadata_causes(rt, obj)
    check = _BY_PLURAL.get(rt.plural)
    if check is not None:
        causes += check(obj)
    update_check = _UPDATE_BY_PLURAL.get(rt.plural)
    if old is not None and update_check is not None:
        changed = update_check(old, obj)
        # ValidateConfigMapUpdate and ValidateSecretUpdate check what may not change first.
        causes = changed + causes if rt.plural in _UPDATES_FIRST else causes + changed
    create_check = _CREATE_BY_PLURAL.get(rt.plural)
    if old is None and create_check is not None:
        causes = create_check(obj) + causes
    if causes:
        raise invalid(rt, name_of(obj), causes)


DRY_RUN_ALL = "All"


def dry_run_causes(values: list[str]) -> list[Cause]:
    """apimachinery ValidateDryRun: ``All`` is the only dry run there is."""
    if all(value == DRY_RUN_ALL for value in values):
        return []
    return [not_supported("dryRun", values, (DRY_RUN_ALL,))]
