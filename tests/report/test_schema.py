"""The shipped JSON schema is the one the models produce; reports validate against it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest

from drill.report import Rpo, Rto, RunReport, StepReport, json_schema, render_json, render_text

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "drill" / "report" / "schema.json"


def sample_report(**changes: object) -> RunReport:
    t0 = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)
    values: dict[str, object] = {
        "run_id": "plan-1",
        "plan": "plan",
        "plan_file": "plans/plan.yaml",
        "service": "api",
        "tier": "high",
        "mode": "drill",
        "outcome": "passed",
        "exit_code": 0,
        "started_at": t0,
        "finished_at": t0,
        "disaster_at": t0,
        "disaster_at_source": "run start",
        "rpo": Rpo(target_s=3600, measured_s=600, margin_s=3000, met=True, source="backup b1"),
        "rto": Rto(target_s=900, measured_s=None, margin_s=None, met=None, source="n/a"),
        "contexts": {"dr": "kind-dr"},
        "steps": [
            StepReport(
                id="s1",
                type="http.check",
                phase="verify",
                description="d",
                status="passed",
                duration_s=1.5,
                attempts=1,
                facts={"status": 200},
            )
        ],
    }
    values.update(changes)
    return RunReport.model_validate(values)


def test_shipped_schema_matches_models() -> None:
    assert SCHEMA_FILE.read_text() == json_schema(), "run `make schema` and commit the result"


def test_report_validates_against_shipped_schema() -> None:
    document = json.loads(render_json(sample_report()))
    jsonschema.validate(document, json.loads(SCHEMA_FILE.read_text()))
    assert document["schema_version"] == 2


def test_schema_rejects_unknown_outcome() -> None:
    document = json.loads(render_json(sample_report()))
    document["outcome"] = "mostly fine"
    with pytest.raises(jsonschema.ValidationError, match="mostly fine"):
        jsonschema.validate(document, json.loads(SCHEMA_FILE.read_text()))


def test_text_report_leads_with_verdict_and_objectives() -> None:
    text = render_text(sample_report(outcome="target_missed", exit_code=1))
    lines = text.splitlines()
    assert lines[3] == "RESULT  TARGET MISSED (exit 1)"
    assert lines[5].split()[:4] == ["RPO", "10m00s", "target", "1h00m"]
    assert "margin" in lines[5]
    assert "met" in lines[5]
    assert "n/a" in lines[6]
