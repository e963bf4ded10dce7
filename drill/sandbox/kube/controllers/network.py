"""The cluster's network as a container sees it: DNS names, Services, ready pods, ports, answers.

A host name resolves as cluster DNS resolves it for a pod with ``dnsPolicy: ClusterFirst``:
``svc``, ``svc.ns``, ``svc.ns.svc`` and ``svc.ns.svc.cluster.local`` (the pod's own namespace
first, through the search path ``NS.svc.cluster.local svc.cluster.local cluster.local``), a
StatefulSet-style ``pod.svc.ns.svc.cluster.local`` behind a headless Service, a Service's
cluster IP or a pod's IP. An ``ExternalName`` Service and any other name go to the world
outside the cluster (``Outside``: in a sandbox, its public endpoints), which may not know them.

A connection to a Service port goes to one of its endpoints: the pods its selector matches
that are Ready (or all of them with ``publishNotReadyAddresses``), that are not terminating,
and that have the Service's ``targetPort`` (a named port must be one of the pod's named
``containerPort``s; a numbered one is connected to, and refused unless a container declares
it). No endpoint, a port the Service does not serve, or a pod not listening: the connection
is refused. (Some proxies let an unserved Service port time out instead.) Endpoints are picked
in name order, not at random, so a run is repeatable.

What a pod answers is its workload's simulated HTTP server: 200 and a short JSON body on any
path, unless ``HttpAnswers`` says otherwise for that workload (and path). TLS is not simulated:
``https`` is answered like ``http``.

This module reads plain objects; it must not read the store or write anything.
``service_proxy`` answers as the API server's ``services/proxy`` subresource does.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Protocol

from drill.sandbox.kube.api.errors import ApiError
from drill.sandbox.kube.api.objects import Obj, dig, labels_of, name_of, namespace_of

CLUSTER_DOMAIN = "cluster.local"
NDOTS = 5  # the kubelet's resolv.conf option: names with fewer dots try the search path first


@dataclass(frozen=True)
class Reply:
    """An HTTP answer: status, reason phrase, body; ``address`` is the IP connected to."""

    status: int
    body: str
    address: str

    @property
    def reason(self) -> str:
        try:
            return HTTPStatus(self.status).phrase
        except ValueError:
            return ""


@dataclass(frozen=True)
class Unresolved:
    """No DNS answer for the host."""


@dataclass(frozen=True)
class Refused:
    """The host resolved to ``address`` but nothing accepted the connection on the port."""

    address: str


Outcome = Reply | Unresolved | Refused


class Outside(Protocol):
    """The world beyond the cluster: which names it resolves, and what those hosts answer."""

    def resolves(self, host: str) -> bool: ...

    def answer(self, method: str, host: str, path: str) -> tuple[int, str]: ...


@dataclass(frozen=True)
class _Answer:
    status: int
    body: str | None


@dataclass
class HttpAnswers:
    """What workloads' simulated HTTP servers answer, when not the default 200. Thread-safe."""

    _rules: list[tuple[str, str, str | None, _Answer]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def set(
        self, namespace: str, workload: str, status: int, path: str | None = None, body: str = ""
    ) -> None:
        """Pods of ``namespace/workload`` (a shell-style pattern, matched against the pod's
        owner and the pod's own name) answer ``status`` on ``path`` (None: on every path).
        An empty ``body`` gives a short JSON one. A later rule wins over an earlier one; one
        for the exact path wins over one for every path."""
        with self._lock:
            self._rules.append((namespace, workload, path, _Answer(status, body or None)))

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def reply(self, pod: Obj, method: str, path: str, address: str) -> Reply:
        rule = self._rule_for(pod, path.split("?", 1)[0])
        status = rule.status if rule else HTTPStatus.OK
        body = rule.body if rule and rule.body is not None else _default_body(pod, status, path)
        return Reply(status, "" if method == "HEAD" else body, address)

    def _rule_for(self, pod: Obj, path: str) -> _Answer | None:
        names = {name_of(pod), _owner_name(pod)} - {""}
        with self._lock:
            matching = [
                (rule_path, answer)
                for namespace, pattern, rule_path, answer in self._rules
                if namespace == namespace_of(pod)
                and any(fnmatch.fnmatchcase(n, pattern) for n in names)
                and rule_path in (None, path)
            ]
        exact = [answer for rule_path, answer in matching if rule_path is not None]
        anywhere = [answer for rule_path, answer in matching if rule_path is None]
        found = exact or anywhere
        return found[-1] if found else None


def _default_body(pod: Obj, status: int, path: str) -> str:
    verdict = "ok" if status < HTTPStatus.BAD_REQUEST else "error"
    return json.dumps({"status": verdict, "pod": name_of(pod), "path": path}) + "\n"


def _owner_name(pod: Obj) -> str:
    refs = dig(pod, "metadata", "ownerReferences") or []
    return str(refs[0].get("name", "")) if refs else ""


@dataclass(frozen=True)
class _Target:
    """Where a name led: a Service, one pod, or a host outside the cluster."""

    service: Obj | None = None
    pod: Obj | None = None
    outside_host: str | None = None


class Network:
    """The cluster's Services and pods as they are now, and what lies outside it."""

    def __init__(
        self,
        services: Sequence[Obj],
        pods: Sequence[Obj],
        answers: HttpAnswers,
        outside: Outside | None = None,
    ) -> None:
        self._services = {(namespace_of(s), name_of(s)): s for s in services}
        self._pods = list(pods)
        self._answers = answers
        self._outside = outside

    def request(self, method: str, host: str, port: int, path: str, from_namespace: str) -> Outcome:
        """What an HTTP request from a pod in ``from_namespace`` to ``host:port`` meets."""
        target = self.resolve(host, from_namespace)
        if target is None:
            return Unresolved()
        if target.outside_host is not None:
            assert self._outside is not None  # resolve() only goes outside when there is one
            status, body = self._outside.answer(method, target.outside_host, path)
            return Reply(status, "" if method == "HEAD" else body, _outside_address(host))
        if target.pod is not None:
            return self._to_pod(target.pod, port, method, path)
        assert target.service is not None
        return self._to_service(target.service, port, method, path)

    def to_service_port(
        self, namespace: str, name: str, port: str, method: str, path: str
    ) -> Outcome | None:
        """What a request to port ``port`` (its name or number; empty: the Service's only
        port) of Service ``namespace/name`` meets, as the API server's ``services/proxy``
        sends it; None when there is no such Service."""
        service = self._services.get((namespace, name))
        if service is None:
            return None
        ports = dig(service, "spec", "ports") or []
        served = next(
            (
                p
                for p in ports
                if (port == "" and len(ports) == 1) or port in (p.get("name"), str(p.get("port")))
            ),
            None,
        )
        if served is None:
            return Refused(str(dig(service, "spec", "clusterIP") or ""))
        return self._to_service(service, int(served["port"]), method, path)

    def has_endpoints(self, namespace: str, name: str) -> bool:
        service = self._services.get((namespace, name))
        return service is not None and bool(self._endpoints(service))

    def resolve(self, host: str, from_namespace: str) -> _Target | None:
        name = host.lower()
        absolute = name.endswith(".")
        name = name.rstrip(".")
        if _is_ip(name):
            return self._by_address(name)
        search = (f"{from_namespace}.svc.{CLUSTER_DOMAIN}", f"svc.{CLUSTER_DOMAIN}", CLUSTER_DOMAIN)
        expanded = [f"{name}.{domain}" for domain in search]
        candidates = [name] if absolute else _search_order(name, expanded)
        for candidate in candidates:
            found = self._in_cluster(candidate)
            if found is not None:
                return found
        return self._beyond(name)

    def _in_cluster(self, fqdn: str) -> _Target | None:
        suffix = f".svc.{CLUSTER_DOMAIN}"
        if not fqdn.endswith(suffix):
            return None
        labels = fqdn[: -len(suffix)].split(".")
        if len(labels) == 2:
            service = self._services.get((labels[1], labels[0]))
            if service is not None and dig(service, "spec", "type") == "ExternalName":
                return self._beyond(str(dig(service, "spec", "externalName") or ""))
            return None if service is None else _Target(service=service)
        if len(labels) == 3:
            service = self._services.get((labels[2], labels[1]))
            if service is None or not _headless(service):
                return None
            pod = next((p for p in self._endpoints(service) if name_of(p) == labels[0]), None)
            return None if pod is None else _Target(pod=pod)
        return None

    def _beyond(self, host: str) -> _Target | None:
        if self._outside is None or not host or not self._outside.resolves(host):
            return None
        return _Target(outside_host=host)

    def _by_address(self, address: str) -> _Target | None:
        for service in self._services.values():
            if address in (dig(service, "spec", "clusterIPs") or []) or address == dig(
                service, "spec", "clusterIP"
            ):
                return _Target(service=service)
        pod = next((p for p in self._pods if dig(p, "status", "podIP") == address), None)
        return _Target(pod=pod) if pod is not None else None

    def _to_service(self, service: Obj, port: int, method: str, path: str) -> Outcome:
        endpoints = self._endpoints(service)
        if _headless(service):
            # A headless name resolves to the pods themselves: the port is theirs.
            if not endpoints:
                return Unresolved()
            return self._to_pod(endpoints[0], port, method, path)
        address = str(dig(service, "spec", "clusterIP") or "")
        served = next(
            (p for p in dig(service, "spec", "ports") or [] if p.get("port") == port), None
        )
        if served is None:
            return Refused(address)
        target = served.get("targetPort", port)
        for pod in endpoints:
            number = _container_port(pod, target)
            if number is not None:
                return self._to_pod(pod, number, method, path, address)
        return Refused(address)

    def _to_pod(
        self, pod: Obj, port: int, method: str, path: str, address: str | None = None
    ) -> Outcome:
        address = address or str(dig(pod, "status", "podIP") or "")
        if dig(pod, "metadata", "deletionTimestamp") or _container_port(pod, port) is None:
            return Refused(address)
        return self._answers.reply(pod, method, path, address)

    def _endpoints(self, service: Obj) -> list[Obj]:
        selector = dig(service, "spec", "selector") or {}
        if not selector:
            return []  # endpoints set by hand are not simulated
        include_unready = bool(dig(service, "spec", "publishNotReadyAddresses"))
        return [
            pod
            for pod in self._pods
            if namespace_of(pod) == namespace_of(service)
            and all(labels_of(pod).get(k) == v for k, v in selector.items())
            and not dig(pod, "metadata", "deletionTimestamp")
            and (include_unready or _ready(pod))
        ]


def _search_order(name: str, expanded: list[str]) -> list[str]:
    """resolv.conf's ndots rule: few dots, search path first; many, the name as is first."""
    return [*expanded, name] if name.count(".") < NDOTS else [name, *expanded]


def _headless(service: Obj) -> bool:
    return bool(dig(service, "spec", "clusterIP") == "None")


def _ready(pod: Obj) -> bool:
    conditions = dig(pod, "status", "conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _container_port(pod: Obj, target: object) -> int | None:
    """The port number a pod listens on for ``target`` (a number or a port name), or None."""
    named = isinstance(target, str) and not target.isdigit()
    for container in dig(pod, "spec", "containers") or []:
        for declared in container.get("ports") or []:
            if declared.get("protocol", "TCP") != "TCP":
                continue
            if named and declared.get("name") == target:
                return int(declared["containerPort"])
            if not named and str(target) == str(declared.get("containerPort")):
                return int(str(target))
    return None


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _outside_address(host: str) -> str:
    """A stable documentation-range address for a host outside the cluster (RFC 5737)."""
    return f"203.0.113.{sum(host.encode()) % 250 + 2}"


def service_proxy(
    network: Network, namespace: str, segment: str, method: str, path: str
) -> tuple[int, str]:
    """What the API server's ``services/proxy`` subresource answers for ``segment``
    (``[scheme:]name[:port]``): the endpoint's own status and body, or the server's 404 for
    a missing Service and 503 when no endpoint takes the connection."""
    parts = segment.split(":")
    name, port = (parts[1:] if len(parts) == 3 else [*parts, ""])[:2]
    outcome = network.to_service_port(namespace, name, port, method, path)
    if outcome is None:
        raise ApiError(
            404, f'services "{name}" not found', details={"name": name, "kind": "services"}
        )
    if isinstance(outcome, Reply):
        return outcome.status, outcome.body
    if not network.has_endpoints(namespace, name):
        raise ApiError(503, f'no endpoints available for service "{name}"')
    raise ApiError(
        503, f"error trying to reach service: dial tcp {_address(outcome)}: connection refused"
    )


def _address(outcome: Outcome) -> str:
    return outcome.address if isinstance(outcome, Refused) else "?"
