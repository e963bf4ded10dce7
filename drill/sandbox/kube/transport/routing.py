"""URL paths to routes: which resource, namespace, name and subresource a request is about.

Resource paths have the real server's shapes::

    /api/v1/{plural}[/{name}[/{sub}]]                        cluster-scoped, or all namespaces
    /api/v1/namespaces/{ns}/{plural}[/{name}[/{sub}]]        namespaced
    /apis/{group}/{version}/...                              the same under a named group
    /api/v1/namespaces/{ns}/services/{name}/proxy/{path...}  a Service's port, proxied

Discovery paths map to ``Discovery`` routes, and ``/openapi/v3[/{api/v1|apis/G/V}]`` to an
``OpenApiRoute``. This module must not act on a route or know
about HTTP methods.
"""

from __future__ import annotations

from dataclasses import dataclass

from drill.sandbox.kube.api.errors import ApiError
from drill.sandbox.kube.api.resources import Registry, ResourceType


@dataclass(frozen=True)
class Discovery:
    """``/version``, ``/api``, ``/apis``, a group, or a group version's resource list."""

    what: str  # version | api | apis | group | resources
    group: str = ""
    version: str = ""


@dataclass(frozen=True)
class OpenApiRoute:
    """``/openapi/v3`` (``key`` empty: the index) or one group version's document there."""

    key: str  # api/v1 | apis/{group}/{version} | ""


@dataclass(frozen=True)
class ResourceRoute:
    rt: ResourceType
    namespace: str | None
    name: str | None
    sub: str | None

    @property
    def is_collection(self) -> bool:
        return self.name is None


def not_found_path() -> ApiError:
    return ApiError(404, "the server could not find the requested resource", details={})


def route(path: str, registry: Registry) -> Discovery | OpenApiRoute | ResourceRoute:
    parts = [p for p in path.split("/") if p]
    if parts in (["version"], ["version", ""]):
        return Discovery("version")
    if parts[:2] == ["openapi", "v3"]:
        return OpenApiRoute("/".join(parts[2:]))
    if parts[:1] == ["api"]:
        return _core(parts[1:], registry)
    if parts[:1] == ["apis"]:
        return _grouped(parts[1:], registry)
    raise not_found_path()


def _core(parts: list[str], registry: Registry) -> Discovery | ResourceRoute:
    if not parts:
        return Discovery("api")
    if parts[0] != "v1":
        raise not_found_path()
    if len(parts) == 1:
        return Discovery("resources", "", "v1")
    return _resource("", "v1", parts[1:], registry)


def _grouped(parts: list[str], registry: Registry) -> Discovery | ResourceRoute:
    if not parts:
        return Discovery("apis")
    if len(parts) == 1:
        return Discovery("group", parts[0])
    if len(parts) == 2:
        return Discovery("resources", parts[0], parts[1])
    return _resource(parts[0], parts[1], parts[2:], registry)


def _resource(group: str, version: str, parts: list[str], registry: Registry) -> ResourceRoute:
    namespaced = (
        len(parts) >= 3
        and parts[0] == "namespaces"
        and (found := registry.by_path(group, version, parts[2])) is not None
        and found.namespaced
    )
    namespace, rest = (parts[1], parts[2:]) if namespaced else (None, parts)
    rt = registry.by_path(group, version, rest[0])
    proxied = len(rest) > 3 and rest[2] == "proxy"  # the rest is the path to proxy to
    if rt is None or (len(rest) > 3 and not proxied):
        raise not_found_path()
    name = rest[1] if len(rest) > 1 else None
    sub = rest[2] if len(rest) > 2 else None
    if sub is not None and sub not in rt.subresources:
        raise not_found_path()
    if rt.namespaced and namespace is None and name is not None:
        raise not_found_path()
    return ResourceRoute(rt, namespace, name, sub)
