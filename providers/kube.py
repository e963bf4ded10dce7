"""Kubernetes through the official client, one adapter per kube context.

The client is imported lazily (it costs ~0.3 s) and its retries are switched off: drill retries
transient failures itself, with backoff bounded by the step's deadline. ApiException and urllib3
errors are translated here; nothing from the SDK escapes this module.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import urllib3

from drill.clock import Clock
from drill.errors import Conflict, NotFound, PermanentError, TransientError
from providers._net import network_reason
from providers.protocols import (
    JobSpec,
    JobStatus,
    LeaseInfo,
    NamespaceInfo,
    WorkloadKind,
    WorkloadStatus,
)

if TYPE_CHECKING:
    from kubernetes.client import ApiClient

IN_CLUSTER = "in-cluster"
T = TypeVar("T")
# Per request: connect and read timeouts, so a dead API server cannot hang a step.
REQUEST_TIMEOUT = (5.0, 30.0)


def connect(context: str, kubeconfig: str | None, clock: Clock) -> KubeAdapter:
    """An adapter for ``context`` (``in-cluster`` for the pod's own service account)."""
    from kubernetes import client, config

    configuration = client.Configuration()
    try:
        if context == IN_CLUSTER:
            config.load_incluster_config(client_configuration=configuration)
        else:
            config.load_kube_config(
                config_file=kubeconfig,
                context=context,
                client_configuration=configuration,
                persist_config=False,
            )
    except (config.ConfigException, OSError, ValueError) as exc:
        where = kubeconfig or "the default kubeconfig"
        raise PermanentError(f"kube context {context!r} ({where}): {exc}") from None
    configuration.retries = False
    return KubeAdapter(client.ApiClient(configuration), context, clock)


@contextmanager
def translated(context: str, what: str) -> Iterator[None]:
    """SDK and network failures become TransientError / PermanentError naming the context."""
    from kubernetes.client.exceptions import ApiException

    try:
        yield
    except ApiException as exc:
        raise api_error(context, what, exc.status or 0, exc.body) from None
    except urllib3.exceptions.HTTPError as exc:
        raise TransientError(f"{context}: {what}: {network_reason(exc)}") from None


def api_error(
    context: str, what: str, status: int, body: object
) -> PermanentError | TransientError:
    message = _status_message(body) or f"HTTP {status}"
    text = f"{context}: {what}: {message}"
    if status == 404:
        return NotFound(text)
    if status == 409:
        return Conflict(text)
    if status == 401:
        return PermanentError(f"{context}: {what}: credentials were rejected (401)")
    if status == 403:
        return PermanentError(f"{context}: {what}: permission denied: {message}")
    if status == 429 or status >= 500 or status == 0:
        return TransientError(text)
    return PermanentError(text)


def _status_message(body: object) -> str:
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    if not isinstance(body, str) or not body:
        return ""
    try:
        status = json.loads(body)
    except ValueError:
        return body[:200]
    return str(status.get("message", "")) if isinstance(status, dict) else ""


class KubeAdapter:
    """KubeApi over one context's ApiClient."""

    def __init__(self, api_client: ApiClient, context: str, clock: Clock) -> None:
        from kubernetes import client

        self.api_client = api_client
        self.context = context
        self.clock = clock
        self.core = client.CoreV1Api(api_client)
        self.apps = client.AppsV1Api(api_client)
        self.batch = client.BatchV1Api(api_client)
        self.coordination = client.CoordinationV1Api(api_client)
        self.version = client.VersionApi(api_client)

    def call(self, what: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        with translated(self.context, what):
            return fn(*args, _request_timeout=REQUEST_TIMEOUT, **kwargs)

    # --- reachability --------------------------------------------------------------------------

    def server_version(self) -> str:
        info = self.call("reach the API server", self.version.get_code)
        return str(info.git_version)

    # --- workloads -----------------------------------------------------------------------------

    def get_replicas(self, kind: WorkloadKind, namespace: str, name: str) -> int:
        read = (
            self.apps.read_namespaced_deployment_scale
            if kind == "Deployment"
            else self.apps.read_namespaced_stateful_set_scale
        )
        scale = self.call(f"read scale of {kind} {namespace}/{name}", read, name, namespace)
        return int(scale.spec.replicas or 0)

    def set_replicas(self, kind: WorkloadKind, namespace: str, name: str, replicas: int) -> None:
        patch = (
            self.apps.patch_namespaced_deployment_scale
            if kind == "Deployment"
            else self.apps.patch_namespaced_stateful_set_scale
        )
        body = {"spec": {"replicas": replicas}}
        self.call(f"scale {kind} {namespace}/{name}", patch, name, namespace, body)

    def workloads(self, namespace: str, selector: str) -> list[WorkloadStatus]:
        return self._listed(namespace, selector)[0]

    def _listed(self, namespace: str, selector: str) -> tuple[list[WorkloadStatus], str]:
        deployments = self.call(
            f"list deployments in {namespace}",
            self.apps.list_namespaced_deployment,
            namespace,
            label_selector=selector,
        )
        statefulsets = self.call(
            f"list statefulsets in {namespace}",
            self.apps.list_namespaced_stateful_set,
            namespace,
            label_selector=selector,
        )
        found = [_workload("Deployment", d) for d in deployments.items]
        found += [_workload("StatefulSet", s) for s in statefulsets.items]
        return found, str(deployments.metadata.resource_version or "")

    def watch_workloads(
        self, namespace: str, selector: str, timeout_s: float
    ) -> Iterator[list[WorkloadStatus]]:
        """Yields the full list now, then again after every change of a deployment."""
        from kubernetes import watch

        deadline = self.clock.monotonic() + timeout_s
        while True:
            current, resource_version = self._listed(namespace, selector)
            yield current
            remaining = deadline - self.clock.monotonic()
            if remaining <= 0:
                return
            kind = next((w.kind for w in current if not w.rolled_out), "Deployment")
            lister = (
                self.apps.list_namespaced_deployment
                if kind == "Deployment"
                else self.apps.list_namespaced_stateful_set
            )
            self._wait_for_event(
                watch.Watch(), lister, namespace, selector, resource_version, remaining
            )

    def _wait_for_event(
        self,
        watcher: Any,
        lister: Callable[..., Any],
        namespace: str,
        selector: str,
        resource_version: str,
        timeout_s: float,
    ) -> None:
        from kubernetes.client.exceptions import ApiException

        try:
            with translated(self.context, f"watch workloads in {namespace}"):
                for _event in watcher.stream(
                    lister,
                    namespace,
                    label_selector=selector,
                    resource_version=resource_version or None,
                    timeout_seconds=max(int(timeout_s), 1),
                    _request_timeout=(REQUEST_TIMEOUT[0], timeout_s + 5),
                ):
                    break
        except TransientError:
            return  # a dropped watch: the caller re-lists, which is what a watch restart is
        except ApiException:
            return
        finally:
            watcher.stop()

    # --- namespaces ----------------------------------------------------------------------------

    def get_namespace(self, name: str) -> NamespaceInfo | None:
        try:
            namespace = self.call(f"read namespace {name}", self.core.read_namespace, name)
        except NotFound:
            return None
        return NamespaceInfo(
            name=name,
            phase=str(namespace.status.phase if namespace.status else "Active"),
            labels=dict(namespace.metadata.labels or {}),
        )

    def create_namespace(self, name: str, labels: Mapping[str, str]) -> None:
        body = {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": name, "labels": dict(labels)},
        }
        self.call(f"create namespace {name}", self.core.create_namespace, body)

    def delete_namespace(self, name: str) -> None:
        try:
            self.call(f"delete namespace {name}", self.core.delete_namespace, name)
        except NotFound:
            return

    # --- jobs ----------------------------------------------------------------------------------

    def create_job(self, spec: JobSpec) -> None:
        self.call(
            f"create job {spec.namespace}/{spec.name}",
            self.batch.create_namespaced_job,
            spec.namespace,
            _job_manifest(spec),
        )

    def watch_job(self, namespace: str, name: str, timeout_s: float) -> Iterator[JobStatus]:
        from kubernetes import watch

        watcher = watch.Watch()
        with translated(self.context, f"watch job {namespace}/{name}"):
            for event in watcher.stream(
                self.batch.list_namespaced_job,
                namespace,
                field_selector=f"metadata.name={name}",
                timeout_seconds=max(int(timeout_s), 1),
                _request_timeout=(REQUEST_TIMEOUT[0], timeout_s + 5),
            ):
                yield _job_status(event["object"])

    def job_logs(self, namespace: str, name: str, tail_lines: int) -> str:
        pods = self.call(
            f"list pods of job {name}",
            self.core.list_namespaced_pod,
            namespace,
            label_selector=f"job-name={name}",
        )
        if not pods.items:
            return ""
        pod = pods.items[-1].metadata.name
        text = self.call(
            f"read log of pod {namespace}/{pod}",
            self.core.read_namespaced_pod_log,
            pod,
            namespace,
            tail_lines=tail_lines,
        )
        return str(text)

    def delete_job(self, namespace: str, name: str) -> None:
        try:
            self.call(
                f"delete job {namespace}/{name}",
                self.batch.delete_namespaced_job,
                name,
                namespace,
                propagation_policy="Background",
            )
        except NotFound:
            return

    # --- leases --------------------------------------------------------------------------------

    def acquire_lease(self, namespace: str, name: str, holder: str, duration_s: int) -> LeaseInfo:
        now = self.clock.now()
        lease = self._read_lease(namespace, name)
        if lease is None:
            body = _lease_manifest(namespace, name, holder, duration_s, now, None)
            self.call(
                f"create lease {namespace}/{name}",
                self.coordination.create_namespaced_lease,
                namespace,
                body,
            )
            return LeaseInfo(name, namespace, holder, now, duration_s)
        current = _lease_info(lease)
        if current.holder and current.holder != holder and not _expired(current, now):
            raise Conflict(
                f"{self.context}: another run holds lease {namespace}/{name}: {current.holder} "
                f"(renewed {current.renewed_at:%Y-%m-%d %H:%M:%SZ}, "
                f"expires {current.duration_s}s after that)"
            )
        body = _lease_manifest(
            namespace, name, holder, duration_s, now, lease.metadata.resource_version
        )
        self.call(
            f"take lease {namespace}/{name}",
            self.coordination.replace_namespaced_lease,
            name,
            namespace,
            body,
        )
        return LeaseInfo(name, namespace, holder, now, duration_s)

    def _read_lease(self, namespace: str, name: str) -> Any | None:
        try:
            return self.call(
                f"read lease {namespace}/{name}",
                self.coordination.read_namespaced_lease,
                name,
                namespace,
            )
        except NotFound:
            return None

    def release_lease(self, namespace: str, name: str, holder: str) -> None:
        lease = self._read_lease(namespace, name)
        if lease is None or _lease_info(lease).holder != holder:
            return  # someone else's by now: not ours to remove
        try:
            self.call(
                f"delete lease {namespace}/{name}",
                self.coordination.delete_namespaced_lease,
                name,
                namespace,
            )
        except NotFound:
            return


def _workload(kind: WorkloadKind, obj: Any) -> WorkloadStatus:
    status = obj.status
    conditions = [
        f"{c.type}={c.status}" + (f": {c.reason}" if c.reason else "")
        for c in (status.conditions or [])
    ]
    return WorkloadStatus(
        kind=kind,
        namespace=obj.metadata.namespace,
        name=obj.metadata.name,
        desired=int(obj.spec.replicas if obj.spec.replicas is not None else 1),
        ready=int(status.ready_replicas or 0),
        updated=int(status.updated_replicas or 0),
        available=int(getattr(status, "available_replicas", None) or status.ready_replicas or 0),
        conditions=tuple(conditions),
    )


def _job_manifest(spec: JobSpec) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": spec.name, "namespace": spec.namespace, "labels": dict(spec.labels)},
        "spec": {
            "backoffLimit": 0,
            "activeDeadlineSeconds": spec.active_deadline_s,
            "template": {
                "metadata": {"labels": dict(spec.labels)},
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [
                        {
                            "name": "smoke",
                            "image": spec.image,
                            "command": list(spec.command),
                            "env": [{"name": k, "value": v} for k, v in spec.env.items()],
                        }
                    ],
                },
            },
        },
    }


def _job_status(job: Any) -> JobStatus:
    status = job.status
    name = job.metadata.name
    for condition in status.conditions or []:
        if condition.type in ("Complete", "SuccessCriteriaMet") and condition.status == "True":
            return JobStatus(name, "succeeded")
        if condition.type == "Failed" and condition.status == "True":
            return JobStatus(name, "failed", condition.message or condition.reason or "")
    if status.succeeded:
        return JobStatus(name, "succeeded")
    if status.failed:
        return JobStatus(name, "failed", "pod failed")
    return JobStatus(name, "running")


def _lease_manifest(
    namespace: str,
    name: str,
    holder: str,
    duration_s: int,
    now: datetime,
    resource_version: str | None,
) -> dict[str, Any]:
    stamp = now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    metadata: dict[str, Any] = {"name": name, "namespace": namespace}
    if resource_version:
        metadata["resourceVersion"] = resource_version
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": metadata,
        "spec": {
            "holderIdentity": holder,
            "leaseDurationSeconds": duration_s,
            "acquireTime": stamp,
            "renewTime": stamp,
        },
    }


def _lease_info(lease: Any) -> LeaseInfo:
    spec = lease.spec
    renewed = spec.renew_time or spec.acquire_time
    return LeaseInfo(
        name=lease.metadata.name,
        namespace=lease.metadata.namespace,
        holder=spec.holder_identity or "",
        renewed_at=renewed.astimezone(UTC) if renewed else None,
        duration_s=int(spec.lease_duration_seconds or 0),
    )


def _expired(lease: LeaseInfo, now: datetime) -> bool:
    if lease.renewed_at is None:
        return True
    return lease.renewed_at + timedelta(seconds=lease.duration_s) < now
