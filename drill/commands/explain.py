"""`drill explain [TOPIC[.FIELD...]]`: what a plan may hold, field by field, like `kubectl
explain`: a step type's parameters, a step's or the plan file's fields, each with its type,
default, unit, what it does and an example, wrapped at 80 columns."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator

import yaml
from pydantic import JsonValue

from drill.commands._console import Console
from drill.errors import ExitCode
from drill.plan import FieldDoc, TopicDoc, explain_topic

WIDTH = 80
_LABEL = 9  # the width of the labels of a topic's facts and a field's header
_BODY = "    "  # a field's text, under its name


def explain(topic: str | None, console: Console) -> int:
    """Print the topic (a step type, ``step`` or ``plan``; default ``plan``) or one field."""
    found = explain_topic(topic)
    lines = _topic(found) if isinstance(found, TopicDoc) else _field(found)
    console.out("\n".join(lines) + "\n")
    return ExitCode.PASSED


def _topic(topic: TopicDoc) -> Iterator[str]:
    kind = {"plan": "PLAN FILE", "step": "STEP"}.get(topic.name, "STEP TYPE")
    yield f"{kind} {topic.name}" if kind == "STEP TYPE" else kind
    yield from _wrap(topic.summary, _BODY)
    if topic.facts:
        yield ""
        for label, text in topic.facts:
            yield from _labelled(label, text)
    yield ""
    yield from _wrap(f"FIELDS {topic.fields_are}", "", "  ")
    for field in topic.fields:
        yield ""
        yield from _entry(field)
    yield ""
    yield f"One field: drill explain {topic.name}.FIELD"


def _field(field: FieldDoc) -> Iterator[str]:
    yield from _labelled("FIELD", field.path)
    yield from _labelled("TYPE", field.type)
    yield from _labelled("REQUIRED", "yes" if field.required else "no")
    if field.has_default:
        yield from _labelled("DEFAULT", _inline(field.default))
    if field.unit:
        yield from _labelled("UNIT", field.unit)
    if field.description:
        yield ""
        yield from _wrap(field.description, _BODY)
    if field.example is not None:
        yield ""
        yield from _example(field, "EXAMPLE".ljust(_LABEL), _BODY)
    if field.fields:
        yield ""
        yield "FIELDS"
        for inner in field.fields:
            yield ""
            yield from _entry(inner)


def _entry(field: FieldDoc) -> Iterator[str]:
    """A field in a list of fields: its name and type, then what it does and how to write it."""
    required = " -required-" if field.required else ""
    yield from _wrap(f"{field.name} <{field.type}>{required}", "", _BODY)
    yield from _wrap(field.description, _BODY)
    if field.has_default:
        yield from _wrap(f"Default: {_inline(field.default)}", _BODY, _BODY + "  ")
    if field.unit:
        yield from _wrap(f"Unit: {field.unit}", _BODY, _BODY + "  ")
    yield from _example(field, _BODY + "Example: ", _BODY + "  ")
    if field.fields:
        names = ", ".join(inner.name for inner in field.fields)
        more = f"Fields: {names} (drill explain {field.path})"
        yield from _wrap(more, _BODY, _BODY + "  ")


def _example(field: FieldDoc, first: str, rest: str) -> Iterator[str]:
    """``name: value`` as a plan writes it: on the label's line when it fits, else below."""
    example = field.example
    if example is None:
        return
    if _flat(example):
        lines = [f"{field.name}: {_inline(example)}"]
    else:
        block = {field.name: example}
        width = WIDTH - len(rest)
        text = yaml.safe_dump(block, default_flow_style=False, sort_keys=False, width=width)
        lines = text.rstrip("\n").splitlines()
    if len(lines) == 1 and len(first) + len(lines[0]) <= WIDTH:
        yield first + lines[0]
        return
    yield first.rstrip()
    yield from (rest + line for line in lines)


def _flat(value: JsonValue) -> bool:
    """A plain value, or a list or mapping of plain values: it reads well on one line."""
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
    return not any(isinstance(item, dict | list) for item in items)


def _inline(value: JsonValue) -> str:
    """A value as a plan writes it, on one line: 5m, [200], {}, velero."""
    if value is None:
        return "none"
    listed = yaml.safe_dump([value], default_flow_style=True, sort_keys=False, width=10**6)
    return listed.strip()[1:-1]


def _labelled(label: str, text: str) -> Iterator[str]:
    yield from _wrap(text, label.ljust(_LABEL), " " * _LABEL)


def _wrap(text: str, first: str, rest: str | None = None) -> list[str]:
    if not text:
        return []
    return textwrap.wrap(
        text,
        WIDTH,
        initial_indent=first,
        subsequent_indent=first if rest is None else rest,
        break_on_hyphens=False,
    )
