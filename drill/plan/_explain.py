"""What `drill explain TOPIC[.FIELD...]` tells, read from the schemas editors use.

A topic is a step type (its ``with:`` fields), ``step`` (the fields every step has) or
``plan`` (a plan file's top-level fields). Each field says its type, whether it is required,
its default, its unit, what it does and an example: the same titles, descriptions, defaults
and examples an editor shows on hover (drill/plan/_schema.py), so the two never disagree.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass

from pydantic import JsonValue
from pydantic.json_schema import JsonSchemaValue

from drill.durations import duration_text
from drill.errors import UsageError
from drill.fieldtypes import UNITS
from drill.plan._models import StepSpec
from drill.plan._schema import deref, plan_models_schema, step_type_schema
from drill.steps import STEP_TYPES, AnyStepType, StepType

PLAN_TOPIC = "plan"
STEP_TOPIC = "step"
_NO_EXAMPLE: JsonValue = None


@dataclass(frozen=True)
class FieldDoc:
    """One field: where it is, what it holds and does."""

    path: str  # as `drill explain` takes it: "dns.switch.verify.within", "plan.targets.rto"
    type: str  # "duration", "list of string", "one of: gcp, aws"
    required: bool
    description: str
    has_default: bool
    default: JsonValue
    unit: str | None  # how a duration or size is written
    example: JsonValue  # None when the schema has none
    fields: tuple[FieldDoc, ...]  # of an object, of a list's or a map's objects

    @property
    def name(self) -> str:
        return self.path.rsplit(".", 1)[-1]


@dataclass(frozen=True)
class TopicDoc:
    """A step type, ``step`` or ``plan``: what it is, facts about it, and its fields."""

    name: str
    summary: str
    facts: tuple[tuple[str, str], ...]  # (label, text)
    fields_are: str  # where the fields go in a plan
    fields: tuple[FieldDoc, ...]


def topics() -> list[str]:
    return [PLAN_TOPIC, STEP_TOPIC, *STEP_TYPES]


def explain(topic: str | None) -> TopicDoc | FieldDoc:
    """The topic, or the field a dotted path names in it (``velero.restore.namespace_mapping``).

    Raises UsageError naming what exists when the topic or a field is unknown.
    """
    name, path = _split(topic or PLAN_TOPIC)
    found: TopicDoc | FieldDoc = _topic(name)
    for part in path:
        found = _field_of(found, part)
    return found


def _split(topic: str) -> tuple[str, list[str]]:
    """The topic a dotted path starts with (step type names hold dots) and the field path."""
    for name in sorted(topics(), key=len, reverse=True):
        if topic == name:
            return name, []
        if topic.startswith(name + "."):
            return name, topic[len(name) + 1 :].split(".")
    close = difflib.get_close_matches(topic, topics(), n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise UsageError(
        f"no step type named {topic!r}{hint}; step types: {', '.join(STEP_TYPES)}; or "
        f"{PLAN_TOPIC} (a plan file's fields), {STEP_TOPIC} (the fields of every step)"
    )


def _field_of(parent: TopicDoc | FieldDoc, name: str) -> FieldDoc:
    where = parent.name if isinstance(parent, TopicDoc) else parent.path
    for field in parent.fields:
        if field.name == name:
            return field
    if not parent.fields:
        kind = parent.type if isinstance(parent, FieldDoc) else "topic"
        raise UsageError(f"{where} has no fields: it is a {kind}")
    names = [field.name for field in parent.fields]
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise UsageError(f"{where} has no field {name!r}{hint}; its fields: {', '.join(names)}")


def _topic(name: str) -> TopicDoc:
    if name == PLAN_TOPIC:
        root, definitions = plan_models_schema()
        plan = deref(root, definitions)
        summary = str(plan.get("description", ""))
        fields = _fields(plan, definitions, PLAN_TOPIC)
        return TopicDoc(PLAN_TOPIC, summary, (), "at the top of a plan file", fields)
    if name == STEP_TOPIC:
        _, definitions = plan_models_schema()
        step = definitions[StepSpec.__name__]
        summary = f"{step.get('description', '')} A phase lists steps and parallel groups."
        fields = _fields(step, definitions, STEP_TOPIC)
        return TopicDoc(STEP_TOPIC, summary, (), "in each step of a phase", fields)
    return _step_type_topic(STEP_TYPES[name])


def _step_type_topic(step_type: AnyStepType) -> TopicDoc:
    root, definitions = step_type_schema(step_type)
    fields = _fields(deref(root, definitions), definitions, step_type.name)
    return TopicDoc(
        step_type.name,
        step_type.summary[:1].upper() + step_type.summary[1:] + ".",
        _facts(step_type),
        "under with: (any value may be ${name}, a name declared under names:)",
        fields,
    )


def _facts(step_type: AnyStepType) -> tuple[tuple[str, str], ...]:
    changes = (
        "yes: it journals what it changes first; a drill undoes it when it ends (newest "
        "first), `drill rollback RUN` after a live run"
        if step_type.mutating
        else "no: it only reads"
    )
    context = (
        "required: a role under contexts, whose cluster it acts on"
        if step_type.needs_context
        else "not used"
    )
    timeout = duration_text(step_type.default_timeout_s)
    if type(step_type).default_timeout is not StepType.default_timeout:
        timeout += ", stretched to fit the waits its parameters ask for,"
    return (
        ("CHANGES", changes),
        ("CONTEXT", context),
        ("TIMEOUT", f"{timeout} unless the step sets timeout:"),
    )


# --- fields from a schema -----------------------------------------------------------------


def _fields(
    model: JsonSchemaValue,
    definitions: dict[str, JsonSchemaValue],
    prefix: str,
    seen: frozenset[str] = frozenset(),
) -> tuple[FieldDoc, ...]:
    required = set(model.get("required", ()))
    return tuple(
        _field(schema, definitions, f"{prefix}.{name}", name in required, seen)
        for name, schema in model.get("properties", {}).items()
    )


def _field(
    schema: JsonSchemaValue,
    definitions: dict[str, JsonSchemaValue],
    path: str,
    required: bool,
    seen: frozenset[str],
) -> FieldDoc:
    inner = _objects(schema, definitions)
    nested = {k: v for k, v in inner.items() if k not in seen}
    fields = tuple(
        field
        for key, model in nested.items()
        for field in _fields(model, definitions, path, seen | {key})
    )
    return FieldDoc(
        path=path,
        type=_label(schema, definitions),
        required=required,
        description=_description(schema, definitions),
        has_default="default" in schema,
        default=schema.get("default"),
        unit=next((UNITS[title] for title in _titles(schema) if title in UNITS), None),
        example=next(_examples(schema), _NO_EXAMPLE),
        fields=_unique(fields),
    )


def _unique(fields: tuple[FieldDoc, ...]) -> tuple[FieldDoc, ...]:
    """One field per name: a step's and a parallel group's `id` are explained once."""
    first: dict[str, FieldDoc] = {}
    for field in fields:
        first.setdefault(field.name, field)
    return tuple(first.values())


def _description(schema: JsonSchemaValue, definitions: dict[str, JsonSchemaValue]) -> str:
    if "description" in schema:
        return str(schema["description"])
    for member in _members(schema, definitions):
        if "description" in member:
            return str(member["description"])
    return ""


def _members(
    schema: JsonSchemaValue, definitions: dict[str, JsonSchemaValue]
) -> Iterator[JsonSchemaValue]:
    """The schemas a value may match, references followed, null left out."""
    resolved = deref(schema, definitions)
    alternatives = resolved.get("anyOf") or resolved.get("oneOf")
    if alternatives is None or "title" in resolved:  # a field type's label names it whole
        yield resolved
        return
    for member in alternatives:
        if member != {"type": "null"}:
            yield from _members(member, definitions)


def _objects(
    schema: JsonSchemaValue, definitions: dict[str, JsonSchemaValue]
) -> dict[str, JsonSchemaValue]:
    """The models a value holds (itself, a list's items, a map's values), by definition."""
    found: dict[str, JsonSchemaValue] = {}
    for member in _members(schema, definitions):
        if "properties" in member:
            found[_definition_key(member, definitions)] = member
        for key in ("items", "additionalProperties"):
            if isinstance(member.get(key), dict):
                found.update(_objects(member[key], definitions))
    return found


def _definition_key(model: JsonSchemaValue, definitions: dict[str, JsonSchemaValue]) -> str:
    return next((key for key, value in definitions.items() if value is model), str(id(model)))


def _titles(schema: JsonSchemaValue) -> Iterator[str]:
    if "title" in schema:
        yield str(schema["title"])
    for member in schema.get("anyOf", ()):
        yield from _titles(member)


def _examples(schema: JsonSchemaValue) -> Iterator[JsonValue]:
    """The field's own examples first, then its type's."""
    if schema.get("examples"):
        yield schema["examples"][0]
    for member in schema.get("anyOf", ()):
        yield from _examples(member)


def _label(schema: JsonSchemaValue, definitions: dict[str, JsonSchemaValue]) -> str:
    """What a value is, in words: "duration", "list of Kubernetes name", "one of: A, AAAA"."""
    labels = list(
        dict.fromkeys(_member_label(m, definitions) for m in _members(schema, definitions))
    )
    return " or ".join(labels)


def _member_label(schema: JsonSchemaValue, definitions: dict[str, JsonSchemaValue]) -> str:
    if "title" in schema:
        return str(schema["title"])
    if "properties" in schema:
        return "object"
    if "const" in schema:
        return f"{schema['const']} (the only value)"
    if "enum" in schema:
        return "one of: " + ", ".join(str(value) for value in schema["enum"])
    kind = schema.get("type")
    if kind == "array":
        return "list of " + _label(schema.get("items", {}), definitions)
    if kind == "object":
        return _map_label(schema, definitions)
    if isinstance(kind, list):
        return " or ".join(str(k) for k in kind)
    return str(kind) if kind else "any value"


def _map_label(schema: JsonSchemaValue, definitions: dict[str, JsonSchemaValue]) -> str:
    keys = schema.get("propertyNames", {}).get("title", "string")
    values = schema.get("additionalProperties", True)
    shown = _label(values, definitions) if isinstance(values, dict) else "any value"
    return f"map of {keys} to {shown}"


__all__ = ["PLAN_TOPIC", "STEP_TOPIC", "FieldDoc", "TopicDoc", "explain", "topics"]
