"""The ``/scale`` subresource: an ``autoscaling/v1`` Scale view of a Deployment or StatefulSet.

This module only converts between a workload and its Scale; it must not read or write the
workload (that is ``_api``'s job).
"""

from __future__ import annotations

from drill.sandbox.kube.api.errors import ApiError
from drill.sandbox.kube.api.objects import Obj, dig
from drill.sandbox.kube.api.selectors import selector_to_string

_META_KEYS = ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")


def scale_of(workload: Obj) -> Obj:
    source = workload.get("metadata", {})
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {k: source[k] for k in _META_KEYS if k in source},
        "spec": {"replicas": int(dig(workload, "spec", "replicas") or 0)},
        "status": {
            "replicas": int(dig(workload, "status", "replicas") or 0),
            "selector": selector_to_string(dig(workload, "spec", "selector")),
        },
    }


def replicas_from(scale: Obj, name: str) -> int:
    replicas = dig(scale, "spec", "replicas")
    if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
        why = f"spec.replicas: Invalid value: {replicas!r}: must be greater than or equal to 0"
        raise ApiError(422, f'Scale.autoscaling "{name}" is invalid: {why}')
    return replicas
