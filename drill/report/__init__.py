"""Run reports: the models (the JSON schema) and their renderers.

Must not: import anything from drill above the bottom layer, or do I/O beyond writing the
rendered text it is asked for.
"""

from drill.report._models import (
    SCHEMA_VERSION,
    Objective,
    Outcome,
    RunReport,
    StepReport,
    StepStatus,
    UndoReport,
)

__all__ = [
    "SCHEMA_VERSION",
    "Objective",
    "Outcome",
    "RunReport",
    "StepReport",
    "StepStatus",
    "UndoReport",
]

from drill.report._text import render_text


def render_json(report: RunReport) -> str:
    return report.model_dump_json(indent=2) + "\n"


__all__ += ["render_json", "render_text"]


def json_schema() -> str:
    """The JSON report's schema, as shipped in ``drill/report/schema.json``."""
    import json

    return json.dumps(RunReport.model_json_schema(), indent=2, sort_keys=True) + "\n"


__all__ += ["json_schema"]
