"""Server-side printing: objects as a ``meta.k8s.io`` ``Table``, as kube-apiserver answers
``kubectl get`` (``Accept: application/json;as=Table;v=v1;g=meta.k8s.io``).

The columns of the kinds the sandbox serves follow kube-apiserver's printers
(``pkg/printers/internalversion/printers.go``): pods, deployments, statefulsets, jobs,
services, namespaces and configmaps; every other kind (Velero's CRDs, which declare no
``additionalPrinterColumns``, Leases, ...) gets the default ``Name`` and ``Created At``. Wide-only
columns (``kubectl get -o wide``) have priority 1. Ages are Kubernetes' short human durations
measured against the emulator's clock.

This module only turns objects into tables: it must not read the Accept header, know HTTP or
storage, or change the objects it prints.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from drill.sandbox.kube.api.objects import Obj, dig, parse_time
from drill.sandbox.kube.api.resources import ResourceType
from drill.sandbox.kube.api.selectors import selector_to_string

INCLUDE_OBJECT = ("None", "Metadata", "Object")
_NAME_DOC = (
    "Name must be unique within a namespace. Is required when creating resources, although some "
    "resources may allow a client to request the generation of an appropriate name "
    "automatically. Name is primarily intended for creation idempotence and configuration "
    "definition. Cannot be updated."
)
_CREATED_DOC = (
    "CreationTimestamp is a timestamp representing the server time when this object was "
    "created. It is not guaranteed to be set in happens-before order across separate "
    "operations. Clients may not set this value. It is represented in RFC3339 form and is in "
    "UTC."
)


@dataclass(frozen=True)
class Column:
    name: str
    type: str = "string"
    description: str = ""
    priority: int = 0
    format: str = ""

    def definition(self) -> Obj:
        return {
            "name": self.name,
            "type": self.type,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        }


@dataclass(frozen=True)
class Printer:
    """The columns of one kind and the function giving a row's cells: after its name, which
    comes first unless ``name_first`` is False (an Event's is its last, and wide only)."""

    columns: tuple[Column, ...]
    cells: Callable[[Obj, datetime], list[Any]]
    name_first: bool = True


NAME = Column("Name", format="name", description=_NAME_DOC)
AGE = Column("Age", description=_CREATED_DOC)
CONTAINERS = Column(
    "Containers", description="Names of each container in the template.", priority=1
)
IMAGES = Column(
    "Images", description="Images referenced by each container in the template.", priority=1
)
SELECTOR = Column("Selector", description="Label selector of the workload.", priority=1)


# -- durations -------------------------------------------------------------------------------


def human_duration(seconds: float) -> str:
    """Kubernetes' ``duration.HumanDuration``: "5s", "3m2s", "12m", "5h3m", "3d4h", "2y10d"."""
    whole = int(seconds)
    if whole < -1:
        return "<invalid>"
    if whole < 0:
        return "0s"
    if whole < 120:
        return f"{whole}s"
    minutes = whole // 60
    if minutes < 10:
        return _two(minutes, "m", whole % 60, "s")
    if minutes < 180:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 8:
        return _two(hours, "h", minutes % 60, "m")
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return _two(hours // 24, "d", hours % 24, "h")
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        return _two(hours // 24 // 365, "y", (hours // 24) % 365, "d")
    return f"{hours // 24 // 365}y"


def _two(big: int, big_unit: str, small: int, small_unit: str) -> str:
    return f"{big}{big_unit}" if small == 0 else f"{big}{big_unit}{small}{small_unit}"


def since(value: object, now: datetime) -> str:
    """How long ago a timestamp was, as the printers' ``translateTimestampSince``."""
    moment = parse_time(value)
    return "<unknown>" if moment is None else human_duration((now - moment).total_seconds())


def age(obj: Obj, now: datetime) -> str:
    return since(dig(obj, "metadata", "creationTimestamp"), now)


# -- shared cells ----------------------------------------------------------------------------


def _containers(obj: Obj, *path: str) -> list[Obj]:
    found = dig(obj, *path, "containers")
    return [c for c in found if isinstance(c, dict)] if isinstance(found, list) else []


def _names_and_images(obj: Obj) -> list[str]:
    containers = _containers(obj, "spec", "template", "spec")
    names = ",".join(str(c.get("name", "")) for c in containers)
    images = ",".join(str(c.get("image", "")) for c in containers)
    return [names, images]


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def label_selector_text(selector: object) -> str:
    """A workload's LabelSelector as its SELECTOR column shows it; "<none>" when empty."""
    return selector_to_string(selector if isinstance(selector, dict) else None) or "<none>"


def _map_selector_text(selector: object) -> str:
    if not isinstance(selector, dict) or not selector:
        return "<none>"
    return ",".join(sorted(f"{k}={v}" for k, v in selector.items()))


def _has_condition(obj: Obj, kind: str) -> bool:
    conditions = dig(obj, "status", "conditions") or []
    return any(c.get("type") == kind and c.get("status") == "True" for c in conditions)


# -- pods ------------------------------------------------------------------------------------


def _pod_cells(pod: Obj, now: datetime) -> list[Any]:
    statuses = dig(pod, "status", "containerStatuses") or []
    ready = sum(1 for s in statuses if s.get("ready"))
    total = len(_containers(pod, "spec"))
    restarts = sum(_int(s.get("restartCount")) for s in statuses)
    node = dig(pod, "spec", "nodeName") or "<none>"
    nominated = dig(pod, "status", "nominatedNodeName") or "<none>"
    ip = dig(pod, "status", "podIP") or "<none>"
    gates = _readiness_gates(pod)
    return [
        f"{ready}/{total}",
        pod_status(pod),
        str(restarts),
        age(pod, now),
        ip,
        node,
        nominated,
        gates,
    ]


def pod_status(pod: Obj) -> str:
    """The STATUS column: the phase, or a container's waiting or terminated reason."""
    reason = dig(pod, "status", "reason") or dig(pod, "status", "phase") or "Unknown"
    for status in dig(pod, "status", "containerStatuses") or []:
        waiting = dig(status, "state", "waiting", "reason")
        terminated = dig(status, "state", "terminated")
        if waiting:
            reason = waiting
        elif isinstance(terminated, dict):
            reason = terminated.get("reason") or _exit_text(terminated)
    if dig(pod, "metadata", "deletionTimestamp") and reason != "NodeLost":
        reason = "Terminating"
    return str(reason)


def _exit_text(terminated: Obj) -> str:
    signal = _int(terminated.get("signal"))
    return f"Signal:{signal}" if signal else f"ExitCode:{_int(terminated.get('exitCode'))}"


def _readiness_gates(pod: Obj) -> str:
    gates = dig(pod, "spec", "readinessGates") or []
    if not gates:
        return "<none>"
    true = {
        c.get("type") for c in dig(pod, "status", "conditions") or [] if c.get("status") == "True"
    }
    met = sum(1 for g in gates if g.get("conditionType") in true)
    return f"{met}/{len(gates)}"


# -- workloads -------------------------------------------------------------------------------


def _deployment_cells(deployment: Obj, now: datetime) -> list[Any]:
    wanted = _int(dig(deployment, "spec", "replicas"))
    ready = _int(dig(deployment, "status", "readyReplicas"))
    updated = _int(dig(deployment, "status", "updatedReplicas"))
    available = _int(dig(deployment, "status", "availableReplicas"))
    selector = label_selector_text(dig(deployment, "spec", "selector"))
    cells: list[Any] = [f"{ready}/{wanted}", updated, available, age(deployment, now)]
    return [*cells, *_names_and_images(deployment), selector]


def _statefulset_cells(statefulset: Obj, now: datetime) -> list[Any]:
    wanted = _int(dig(statefulset, "spec", "replicas"))
    ready = _int(dig(statefulset, "status", "readyReplicas"))
    return [f"{ready}/{wanted}", age(statefulset, now), *_names_and_images(statefulset)]


def job_status(job: Obj) -> str:
    """The STATUS column of Kubernetes 1.32's job printer."""
    if _has_condition(job, "Complete"):
        return "Complete"
    if _has_condition(job, "Failed"):
        return "Failed"
    if dig(job, "metadata", "deletionTimestamp"):
        return "Terminating"
    for condition in ("Suspended", "FailureTarget", "SuccessCriteriaMet"):
        if _has_condition(job, condition):
            return condition
    return "Running"


def _job_completions(job: Obj) -> str:
    succeeded = _int(dig(job, "status", "succeeded"))
    completions = dig(job, "spec", "completions")
    if isinstance(completions, int):
        return f"{succeeded}/{completions}"
    parallelism = _int(dig(job, "spec", "parallelism"))
    return f"{succeeded}/1 of {parallelism}" if parallelism > 1 else f"{succeeded}/1"


def _job_duration(job: Obj, now: datetime) -> str:
    started = parse_time(dig(job, "status", "startTime"))
    if started is None:
        return ""
    ended = parse_time(dig(job, "status", "completionTime")) or now
    return human_duration((ended - started).total_seconds())


def _job_cells(job: Obj, now: datetime) -> list[Any]:
    selector = label_selector_text(dig(job, "spec", "selector"))
    status = [job_status(job), _job_completions(job), _job_duration(job, now), age(job, now)]
    return [*status, *_names_and_images(job), selector]


# -- services, namespaces, configmaps --------------------------------------------------------


def _service_cells(service: Obj, now: datetime) -> list[Any]:
    kind = dig(service, "spec", "type") or "ClusterIP"
    cluster_ip = dig(service, "spec", "clusterIP") or "<none>"
    selector = _map_selector_text(dig(service, "spec", "selector"))
    ports = _service_ports(service)
    return [kind, cluster_ip, _external_ip(service, kind), ports, age(service, now), selector]


def _external_ip(service: Obj, kind: str) -> str:
    external = [str(ip) for ip in dig(service, "spec", "externalIPs") or []]
    if kind == "ExternalName":
        return str(dig(service, "spec", "externalName") or "<none>")
    if kind == "LoadBalancer":
        ingress = dig(service, "status", "loadBalancer", "ingress") or []
        found = [str(i.get("ip") or i.get("hostname")) for i in ingress] + external
        return ",".join(found) or "<pending>"
    return ",".join(external) or "<none>"


def _service_ports(service: Obj) -> str:
    texts = []
    for port in dig(service, "spec", "ports") or []:
        node_port = f":{port['nodePort']}" if port.get("nodePort") else ""
        texts.append(f"{port.get('port')}{node_port}/{port.get('protocol') or 'TCP'}")
    return ",".join(texts) or "<none>"


def _namespace_cells(namespace: Obj, now: datetime) -> list[Any]:
    return [dig(namespace, "status", "phase") or "", age(namespace, now)]


def _configmap_cells(configmap: Obj, now: datetime) -> list[Any]:
    data = len(configmap.get("data") or {}) + len(configmap.get("binaryData") or {})
    return [data, age(configmap, now)]


def _autoscaler_cells(autoscaler: Obj, now: datetime) -> list[Any]:
    spec = autoscaler.get("spec") or {}
    target = spec.get("scaleTargetRef") or {}
    least = spec.get("minReplicas")
    return [
        f"{target.get('kind', '')}/{target.get('name', '')}",
        ", ".join(_metric_target(m) for m in spec.get("metrics") or []) or "<none>",
        "<unset>" if least is None else least,
        spec.get("maxReplicas", 0),
        dig(autoscaler, "status", "currentReplicas") or 0,
        age(autoscaler, now),
    ]


def _metric_target(metric: Obj) -> str:
    """A resource metric's target as kubectl prints it; there are no current values."""
    resource = metric.get("resource") or {}
    target = resource.get("target") or {}
    if "averageUtilization" in target:
        wanted = f"{target['averageUtilization']}%"
    else:
        wanted = str(target.get("averageValue") or target.get("value") or "<unset>")
    return f"{resource.get('name', metric.get('type', ''))}: <unknown>/{wanted}"


def _event_cells(event: Obj, now: datetime) -> list[Any]:
    involved = event.get("involvedObject") or {}
    source = event.get("source") or {}
    origin = ", ".join(filter(None, (source.get("component"), source.get("host"))))
    return [
        since(event.get("lastTimestamp") or event.get("eventTime"), now),
        event.get("type", ""),
        event.get("reason", ""),
        f"{str(involved.get('kind', '')).lower()}/{involved.get('name', '')}",
        involved.get("fieldPath", ""),
        origin or event.get("reportingComponent", ""),
        event.get("message", ""),
        since(event.get("firstTimestamp") or event.get("eventTime"), now),
        event.get("count") or 1,
        dig(event, "metadata", "name") or "",
    ]


def _default_cells(obj: Obj, now: datetime) -> list[Any]:
    return [dig(obj, "metadata", "creationTimestamp")]


# -- the printers by kind --------------------------------------------------------------------

_POD = Printer(
    (
        NAME,
        Column(
            "Ready", description="The aggregate readiness state of this pod for accepting traffic."
        ),
        Column("Status", description="The aggregate status of the containers in this pod."),
        Column(
            "Restarts",
            description=(
                "The number of times the containers in this pod have been "
                "restarted and when the last container in this pod has restarted."
            ),
        ),
        AGE,
        Column("IP", description="IP address allocated to the pod.", priority=1),
        Column("Node", description="Name of the Node to which this pod is assigned.", priority=1),
        Column(
            "Nominated Node",
            description="Name of the node which this pod is nominated to run on.",
            priority=1,
        ),
        Column("Readiness Gates", description="Pod readiness gates.", priority=1),
    ),
    _pod_cells,
)
_DEPLOYMENT = Printer(
    (
        NAME,
        Column("Ready", description="Number of the pod with ready state"),
        Column(
            "Up-to-date",
            "integer",
            (
                "Total number of non-terminated pods targeted by "
                "this deployment that have the desired template spec."
            ),
        ),
        Column(
            "Available",
            "integer",
            (
                "Total number of available pods (ready for "
                "at least minReadySeconds) targeted by this deployment."
            ),
        ),
        AGE,
        CONTAINERS,
        IMAGES,
        SELECTOR,
    ),
    _deployment_cells,
)
_STATEFULSET = Printer(
    (
        NAME,
        Column("Ready", description="Number of the pod with ready state"),
        AGE,
        CONTAINERS,
        IMAGES,
    ),
    _statefulset_cells,
)
_JOB = Printer(
    (
        NAME,
        Column("Status", description="Status of the job."),
        Column("Completions", description="The completion status of the job."),
        Column("Duration", description="Time required to complete the job."),
        AGE,
        CONTAINERS,
        IMAGES,
        SELECTOR,
    ),
    _job_cells,
)
_SERVICE = Printer(
    (
        NAME,
        Column("Type", description="The type of service."),
        Column("Cluster-IP", description="IP address of the service inside the cluster."),
        Column("External-IP", description="External IP addresses of the service."),
        Column("Port(s)", description="The ports the service exposes."),
        AGE,
        Column(
            "Selector",
            description=(
                "Route service traffic to pods with label keys and values matching this selector."
            ),
            priority=1,
        ),
    ),
    _service_cells,
)
_NAMESPACE = Printer(
    (NAME, Column("Status", description="The status of the namespace"), AGE), _namespace_cells
)
_CONFIGMAP = Printer(
    (NAME, Column("Data", "integer", "Number of entries in the configmap."), AGE), _configmap_cells
)
_AUTOSCALER = Printer(
    (
        NAME,
        Column("Reference", description="The resource whose scale it sets."),
        Column("Targets", description="The metrics it scales by, and their targets."),
        Column("MinPods", description="The lower bound of the replica count."),
        Column("MaxPods", description="The upper bound of the replica count."),
        Column("Replicas", description="The current number of replicas of its target."),
        AGE,
    ),
    _autoscaler_cells,
)
_EVENT = Printer(
    (
        Column("Last Seen", description="When the most recent occurrence was recorded."),
        Column("Type", description="Type of this event (Normal, Warning)."),
        Column("Reason", description="A short, machine understandable string for the transition."),
        Column("Object", description="The object that this event is about."),
        Column("Subobject", description="The part of the object the event is about.", priority=1),
        Column("Source", description="The component reporting this event.", priority=1),
        Column("Message", description="A human-readable description of the status."),
        Column("First Seen", description="When this event was first recorded.", priority=1),
        Column("Count", description="The number of times this event has occurred.", priority=1),
        Column("Name", format="name", description=_NAME_DOC, priority=1),
    ),
    _event_cells,
    name_first=False,
)
_DEFAULT = Printer((NAME, Column("Created At", "date", _CREATED_DOC)), _default_cells)
_PRINTERS = {
    ("", "Pod"): _POD,
    ("apps", "Deployment"): _DEPLOYMENT,
    ("apps", "StatefulSet"): _STATEFULSET,
    ("batch", "Job"): _JOB,
    ("", "Service"): _SERVICE,
    ("", "Namespace"): _NAMESPACE,
    ("", "ConfigMap"): _CONFIGMAP,
    ("autoscaling", "HorizontalPodAutoscaler"): _AUTOSCALER,
    ("", "Event"): _EVENT,
}


def printer_for(rt: ResourceType) -> Printer:
    return _PRINTERS.get((rt.group, rt.kind), _DEFAULT)


# -- tables ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TableOptions:
    """What the client asked for: the Table's version, the row objects, and whether the
    column definitions are wanted (a watch sends them with its first event only)."""

    version: str = "v1"
    include_object: str = "Metadata"
    headers: bool = True


def table(
    rt: ResourceType, objects: Iterable[Obj], metadata: Obj, now: datetime, options: TableOptions
) -> Obj:
    """A Table of ``objects`` (a list's items, or one object) with ``metadata`` as its own."""
    printer = printer_for(rt)
    rows = [_row(obj, printer, now, options.include_object) for obj in objects]
    document: Obj = {"kind": "Table", "apiVersion": f"meta.k8s.io/{options.version}"}
    document["metadata"] = metadata
    if options.headers:
        document["columnDefinitions"] = [c.definition() for c in printer.columns]
    document["rows"] = rows
    return document


def list_table(rt: ResourceType, listed: Obj, now: datetime, options: TableOptions) -> Obj:
    """A list (``{"items": [...], "metadata": ...}``) as a Table."""
    keep = ("resourceVersion", "continue", "remainingItemCount")
    metadata = {k: v for k, v in (listed.get("metadata") or {}).items() if k in keep}
    return table(rt, listed.get("items") or [], metadata, now, options)


def object_table(rt: ResourceType, obj: Obj, now: datetime, options: TableOptions) -> Obj:
    """One object as a Table of one row."""
    metadata = {"resourceVersion": str(dig(obj, "metadata", "resourceVersion") or "")}
    return table(rt, [obj], metadata, now, options)


def _row(obj: Obj, printer: Printer, now: datetime, include_object: str) -> Obj:
    cells = printer.cells(obj, now)
    if printer.name_first:
        cells = [dig(obj, "metadata", "name") or "", *cells]
    return {"cells": cells, "object": _row_object(obj, include_object)}


def _row_object(obj: Obj, include_object: str) -> Obj | None:
    if include_object == "None":
        return None
    if include_object == "Object":
        return obj
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": obj.get("metadata") or {},
    }
