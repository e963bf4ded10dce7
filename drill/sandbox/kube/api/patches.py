"""The three PATCH bodies Kubernetes accepts: JSON merge patch, strategic merge patch, JSON patch.

- ``application/merge-patch+json`` follows RFC 7386: objects merge, ``null`` deletes a key,
  anything else (lists included) replaces.
- ``application/strategic-merge-patch+json`` is an **approximation**. The real server merges
  lists according to per-field patch strategies compiled into each Go type. Here a list merges
  item by item only under the field names below, by the merge key the real types use
  (``name`` for containers, initContainers, env, volumes, imagePullSecrets; ``mountPath`` for
  volumeMounts; ``containerPort`` for container ports and ``port`` for service ports;
  ``type`` for conditions); items match on that key, unmatched patch items are appended and an
  item carrying ``$patch: delete`` is removed. Every other list is replaced, as in a merge
  patch. ``$patch: replace`` on an object replaces it; the ``$setElementOrder``,
  ``$retainKeys`` and ``$deleteFromPrimitiveList`` directives are dropped, not honoured.
- ``application/json-patch+json`` follows RFC 6902 (add, remove, replace, move, copy, test).

This module must not know which resource is being patched, nor touch the store: it maps a
document and a patch to a new document.
"""

from __future__ import annotations

from typing import Any

from drill.sandbox.kube.api.errors import ApiError, bad_request
from drill.sandbox.kube.api.objects import copy_json

MERGE = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"
APPLY = "application/apply-patch+yaml"
CONTENT_TYPES = (MERGE, STRATEGIC, JSON_PATCH)

_NAME_KEYED = ("containers", "initContainers", "ephemeralContainers", "env", "volumes")
_MERGE_KEYS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys((*_NAME_KEYED, "imagePullSecrets"), ("name",)),
    "volumeMounts": ("mountPath",),
    "ports": ("containerPort", "port"),
    "conditions": ("type",),
}
_DROPPED_DIRECTIVES = ("$setElementOrder/", "$deleteFromPrimitiveList/", "$retainKeys")


def apply_patch(content_type: str, document: Any, patch: Any) -> Any:
    """The patched copy of ``document``; the original is left alone."""
    kind = content_type.split(";")[0].strip().lower()
    if kind == MERGE:
        return merge_patch(document, patch)
    if kind == STRATEGIC:
        return strategic_merge_patch(document, patch)
    if kind == JSON_PATCH:
        return json_patch(document, patch)
    if kind == APPLY:
        raise ApiError(415, "server-side apply is not supported by the sandbox")
    raise ApiError(
        415,
        "the body of the request was in an unknown format - "
        f"accepted media types include: {', '.join(CONTENT_TYPES)}",
    )


def merge_patch(document: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy_json(patch)
    result = dict(document) if isinstance(document, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def strategic_merge_patch(document: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy_json(patch)
    if patch.get("$patch") == "replace":
        return _without_directives(patch)
    if patch.get("$patch") == "delete":
        return None
    result = dict(document) if isinstance(document, dict) else {}
    for key, value in patch.items():
        if key.startswith(_DROPPED_DIRECTIVES) or key == "$patch":
            continue
        if value is None:
            result.pop(key, None)
        elif isinstance(value, list) and isinstance(result.get(key), list):
            result[key] = _merge_list(key, result[key], value)
        elif (merged := strategic_merge_patch(result.get(key), value)) is None:
            result.pop(key, None)  # a nested object carried ``$patch: delete``
        else:
            result[key] = merged
    return result


def _without_directives(patch: dict[str, Any]) -> dict[str, Any]:
    return {k: copy_json(v) for k, v in patch.items() if not k.startswith("$")}


def _merge_key(field: str, items: list[Any]) -> str | None:
    """The key ``field``'s items merge on, if it is a keyed list and the items carry the key."""
    for candidate in _MERGE_KEYS.get(field, ()):
        if items and all(isinstance(i, dict) and candidate in i for i in items):
            return candidate
    return None


def _merge_list(field: str, current: list[Any], patch: list[Any]) -> list[Any]:
    key = _merge_key(field, [i for i in patch if isinstance(i, dict)])
    if key is None or not all(isinstance(i, dict) for i in current):
        return [strategic_merge_patch(None, item) for item in patch]
    merged = [copy_json(item) for item in current]
    for item in patch:
        index = next((n for n, old in enumerate(merged) if old.get(key) == item.get(key)), None)
        if item.get("$patch") == "delete":
            if index is not None:
                del merged[index]
        elif index is None:
            merged.append(_without_directives(item))
        else:
            merged[index] = strategic_merge_patch(merged[index], item)
    return merged


def json_patch(document: Any, operations: Any) -> Any:
    if not isinstance(operations, list):
        raise bad_request("json patch must be a list of operations")
    result = copy_json(document)
    for operation in operations:
        result = _apply_operation(result, operation)
    return result


def _apply_operation(document: Any, operation: Any) -> Any:
    if not isinstance(operation, dict) or "path" not in operation:
        raise bad_request(f"invalid json patch operation: {operation!r}")
    op, path = operation.get("op"), _pointer(str(operation["path"]))
    if op == "add":
        return _add(document, path, copy_json(_value(operation)))
    if op == "remove":
        return _remove(document, path)[0]
    if op == "replace":
        document, _ = _remove(document, path)
        return _add(document, path, copy_json(_value(operation)))
    if op in ("move", "copy"):
        source = _pointer(str(operation.get("from", "")))
        moved = copy_json(_get(document, source))
        if op == "move":
            document, _ = _remove(document, source)
        return _add(document, path, moved)
    if op == "test":
        if _get(document, path) != _value(operation):
            raise _unprocessable(f"testing value {operation['path']} failed")
        return document
    raise bad_request(f"unknown json patch operation: {op!r}")


def _value(operation: dict[str, Any]) -> Any:
    if "value" not in operation:
        raise bad_request(f"json patch operation {operation.get('op')!r} needs a value")
    return operation["value"]


def _unprocessable(message: str) -> ApiError:
    return ApiError(
        422, f"the server rejected our request due to an error in our request: {message}"
    )


def _pointer(text: str) -> list[str]:
    if text == "":
        return []
    if not text.startswith("/"):
        raise bad_request(f"invalid json pointer: {text!r}")
    return [part.replace("~1", "/").replace("~0", "~") for part in text[1:].split("/")]


def _parent(document: Any, path: list[str]) -> Any:
    node = document
    for part in path[:-1]:
        node = _step(node, part)
    return node


def _step(node: Any, part: str) -> Any:
    if isinstance(node, dict) and part in node:
        return node[part]
    if isinstance(node, list) and part.isdigit() and int(part) < len(node):
        return node[int(part)]
    raise _unprocessable(f"path element {part!r} does not exist")


def _get(document: Any, path: list[str]) -> Any:
    return _step(_parent(document, path), path[-1]) if path else document


def _add(document: Any, path: list[str], value: Any) -> Any:
    if not path:
        return value
    parent, last = _parent(document, path), path[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list) and (
        last == "-" or (last.isdigit() and int(last) <= len(parent))
    ):
        parent.insert(len(parent) if last == "-" else int(last), value)
    else:
        raise _unprocessable(f"cannot add at {'/'.join(path)!r}")
    return document


def _remove(document: Any, path: list[str]) -> tuple[Any, Any]:
    if not path:
        return None, document
    parent, last = _parent(document, path), path[-1]
    removed = _step(parent, last)
    if isinstance(parent, dict):
        del parent[last]
    else:
        del parent[int(last)]
    return document, removed
