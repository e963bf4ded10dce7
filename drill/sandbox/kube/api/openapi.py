"""The OpenAPI v3 documents kube-apiserver publishes under ``/openapi/v3``, for the types the
emulator serves.

kubectl reads them before it writes: ``kubectl apply`` (and create, replace) with the default
``--validate=strict`` looks, in the document of the object's group version, for the PATCH
operation carrying the object's ``x-kubernetes-group-version-kind`` and sends
``fieldValidation=Strict`` only if that operation lists the ``fieldValidation`` query
parameter; a server without documents fails the command. So each document holds, per resource,
the collection and item paths (and ``status`` and ``scale``) with the operations its verbs
allow, each with the real server's query parameters (``dryRun``, ``fieldManager``,
``fieldValidation``, and ``force`` for PATCH) and extensions. The sandbox honours ``dryRun``
and refuses server-side apply all the same; it lists ``force`` because the real server does.

What the documents do not hold:

- Field schemas of the built-in kinds: each kind is an object schema with its
  ``x-kubernetes-group-version-kind`` and no properties, so ``kubectl explain`` shows only the
  kind. Velero's kinds carry the structural schemas the server checks writes against
  (``schemas``), as the real server publishes a CRD's schema.
- ``application/strategic-merge-patch+json`` among a PATCH's body types. kubectl builds a
  strategic merge patch from a document's schemas when the PATCH lists that type, and schemas
  without fields would fail it; without it, kubectl uses its compiled-in types (as it does for a
  server that publishes no schema for a kind) and sends the same strategic merge patch.
- ``application/apply-patch+yaml``: the sandbox has no server-side apply.
- The ``log``, ``proxy``, ``token`` and ``finalize`` subresources, and the index's non-API
  entries (``version``, ``.well-known/...``).

The registry is fixed while the emulator serves (it has no CustomResourceDefinitions to
create), so the documents are built once, on first use. This module must not route or serve
anything; it builds documents.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from urllib.parse import urlencode

from drill.sandbox.kube.api.objects import Obj
from drill.sandbox.kube.api.patches import JSON_PATCH, MERGE
from drill.sandbox.kube.api.resources import SERVER_VERSION, Registry, ResourceType
from drill.sandbox.kube.api.schemas import schema_for

OPENAPI_VERSION = "3.0.0"
_META = "io.k8s.apimachinery.pkg.apis.meta.v1"
PATCH_SCHEMA = f"{_META}.Patch"
STATUS_SCHEMA = f"{_META}.Status"
SCALE_SCHEMA = "io.k8s.api.autoscaling.v1.Scale"
_SCALE_GVK: Obj = {"group": "autoscaling", "version": "v1", "kind": "Scale"}
_STATUS_GVK: Obj = {"group": "", "version": "v1", "kind": "Status"}
# The query parameters of each action, as the real server lists them (names and types).
_WRITE = (("dryRun", "string"), ("fieldManager", "string"), ("fieldValidation", "string"))
_PARAMETERS: dict[str, tuple[tuple[str, str], ...]] = {
    "list": (
        ("allowWatchBookmarks", "boolean"),
        ("continue", "string"),
        ("fieldSelector", "string"),
        ("labelSelector", "string"),
        ("limit", "integer"),
        ("resourceVersion", "string"),
        ("resourceVersionMatch", "string"),
        ("sendInitialEvents", "boolean"),
        ("timeoutSeconds", "integer"),
        ("watch", "boolean"),
    ),
    "post": _WRITE,
    "put": _WRITE,
    "patch": (*_WRITE, ("force", "boolean")),
    "delete": (
        ("dryRun", "string"),
        ("gracePeriodSeconds", "integer"),
        ("propagationPolicy", "string"),
    ),
    "deletecollection": (
        ("dryRun", "string"),
        ("labelSelector", "string"),
        ("fieldSelector", "string"),
        ("propagationPolicy", "string"),
    ),
    "get": (),
}
_DESCRIPTIONS = {
    "dryRun": "When present, indicates that modifications should not be persisted.",
    "fieldManager": "A name associated with the actor or entity that is making these changes.",
    "fieldValidation": (
        "How the server handles fields in the request that it does not know or that are"
        " duplicated: Ignore, Warn (the default) or Strict."
    ),
    "force": "Force is going to force Apply requests. It must be unset for non-apply patches.",
}


@dataclass(frozen=True)
class Document:
    """One served document: its JSON bytes and the hash the index names it by."""

    body: bytes
    hash: str


def gv_path(group: str, version: str) -> str:
    """The index's key for a group version: ``api/v1``, ``apis/apps/v1``."""
    return f"apis/{group}/{version}" if group else f"api/{version}"


def server_relative_url(key: str, hash_: str) -> str:
    return f"/openapi/v3/{key}?{urlencode({'hash': hash_})}"


def _document(body: Obj) -> Document:
    encoded = json.dumps(body, separators=(",", ":"), sort_keys=True).encode()
    # As kube-openapi names a document: the upper-case hex SHA-512 of its bytes, so a client's
    # cache of the old URL is never served for a changed document.
    return Document(encoded, hashlib.sha512(encoded).hexdigest().upper())


class OpenApi:
    """The index and the group-version documents of one registry, built on first use."""

    def __init__(self, registry: Registry) -> None:
        self._registry = registry
        self._lock = threading.Lock()
        self._documents: dict[str, Document] | None = None
        self._index: Document | None = None

    def index(self) -> Document:
        """``/openapi/v3``: each group version's document URL, with its hash."""
        self._build()
        assert self._index is not None
        return self._index

    def document(self, key: str) -> Document | None:
        """The document of ``key`` (``api/v1``, ``apis/velero.io/v1``), None if not served."""
        self._build()
        assert self._documents is not None
        return self._documents.get(key)

    def _build(self) -> None:
        with self._lock:
            if self._documents is not None:
                return
            documents = {
                gv_path(group, version): _document(
                    group_version_document(self._registry, group, version)
                )
                for group, versions in self._registry.group_versions().items()
                for version in versions
            }
            paths = {
                key: {"serverRelativeURL": server_relative_url(key, doc.hash)}
                for key, doc in documents.items()
            }
            self._index = _document({"paths": paths})
            self._documents = documents


def group_version_document(registry: Registry, group: str, version: str) -> Obj:
    types = list(registry.in_group_version(group, version))
    paths: Obj = {}
    schemas: Obj = {
        PATCH_SCHEMA: {
            "type": "object",
            "description": "The body of a PATCH request, in the format its content type names.",
        },
        STATUS_SCHEMA: _object_schema("The outcome of an operation.", _STATUS_GVK),
    }
    for rt in types:
        paths.update(resource_paths(rt))
        schemas.update(_kind_schemas(rt))
    if any("scale" in rt.subresources for rt in types):
        schemas[SCALE_SCHEMA] = _object_schema("A scale subresource.", _SCALE_GVK)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": "Kubernetes", "version": SERVER_VERSION["gitVersion"]},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "BearerToken": {
                    "type": "apiKey",
                    "description": "Bearer Token authentication",
                    "name": "authorization",
                    "in": "header",
                }
            },
        },
        "security": [{"BearerToken": []}],
    }


# -- schemas ------------------------------------------------------------------------------------


def schema_name(rt: ResourceType, kind: str | None = None) -> str:
    """The real server's name for a kind's schema: ``io.k8s.api.apps.v1.Deployment`` for a
    built-in group (core is ``core``), the reversed group for a CRD (``io.velero.v1.Backup``)."""
    kind = kind or rt.kind
    if _built_in(rt.group):
        package = rt.group.split(".")[0] if rt.group else "core"
        return f"io.k8s.api.{package}.{rt.version}.{kind}"
    return f"{'.'.join(reversed(rt.group.split('.')))}.{rt.version}.{kind}"


def _built_in(group: str) -> bool:
    return not group or "." not in group or group.endswith(".k8s.io")


def _gvk(rt: ResourceType, kind: str | None = None) -> Obj:
    return {"group": rt.group, "version": rt.version, "kind": kind or rt.kind}


def _object_schema(description: str, gvk: Obj) -> Obj:
    # A list, as the real server writes it on schemas (an operation carries a single one).
    return {"type": "object", "description": description, "x-kubernetes-group-version-kind": [gvk]}


def _kind_schemas(rt: ResourceType) -> dict[str, Obj]:
    kind = _object_schema(f"A {rt.kind} ({rt.api_version}).", _gvk(rt))
    structural = schema_for(rt)
    if structural is not None:
        kind = {**structural, **kind}
    listed = _object_schema(f"A list of {rt.kind} objects.", _gvk(rt, rt.list_kind))
    listed["required"] = ["items"]
    listed["properties"] = {
        "apiVersion": {"type": "string"},
        "kind": {"type": "string"},
        "metadata": {"type": "object"},
        "items": {"type": "array", "items": _ref(schema_name(rt))},
    }
    return {schema_name(rt): kind, schema_name(rt, rt.list_kind): listed}


def _ref(name: str) -> Obj:
    return {"$ref": f"#/components/schemas/{name}"}


# -- paths --------------------------------------------------------------------------------------


def resource_paths(rt: ResourceType) -> dict[str, Obj]:
    """The paths of ``rt`` (and of its status and scale subresources) with their operations."""
    prefix = f"/{gv_path(rt.group, rt.version)}"
    scoped = (
        f"{prefix}/namespaces/{{namespace}}/{rt.plural}"
        if rt.namespaced
        else (f"{prefix}/{rt.plural}")
    )
    item = f"{scoped}/{{name}}"
    found: dict[str, Obj] = {}
    _add(found, scoped, _collection_operations(rt), _scope_parameters(rt, named=False))
    _add(found, item, _item_operations(rt), _scope_parameters(rt, named=True))
    if rt.namespaced and "list" in rt.verbs:
        everywhere = {"get": _operation(rt, "list", "ForAllNamespaces", _gvk(rt))}
        _add(found, f"{prefix}/{rt.plural}", everywhere, [])
    for sub in ("status", "scale"):
        if sub in rt.subresources:
            _add(found, f"{item}/{sub}", _sub_operations(rt, sub), _scope_parameters(rt, True))
    return found


def _add(paths: dict[str, Obj], path: str, operations: Obj, parameters: list[Obj]) -> None:
    if operations:
        paths[path] = {**operations, "parameters": [*parameters, _query("pretty", "string")]}


def _collection_operations(rt: ResourceType) -> Obj:
    gvk = _gvk(rt)
    # (method, RBAC verb that allows it, x-kubernetes-action)
    wanted = (
        ("get", "list", "list"),
        ("post", "create", "post"),
        ("delete", "deletecollection", "deletecollection"),
    )
    return {
        method: _operation(rt, action, "", gvk)
        for method, verb, action in wanted
        if verb in rt.verbs
    }


def _item_operations(rt: ResourceType) -> Obj:
    gvk = _gvk(rt)
    wanted = (("get", "get"), ("put", "update"), ("patch", "patch"), ("delete", "delete"))
    return {method: _operation(rt, method, "", gvk) for method, verb in wanted if verb in rt.verbs}


def _sub_operations(rt: ResourceType, sub: str) -> Obj:
    gvk = _SCALE_GVK if sub == "scale" else _gvk(rt)
    suffix = sub.capitalize()
    return {method: _operation(rt, method, suffix, gvk) for method in ("get", "put", "patch")}


def _scope_parameters(rt: ResourceType, named: bool) -> list[Obj]:
    found = [_path_parameter("name", f"name of the {rt.kind}")] if named else []
    if rt.namespaced:
        found.append(_path_parameter("namespace", "object name and auth scope"))
    return found


def _operation(rt: ResourceType, action: str, suffix: str, gvk: Obj) -> Obj:
    """One operation: ``action`` is the real server's ``x-kubernetes-action`` (get, list, post,
    put, patch, delete, deletecollection)."""
    returned = SCALE_SCHEMA if gvk is _SCALE_GVK else schema_name(rt)
    operation: Obj = {
        "operationId": _operation_id(rt, action, suffix),
        "description": f"{action} {rt.kind}{' ' + suffix.lower() if suffix else ''}",
        "parameters": [_query(name, type_) for name, type_ in _PARAMETERS[action]],
        "responses": _responses(rt, action, returned),
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": gvk,
    }
    body = _request_body(action, returned)
    if body is not None:
        operation["requestBody"] = body
    return operation


def _request_body(action: str, returned: str) -> Obj | None:
    if action == "patch":
        content = {media: {"schema": _ref(PATCH_SCHEMA)} for media in (JSON_PATCH, MERGE)}
        return {"content": content, "required": True}
    if action in ("post", "put"):
        return {"content": {"*/*": {"schema": _ref(returned)}}, "required": True}
    return None


def _responses(rt: ResourceType, action: str, returned: str) -> Obj:
    if action == "list":
        returned = schema_name(rt, rt.list_kind)
    elif action in ("delete", "deletecollection"):
        returned = STATUS_SCHEMA
    ok = {"description": "OK", "content": {"application/json": {"schema": _ref(returned)}}}
    answered: Obj = {"200": ok}
    if action in ("post", "put", "patch"):
        answered["201"] = {**ok, "description": "Created"}
    answered["401"] = {"description": "Unauthorized"}
    return answered


_ID_VERBS = {
    "list": "list",
    "post": "create",
    "get": "read",
    "put": "replace",
    "patch": "patch",
    "delete": "delete",
    "deletecollection": "deleteCollection",
}


def _operation_id(rt: ResourceType, action: str, suffix: str) -> str:
    """``patchAppsV1NamespacedDeployment``, ``listCoreV1PodForAllNamespaces``."""
    group = rt.group.removesuffix(".k8s.io") if rt.group else "core"
    words = [w for part in group.split(".") for w in part.split("-")]
    scope = "Namespaced" if rt.namespaced and suffix != "ForAllNamespaces" else ""
    gv = "".join(w.capitalize() for w in words) + rt.version.capitalize()
    return f"{_ID_VERBS[action]}{gv}{scope}{rt.kind}{suffix}"


def _query(name: str, type_: str) -> Obj:
    parameter: Obj = {"name": name, "in": "query", "schema": {"type": type_, "uniqueItems": True}}
    if name in _DESCRIPTIONS:
        parameter["description"] = _DESCRIPTIONS[name]
    return parameter


def _path_parameter(name: str, description: str) -> Obj:
    return {
        "name": name,
        "in": "path",
        "description": description,
        "required": True,
        "schema": {"type": "string", "uniqueItems": True},
    }
