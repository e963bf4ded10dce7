"""The JSON report of real executor runs validates against the RunReport schema, version 1."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import jsonschema
import pytest

from drill.report import SCHEMA_VERSION, RunReport, render_json

from .fakes import START, Kit, build_plan


def passing(kit: Kit) -> RunReport:
    plan = build_plan(
        [
            ("restore", kit.step("r1", "fake.restore", at=START, source="velero backup b1")),
            ("failover", kit.step("m1", "fake.mutate")),
            ("verify", kit.step("v1", "fake.advance", seconds=3)),
            ("cleanup", kit.step("skip", "fake.advance", skip_reason="nothing to clean")),
        ]
    )
    return kit.executor(journal_path="reports/run-1.jsonl").run(plan)


def failing(kit: Kit) -> RunReport:
    plan = build_plan(
        [
            ("failover", kit.step("m1", "fake.mutate", fail_undo=True)),
            ("failover", kit.step("bad", "fake.fail", error="unexpected")),
            ("verify", kit.step("v1", "fake.advance")),
        ]
    )
    return kit.executor().run(plan, START - timedelta(minutes=5))


def live(kit: Kit) -> RunReport:
    plan = build_plan(
        [
            ("failover", kit.step("m1", "fake.mutate")),
            ("verify", kit.step("w1", "fake.wait", timeout_s=5)),
            ("rollback", kit.step("rb1", "fake.advance")),
        ],
        mode="live",
    )
    return kit.executor(mode="live", rollback_command="drill rollback run-1").run(plan)


SCENARIOS: list[Callable[[Kit], RunReport]] = [passing, failing, live]


def validate(document: Any) -> None:
    jsonschema.validate(document, RunReport.model_json_schema())


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda f: f.__name__)
def test_json_report_validates_against_the_schema(scenario: Callable[[Kit], RunReport]) -> None:
    report = scenario(Kit())
    document = json.loads(render_json(report))
    validate(document)
    assert document["schema_version"] == 2 == SCHEMA_VERSION
    assert RunReport.model_validate_json(render_json(report)) == report


def test_json_report_round_trips_the_numbers() -> None:
    document = json.loads(render_json(passing(Kit())))
    assert document["exit_code"] == 0
    assert document["rto"]["measured_s"] == 3.0
    assert document["rpo"]["source"] == "velero backup b1"
    assert document["journal"] == "reports/run-1.jsonl"
    assert [u["step_id"] for u in document["undo"]] == ["m1"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("schema_version", 3), ("outcome", "mostly_fine"), ("exit_code", "0"), ("extra", 1)],
)
def test_schema_rejects_a_report_that_breaks_the_contract(field: str, value: Any) -> None:
    document = json.loads(render_json(passing(Kit())))
    document[field] = value
    with pytest.raises(jsonschema.ValidationError):
        validate(document)
