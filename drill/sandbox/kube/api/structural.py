"""A custom resource against its structural schema, as the API server treats it.

Three passes, in the server's order. ``prune`` drops every field the schema does not declare
(not under ``x-kubernetes-preserve-unknown-fields``; ``metadata`` keeps only ObjectMeta's
fields) and returns their paths (``spec.foo``, ``spec.hooks.resources[0].bar``): the server
warns about them, or refuses the request under ``fieldValidation=Strict``. ``apply_defaults``
fills declared defaults. ``causes`` lists what breaks the schema, worded as the server words
it: a wrong type (``spec.includedNamespaces: Invalid value: "string": spec.includedNamespaces
in body must be of type array: "string"``), a null where none is allowed, a value outside an
``enum``, a missing ``required`` field, too few or too many items, a malformed ``date-time``
or ``byte`` string. Other keywords of OpenAPI (patterns, CEL rules) are not checked.

This module must not know which resource a schema belongs to or store anything.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from drill.sandbox.kube.api.objects import Obj

Cause = tuple[str, str, str]  # (reason, field, message), as validation.py and errors.invalid
_PRESERVE = "x-kubernetes-preserve-unknown-fields"
OBJECT_META_FIELDS = frozenset(
    {
        "name",
        "generateName",
        "namespace",
        "selfLink",
        "uid",
        "resourceVersion",
        "generation",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "labels",
        "annotations",
        "ownerReferences",
        "finalizers",
        "managedFields",
    }
)
# RFC 3339, as Go's strfmt reads a date-time.
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def _child(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


# -- pruning -----------------------------------------------------------------------------------


def prune(obj: Obj, schema: Obj) -> list[str]:
    """Remove, in place, every field of ``obj`` the schema does not declare; their paths."""
    pruned: list[str] = []
    metadata = obj.get("metadata")
    if isinstance(metadata, dict):
        for key in sorted(set(metadata) - OBJECT_META_FIELDS):
            del metadata[key]
            pruned.append(f"metadata.{key}")
    for key in list(obj):
        if key in ("apiVersion", "kind", "metadata"):
            continue
        _prune_field(obj, key, schema, "", pruned)
    return sorted(pruned)  # the server reports them sorted


def _prune_field(parent: Obj, key: str, schema: Obj, path: str, pruned: list[str]) -> None:
    properties = schema.get("properties") or {}
    extra = schema.get("additionalProperties")
    if key in properties:
        _prune_value(parent[key], properties[key], _child(path, key), pruned)
    elif isinstance(extra, dict):
        _prune_value(parent[key], extra, _child(path, key), pruned)
    elif not schema.get(_PRESERVE) and extra is not True:
        del parent[key]
        pruned.append(_child(path, key))


def _prune_value(value: Any, schema: Obj, path: str, pruned: list[str]) -> None:
    if isinstance(value, dict) and _declares_fields(schema):
        for key in list(value):
            _prune_field(value, key, schema, path, pruned)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            _prune_value(item, schema["items"], f"{path}[{index}]", pruned)


def _declares_fields(schema: Obj) -> bool:
    """An object schema whose fields are known: anything it does not declare is pruned."""
    if schema.get("type") not in (None, "object"):
        return False
    return "properties" in schema or "additionalProperties" in schema or not schema.get(_PRESERVE)


# -- defaulting --------------------------------------------------------------------------------


def apply_defaults(value: Any, schema: Obj) -> None:
    """Fill, in place, the declared default of every absent field whose parent is present."""
    if isinstance(value, dict):
        for key, child in (schema.get("properties") or {}).items():
            if key not in value and "default" in child:
                value[key] = json.loads(json.dumps(child["default"]))
            if key in value:
                apply_defaults(value[key], child)
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            for key in set(value) - set(schema.get("properties") or {}):
                apply_defaults(value[key], extra)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for item in value:
            apply_defaults(item, schema["items"])


# -- validation --------------------------------------------------------------------------------


def causes(obj: Obj, schema: Obj) -> list[Cause]:
    """Every way ``obj`` breaks ``schema`` (metadata is ObjectMeta's business, not checked)."""
    found: list[Cause] = []
    properties = schema.get("properties") or {}
    for key, value in obj.items():
        if key != "metadata" and key in properties:
            _check(value, properties[key], key, found)
    return found


def _check(value: Any, schema: Obj, path: str, found: list[Cause]) -> None:
    if value is None:
        if schema.get("type") and not schema.get("nullable"):
            found.append(_type_cause(path, schema["type"], "null"))
        return
    actual = json_type(value)
    if not _type_matches(schema, actual):
        found.append(_type_cause(path, str(schema["type"]), actual))
        return
    before = len(found)
    _check_format(value, schema, path, found)
    _check_enum(value, schema, path, found)
    if len(found) == before:
        _check_children(value, schema, path, found)


def json_type(value: Any) -> str:
    """The JSON type name of a decoded value, as the server names it in messages."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def _type_matches(schema: Obj, actual: str) -> bool:
    wanted = schema.get("type")
    if schema.get("x-kubernetes-int-or-string"):
        return actual in ("integer", "string")
    if not wanted:
        return True
    return actual == wanted or (wanted == "number" and actual == "integer")


def _type_cause(path: str, wanted: str, actual: str) -> Cause:
    message = f'Invalid value: "{actual}": {path} in body must be of type {wanted}: "{actual}"'
    return ("FieldValueTypeInvalid", path, message)


def _check_format(value: Any, schema: Obj, path: str, found: list[Cause]) -> None:
    form = schema.get("format")
    if not isinstance(value, str) or form not in ("date-time", "byte"):
        return
    valid = _DATE_TIME.fullmatch(value) is not None if form == "date-time" else _is_base64(value)
    if not valid:
        message = f"Invalid value: {_quoted(value)}: {path} in body must be of type {form}: "
        found.append(("FieldValueTypeInvalid", path, message + _quoted(value)))


def _is_base64(value: str) -> bool:
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def _check_enum(value: Any, schema: Obj, path: str, found: list[Cause]) -> None:
    allowed = schema.get("enum")
    if not allowed or value in allowed:
        return
    supported = ", ".join(_quoted(a) if isinstance(a, str) else json.dumps(a) for a in allowed)
    message = f"Unsupported value: {_quoted(value)}: supported values: {supported}"
    found.append(("FieldValueNotSupported", path, message))


def _check_children(value: Any, schema: Obj, path: str, found: list[Cause]) -> None:
    if isinstance(value, dict):
        properties = schema.get("properties") or {}
        for key in schema.get("required") or []:
            if key not in value:
                found.append(("FieldValueRequired", _child(path, key), "Required value"))
        extra = schema.get("additionalProperties")
        for key, child in value.items():
            child_schema = properties.get(key, extra if isinstance(extra, dict) else None)
            if child_schema is not None:
                _check(child, child_schema, _child(path, key), found)
    elif isinstance(value, list):
        _check_count(len(value), schema, path, found)
        if isinstance(schema.get("items"), dict):
            for index, item in enumerate(value):
                _check(item, schema["items"], f"{path}[{index}]", found)


def _check_count(count: int, schema: Obj, path: str, found: list[Cause]) -> None:
    least, most = schema.get("minItems"), schema.get("maxItems")
    if isinstance(least, int) and count < least:
        message = f"Invalid value: {count}: {path} in body should have at least {least} items"
        found.append(("FieldValueInvalid", path, message))
    if isinstance(most, int) and count > most:
        message = f"Too many: {count}: must have at most {most} items"
        found.append(("FieldValueTooMany", path, message))


def _quoted(value: Any) -> str:
    """A value as Go's %q / %v print it in field errors."""
    return json.dumps(value) if isinstance(value, str) else str(value)
