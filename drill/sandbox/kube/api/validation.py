"""Validation: the subset of the real server's checks that clients are likely to trip over.

Names must be DNS-1123 (labels for namespaces and services), workloads need a selector that
matches their template's labels and containers with a name and an image, Job templates need
``restartPolicy`` Never or OnFailure, Service ports need a port number. A failure is a 422
``Invalid`` whose causes name the fields, like the real one. This module must not default or
store anything.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from drill.sandbox.kube.api.errors import invalid
from drill.sandbox.kube.api.objects import Obj, dig, name_of
from drill.sandbox.kube.api.resources import ResourceType
from drill.sandbox.kube.api.selectors import selector_from_object

_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_LABEL_ONLY = ("namespaces", "services")
# RBAC objects take any name that is a valid URL path segment (``system:discovery``).
_PATH_SEGMENT = ("roles", "clusterroles", "rolebindings", "clusterrolebindings")
Cause = tuple[str, str, str]  # (reason, field, message)


def _required(field: str) -> Cause:
    return ("FieldValueRequired", field, "Required value")


def _bad(field: str, value: Any, why: str) -> Cause:
    return ("FieldValueInvalid", field, f"Invalid value: {value!r}: {why}")


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
    if rt.plural in _LABEL_ONLY:
        if len(name) > 63 or not _LABEL.match(name):
            return [
                _bad(
                    "metadata.name",
                    name,
                    "a lowercase RFC 1123 label must consist of lower case alphanumeric "
                    "characters or '-'",
                )
            ]
    elif len(name) > 253 or not _SUBDOMAIN.match(name):
        return [
            _bad(
                "metadata.name",
                name,
                "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
                "characters, '-' or '.'",
            )
        ]
    return []


def _path_segment_causes(name: str) -> list[Cause]:
    if name in (".", ".."):
        return [_bad("metadata.name", name, f"may not be '{name}'")]
    return [
        _bad("metadata.name", name, f"may not contain '{bad}'") for bad in ("/", "%") if bad in name
    ]


def _container_causes(spec: Any, field: str) -> list[Cause]:
    containers = dig(spec, "containers")
    if not isinstance(containers, list) or not containers:
        return [_required(f"{field}.containers")]
    found: list[Cause] = []
    for index, container in enumerate(containers):
        where = f"{field}.containers[{index}]"
        if not isinstance(container, dict):
            found.append(_bad(where, container, "must be an object"))
            continue
        found += [
            _required(f"{where}.{key}") for key in ("name", "image") if not container.get(key)
        ]
    return found


def _workload_causes(obj: Obj) -> list[Cause]:
    spec = obj.get("spec") or {}
    found: list[Cause] = []
    replicas = spec.get("replicas")
    if not isinstance(replicas, int) or replicas < 0:
        found.append(_bad("spec.replicas", replicas, "must be greater than or equal to 0"))
    selector = spec.get("selector")
    if not isinstance(selector, dict) or not (
        selector.get("matchLabels") or selector.get("matchExpressions")
    ):
        found.append(_required("spec.selector"))
    elif not selector_from_object(selector).matches(spec.get("template") or {}):
        labels = dig(spec, "template", "metadata", "labels")
        found.append(
            _bad(
                "spec.template.metadata.labels",
                labels,
                "`selector` does not match template `labels`",
            )
        )
    return found + _container_causes(dig(spec, "template", "spec"), "spec.template.spec")


def _job_causes(obj: Obj) -> list[Cause]:
    pod = dig(obj, "spec", "template", "spec")
    found = _container_causes(pod, "spec.template.spec")
    policy = dig(pod, "restartPolicy")
    if policy not in ("Never", "OnFailure"):
        found.append(
            (
                "FieldValueNotSupported",
                "spec.template.spec.restartPolicy",
                f'Unsupported value: "{policy}": supported values: "OnFailure", "Never"',
            )
        )
    return found


def _service_causes(obj: Obj) -> list[Cause]:
    found: list[Cause] = []
    for index, port in enumerate(dig(obj, "spec", "ports") or []):
        number = port.get("port") if isinstance(port, dict) else None
        if not isinstance(number, int) or not 0 < number < 65536:
            found.append(
                _bad(f"spec.ports[{index}].port", number, "must be between 1 and 65535, inclusive")
            )
    return found


def _string_map_causes(obj: Obj, field: str) -> list[Cause]:
    values = obj.get(field) or {}
    if not isinstance(values, dict):
        return [_bad(field, values, "must be a map of strings")]
    return [
        _bad(f"{field}[{k}]", v, "must be a string")
        for k, v in values.items()
        if not isinstance(v, str)
    ]


def _pod_causes(obj: Obj) -> list[Cause]:
    return _container_causes(obj.get("spec"), "spec")


def _data_causes(obj: Obj) -> list[Cause]:
    return _string_map_causes(obj, "data")


_BY_PLURAL: dict[str, Callable[[Obj], list[Cause]]] = {
    "deployments": _workload_causes,
    "statefulsets": _workload_causes,
    "jobs": _job_causes,
    "pods": _pod_causes,
    "services": _service_causes,
    "configmaps": _data_causes,
    "secrets": _data_causes,
}


def validate(rt: ResourceType, obj: Obj) -> None:
    """Raise a 422 ``Invalid`` listing every problem found in ``obj``."""
    causes = _name_causes(rt, name_of(obj))
    check = _BY_PLURAL.get(rt.plural)
    if check is not None:
        causes += check(obj)
    if causes:
        raise invalid(rt, name_of(obj), causes)
