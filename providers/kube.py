"""Kubernetes through the official client, one adapter per kube context.

The client loads kubeconfigs (exec plugins, tokens, in-cluster service accounts) and carries
every request over its ApiClient and REST transport, but drill asks for the few paths it needs
itself and reads the answers as JSON: the generated API classes import several hundred model
classes (~1 s and ~30 MiB before the first request) that drill would only read three fields
of. The client is imported lazily and its retries are switched off: drill retries transient
failures itself, with backoff bounded by the step's deadline. ApiException and urllib3 errors
are translated here; nothing from the SDK escapes this module.
"""

from __future__ import annotations

import json
import os
from collections.abc import Generator, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import urllib3

from drill.clock import Clock
from drill.errors import (
    Conflict,
    NotFound,
    PermanentError,
    Problem,
    TransientError,
    yaml_syntax_problem,
)
from providers._net import network_reason
from providers._status import status_error
from providers.protocols import (
    AutoscalerInfo,
    HttpResponse,
    JobSpec,
    JobStatus,
    LeaseInfo,
    NamespaceInfo,
    WorkloadKind,
    WorkloadStatus,
)

if TYPE_CHECKING:
    from kubernetes.client import ApiClient
    from yaml import Mark, Node

IN_CLUSTER = "in-cluster"
# Per request: connect and read timeouts, so a dead API server cannot hang a step.
REQUEST_TIMEOUT = (5.0, 30.0)
# How the kubeconfig's credentials are applied: the generated API classes name this one too.
AUTH_SETTINGS = ["BearerToken"]
STRATEGIC_MERGE = "application/strategic-merge-patch+json"
# Keyword arguments kubernetes.watch.Watch passes on (it sets resource_version itself when it
# resumes after a 410), and the query parameters they are.
_WATCH_QUERY = {
    "label_selector": "labelSelector",
    "field_selector": "fieldSelector",
    "resource_version": "resourceVersion",
    "timeout_seconds": "timeoutSeconds",
}
_WORKLOAD_KINDS: tuple[WorkloadKind, ...] = ("Deployment", "StatefulSet")
_WORKLOAD_PATHS = {"Deployment": "deployments", "StatefulSet": "statefulsets"}
JOBS_PATH = "/apis/batch/v1/namespaces/{namespace}/jobs"
CONFIG_MAPS_PATH = "/api/v1/namespaces/{namespace}/configmaps"
# Namespaced kinds delete_labelled can address: the collection path of each.
_KIND_PATHS = {
    "Deployment": "/apis/apps/v1/namespaces/{namespace}/deployments",
    "StatefulSet": "/apis/apps/v1/namespaces/{namespace}/statefulsets",
    "DaemonSet": "/apis/apps/v1/namespaces/{namespace}/daemonsets",
    "ReplicaSet": "/apis/apps/v1/namespaces/{namespace}/replicasets",
    "CronJob": "/apis/batch/v1/namespaces/{namespace}/cronjobs",
    "Job": JOBS_PATH,
    "Pod": "/api/v1/namespaces/{namespace}/pods",
    "Service": "/api/v1/namespaces/{namespace}/services",
    "ConfigMap": CONFIG_MAPS_PATH,
    "Secret": "/api/v1/namespaces/{namespace}/secrets",
    "ServiceAccount": "/api/v1/namespaces/{namespace}/serviceaccounts",
    "PersistentVolumeClaim": "/api/v1/namespaces/{namespace}/persistentvolumeclaims",
    "Ingress": "/apis/networking.k8s.io/v1/namespaces/{namespace}/ingresses",
    "NetworkPolicy": "/apis/networking.k8s.io/v1/namespaces/{namespace}/networkpolicies",
    "Role": "/apis/rbac.authorization.k8s.io/v1/namespaces/{namespace}/roles",
    "RoleBinding": "/apis/rbac.authorization.k8s.io/v1/namespaces/{namespace}/rolebindings",
    "HorizontalPodAutoscaler": (
        "/apis/autoscaling/v2/namespaces/{namespace}/horizontalpodautoscalers"
    ),
    "PodDisruptionBudget": "/apis/policy/v1/namespaces/{namespace}/poddisruptionbudgets",
}
LEASES_PATH = "/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases"
MERGE_PATCH = "application/merge-patch+json"
Query = Sequence[tuple[str, str | None]]
GONE = 410


def connect(context: str, kubeconfig: str | None, clock: Clock) -> KubeAdapter:
    """An adapter for ``context`` (``in-cluster`` for the pod's own service account)."""
    import yaml
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
    # The client reports a malformed file as whatever its parsing tripped on (a YAML error, a
    # TypeError for a list that is a number): all of it is the kubeconfig's problem, said below.
    except (
        config.ConfigException,
        yaml.YAMLError,
        OSError,
        LookupError,
        TypeError,
        ValueError,
        AttributeError,
    ) as exc:
        where = context_source(context, kubeconfig)
        if context == IN_CLUSTER:  # no kubeconfig is read: the client says what is missing
            raise PermanentError(f"kube context {context!r} ({where}): {exc}") from None
        # A ConfigException is the client's own verdict on a file it could read: its words
        # stand unless the context is missing. Anything else, it tripped over the file.
        tripped = not isinstance(exc, config.ConfigException)
        files = kubeconfig_files(kubeconfig)
        reason = _config_problem(context, files, tripped=tripped) or _client_reason(exc)
        raise PermanentError(f"kube context {context!r} ({where}): {reason}") from None
    configuration.retries = False
    return KubeAdapter(client.ApiClient(configuration), context, clock)


def context_source(context: str, kubeconfig: str | None) -> str:
    """Where ``context``'s settings come from, as messages name it: the kubeconfig files, or
    the pod's service account for ``in-cluster``."""
    if context == IN_CLUSTER:
        return "the pod's service account"
    return " ".join(kubeconfig_files(kubeconfig))


def kubeconfig_files(kubeconfig: str | None) -> list[str]:
    """The files a kubeconfig setting names, as the client reads them: ``kubeconfig`` or
    ``$KUBECONFIG`` (a list joined by the path separator), else ``~/.kube/config``."""
    # The client read $KUBECONFIG when it was imported: name the files it will read.
    from kubernetes.config.kube_config import KUBE_CONFIG_DEFAULT_LOCATION

    setting = kubeconfig or KUBE_CONFIG_DEFAULT_LOCATION
    return [os.path.expanduser(part) for part in setting.split(os.pathsep) if part]


def _config_problem(context: str, files: Sequence[str], *, tripped: bool) -> str | None:
    """What is wrong with the kubeconfig, said so a person can fix it, when it can be said:
    no such file, a file that is not one (where in it; looked for when the client ``tripped``
    over the files rather than judged them), or no such context (naming those there are)."""
    existing = [path for path in files if os.path.exists(path)]
    if not existing:
        return "no kubeconfig file there: set KUBECONFIG or write the file"
    for path in existing:
        unreadable = _unreadable(path)
        if unreadable is not None:
            return unreadable
    for path in existing if tripped else ():
        problem = _file_problem(path)
        if problem is not None:
            return str(problem)
    names = sorted({name for path in existing for name in _context_names(path)})
    if context in names:
        return None
    there = ", ".join(names) if names else "none"
    return f"no context named {context!r} in it (contexts there: {there})"


def _unreadable(path: str) -> str | None:
    """Why the client cannot read ``path`` as a file (a directory, no permission); None when
    it can. Said here: the client's own error, or its empty list of contexts, would not."""
    if os.path.isdir(path):
        return f"{path} is a directory, not a kubeconfig file: name the file itself"
    try:
        with open(path, "rb"):
            return None
    except OSError as exc:
        return f"cannot read {path}: {exc.strerror or exc}"


def _client_reason(exc: Exception) -> str:
    """The client's own words: a ConfigException's are meant for people; anything else it
    tripped on is said to come from loading the file."""
    from kubernetes.config import ConfigException

    if isinstance(exc, ConfigException | OSError):
        return str(exc)
    return f"the client cannot load it: {exc}"


# The kubeconfig sections that are lists of named entries, and each entry's own mapping.
_SECTIONS = {"clusters": "cluster", "contexts": "context", "users": "user"}


def _file_problem(path: str) -> Problem | None:
    """Where one kubeconfig file is not one: not YAML, not a mapping, or a section or entry of
    another shape than the client expects. None when it has the shape (or cannot be read: the
    client's own message says why)."""
    import yaml

    try:
        with open(path, encoding="utf-8") as file:
            root = yaml.compose(file, Loader=yaml.SafeLoader)
    except OSError:
        return None
    except UnicodeDecodeError:
        return Problem(path, 1, 1, "", "not UTF-8 text")
    except yaml.MarkedYAMLError as exc:
        return yaml_syntax_problem(exc, path)
    except yaml.YAMLError as exc:
        return Problem(path, 1, 1, "", f"not valid YAML: {exc}")
    if root is None:
        return None  # empty: the client says it found no configuration
    if not isinstance(root, yaml.MappingNode):
        return _problem_at(path, root.start_mark, "", "not a kubeconfig: not a mapping")
    for key, section in root.value:
        kind = _SECTIONS.get(key.value) if isinstance(key, yaml.ScalarNode) else None
        if kind is None or _is_null(section):
            continue
        if not isinstance(section, yaml.SequenceNode):
            return _problem_at(path, section.start_mark, key.value, "not a list")
        for index, entry in enumerate(section.value):
            field = f"{key.value}[{index}]"
            if not isinstance(entry, yaml.MappingNode):
                return _problem_at(path, entry.start_mark, field, "not a mapping")
            for entry_key, value in entry.value:
                if _is_key(entry_key, kind) and not isinstance(value, yaml.MappingNode):
                    return _problem_at(path, value.start_mark, f"{field}.{kind}", "not a mapping")
    return None


def _is_key(node: Node, name: str) -> bool:
    return node.tag == "tag:yaml.org,2002:str" and node.value == name


def _is_null(node: Node) -> bool:
    return node.tag == "tag:yaml.org,2002:null"


def _problem_at(path: str, mark: Mark | None, field: str, message: str) -> Problem:
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    return Problem(path, line, column, field, message)


def _context_names(path: str) -> list[str]:
    """The context names one kubeconfig file declares; none when it cannot be read as one
    (the client's own message then says why)."""
    import yaml

    try:
        with open(path, encoding="utf-8") as file:
            document = yaml.safe_load(file)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return []
    contexts = document.get("contexts") if isinstance(document, dict) else None
    if not isinstance(contexts, list):
        return []
    return [str(c["name"]) for c in contexts if isinstance(c, dict) and c.get("name")]


class WatchExpired(TransientError):
    """The history a watch started from was compacted (410 Gone, answered to the watch request
    or sent as an ERROR event in its stream): list again, then watch from the fresh list."""


@contextmanager
def translated(context: str, what: str, *, watching: bool = False) -> Iterator[None]:
    """SDK and network failures become TransientError / PermanentError naming the context."""
    from kubernetes.client.exceptions import ApiException

    try:
        yield
    except ApiException as exc:
        message = _status_message(exc.body) or _reason(exc)
        if watching and exc.status == GONE:
            raise WatchExpired(f"{context}: {what}: {message or 'HTTP 410'}") from None
        raise status_error(f"{context}: {what}", exc.status or 0, message, exc.headers) from None
    except urllib3.exceptions.HTTPError as exc:
        raise TransientError(f"{context}: {what}: {network_reason(exc)}") from None


def _reason(exc: Any) -> str:
    """What the client says when the server sent no Status (a watch's ERROR event)."""
    return str(exc.reason or "") if exc.status else ""


def _api_server_refusal(body: bytes) -> str | None:
    """The message of a failed ``Status`` the API server answered instead of the Service."""
    try:
        document = json.loads(body)
    except ValueError:
        return None
    if not isinstance(document, dict) or document.get("kind") != "Status":
        return None
    if document.get("status") != "Failure":
        return None
    return str(document.get("message") or document.get("reason") or "refused")


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
        self.api_client = api_client
        self.context = context
        self.clock = clock

    # --- requests ------------------------------------------------------------------------------

    def request(
        self,
        what: str,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        query: Query = (),
        body: object = None,
        content_type: str | None = None,
        answer: str = "object",
    ) -> Any:
        """One request, its JSON answer parsed (``answer="str"``: the text as it is).

        ``path`` names its parameters ``{name}`` and ``params`` fills them, quoted the way the
        generated API classes quote them."""
        with translated(self.context, what):
            response = self._send(method, path, params, query, body, content_type, REQUEST_TIMEOUT)
            response.read()
            return self.api_client.response_deserialize(response, {"2XX": answer}).data

    def _send(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None,
        query: Query,
        body: object,
        content_type: str | None,
        timeout: tuple[float, float],
    ) -> Any:
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = content_type or "application/json"
        serialized = self.api_client.param_serialize(
            method=method,
            resource_path=path,
            path_params=dict(params or {}),
            query_params=[(key, value) for key, value in query if value is not None],
            header_params=headers,
            body=body,
            auth_settings=AUTH_SETTINGS,
        )
        return self.api_client.call_api(*serialized, _request_timeout=timeout)

    def service_request(
        self,
        namespace: str,
        segment: str,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str],
        timeout_s: float,
    ) -> HttpResponse:
        what = f"ask service {namespace}/{segment} through the API server"
        target, _, query = path.partition("?")
        # The API server authenticates the request itself: an Authorization header of the
        # plan's would replace the context's credentials, so it is not sent on.
        sent = {k: v for k, v in headers.items() if k.lower() != "authorization"}
        serialized = self.api_client.param_serialize(
            method=method,
            resource_path="/api/v1/namespaces/{namespace}/services/{name}/proxy" + target,
            path_params={"namespace": namespace, "name": segment},
            query_params=parse_qsl(query, keep_blank_values=True),
            header_params=sent,
            auth_settings=AUTH_SETTINGS,
        )
        timeout = (min(REQUEST_TIMEOUT[0], timeout_s), timeout_s)
        with translated(self.context, what):
            response = self.api_client.call_api(*serialized, _request_timeout=timeout)
            body = response.read()
        refusal = _api_server_refusal(body)
        if refusal is not None:
            raise status_error(f"{self.context}: {what}", response.status, refusal, {})
        return HttpResponse(status=response.status, body=body)

    def watch(
        self,
        what: str,
        path: str,
        params: Mapping[str, str],
        timeout_s: float,
        **selectors: str | None,
    ) -> Generator[dict[str, Any], None, None]:
        """The events of one watch on the collection at ``path`` (dicts: type, object), through
        the client's Watch. A 410 Gone, as an answer or an ERROR event, raises WatchExpired."""
        from kubernetes import watch

        def open_stream(**kwargs: Any) -> Any:
            query: list[tuple[str, str | None]] = [("watch", "true")]
            query += [(name, _text(kwargs.get(arg))) for arg, name in _WATCH_QUERY.items()]
            timeout = (REQUEST_TIMEOUT[0], timeout_s + 5)
            response = self._send("GET", path, params, query, None, None, timeout)
            if not 200 <= response.status <= 299:
                response.read()
                self.api_client.response_deserialize(response, {})  # raises ApiException
            return response.response

        watcher = watch.Watch(return_type="object")
        try:
            with translated(self.context, what, watching=True):
                yield from watcher.stream(
                    open_stream, timeout_seconds=max(int(timeout_s), 1), **selectors
                )
        finally:
            watcher.stop()

    def follow(
        self, what: str, path: str, params: Mapping[str, str], name: str, timeout_s: float
    ) -> Iterator[dict[str, Any] | None]:
        """Object ``name`` of the collection at ``path`` as listed now, then after every change,
        until ``timeout_s``; None (and the end) when it is absent or deleted.

        A watch that ends early or whose history expired (410 Gone) is followed by a fresh list
        and a new watch from its resourceVersion, as client-go's reflector does; other faults
        reach the caller, whose wait resumes after them."""
        deadline = self.clock.monotonic() + timeout_s
        selector = f"metadata.name={name}"
        while (remaining := deadline - self.clock.monotonic()) > 0:
            listed = self.request(
                f"list {what}", "GET", path, params=params, query=[("fieldSelector", selector)]
            )
            items = listed.get("items") or []
            yield items[0] if items else None
            if not items:
                return
            try:
                for event in self.watch(
                    f"watch {what}",
                    path,
                    params,
                    remaining,
                    field_selector=selector,
                    resource_version=_text((listed.get("metadata") or {}).get("resourceVersion")),
                ):
                    if event.get("type") == "DELETED":
                        yield None
                        return
                    yield event["object"]
            except WatchExpired:
                continue

    # --- reachability --------------------------------------------------------------------------

    def server_version(self) -> str:
        info = self.request(f"API server {self.server}", "GET", "/version/")
        return str(info.get("gitVersion", ""))

    @property
    def server(self) -> str:
        return str(self.api_client.configuration.host)

    # --- workloads -----------------------------------------------------------------------------

    def get_replicas(self, kind: WorkloadKind, namespace: str, name: str) -> int:
        scale = self.request(
            f"read scale of {kind} {namespace}/{name}",
            "GET",
            _scale_path(kind),
            params={"namespace": namespace, "name": name},
        )
        return int((scale.get("spec") or {}).get("replicas") or 0)

    def set_replicas(self, kind: WorkloadKind, namespace: str, name: str, replicas: int) -> None:
        self.request(
            f"scale {kind} {namespace}/{name}",
            "PATCH",
            _scale_path(kind),
            params={"namespace": namespace, "name": name},
            body={"spec": {"replicas": replicas}},
            content_type=STRATEGIC_MERGE,
        )

    def autoscalers_of(self, kind: WorkloadKind, namespace: str, name: str) -> list[AutoscalerInfo]:
        try:
            listed = self.request(
                f"list autoscalers in {namespace}",
                "GET",
                _KIND_PATHS["HorizontalPodAutoscaler"],
                params={"namespace": namespace},
            )
        except NotFound:
            return []  # autoscaling/v2 not served: nothing can autoscale it
        return [
            _autoscaler(item) for item in listed.get("items") or [] if _targets(item, kind, name)
        ]

    def workloads(self, namespace: str, selector: str) -> list[WorkloadStatus]:
        return self._listed(namespace, selector)[0]

    def _listed(self, namespace: str, selector: str) -> tuple[list[WorkloadStatus], str]:
        found: list[WorkloadStatus] = []
        resource_version = ""
        for kind in _WORKLOAD_KINDS:
            listed = self.request(
                f"list {_WORKLOAD_PATHS[kind]} in {namespace}",
                "GET",
                _workloads_path(kind),
                params={"namespace": namespace},
                query=[("labelSelector", selector or None)],
            )
            found += [_workload(kind, item) for item in listed.get("items") or []]
            if kind == "Deployment":
                resource_version = str((listed.get("metadata") or {}).get("resourceVersion", ""))
        return found, resource_version

    def watch_workloads(
        self, namespace: str, selector: str, timeout_s: float
    ) -> Iterator[list[WorkloadStatus]]:
        """Yields the full list now, then again after every change of a deployment. A watch
        whose history expired (410 Gone) is followed by a fresh list; other faults reach the
        caller."""
        deadline = self.clock.monotonic() + timeout_s
        while True:
            current, resource_version = self._listed(namespace, selector)
            yield current
            remaining = deadline - self.clock.monotonic()
            if remaining <= 0:
                return
            kind = next((w.kind for w in current if not w.rolled_out), "Deployment")
            self._wait_for_event(kind, namespace, selector, resource_version, remaining)

    def _wait_for_event(
        self,
        kind: str,
        namespace: str,
        selector: str,
        resource_version: str,
        timeout_s: float,
    ) -> None:
        events = self.watch(
            f"watch workloads in {namespace}",
            _workloads_path(kind),
            {"namespace": namespace},
            timeout_s,
            label_selector=selector or None,
            resource_version=resource_version or None,
        )
        try:
            next(events, None)
        except WatchExpired:
            return  # the caller lists again, which is how a watch restarts after compaction
        finally:
            events.close()

    # --- namespaces ----------------------------------------------------------------------------

    def get_namespace(self, name: str) -> NamespaceInfo | None:
        try:
            namespace = self.request(
                f"read namespace {name}", "GET", "/api/v1/namespaces/{name}", params={"name": name}
            )
        except NotFound:
            return None
        return NamespaceInfo(
            name=name,
            phase=str((namespace.get("status") or {}).get("phase") or "Active"),
            labels=dict((namespace.get("metadata") or {}).get("labels") or {}),
        )

    def create_namespace(self, name: str, labels: Mapping[str, str]) -> None:
        body = {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": name, "labels": dict(labels)},
        }
        self.request(f"create namespace {name}", "POST", "/api/v1/namespaces", body=body)

    def delete_namespace(self, name: str) -> None:
        try:
            self.request(
                f"delete namespace {name}",
                "DELETE",
                "/api/v1/namespaces/{name}",
                params={"name": name},
            )
        except NotFound:
            return

    # --- jobs ----------------------------------------------------------------------------------

    def create_job(self, spec: JobSpec) -> None:
        self.request(
            f"create job {spec.namespace}/{spec.name}",
            "POST",
            JOBS_PATH,
            params={"namespace": spec.namespace},
            body=_job_manifest(spec),
        )

    def watch_job(self, namespace: str, name: str, timeout_s: float) -> Iterator[JobStatus]:
        """The Job's status now and after every change; while it runs, with what its pods
        wait on (read again each time, so at least once per watch window)."""
        where = f"job {namespace}/{name}"
        for found in self.follow(where, JOBS_PATH, {"namespace": namespace}, name, timeout_s):
            if found is None:
                raise NotFound(f"{self.context}: {where} is gone")
            status = _job_status(found)
            if status.state == "running":
                pods = self._job_pods(namespace, name)
                status = replace(status, waiting=tuple(filter(None, map(_pod_waiting, pods))))
            yield status

    def _job_pods(self, namespace: str, name: str) -> list[dict[str, Any]]:
        pods = self.request(
            f"list pods of job {name}",
            "GET",
            "/api/v1/namespaces/{namespace}/pods",
            params={"namespace": namespace},
            query=[("labelSelector", f"job-name={name}")],
        )
        return list(pods.get("items") or [])

    def job_logs(self, namespace: str, name: str, tail_lines: int) -> str:
        items = self._job_pods(namespace, name)
        if not items:
            return ""
        pod = str(items[-1]["metadata"]["name"])
        text = self.request(
            f"read log of pod {namespace}/{pod}",
            "GET",
            "/api/v1/namespaces/{namespace}/pods/{name}/log",
            params={"namespace": namespace, "name": pod},
            query=[("tailLines", str(tail_lines))],
            answer="str",
        )
        return str(text)

    def job_labels(self, namespace: str, name: str) -> Mapping[str, str] | None:
        # Listed by name rather than read: the smoke test's role may list jobs, not get them.
        listed = self.request(
            f"list job {namespace}/{name}",
            "GET",
            JOBS_PATH,
            params={"namespace": namespace},
            query=[("fieldSelector", f"metadata.name={name}")],
        )
        for item in listed.get("items") or []:
            return dict((item.get("metadata") or {}).get("labels") or {})
        return None

    def delete_job(self, namespace: str, name: str) -> None:
        self._delete_object("Job", JOBS_PATH, namespace, name)

    def _delete_object(
        self, kind: str, path: str, namespace: str, name: str, uid: str | None = None
    ) -> bool:
        """Delete ``namespace/name`` of the collection at ``path``, its dependents in the
        background; with ``uid``, only that very object. False when it is gone (or replaced)."""
        options: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "DeleteOptions",
            "propagationPolicy": "Background",
        }
        if uid is not None:
            options["preconditions"] = {"uid": uid}
        try:
            self.request(
                f"delete {kind} {namespace}/{name}",
                "DELETE",
                path + "/{name}",
                params={"namespace": namespace, "name": name},
                body=options,
            )
        except NotFound:
            return False
        except Conflict:
            if uid is None:
                raise
            return False
        return True

    # --- config maps -------------------------------------------------------------------------

    def config_map_data(self, namespace: str, name: str) -> Mapping[str, str] | None:
        try:
            found = self.request(
                f"read configmap {namespace}/{name}",
                "GET",
                CONFIG_MAPS_PATH + "/{name}",
                params={"namespace": namespace, "name": name},
            )
        except NotFound:
            return None
        return {str(k): str(v) for k, v in (found.get("data") or {}).items()}

    def put_config_map_value(
        self, namespace: str, name: str, key: str, value: str, labels: Mapping[str, str]
    ) -> None:
        """A merge patch of the one key; a missing ConfigMap is created, and one created by
        someone else in between is patched after all."""
        try:
            self._patch_config_map(namespace, name, key, value)
            return
        except NotFound:
            pass
        body = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
            "data": {key: value},
        }
        try:
            self.request(
                f"create configmap {namespace}/{name}",
                "POST",
                CONFIG_MAPS_PATH,
                params={"namespace": namespace},
                body=body,
            )
        except Conflict:
            self._patch_config_map(namespace, name, key, value)

    def _patch_config_map(self, namespace: str, name: str, key: str, value: str) -> None:
        self.request(
            f"update configmap {namespace}/{name}",
            "PATCH",
            CONFIG_MAPS_PATH + "/{name}",
            params={"namespace": namespace, "name": name},
            body={"data": {key: value}},
            content_type=MERGE_PATCH,
        )

    # --- what a restore brought ----------------------------------------------------------------

    def delete_labelled(
        self,
        namespace: str,
        selector: str,
        kinds: Sequence[str],
        *,
        created_since: datetime | None = None,
    ) -> list[str]:
        if not selector:
            raise PermanentError(f"{self.context}: refusing to delete without a label selector")
        deleted: list[str] = []
        for kind, path, item in self._matching(namespace, selector, kinds, created_since):
            metadata = item.get("metadata") or {}
            name, uid = str(metadata.get("name", "")), str(metadata.get("uid", ""))
            if self._delete_object(kind, path, namespace, name, uid):
                deleted.append(f"{kind} {name}")
        return deleted

    def labelled(
        self,
        namespace: str,
        selector: str,
        kinds: Sequence[str],
        *,
        created_since: datetime | None = None,
    ) -> list[str]:
        found = self._matching(namespace, selector, kinds, created_since)
        return [f"{kind} {(item.get('metadata') or {}).get('name', '')}" for kind, _, item in found]

    def _matching(
        self,
        namespace: str,
        selector: str,
        kinds: Sequence[str],
        created_since: datetime | None,
    ) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """(kind, collection path, object) of each object ``selector`` matches, skipping those
        created before ``created_since``."""
        for kind in kinds:
            path = _KIND_PATHS.get(kind)
            if path is None:
                raise PermanentError(f"{self.context}: cannot list objects of kind {kind}")
            for item in self._labelled(kind, path, namespace, selector):
                created = _micro_time((item.get("metadata") or {}).get("creationTimestamp"))
                if created_since is not None and (created is None or created < created_since):
                    continue  # there before: only updated, never the restore's own
                yield kind, path, item

    def _labelled(
        self, kind: str, path: str, namespace: str, selector: str
    ) -> list[dict[str, Any]]:
        try:
            listed = self.request(
                f"list {kind} objects labelled {selector} in {namespace}",
                "GET",
                path,
                params={"namespace": namespace},
                query=[("labelSelector", selector)],
            )
        except NotFound:
            return []  # a kind this server does not serve
        return list(listed.get("items") or [])

    def objects(self, kind: str, namespace: str) -> list[dict[str, Any]]:
        """Every object of ``kind`` in ``namespace``, as the API server lists it; reads only.
        Secrets are never read: nothing drill keeps may hold their values."""
        path = _KIND_PATHS.get(kind)
        if path is None or kind == "Secret":
            raise PermanentError(f"{self.context}: drill does not read objects of kind {kind}")
        return self._labelled(kind, path, namespace, "")

    # --- leases --------------------------------------------------------------------------------

    def acquire_lease(self, namespace: str, name: str, holder: str, duration_s: int) -> LeaseInfo:
        now = self.clock.now()
        lease = self._read_lease(namespace, name)
        if lease is None:
            body = _lease_manifest(namespace, name, holder, duration_s, now, None)
            self.request(
                f"create lease {namespace}/{name}",
                "POST",
                LEASES_PATH,
                params={"namespace": namespace},
                body=body,
            )
            return LeaseInfo(name, namespace, holder, now, duration_s)
        current = _lease_info(lease)
        if current.holder and current.holder != holder and not _expired(current, now):
            raise Conflict(
                f"{self.context}: another run holds lease {namespace}/{name}: {current.holder} "
                f"(renewed {current.renewed_at:%Y-%m-%d %H:%M:%SZ}, "
                f"expires {current.duration_s}s after that)"
            )
        resource_version = (lease.get("metadata") or {}).get("resourceVersion")
        body = _lease_manifest(namespace, name, holder, duration_s, now, resource_version)
        self.request(
            f"take lease {namespace}/{name}",
            "PUT",
            LEASES_PATH + "/{name}",
            params={"namespace": namespace, "name": name},
            body=body,
        )
        return LeaseInfo(name, namespace, holder, now, duration_s)

    def _read_lease(self, namespace: str, name: str) -> dict[str, Any] | None:
        try:
            lease: dict[str, Any] = self.request(
                f"read lease {namespace}/{name}",
                "GET",
                LEASES_PATH + "/{name}",
                params={"namespace": namespace, "name": name},
            )
        except NotFound:
            return None
        return lease

    def read_lease(self, namespace: str, name: str) -> LeaseInfo | None:
        lease = self._read_lease(namespace, name)
        return None if lease is None else _lease_info(lease)

    def release_lease(self, namespace: str, name: str, holder: str) -> None:
        lease = self._read_lease(namespace, name)
        if lease is None or _lease_info(lease).holder != holder:
            return  # someone else's by now: not ours to remove
        try:
            self.request(
                f"delete lease {namespace}/{name}",
                "DELETE",
                LEASES_PATH + "/{name}",
                params={"namespace": namespace, "name": name},
            )
        except NotFound:
            return


def _scale_path(kind: str) -> str:
    return _workloads_path(kind) + "/{name}/scale"


def _workloads_path(kind: str) -> str:
    return "/apis/apps/v1/namespaces/{namespace}/" + _WORKLOAD_PATHS[kind]


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _workload(kind: WorkloadKind, obj: Mapping[str, Any]) -> WorkloadStatus:
    metadata, spec, status = (obj.get(key) or {} for key in ("metadata", "spec", "status"))
    conditions = [
        f"{c.get('type')}={c.get('status')}" + (f": {c['reason']}" if c.get("reason") else "")
        for c in status.get("conditions") or []
    ]
    replicas = spec.get("replicas")
    ready = int(status.get("readyReplicas") or 0)
    return WorkloadStatus(
        kind=kind,
        namespace=str(metadata.get("namespace", "")),
        name=str(metadata.get("name", "")),
        desired=int(replicas if replicas is not None else 1),
        ready=ready,
        updated=int(status.get("updatedReplicas") or 0),
        available=_available(kind, status, ready),
        conditions=tuple(conditions),
        generation=int(metadata.get("generation") or 0),
        # The API server leaves zero counts out of status (omitempty): absent is 0.
        observed_generation=int(status.get("observedGeneration") or 0),
        pods=int(status.get("replicas") or 0),
        partition=_partition(kind, spec),
        paused=bool(spec.get("paused")),
    )


def _available(kind: WorkloadKind, status: Mapping[str, Any], ready: int) -> int:
    """status.availableReplicas; a StatefulSet of a cluster before 1.22 has none, and its
    ready replicas are the nearest it says."""
    if kind == "StatefulSet" and "availableReplicas" not in status:
        return ready
    return int(status.get("availableReplicas") or 0)


def _partition(kind: WorkloadKind, spec: Mapping[str, Any]) -> int | None:
    """A StatefulSet's RollingUpdate partition (the API server defaults it to 0); None for
    OnDelete. Deployments have none: 0."""
    if kind != "StatefulSet":
        return 0
    strategy = spec.get("updateStrategy") or {}
    if strategy.get("type", "RollingUpdate") != "RollingUpdate":
        return None
    return int((strategy.get("rollingUpdate") or {}).get("partition") or 0)


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


def _job_status(job: Mapping[str, Any]) -> JobStatus:
    status = job.get("status") or {}
    name = str((job.get("metadata") or {}).get("name", ""))
    for condition in status.get("conditions") or []:
        kind, true = condition.get("type"), condition.get("status") == "True"
        if kind in ("Complete", "SuccessCriteriaMet") and true:
            return JobStatus(name, "succeeded")
        if kind == "Failed" and true:
            return JobStatus(
                name, "failed", condition.get("message") or condition.get("reason") or ""
            )
    if status.get("succeeded"):
        return JobStatus(name, "succeeded")
    if status.get("failed"):
        return JobStatus(name, "failed", "pod failed")
    return JobStatus(name, "running")


def _targets(autoscaler: Mapping[str, Any], kind: str, name: str) -> bool:
    target = (autoscaler.get("spec") or {}).get("scaleTargetRef") or {}
    group = str(target.get("apiVersion", "")).partition("/")[0]
    return target.get("kind") == kind and target.get("name") == name and group == "apps"


def _autoscaler(item: Mapping[str, Any]) -> AutoscalerInfo:
    spec = item.get("spec") or {}
    return AutoscalerInfo(
        name=str((item.get("metadata") or {}).get("name", "")),
        min_replicas=int(spec.get("minReplicas") or 1),
        max_replicas=int(spec.get("maxReplicas") or 1),
    )


# Waiting reasons every pod passes through on its way to running: not worth saying.
_ON_THE_WAY = frozenset({"ContainerCreating", "PodInitializing"})


def _pod_waiting(pod: Mapping[str, Any]) -> str | None:
    """Why a pod is not running, as its status says: not scheduled, or a container waiting
    on something other than its start (an image it cannot pull, a missing Secret); None when
    nothing is said."""
    name = str((pod.get("metadata") or {}).get("name", ""))
    status = pod.get("status") or {}
    for condition in status.get("conditions") or []:
        if condition.get("type") == "PodScheduled" and condition.get("status") == "False":
            reason = condition.get("reason") or "Unschedulable"
            return ": ".join(filter(None, (name, reason, condition.get("message"))))
    containers = (status.get("initContainerStatuses") or []) + (
        status.get("containerStatuses") or []
    )
    for container in containers:
        waiting = (container.get("state") or {}).get("waiting") or {}
        if waiting.get("reason") and waiting["reason"] not in _ON_THE_WAY:
            return ": ".join(filter(None, (name, waiting["reason"], waiting.get("message"))))
    return None


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


def _lease_info(lease: Mapping[str, Any]) -> LeaseInfo:
    metadata, spec = lease.get("metadata") or {}, lease.get("spec") or {}
    renewed = _micro_time(spec.get("renewTime") or spec.get("acquireTime"))
    return LeaseInfo(
        name=str(metadata.get("name", "")),
        namespace=str(metadata.get("namespace", "")),
        holder=str(spec.get("holderIdentity") or ""),
        renewed_at=renewed,
        duration_s=int(spec.get("leaseDurationSeconds") or 0),
    )


def _micro_time(value: object) -> datetime | None:
    """A MicroTime (``2026-01-02T03:04:05.123456Z``) as an aware UTC datetime."""
    if not isinstance(value, str) or not value:
        return None
    parsed = datetime.fromisoformat(value)
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def _expired(lease: LeaseInfo, now: datetime) -> bool:
    if lease.renewed_at is None:
        return True
    return lease.renewed_at + timedelta(seconds=lease.duration_s) < now
