"""Defaulting: the fields a real API server fills in on create, so objects come back complete.

The kubernetes Python client validates responses strictly (e.g. a Deployment without
``spec.selector`` or a StatefulSet status without ``replicas`` fails to deserialise), and
controllers here read the defaulted fields, so every object is defaulted before it is stored.
This module must not validate (that is ``_validation``) or touch the store.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from drill.sandbox.kube.api.objects import Obj, child, meta, name_of, uid_of
from drill.sandbox.kube.api.resources import ResourceType

NODE = "sandbox-node"


def _container(container: Obj) -> None:
    image = str(container.get("image", ""))
    untagged = ":" not in image.rsplit("/", 1)[-1]
    pull = "Always" if untagged or image.endswith(":latest") else "IfNotPresent"
    container.setdefault("imagePullPolicy", pull)
    container.setdefault("terminationMessagePath", "/dev/termination-log")
    container.setdefault("terminationMessagePolicy", "File")
    container.setdefault("resources", {})
    for port in container.get("ports") or []:
        port.setdefault("protocol", "TCP")


def pod_spec(spec: Obj) -> None:
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    for container in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        _container(container)


def _template(spec: Obj) -> None:
    template = child(spec, "template")
    child(template, "metadata")
    pod_spec(child(template, "spec"))


def _deployment(obj: Obj) -> None:
    spec = child(obj, "spec")
    spec.setdefault("replicas", 1)
    _deployment_strategy(child(spec, "strategy"))
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    _template(spec)


def _deployment_strategy(strategy: Obj) -> None:
    """Field by field, as the real server does: kubectl's typed create sends ``strategy: {}``."""
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        rolling = child(strategy, "rollingUpdate")
        rolling.setdefault("maxUnavailable", "25%")
        rolling.setdefault("maxSurge", "25%")


def _statefulset(obj: Obj) -> None:
    spec = child(obj, "spec")
    spec.setdefault("replicas", 1)
    spec.setdefault("podManagementPolicy", "OrderedReady")
    spec.setdefault("updateStrategy", {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}})
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault(
        "persistentVolumeClaimRetentionPolicy", {"whenDeleted": "Retain", "whenScaled": "Retain"}
    )
    _template(spec)


def _job(obj: Obj) -> None:
    """Jobs get a selector on their own uid, as the real server generates one."""
    spec = child(obj, "spec")
    for key, value in (
        ("parallelism", 1),
        ("completions", 1),
        ("backoffLimit", 6),
        ("completionMode", "NonIndexed"),
        ("suspend", False),
        ("podReplacementPolicy", "TerminatingOrFailed"),
        ("manualSelector", False),
    ):
        spec.setdefault(key, value)
    own = job_labels(name_of(obj), uid_of(obj))
    if not spec.get("manualSelector"):
        # The Job strategy's generateSelector: the uid joins whatever selector was given
        # (validation then refuses one that selects anything but the Job's own pods).
        matching = child(child(spec, "selector"), "matchLabels")
        matching.setdefault("batch.kubernetes.io/controller-uid", uid_of(obj))
    _template(spec)
    labels = child(spec, "template", "metadata", "labels")
    labels.update({k: v for k, v in own.items() if k not in labels})


def _keep_cluster_ips(old: Obj, new: Obj) -> None:
    """The Service strategy's ``patchAllocatedValues`` and ``normalizeClusterIPs`` on update:
    an update that leaves out the cluster IPs keeps the allocated ones; one that changes only
    ``clusterIP`` has it stand for ``clusterIPs`` too."""
    before, after = old.get("spec") or {}, child(new, "spec")
    if "ExternalName" in (before.get("type"), after.get("type")):
        return
    if not after.get("clusterIP") and before.get("clusterIP"):
        after["clusterIP"] = before["clusterIP"]
    if not after.get("clusterIPs") and before.get("clusterIPs"):
        after["clusterIPs"] = list(before["clusterIPs"])
    if after.get("clusterIP") != before.get("clusterIP") and after.get("clusterIPs") == before.get(
        "clusterIPs"
    ):
        after["clusterIPs"] = [after["clusterIP"]]


def _cronjob(obj: Obj) -> None:
    """batch/v1 SetDefaults_CronJob, and the pod defaults of its Job template."""
    spec = child(obj, "spec")
    for key, value in (
        ("concurrencyPolicy", "Allow"),
        ("suspend", False),
        ("successfulJobsHistoryLimit", 3),
        ("failedJobsHistoryLimit", 1),
    ):
        spec.setdefault(key, value)
    _template(child(child(spec, "jobTemplate"), "spec"))


def job_labels(name: str, uid: str) -> dict[str, str]:
    return {
        "batch.kubernetes.io/controller-uid": uid,
        "batch.kubernetes.io/job-name": name,
        "controller-uid": uid,
        "job-name": name,
    }


def _pod(obj: Obj) -> None:
    """Pods are scheduled at once: the sandbox has one node and no scheduler."""
    spec = child(obj, "spec")
    pod_spec(spec)
    spec.setdefault("nodeName", NODE)


def _secret(obj: Obj) -> None:
    obj.setdefault("type", "Opaque")
    plain = obj.pop("stringData", None) or {}
    data = child(obj, "data")
    for key, value in plain.items():
        data[key] = base64.b64encode(str(value).encode()).decode()


def _namespace(obj: Obj) -> None:
    child(obj, "spec").setdefault("finalizers", ["kubernetes"])
    child(obj, "metadata", "labels")["kubernetes.io/metadata.name"] = name_of(obj)


def _lease(obj: Obj) -> None:
    child(obj, "spec")


def _autoscaler(obj: Obj) -> None:
    """autoscaling/v2 defaults: at least one replica, and CPU at 80% when no metric is named."""
    spec = child(obj, "spec")
    spec.setdefault("minReplicas", 1)
    if not spec.get("metrics"):
        target = {"type": "Utilization", "averageUtilization": 80}
        spec["metrics"] = [{"type": "Resource", "resource": {"name": "cpu", "target": target}}]


_INITIAL_STATUS: dict[str, Callable[[], Obj]] = {
    "deployments": dict,
    "statefulsets": lambda: {"replicas": 0, "availableReplicas": 0},
    "jobs": dict,
    "pods": lambda: {"phase": "Pending", "qosClass": "BestEffort"},
    "services": lambda: {"loadBalancer": {}},
    "namespaces": lambda: {"phase": "Active"},
    "horizontalpodautoscalers": lambda: {"currentReplicas": 0, "desiredReplicas": 0},
}


class Defaulter:
    """Fills defaults; holds the only state defaulting needs: the cluster IP allocator."""

    def __init__(self) -> None:
        self._ips_given = 0
        self._by_plural: dict[str, Callable[[Obj], None]] = {
            "deployments": _deployment,
            "statefulsets": _statefulset,
            "jobs": _job,
            "cronjobs": _cronjob,
            "pods": _pod,
            "services": self._service,
            "secrets": _secret,
            "namespaces": _namespace,
            "leases": _lease,
            "horizontalpodautoscalers": _autoscaler,
        }

    def on_create(self, rt: ResourceType, obj: Obj) -> None:
        """Defaults for a new object; clients cannot set the status of a status-subresource kind."""
        meta(obj)
        if rt.plural in _INITIAL_STATUS:
            obj["status"] = _INITIAL_STATUS[rt.plural]()
        self.on_write(rt, obj)

    def on_write(self, rt: ResourceType, obj: Obj) -> None:
        defaults = self._by_plural.get(rt.plural)
        if defaults is not None:
            defaults(obj)

    def on_update(self, rt: ResourceType, old: Obj, obj: Obj) -> None:
        """Defaults for a new version of ``old``: what the server allocated stays unless the
        update names another value (which validation then refuses)."""
        if rt.plural == "services":
            _keep_cluster_ips(old, obj)
        self.on_write(rt, obj)

    @contextmanager
    def trial(self) -> Iterator[None]:
        """Defaults for a dry run: a cluster IP they allocate is not kept, as a dry run's
        allocator gives one without reserving it."""
        given = self._ips_given
        try:
            yield
        finally:
            self._ips_given = given

    def _next_ip(self) -> str:
        self._ips_given += 1
        n = self._ips_given
        return f"10.96.{n // 250}.{n % 250 + 2}"

    def _service(self, obj: Obj) -> None:
        spec = child(obj, "spec")
        spec.setdefault("type", "ClusterIP")
        for port in spec.get("ports") or []:
            port.setdefault("protocol", "TCP")
            port.setdefault("targetPort", port.get("port"))
        if spec["type"] == "ExternalName":
            return  # a CNAME: no cluster IP
        if not spec.get("clusterIP"):
            spec["clusterIP"] = self._next_ip()
        spec.setdefault("clusterIPs", [spec["clusterIP"]])
        for key, value in (
            ("sessionAffinity", "None"),
            ("ipFamilies", ["IPv4"]),
            ("ipFamilyPolicy", "SingleStack"),
            ("internalTrafficPolicy", "Cluster"),
        ):
            spec.setdefault(key, value)
