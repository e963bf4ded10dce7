"""`drill schema`: the JSON Schema of plan files, for editors (published as
schemas/plan.schema.json, which the shipped plans name in their first line)."""

from __future__ import annotations

from drill.commands._console import Console
from drill.errors import ExitCode
from drill.plan import plan_schema_text


def schema(console: Console) -> int:
    """Print the plan files' JSON Schema (draft-07), generated from the plan and step models."""
    console.out(plan_schema_text())
    return ExitCode.PASSED
