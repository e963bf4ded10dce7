"""NodePorts: the port each port of a NodePort or LoadBalancer Service gets on every node.

As the API server's Service registry allocates them, after defaulting and before validation:
a port that names none gets a free one of 30000-32767 (the lowest here; the real allocator
picks at random); one that names one must be in that range and held by no other Service, or
the create is a 422 ``provided port is not in the valid range. The range of valid ports is
30000-32767`` / ``provided port is already allocated``. An update keeps the node port of an
old port of the same name (patchAllocatedValues); an update to a type that needs none
(ClusterIP, ExternalName) that adds no node port drops them (dropTypeDependentFields). A port
is free again once its Service is gone. This module must not store anything.
"""

from __future__ import annotations

from typing import Any

from drill.sandbox.kube.api.errors import ApiError, invalid
from drill.sandbox.kube.api.objects import Obj, dig, name_of, uid_of
from drill.sandbox.kube.api.resources import ResourceType
from drill.sandbox.kube.api.store import Store
from drill.sandbox.kube.api.validation import invalid_value

NODE_PORTS = range(30000, 32768)  # kube-apiserver's --service-node-port-range default
_NEEDS_NODE_PORTS = ("NodePort", "LoadBalancer")
_OUT_OF_RANGE = (
    "provided port is not in the valid range. The range of valid ports is "
    f"{NODE_PORTS.start}-{NODE_PORTS.stop - 1}"
)


class NodePorts:
    def __init__(self, store: Store, services: ResourceType) -> None:
        self._store = store
        self._services = services

    def allocate(self, service: Obj, old: Obj | None) -> None:
        """Give ``service`` (a create, or an update of ``old``) its node ports."""
        spec = service.get("spec")
        ports = spec.get("ports") if isinstance(spec, dict) else None
        if not isinstance(spec, dict) or not isinstance(ports, list):
            return
        ports = [port for port in ports if isinstance(port, dict)]
        if old is not None:
            _carry_over(dig(old, "spec") or {}, spec, ports)
        if spec.get("type") not in _NEEDS_NODE_PORTS:
            return
        taken = self._taken(besides=old)
        self._check_asked(service, ports, taken)
        used = taken | {port.get("nodePort") for port in ports}
        for port in ports:
            if not port.get("nodePort"):
                port["nodePort"] = _free(used)
                used.add(port["nodePort"])

    def _check_asked(self, service: Obj, ports: list[Obj], taken: set[Any]) -> None:
        causes = []
        for index, port in enumerate(ports):
            asked = port.get("nodePort")
            where = f"spec.ports[{index}].nodePort"
            if asked and asked not in NODE_PORTS:
                causes.append(invalid_value(where, asked, _OUT_OF_RANGE))
            elif asked and asked in taken:
                causes.append(invalid_value(where, asked, "provided port is already allocated"))
        if causes:
            raise invalid(self._services, name_of(service), causes)

    def _taken(self, besides: Obj | None) -> set[Any]:
        """Node ports held by stored Services, but for ``besides`` (the one updated)."""
        return {
            port.get("nodePort")
            for other in self._store.items(self._services)
            if besides is None or uid_of(other) != uid_of(besides)
            for port in dig(other, "spec", "ports") or []
            if isinstance(port, dict) and port.get("nodePort")
        }


def _carry_over(before: Obj, after: Obj, ports: list[Obj]) -> None:
    needed_before = before.get("type") in _NEEDS_NODE_PORTS
    had = {p.get("nodePort") for p in before.get("ports") or [] if isinstance(p, dict)} - {None}
    has = {port.get("nodePort") for port in ports} - {None}
    if after.get("type") not in _NEEDS_NODE_PORTS:
        if needed_before and has <= had:
            for port in ports:
                port.pop("nodePort", None)
        return
    if not needed_before:
        return
    by_name = {p.get("name"): p.get("nodePort") for p in before.get("ports") or []}
    for port in ports:
        kept = by_name.get(port.get("name"))
        if not port.get("nodePort") and kept and kept not in has:
            port["nodePort"] = kept


def _free(used: set[Any]) -> int:
    found = next((n for n in NODE_PORTS if n not in used), None)
    if found is None:
        raise ApiError(500, "range is full")  # the allocator's ErrFull
    return found
