"""The plan JSON Schema editors check plans with: published as generated, accepting every plan
drill accepts, and refusing a broken one at the field drill names."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft7Validator

from drill.commands import Console
from drill.commands.schema import schema
from drill.durations import DURATION_PATTERN, duration_text, parse_duration
from drill.plan import plan_schema_text
from drill.plan._yaml import dotted
from drill.steps import STEP_TYPES
from tests.plan.helpers import REPO, SHIPPED_PLANS, load_text, problems_of

SCHEMA_FILE = REPO / "schemas" / "plan.schema.json"
MODELINE = "# yaml-language-server: $schema=../schemas/plan.schema.json"
EVERY_PLAN = sorted(
    [
        *SHIPPED_PLANS,
        *(REPO / "deploy" / "base" / "plans").glob("*.yaml"),
        *(REPO / "tests" / "plan" / "plans").glob("*.yaml"),
        *(REPO / "tests" / "drills" / "plans").glob("*.yaml"),
    ]
)


@pytest.fixture(scope="module")
def validator() -> Draft7Validator:
    return Draft7Validator(json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))


def schema_errors(validator: Draft7Validator, text: str) -> list[str]:
    """Each error as drill names a field: the path of the error jsonschema finds most
    relevant, and the property a missing or unexpected field error is about."""
    fields = []
    for error in validator.iter_errors(yaml.safe_load(text)):
        best = jsonschema.exceptions.best_match([error])
        assert best is not None
        fields.append(dotted((*best.absolute_path, *_named_property(best))))
    return sorted(fields)


def _named_property(error: jsonschema.ValidationError) -> tuple[str, ...]:
    if "propertyNames" in error.schema_path:
        return (str(error.instance),)  # a key of a map: drill names it
    if error.validator == "required":
        return (re.findall(r"'([^']+)' is a required property", error.message)[0],)
    if error.validator == "additionalProperties":
        return tuple(re.findall(r"'([^']+)' was unexpected", error.message))
    return ()


def drill_errors(tmp_path: Path, text: str) -> list[str]:
    return sorted({problem.field for problem in problems_of(tmp_path, text)})


# --- published as generated ------------------------------------------------------------------


def test_published_schema_is_what_drill_schema_prints() -> None:
    out = io.StringIO()
    assert schema(Console(out, io.StringIO(), io.StringIO())) == 0
    assert out.getvalue() == plan_schema_text()
    assert SCHEMA_FILE.read_text(encoding="utf-8") == out.getvalue(), (
        "run `make schema` and commit schemas/plan.schema.json"
    )


def test_the_schema_is_a_draft_7_schema_with_every_step_type() -> None:
    document = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    Draft7Validator.check_schema(document)
    assert document["$schema"] == "http://json-schema.org/draft-07/schema#"
    step = document["definitions"]["StepSpec"]
    assert step["properties"]["type"]["enum"] == list(STEP_TYPES)
    chosen = [branch["if"]["properties"]["type"]["const"] for branch in step["allOf"]]
    assert chosen == list(STEP_TYPES)


@pytest.mark.parametrize("path", EVERY_PLAN, ids=lambda p: str(p.relative_to(REPO)))
def test_every_plan_in_the_repository_validates(validator: Draft7Validator, path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert schema_errors(validator, text) == []


@pytest.mark.parametrize("path", SHIPPED_PLANS, ids=lambda p: p.stem)
def test_shipped_plans_name_the_schema_on_their_first_line(path: Path) -> None:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first == MODELINE
    named = (path.parent / first.split("$schema=")[1]).resolve()
    assert named == SCHEMA_FILE


# --- a broken plan fails where drill says -------------------------------------------------------

PLAN = """\
version: 1
name: demo
service: api
tier: high
contexts:
  dr: {kubecontext: dr-cluster}
names:
  ns: {drill: dr-test, live: production}
  replicas: 3
phases:
  verify:
"""

BROKEN = {
    "wrong type": """\
    - id: scale
      type: kube.scale
      context: dr
      with: {namespace: dr-test, name: api, replicas: many}
""",
    "unknown field in with": """\
    - id: scale
      type: kube.scale
      context: dr
      with: {namespace: dr-test, deployment: api, name: api, replicas: 2}
""",
    "missing required field": """\
    - id: scale
      type: kube.scale
      context: dr
      with: {namespace: dr-test, replicas: 2}
""",
    "bad duration": """\
    - id: check
      type: http.check
      with: {url: "http://127.0.0.1:1/", within: 10 minutes}
""",
    "duration without unit": """\
    - id: check
      type: http.check
      with: {url: "http://127.0.0.1:1/", within: 10}
""",
    "nested duration": """\
    - id: switch
      type: dns.switch
      with:
        provider: gcp
        project: p
        zone: z
        record: drill.example.com.
        rrdatas: [10.0.0.1]
        verify: {nameservers: [ns1.example.com.], within: soon}
""",
    "bad map key": """\
    - id: restore
      type: velero.restore
      context: dr
      with:
        schedule: daily
        include_namespaces: [production]
        namespace_mapping: {production: dr-test, Staging: dr-staging}
    - id: ready
      type: kube.wait_ready
      context: dr
      with: {namespace: dr-test}
""",
    "bad choice in a mode": """\
    - id: scale
      type: kube.scale
      context: dr
      live: {with: {kind: ReplicaSet}}
      with: {namespace: dr-test, name: api, replicas: 2}
""",
    "required field missing in one mode": """\
    - id: check
      type: http.check
      drill: {with: {url: "http://127.0.0.1:1/"}}
      with: {within: 1m}
""",
    "unknown step field": """\
    - id: check
      type: http.check
      retry: 3
      with: {url: "http://127.0.0.1:1/"}
""",
    "unknown step type": """\
    - id: check
      type: http.get
      with: {url: "http://127.0.0.1:1/"}
""",
    "step timeout without unit": """\
    - id: check
      type: http.check
      timeout: 30
      with: {url: "http://127.0.0.1:1/"}
""",
}


@pytest.mark.parametrize("case", BROKEN, ids=list(BROKEN))
def test_a_broken_plan_fails_the_schema_at_the_field_drill_reports(
    validator: Draft7Validator, tmp_path: Path, case: str
) -> None:
    text = PLAN + BROKEN[case]
    found = schema_errors(validator, text)
    assert found, "the schema accepted it"
    assert found == drill_errors(tmp_path, text)


# --- what drill accepts, the schema accepts ---------------------------------------------------

ACCEPTED = {
    "names anywhere under with": """\
    - id: scale
      type: kube.scale
      context: dr
      with: {kind: "${kind}", namespace: "${ns}", name: "api-${ns}", replicas: "${replicas}"}
    - id: ready
      type: kube.wait_ready
      context: dr
      with: {namespace: "${ns}", workloads: ["api-${ns}"], kinds: ["${kind}"]}
    - id: check
      type: http.check
      with:
        url: "http://${host}/"
        expect_status: "${status}"
        within: "${wait}"
        json_field: {path: status, equals: "${ns}"}
""",
    "a required field from each mode": """\
    - id: check
      type: http.check
      drill: {with: {url: "http://drill.example.com/"}}
      live: {with: {url: "http://live.example.com/"}}
      with: {within: 1m}
""",
    "a required field from one mode, the other skipped": """\
    - id: check
      type: http.check
      drill: {skip: the endpoint serves users}
      live: {with: {url: "http://live.example.com/"}}
""",
    "durations and sizes as written": """\
    - id: backup
      type: gcs.backup_fresh
      timeout: 1h30m
      with: {bucket: backups, max_age: 26h, min_size: 10MiB}
    - id: backup2
      type: s3.backup_fresh
      with: {bucket: backups, max_age: 500ms, min_size: 1024}
    - id: switch
      type: dns.switch
      live: {skip: drills rehearse it}
      with:
        provider: aws
        zone: example.com
        record: drill.example.com.
        rrdatas: [10.0.0.1]
        ttl: 60s
        verify: {nameservers: [ns1.example.com.], within: 2m}
    - id: switch2
      type: dns.switch
      live: {skip: drills rehearse it}
      with:
        provider: aws
        zone: example.com
        record: drill2.example.com.
        rrdatas: [10.0.0.1]
        ttl: 300
    - id: check
      type: http.check
      with: {url: "http://drill.example.com/", expect_status: 204}
""",
}
MORE_NAMES = "  kind: Deployment\n  host: drill.example.com\n  status: 200\n  wait: 1m\n"


@pytest.mark.parametrize("case", ACCEPTED, ids=list(ACCEPTED))
def test_what_drill_accepts_the_schema_accepts(
    validator: Draft7Validator, tmp_path: Path, case: str
) -> None:
    text = PLAN.replace("phases:\n", MORE_NAMES + "phases:\n") + ACCEPTED[case]
    load_text(tmp_path, text)  # drill accepts it
    assert schema_errors(validator, text) == []


def test_a_name_outside_with_is_refused_by_both(validator: Draft7Validator, tmp_path: Path) -> None:
    text = (
        PLAN
        + """\
    - id: check
      type: http.check
      retries: "${replicas}"
      with: {url: "http://127.0.0.1:1/"}
"""
    )
    assert schema_errors(validator, text) == drill_errors(tmp_path, text)
    assert schema_errors(validator, text) == ["phases.verify[0].retries"]


# --- field types ------------------------------------------------------------------------------


@given(st.text(alphabet="0123456789dhms \t", max_size=12))
def test_the_duration_pattern_is_what_parse_duration_accepts(text: str) -> None:
    """The same shapes; a duration of that shape longer than drill takes (over 36500d) is a
    bound on its value, which drill says and a pattern cannot."""
    try:
        parse_duration(text)
        parsed = True
    except ValueError as exc:
        parsed = "too long a duration" in str(exc)
    assert (re.search(DURATION_PATTERN, text) is not None) == parsed


@given(st.integers(min_value=0, max_value=10**10))
def test_durations_are_written_back_as_they_read(millis: int) -> None:
    text = duration_text(millis / 1000)
    assert parse_duration(text) == pytest.approx(millis / 1000)
    assert re.search(DURATION_PATTERN, text)


def _paths(schema_document: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    if isinstance(schema_document, dict):
        for key, value in schema_document.items():
            yield (*path, key)
            yield from _paths(value, (*path, key))


def test_what_draft_7_ignores_beside_a_reference_is_not_there() -> None:
    document = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    beside = [p for p in _paths(document) if p[-1] == "$ref" and len(_at(document, p[:-1])) > 1]
    assert beside == []


def _at(document: Any, path: tuple[str, ...]) -> Any:
    found = document
    for key in path:
        found = found[key]
    return found
