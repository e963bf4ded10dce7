"""Discovery documents (``/version``, ``/api``, ``/apis``, group and resource lists).

kubectl resolves ``deploy``, ``ns`` and friends, finds the ``scale`` subresource and picks
verbs from these documents, so they list every resource completely. Only the legacy JSON forms
are served: kubectl asks for aggregated discovery first and falls back when it gets plain
``APIGroupList``. This module must not route or serve anything; it builds documents.
"""

from __future__ import annotations

from drill.sandbox.kube.api.objects import Obj
from drill.sandbox.kube.api.resources import SUBRESOURCE_VERBS, Registry, ResourceType


def api_versions(host: str) -> Obj:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": host}],
    }


def _version_entry(group: str, version: str) -> Obj:
    return {"groupVersion": f"{group}/{version}", "version": version}


def api_group(registry: Registry, group: str) -> Obj | None:
    versions = registry.group_versions().get(group)
    if not group or not versions:
        return None
    entries = [_version_entry(group, v) for v in versions]
    return {
        "kind": "APIGroup",
        "apiVersion": "v1",
        "name": group,
        "versions": entries,
        "preferredVersion": entries[0],
    }


def api_group_list(registry: Registry) -> Obj:
    groups = [api_group(registry, g) for g in registry.group_versions() if g]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def _resource_entry(rt: ResourceType) -> Obj:
    entry: Obj = {
        "name": rt.plural,
        "singularName": rt.singular,
        "namespaced": rt.namespaced,
        "kind": rt.kind,
        "verbs": list(rt.verbs),
    }
    if rt.short_names:
        entry["shortNames"] = list(rt.short_names)
    if rt.categories:
        entry["categories"] = list(rt.categories)
    return entry


def _subresource_entry(rt: ResourceType, sub: str) -> Obj:
    entry: Obj = {
        "name": f"{rt.plural}/{sub}",
        "singularName": "",
        "namespaced": rt.namespaced,
        "kind": rt.kind,
        "verbs": list(SUBRESOURCE_VERBS),
    }
    if sub == "scale":
        entry.update(group="autoscaling", version="v1", kind="Scale")
    elif sub == "log":
        entry["verbs"] = ["get"]
    elif sub == "proxy":
        entry.update(
            kind="ServiceProxyOptions", verbs=["create", "delete", "get", "patch", "update"]
        )
    elif sub == "finalize":
        entry["verbs"] = ["update"]
    elif sub == "token":
        entry.update(group="authentication.k8s.io", version="v1", kind="TokenRequest")
        entry["verbs"] = ["create"]
    return entry


def resource_list(registry: Registry, group: str, version: str) -> Obj | None:
    resources: list[Obj] = []
    for rt in registry.in_group_version(group, version):
        resources.append(_resource_entry(rt))
        resources += [_subresource_entry(rt, sub) for sub in rt.subresources]
    if not resources:
        return None
    group_version = f"{group}/{version}" if group else version
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": resources,
    }
