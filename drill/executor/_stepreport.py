"""Step reports as a run makes them and as its rebuild from the journal makes them again."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict

from drill.plan import PhaseName, ResolvedStep
from drill.report import RestoreCompleteness, RestoredKind, StepReport, StepStatus
from drill.steps import STEP_TYPES, AnyStepType, RestoreTally

FORWARD_PHASES: tuple[PhaseName, ...] = ("preflight", "restore", "failover", "verify")


def unstarted(step: ResolvedStep, status: StepStatus, reason: str | None) -> StepReport:
    """The report of a step that never ran: skipped by the plan, blocked, abandoned or (in a
    rebuilt report) never reached. A step the plan skips is skipped whether reached or not."""
    if step.skipped:
        status, reason = "skipped", step.skip_reason
    return StepReport(
        id=step.id,
        type=step.type.name,
        phase=step.phase,
        description=step.describe(),
        status=status,
        skip_reason=reason,
    )


def unverified(steps: list[StepReport]) -> str | None:
    """Why recovery was not shown: the first verify step that did not pass, if any."""
    for step in steps:
        if step.phase == "verify" and step.status not in ("passed", "skipped"):
            return f"verify step {step.id} {step.status.replace('_', ' ')}"
    return None


def completeness(step_id: str, tally: RestoreTally) -> RestoreCompleteness:
    """A restore step's tally, as the report gives it."""
    return RestoreCompleteness(
        step_id=step_id,
        backup=tally.backup,
        restore=tally.restore,
        complete=tally.complete,
        reason=tally.reason,
        kinds=[RestoredKind(**asdict(kind)) for kind in tally.kinds],
    )


_NOT_PASSED = {
    "failed": "failed",
    "timed_out": "timed out",
    "interrupted": "was interrupted",
    "not_run": "did not run",
}


def missing_recovery_point(
    steps: list[StepReport], step_types: Mapping[str, AnyStepType] = STEP_TYPES
) -> str | None:
    """Why RPO cannot be measured although other sources set recovery points: a step that
    sets one did not pass, so the oldest point of what the recovery used is unknown."""
    for step in steps:
        if step.phase not in FORWARD_PHASES or step.status not in _NOT_PASSED:
            continue
        step_type = step_types.get(step.type)
        kind = step_type.recovery_point_kind if step_type is not None else None
        if kind is not None:
            return (
                f"step {step.id} {_NOT_PASSED[step.status]}, so the recovery point ({kind}) "
                "of what it checks is unknown"
            )
    return None
