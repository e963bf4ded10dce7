"""The ``/scale`` subresource: an ``autoscaling/v1`` Scale view of a Deployment or StatefulSet.

This module only converts between a workload and its Scale; it must not read or write the
workload (that is ``_api``'s job).
"""

from __future__ import annotations

import json

from drill.sandbox.kube.api.errors import ApiError
from drill.sandbox.kube.api.objects import Obj, dig
from drill.sandbox.kube.api.selectors import selector_to_string

_META_KEYS = ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")


def scale_of(workload: Obj) -> Obj:
    """The Scale as the server encodes it: ``spec.replicas`` is omitted when 0 (omitempty)."""
    source = workload.get("metadata", {})
    replicas = int(dig(workload, "spec", "replicas") or 0)
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {k: source[k] for k in _META_KEYS if k in source},
        "spec": {"replicas": replicas} if replicas else {},
        "status": {
            "replicas": int(dig(workload, "status", "replicas") or 0),
            "selector": selector_to_string(dig(workload, "spec", "selector")),
        },
    }


def replicas_from(scale: Obj, name: str) -> int:
    """``spec.replicas`` of a Scale. autoscaling/v1 ScaleSpec's replicas is an ``omitempty``
    int32: a Scale without one asks for 0, as it does of the real server."""
    replicas = dig(scale, "spec", "replicas")
    if replicas is None:
        return 0
    if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
        shown = json.dumps(replicas)
        why = f"spec.replicas: Invalid value: {shown}: must be greater than or equal to 0"
        raise ApiError(422, f'Scale.autoscaling "{name}" is invalid: {why}')
    return replicas
