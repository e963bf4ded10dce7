"""Run reports: the models (the JSON schema) and their renderers.

Must not: import anything from drill above the bottom layer (the foundation and the shared
types), or do I/O beyond writing the rendered text it is asked for.
"""

from drill.report._models import (
    READABLE_SCHEMA_VERSIONS,
    SCHEMA_VERSION,
    VERDICTS,
    ClientCutover,
    Objective,
    Outcome,
    ProbeAttempt,
    ProbePhase,
    ProbeReport,
    RecoveryPointKind,
    RecoveryPointReport,
    ReportKind,
    RestoreCompleteness,
    RestoredKind,
    RollbackCheck,
    RollbackCheckStatus,
    RollbackReport,
    Rpo,
    Rto,
    RunReport,
    StepReport,
    StepStatus,
    UndoReport,
    UndoStatus,
)
from drill.tiers import TargetSource

__all__ = [
    "READABLE_SCHEMA_VERSIONS",
    "SCHEMA_VERSION",
    "VERDICTS",
    "ClientCutover",
    "Objective",
    "Outcome",
    "ProbeAttempt",
    "ProbePhase",
    "ProbeReport",
    "RecoveryPointKind",
    "RecoveryPointReport",
    "ReportKind",
    "RestoreCompleteness",
    "RestoredKind",
    "RollbackCheck",
    "RollbackCheckStatus",
    "RollbackReport",
    "Rpo",
    "Rto",
    "RunReport",
    "StepReport",
    "StepStatus",
    "TargetSource",
    "UndoReport",
    "UndoStatus",
]

from collections.abc import Callable, Mapping
from types import MappingProxyType

from drill.report._html import render_html
from drill.report._junit import render_junit
from drill.report._markdown import render_markdown
from drill.report._shared import rollback_sentence, rpo_figures, target_text, title
from drill.report._text import render_text


def render_json(report: RunReport) -> str:
    return report.model_dump_json(indent=2) + "\n"


# Every format a report can be written in, by the name flags use for it.
RENDERERS: Mapping[str, Callable[[RunReport], str]] = MappingProxyType(
    {
        "text": render_text,
        "json": render_json,
        "junit": render_junit,
        "markdown": render_markdown,
        "html": render_html,
    }
)

__all__ += ["RENDERERS", "render_html", "render_json", "render_junit", "render_markdown"]
__all__ += ["render_text", "rollback_sentence", "rpo_figures", "target_text", "title"]


def json_schema() -> str:
    """The JSON report's schema, as shipped in ``drill/report/schema.json``."""
    import json

    return json.dumps(RunReport.model_json_schema(), indent=2, sort_keys=True) + "\n"


__all__ += ["json_schema"]
