"""The plan file's JSON Schema, generated from the models: what an editor completes and checks.

`drill schema` prints it; `schemas/plan.schema.json` is its published copy, which the shipped
plans name in a `yaml-language-server` modeline. It is draft-07: the newest draft that
yaml-language-server (VS Code's YAML extension, Neovim's yamlls) implements, and all this
schema needs (``if``/``then``/``else``, ``const``, ``propertyNames``).

The plan models give the shape. What the models cannot say, the plan grammar adds here, for
every registered step type alike:

- a step's ``with:`` and its ``drill:``/``live:`` overrides hold its type's params, chosen by
  ``type`` (``if``/``then``);
- any value under ``with:`` may be a string holding ``${name}``, filled in per mode before the
  params are validated;
- a field a type requires may come from ``with:``, or from both modes' overrides;
- a phase entry with ``parallel`` is a parallel group, anything else a step.

Editors show ``title`` and ``description`` on hover: field types carry a label as their title
(``duration``, ``size``...), fields their description. ``drill explain`` reads the same schemas
(``step_type_schema``, ``plan_models_schema``) before the additions above.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue, models_json_schema

from drill.durations import DURATION_LABEL, duration_text
from drill.plan._models import NAME_REF, ParallelGroup, Plan, ProbeOverride, ProbeSpec, StepSpec
from drill.plan._probes import ProbeSettings
from drill.steps import STEP_TYPES, AnyStepType

DRAFT_07 = "http://json-schema.org/draft-07/schema#"
_DEFINITIONS = "#/definitions/"
NAME_REF_KEY = "NameRef"
_PROBE = "probe."  # the prefix of the definitions a probe's settings bring
# A string holding ${name}: a name declared under names:, filled in per mode before a step's
# params are checked. No description: editors would show it on every field that takes one.
_NAME_REF_SCHEMA: JsonSchemaValue = {"type": "string", "pattern": NAME_REF.pattern}
# Keywords that describe a value rather than constrain it: they stay beside an anyOf.
_ANNOTATIONS = ("title", "description", "default", "examples")
# pydantic writes a constraint it cannot place on a custom type under its own name.
_CONSTRAINTS = {
    "ge": "minimum",
    "le": "maximum",
    "gt": "exclusiveMinimum",
    "lt": "exclusiveMaximum",
}


class _Generator(GenerateJsonSchema):
    """pydantic's generator, told what a plan's author reads: no titles made of field or
    class names, defaults that factories make, maps whose keys have their own type."""

    def sort(self, value: JsonSchemaValue, parent_key: str | None = None) -> JsonSchemaValue:
        return value  # as generated: examples keep the order a plan writes their keys in

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False  # the field's name already says it

    def model_schema(self, schema: Any) -> JsonSchemaValue:
        json_schema = super().model_schema(schema)
        if schema["cls"].model_config.get("title") is None:
            json_schema.pop("title", None)  # a class name means nothing in a plan
        return json_schema

    def get_default_value(self, schema: Any) -> Any:
        factory = schema.get("default_factory")
        if factory is not None and not schema.get("default_factory_takes_data"):
            return factory()
        return super().get_default_value(schema)

    def dict_schema(self, schema: Any) -> JsonSchemaValue:
        # Keys keep their whole type (a Kubernetes name) under propertyNames, and every other
        # key is refused: pydantic's patternProperties would let a misspelt key through.
        values = self.generate_inner(schema["values_schema"]) if "values_schema" in schema else {}
        keys = self.generate_inner(schema["keys_schema"]) if "keys_schema" in schema else {}
        json_schema: JsonSchemaValue = {"type": "object", "additionalProperties": values or True}
        names = {k: v for k, v in keys.items() if k != "type"}
        if names:
            json_schema["propertyNames"] = names
        self.update_with_validations(json_schema, schema, self.ValidationsMapping.object)
        return json_schema


def _generate(
    models: list[type[BaseModel]], prefix: str = ""
) -> tuple[list[JsonSchemaValue], dict[str, JsonSchemaValue]]:
    """Each model's root (a reference) and every definition, keys prefixed with ``prefix``:
    the caller's own copy, to amend."""
    roots, definitions = _generated(tuple(models), prefix)
    return copy.deepcopy(roots), copy.deepcopy(definitions)


@functools.cache  # pydantic takes tens of ms per schema; `drill explain` asks many times
def _generated(
    models: tuple[type[BaseModel], ...], prefix: str
) -> tuple[list[JsonSchemaValue], dict[str, JsonSchemaValue]]:
    roots, top = models_json_schema(
        [(model, "validation") for model in models],
        ref_template=_DEFINITIONS + prefix + "{model}",
        schema_generator=_Generator,
    )
    definitions = {prefix + key: value for key, value in top.get("$defs", {}).items()}
    # Any JSON value (`with:` before its type is known): said by saying nothing.
    empty = [key for key, value in definitions.items() if value == {}]
    anything = [_ref(key) for key in empty]
    for key in empty:
        del definitions[key]
    for schema in definitions.values():
        _tidy(schema, anything)
    return [roots[(model, "validation")] for model in models], definitions


def _tidy(schema: JsonSchemaValue, anything: list[JsonSchemaValue]) -> None:
    """Constraints under their JSON Schema names, no "any value" spelt out, durations' defaults
    as written."""
    for each in _schemas_in(schema):
        for pydantic_name, name in _CONSTRAINTS.items():
            if pydantic_name in each:
                each[name] = each.pop(pydantic_name)
        for key in ("items", "additionalProperties"):
            if each.get(key) in anything:
                del each[key]
        _durations_as_written(each)


def _durations_as_written(schema: JsonSchemaValue) -> None:
    """A duration's default as a plan writes it ("5s"), not as seconds."""
    default = schema.get("default")
    if isinstance(default, bool) or not isinstance(default, int | float):
        return
    if DURATION_LABEL in _titles(schema):
        schema["default"] = duration_text(default)


def _titles(schema: JsonSchemaValue) -> set[str]:
    found = {schema["title"]} if "title" in schema else set()
    for member in schema.get("anyOf", ()):
        found |= _titles(member)
    return found


def _schemas_in(schema: Any) -> Iterator[JsonSchemaValue]:
    """``schema`` and every schema inside it (not those behind a reference)."""
    if not isinstance(schema, dict):
        return
    yield schema
    for key in ("items", "additionalProperties", "propertyNames", "if", "then", "else", "not"):
        yield from _schemas_in(schema.get(key))
    for key in ("anyOf", "oneOf", "allOf"):
        for member in schema.get(key, ()):
            yield from _schemas_in(member)
    for member in schema.get("properties", {}).values():
        yield from _schemas_in(member)


def step_type_schema(step_type: AnyStepType) -> tuple[JsonSchemaValue, dict[str, JsonSchemaValue]]:
    """The schema of one step type's ``with:`` (a reference) and its definitions, keyed
    ``TYPE.Model`` so the definitions of all types live side by side."""
    (root,), definitions = _generate([step_type.params_model], prefix=f"{step_type.name}.")
    params = definitions[_key(root)]
    params["title"] = f"{step_type.name} parameters"
    params.setdefault("description", step_type.summary)
    return root, definitions


def plan_models_schema() -> tuple[JsonSchemaValue, dict[str, JsonSchemaValue]]:
    """The schema of the plan models (a reference) and their definitions, a probe's settings
    spelt out beside its name and in each mode's override (the models keep them open, to
    check them after ``${name}`` substitution)."""
    (root,), definitions = _generate([Plan])
    (settings_root,), settings_definitions = _generate([ProbeSettings], prefix=_PROBE)
    settings = settings_definitions.pop(_key(settings_root))
    definitions.update(settings_definitions)
    for model in (ProbeSpec, ProbeOverride):
        # url stays optional here: a probe may take it from both modes' overrides.
        probe = definitions[model.__name__]
        probe["properties"] = {**probe["properties"], **copy.deepcopy(settings["properties"])}
        probe["additionalProperties"] = False
    return root, definitions


def deref(schema: JsonSchemaValue, definitions: dict[str, JsonSchemaValue]) -> JsonSchemaValue:
    """The schema a reference (possibly wrapped in a one-member allOf) points at."""
    while True:
        if "$ref" in schema:
            schema = definitions[_key(schema)]
        elif len(schema.get("allOf", ())) == 1 and "$ref" in schema["allOf"][0]:
            schema = definitions[_key(schema["allOf"][0])]
        else:
            return schema


def _key(reference: JsonSchemaValue) -> str:
    return str(reference["$ref"]).removeprefix(_DEFINITIONS)


def _ref(key: str) -> JsonSchemaValue:
    return {"$ref": _DEFINITIONS + key}


# --- the whole document -------------------------------------------------------------------


def plan_schema() -> JsonSchemaValue:
    """The JSON Schema of a plan file, every registered step type's params included."""
    root, definitions = plan_models_schema()
    document: JsonSchemaValue = {
        "$schema": DRAFT_07,
        "title": "drill plan",
        **definitions.pop(_key(root)),
    }
    definitions[NAME_REF_KEY] = dict(_NAME_REF_SCHEMA)
    step = definitions[StepSpec.__name__]
    step["properties"]["type"] = _type_choice(step["properties"]["type"])
    step["allOf"] = [_params_of(step_type, definitions) for step_type in STEP_TYPES.values()]
    for model in (ProbeSpec, ProbeOverride):
        for name, field in definitions[model.__name__]["properties"].items():
            if name not in ("name", "drill", "live", "skip"):
                _value_accepts_name_refs(field)
    for schema in [document, *definitions.values()]:
        for each in _schemas_in(schema):
            _entries_by_shape(each)
    document["definitions"] = definitions
    for schema in _schemas_in_document(document):
        _lone_references(schema)
    return document


def schema_text() -> str:
    """``plan_schema`` as published: stable, indented JSON ending in a newline."""
    return json.dumps(plan_schema(), indent=2) + "\n"


def _type_choice(field: JsonSchemaValue) -> JsonSchemaValue:
    """``type:`` is one of the registered step types; editors offer each with its summary."""
    names = list(STEP_TYPES)
    return {
        **{k: v for k, v in field.items() if k in _ANNOTATIONS},
        "enum": names,
        # VS Code and yaml-language-server show these beside each choice.
        "enumDescriptions": [STEP_TYPES[name].summary for name in names],
    }


def _params_of(step_type: AnyStepType, definitions: dict[str, JsonSchemaValue]) -> JsonSchemaValue:
    """if ``type`` is this type: ``with:`` and both modes' ``with:`` are its params."""
    root, own = step_type_schema(step_type)
    params = own[_key(root)]
    required = params.pop("required", [])  # checked below, where modes may supply them
    for schema in own.values():
        _accept_name_refs(schema)
    definitions.update(own)
    modes = {mode: {"properties": {"with": dict(root)}} for mode in ("drill", "live")}
    then: JsonSchemaValue = {"properties": {"with": dict(root), **modes}}
    if required:
        then["allOf"] = [_given(field) for field in required]
    return {
        "if": {"properties": {"type": {"const": step_type.name}}, "required": ["type"]},
        "then": then,
    }


def _given(field: str) -> JsonSchemaValue:
    """A required param is in ``with:``, unless each mode skips the step or gives it."""
    in_with: JsonSchemaValue = {"required": ["with"], "properties": {"with": {"required": [field]}}}
    skipped = {"required": ["skip"], "properties": {"skip": {"type": "string"}}}
    mode_gives = {"type": "object", "anyOf": [skipped, in_with]}
    return {
        "if": {
            "required": ["drill", "live"],
            "properties": {"drill": mode_gives, "live": mode_gives},
        },
        "else": in_with,
    }


def _accept_name_refs(model: JsonSchemaValue) -> None:
    """Every plain value in a params model may be a string holding ``${name}``.

    A name's value is a plain value, so ``${name}`` never stands for a list or a mapping:
    where one is expected, it stays refused, as drill refuses it.
    """
    for field in model.get("properties", {}).values():
        _value_accepts_name_refs(field)


def _value_accepts_name_refs(value: JsonSchemaValue) -> None:
    for key in ("items", "additionalProperties"):
        if isinstance(value.get(key), dict):
            _value_accepts_name_refs(value[key])
    for member in value.get("anyOf", ()):
        for key in ("items", "additionalProperties"):
            if isinstance(member.get(key), dict):
                _value_accepts_name_refs(member[key])
    if "properties" in value:
        _accept_name_refs(value)
    if not _plain(value) or _takes_any_string(value):
        return
    if "anyOf" in value:
        value["anyOf"].append(_ref(NAME_REF_KEY))
        return
    constraints = {k: value.pop(k) for k in list(value) if k not in _ANNOTATIONS}
    value["anyOf"] = [constraints, _ref(NAME_REF_KEY)]


def _plain(value: JsonSchemaValue) -> bool:
    """Whether ``value`` admits a plain value other than null (a string, number, boolean)."""
    if "anyOf" in value:
        return any(_plain(member) for member in value["anyOf"])
    if "enum" in value or "const" in value:
        return True
    kinds = value.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    return any(kind in ("string", "integer", "number", "boolean") for kind in kinds)


def _takes_any_string(value: JsonSchemaValue) -> bool:
    """Whether ``value`` already accepts every string that holds ``${name}``."""
    if not value:
        return True
    if any(key in value for key in ("$ref", "enum", "const", "pattern")):
        return False
    if "anyOf" in value:
        return any(_takes_any_string(member) for member in value["anyOf"])
    kinds = value.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    return "string" in kinds and value.get("minLength", 0) <= len("${x}")


def _entries_by_shape(schema: JsonSchemaValue) -> None:
    """A phase entry is a parallel group when it has ``parallel``, else a step, as the plan
    models decide; said with if/then/else so a bad step is reported as a step."""
    group, step = _ref(ParallelGroup.__name__), _ref(StepSpec.__name__)
    if schema.get("oneOf") not in ([step, group], [group, step]):
        return
    del schema["oneOf"]
    schema.update({"if": {"type": "object", "required": ["parallel"]}, "then": group, "else": step})


def _schemas_in_document(document: JsonSchemaValue) -> Iterator[JsonSchemaValue]:
    yield from _schemas_in(document)
    for definition in document["definitions"].values():
        yield from _schemas_in(definition)


def _lone_references(schema: JsonSchemaValue) -> None:
    """Draft-07 ignores what sits beside ``$ref``: keep a description where it is read."""
    if "$ref" in schema and len(schema) > 1:
        schema["allOf"] = [{"$ref": schema.pop("$ref")}]


__all__ = [
    "DRAFT_07",
    "deref",
    "plan_models_schema",
    "plan_schema",
    "schema_text",
    "step_type_schema",
]
