"""Label and field selectors: parsing the query-string forms and matching objects against them.

Label selectors support ``=``, ``==``, ``!=``, ``in``, ``notin``, ``key`` (exists), ``!key``,
``>`` and ``<`` (integers); their keys and values must be well formed, as apimachinery's parser
holds them (``labels.NewRequirement``), or the list is a 400. The object form (``matchLabels``
/ ``matchExpressions``) used in specs converts to the same thing. Field selectors support
``metadata.name`` and ``metadata.namespace`` on every resource, plus the fields each kind's
strategy makes selectable (pods, jobs, secrets, namespaces, replicasets, events), as the real
server does; anything else is a 400. This module must not read the store or know
about HTTP.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

from drill.sandbox.kube.api.errors import ApiError, bad_request
from drill.sandbox.kube.api.formats import label_key, label_value
from drill.sandbox.kube.api.objects import Obj, dig, labels_of

# What the real lexer reads as one identifier: anything but blanks and its symbols. Whether
# it is a well-formed key or value is NewRequirement's to say (``_checked``).
_KEY = r"[^\s!=<>(),]+"
_VALUE = r"[^\s!=<>(),]*"
_SET_RE = re.compile(rf"^(?P<key>{_KEY})\s+(?P<op>in|notin)\s*\((?P<values>[^()]*)\)$")
_NOT_EXISTS_RE = re.compile(rf"^!\s*(?P<key>{_KEY})$")
_EQUALITY_RE = re.compile(rf"^(?P<key>{_KEY})\s*(?P<op>==|!=|=|>|<)\s*(?P<value>{_VALUE})$")
_EXISTS_RE = re.compile(rf"^(?P<key>{_KEY})$")
# The fields each kind's strategy makes selectable (its ToSelectableFields / GetAttrs).
_FIELDS_BY_PLURAL = {
    "pods": (
        "spec.nodeName",
        "spec.restartPolicy",
        "spec.schedulerName",
        "spec.serviceAccountName",
        "spec.hostNetwork",
        "status.phase",
        "status.podIP",
        "status.nominatedNodeName",
    ),
    "jobs": ("status.successful",),
    "secrets": ("type",),
    "namespaces": ("status.phase",),
    "replicasets": ("status.replicas",),
    "events": (
        "involvedObject.kind",
        "involvedObject.namespace",
        "involvedObject.name",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "involvedObject.resourceVersion",
        "involvedObject.fieldPath",
        "reason",
        "reportingComponent",
        "source",
        "type",
    ),
}
# Selectable fields stored under another path, and what they read as when unset.
_FIELD_PATHS = {
    "status.successful": (("status", "succeeded"), "0"),
    "status.replicas": (("status", "replicas"), "0"),
    "source": (("source", "component"), ""),
    "spec.hostNetwork": (("spec", "hostNetwork"), "false"),
}
_COMMON_FIELDS = ("metadata.name", "metadata.namespace")


@dataclass(frozen=True)
class Requirement:
    key: str
    # one of: in, notin, exists, !exists, gt, lt (equality is "in"/"notin" with one value)
    op: str
    values: frozenset[str] = frozenset()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        if self.op == "exists":
            return present
        if self.op == "!exists":
            return not present
        if self.op == "in":
            return present and labels[self.key] in self.values
        if self.op in ("gt", "lt"):
            return present and _compares(labels[self.key], self.op, next(iter(self.values)))
        # "notin" and "!=" also match objects that lack the key, as in Kubernetes.
        return not present or labels[self.key] not in self.values


@dataclass(frozen=True)
class LabelSelector:
    requirements: tuple[Requirement, ...] = ()

    def matches(self, obj: Obj) -> bool:
        labels = labels_of(obj)
        return all(r.matches(labels) for r in self.requirements)

    @property
    def empty(self) -> bool:
        return not self.requirements


def _split_top_level(text: str) -> list[str]:
    """Split on commas that are not inside ``( )``: ``a in (x,y),b`` is two requirements."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def _requirement(text: str) -> Requirement:
    if found := _SET_RE.match(text):
        # "()" is one empty value, as apimachinery's parser reads it, and so is "a,".
        values = [v.strip() for v in found["values"].split(",")]
        return _checked(found["key"], found["op"], values)
    if found := _NOT_EXISTS_RE.match(text):
        return _checked(found["key"], "!exists", [])
    if found := _EQUALITY_RE.match(text):
        op = {"!=": "notin", ">": "gt", "<": "lt"}.get(found["op"], "in")
        return _checked(found["key"], op, [found["value"]])
    if found := _EXISTS_RE.match(text):
        return _checked(found["key"], "exists", [])
    raise bad_request(f"unable to parse requirement: {text!r}")


def _checked(key: str, op: str, values: list[str]) -> Requirement:
    """apimachinery's labels.NewRequirement: the key must be a label key, each value a label
    value (an integer for gt and lt); a 400 that words it as the real parser does."""
    errors: list[str] = []
    if why := label_key(key):
        errors.append(f"key: Invalid value: {json.dumps(key)}: {'; '.join(why)}")
    if op in ("gt", "lt"):
        errors += [
            f"values[{i}]: Invalid value: {json.dumps(v)}: for 'Gt', 'Lt' operators, "
            "the value must be an integer"
            for i, v in enumerate(values)
            if not re.fullmatch(r"[+-]?\d+", v)
        ]
    for index, value in enumerate(values):
        if why := label_value(value):
            where = f"values[{index}][{key}]"
            errors.append(f"{where}: Invalid value: {json.dumps(value)}: {'; '.join(why)}")
    if errors:
        listed = errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]"
        raise bad_request(f"unable to parse requirement: {listed}")
    return Requirement(key, op, frozenset(values))


def _compares(actual: str, op: str, bound: str) -> bool:
    """Gt and Lt compare as integers; a label that is not one matches neither."""
    try:
        number = int(actual)
    except ValueError:
        return False
    return number > int(bound) if op == "gt" else number < int(bound)


def parse_label_selector(text: str | None) -> LabelSelector:
    if not text:
        return LabelSelector()
    return LabelSelector(tuple(_requirement(part) for part in _split_top_level(text)))


_EXPRESSION_OPS = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!exists"}


def selector_from_object(selector: Obj | None) -> LabelSelector:
    """The ``{matchLabels, matchExpressions}`` form, as used in specs and Velero restores."""
    if not selector:
        return LabelSelector()
    found = [
        Requirement(key, "in", frozenset({str(value)}))
        for key, value in (selector.get("matchLabels") or {}).items()
    ]
    for expression in selector.get("matchExpressions") or []:
        op = _EXPRESSION_OPS.get(str(expression.get("operator")))
        if op is None:
            raise bad_request(f"unsupported selector operator: {expression.get('operator')!r}")
        values = frozenset(str(v) for v in expression.get("values") or [])
        found.append(Requirement(str(expression.get("key")), op, values))
    return LabelSelector(tuple(found))


def _expression_string(expression: Obj) -> str:
    key, op = expression.get("key"), expression.get("operator")
    values = ",".join(sorted(expression.get("values") or []))
    if op == "In":
        return f"{key} in ({values})"
    if op == "NotIn":
        return f"{key} notin ({values})"
    return str(key) if op == "Exists" else f"!{key}"


def selector_to_string(selector: Obj | None) -> str:
    """The query-string form of a spec selector, as ``metav1.LabelSelectorAsSelector`` prints
    it (requirements sorted by key) for the Scale subresource and ``kubectl get``'s columns."""
    parts = [(str(k), f"{k}={v}") for k, v in (dig(selector, "matchLabels") or {}).items()]
    parts += [(str(e.get("key")), _expression_string(e)) for e in _expressions(selector)]
    return ",".join(text for _, text in sorted(parts, key=lambda part: part[0]))


def _expressions(selector: Obj | None) -> list[Obj]:
    found = dig(selector, "matchExpressions")
    return [e for e in found if isinstance(e, dict)] if isinstance(found, list) else []


@dataclass(frozen=True)
class FieldTerm:
    path: tuple[str, ...]
    value: str
    negated: bool
    unset: str = ""

    def matches(self, obj: Obj) -> bool:
        found = dig(obj, *self.path)
        if found is None:
            actual = self.unset
        elif isinstance(found, bool):
            actual = "true" if found else "false"
        else:
            actual = str(found)
        return (actual == self.value) != self.negated


@dataclass(frozen=True)
class FieldSelector:
    terms: tuple[FieldTerm, ...] = ()

    def matches(self, obj: Obj) -> bool:
        return all(term.matches(obj) for term in self.terms)


def _field_term(text: str, plural: str) -> FieldTerm:
    op = next((op for op in ("!=", "==", "=") if op in text), None)
    if op is None:
        raise bad_request(f"invalid selector: '{text}'; can't understand '{text}'")
    field, _, value = text.partition(op)
    field = field.strip()
    if field not in _COMMON_FIELDS + _FIELDS_BY_PLURAL.get(plural, ()):
        raise ApiError(400, f'field label not supported: "{field}"')
    path, unset = _FIELD_PATHS.get(field, (tuple(field.split(".")), ""))
    return FieldTerm(path, value.strip(), negated=op == "!=", unset=unset)


def parse_field_selector(text: str | None, plural: str) -> FieldSelector:
    if not text:
        return FieldSelector()
    return FieldSelector(tuple(_field_term(part, plural) for part in _split_top_level(text)))
