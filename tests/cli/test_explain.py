"""`drill explain`: every field of every step type, a step and the plan, told from the same
schema editors use; unknown topics and fields name what exists."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
import yaml
from jsonschema import Draft7Validator

from drill.commands.explain import WIDTH, explain
from drill.durations import DURATION_LABEL, WHOLE_SECONDS_LABEL
from drill.plan import FieldDoc, TopicDoc, explain_topic
from drill.plan._explain import topics
from drill.plan._schema import step_type_schema
from drill.steps import STEP_TYPES
from tests.inprocess import InProcess, Result

# A field whose name says it is a time span must be written like every other duration.
TIME_SPAN = re.compile(
    r"(^|_)(timeout|age|within|interval|ttl|deadline|healthy|rpo|rto|duration|period|delay)($|_)"
)


def explained(commands: InProcess, topic: str | None) -> Result:
    return commands.call(lambda console: explain(topic, console))


def every_field(fields: tuple[FieldDoc, ...]) -> Iterator[FieldDoc]:
    for field in fields:
        yield field
        yield from every_field(field.fields)


def header(output: str) -> dict[str, str]:
    """The labelled lines of a field: FIELD, TYPE, REQUIRED, DEFAULT, UNIT, EXAMPLE."""
    found: dict[str, str] = {}
    for line in output.splitlines():
        label, _, text = line.partition(" ")
        if label.isupper() and text:
            found.setdefault(label, text.strip())
    return found


@pytest.mark.parametrize("topic", topics())
def test_every_topic_fits_80_columns_and_lists_its_fields(commands: InProcess, topic: str) -> None:
    result = explained(commands, topic)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= WIDTH
    found = explain_topic(topic)
    assert isinstance(found, TopicDoc)
    entries = [line.split(" <")[0] for line in lines if re.match(r"^[a-z_]+ <", line)]
    assert entries == [field.name for field in found.fields]
    for field in every_field(found.fields):
        one = explained(commands, field.path)
        assert one.returncode == 0, one.stderr
        assert header(one.stdout)["FIELD"] == field.path
        assert max(len(line) for line in one.stdout.splitlines()) <= WIDTH, field.path


@pytest.mark.parametrize("topic", topics())
def test_every_field_says_what_it_does_and_shows_an_example(topic: str) -> None:
    found = explain_topic(topic)
    assert isinstance(found, TopicDoc)
    for field in every_field(found.fields):
        assert field.description, f"{field.path} has no description"
        if field.path not in ("step.with", "plan.phases") and not field.path.startswith(
            "plan.phases."
        ):
            assert field.example is not None, f"{field.path} has no example"


@pytest.mark.parametrize("name", list(STEP_TYPES))
def test_every_example_is_a_valid_value_of_its_field(name: str) -> None:
    root, definitions = step_type_schema(STEP_TYPES[name])
    params = definitions[root["$ref"].rsplit("/", 1)[1]]
    for field_name, field_schema in params["properties"].items():
        example = field_schema["examples"][0]
        check = Draft7Validator({**field_schema, "definitions": definitions})
        assert check.is_valid(example), f"{name}.{field_name}: {example!r}"
        # and drill takes it: the params model validates the field alone
        errors = _model_errors_of(name, field_name, example)
        assert errors == [], f"{name}.{field_name}: {example!r}: {errors}"


def _model_errors_of(name: str, field_name: str, example: object) -> list[object]:
    from pydantic import ValidationError

    try:
        STEP_TYPES[name].params_model.model_validate({field_name: example})
    except ValidationError as exc:
        return [e["loc"] for e in exc.errors() if e["loc"][:1] == (field_name,)]
    return []


@pytest.mark.parametrize("topic", topics())
def test_a_time_span_is_a_duration(topic: str) -> None:
    found = explain_topic(topic)
    assert isinstance(found, TopicDoc)
    for field in every_field(found.fields):
        if TIME_SPAN.search(field.name):
            assert field.type in (DURATION_LABEL, WHOLE_SECONDS_LABEL), field.path
            assert field.unit, field.path


def test_a_step_type_says_what_it_changes_needs_and_takes(commands: InProcess) -> None:
    out = explained(commands, "velero.restore").stdout
    assert out.splitlines()[0] == "STEP TYPE velero.restore"
    assert re.search(r"^CHANGES +yes", out, re.M)
    assert re.search(r"^CONTEXT +required", out, re.M)
    assert re.search(r"^TIMEOUT +30m ", out, re.M)
    assert "namespace_mapping <map of Kubernetes name to Kubernetes name>\n" in out
    assert "item_operation_timeout <duration>\n" in out
    reading = explained(commands, "http.check").stdout
    assert re.search(r"^CHANGES +no", reading, re.M)
    assert "url <string> -required-\n" in reading
    assert "expect_status <integer or list of integer>\n" in reading


def test_one_field_shows_type_default_unit_and_a_plan_line(commands: InProcess) -> None:
    result = explained(commands, "velero.restore.namespace_mapping")
    assert result.returncode == 0
    shown = header(result.stdout)
    assert shown["FIELD"] == "velero.restore.namespace_mapping"
    assert shown["TYPE"] == "map of Kubernetes name to Kubernetes name"
    assert shown["REQUIRED"] == "no"
    assert shown["DEFAULT"] == "{}"
    example = yaml.safe_load(shown["EXAMPLE"])
    assert list(example) == ["namespace_mapping"]
    within = header(explained(commands, "http.check.within").stdout)
    assert within["DEFAULT"] == "0s"
    assert within["UNIT"].startswith("a whole number and a unit")
    ttl = header(explained(commands, "dns.switch.ttl").stdout)
    assert ttl["TYPE"] == WHOLE_SECONDS_LABEL
    assert "bare number of seconds" in ttl["UNIT"]


def test_nested_fields(commands: InProcess) -> None:
    shown = header(explained(commands, "dns.switch.verify.nameservers").stdout)
    assert shown["FIELD"] == "dns.switch.verify.nameservers"
    assert shown["TYPE"] == "list of string"
    assert shown["REQUIRED"] == "yes"
    verify = explained(commands, "dns.switch.verify").stdout
    assert "FIELDS" in verify.splitlines()
    assert "nameservers <list of string> -required-" in verify
    listed = header(explained(commands, "backend.switch.backends.port").stdout)
    assert listed["TYPE"] == "integer"
    assert header(explained(commands, "plan.targets.rto").stdout)["TYPE"] == DURATION_LABEL
    assert "parallel" in header(explained(commands, "plan.phases.verify.parallel").stdout)["FIELD"]


def test_the_plan_is_the_default_topic(commands: InProcess) -> None:
    plain = explained(commands, None)
    assert plain == explained(commands, "plan")
    entries = [line.split(" <")[0] for line in plain.stdout.splitlines() if " <" in line]
    assert entries[:5] == ["version", "name", "description", "service", "tier"]
    assert "phases" in entries
    assert "phases <object> -required-" in plain.stdout
    step = explained(commands, "step").stdout
    assert "type <string> -required-" in step
    assert "drill <object>" in step


def test_an_unknown_type_lists_the_types(commands: InProcess) -> None:
    result = explained(commands, "velero.restor")
    assert result.returncode == 2
    assert "no step type named 'velero.restor'" in result.stderr
    assert "did you mean 'velero.restore'" in result.stderr
    assert all(name in result.stderr for name in STEP_TYPES)
    assert result.stdout == ""


def test_an_unknown_field_lists_the_fields(commands: InProcess) -> None:
    result = explained(commands, "velero.restore.namespace_maping")
    assert result.returncode == 2
    assert "velero.restore has no field 'namespace_maping'" in result.stderr
    assert "did you mean 'namespace_mapping'" in result.stderr
    fields = STEP_TYPES["velero.restore"].params_model.model_fields
    assert all(name in result.stderr for name in fields)
    deeper = explained(commands, "dns.switch.verify.nameservers.first")
    assert deeper.returncode == 2
    assert "has no fields: it is a list of string" in deeper.stderr


def test_explain_agrees_with_the_published_schema() -> None:
    from drill.plan import plan_schema

    document = plan_schema()
    step = explain_topic("step")
    assert isinstance(step, TopicDoc)
    properties = document["definitions"]["StepSpec"]["properties"]
    assert [field.name for field in step.fields] == list(properties)
    for field in step.fields:
        assert field.description == properties[field.name]["description"]
    dumped = json.dumps(document)
    for name in STEP_TYPES:
        found = explain_topic(name)
        assert isinstance(found, TopicDoc)
        for field in found.fields:
            assert json.dumps(field.description)[1:-1] in dumped, field.path
