"""RPO and RTO from the run's timestamps: pure arithmetic, no I/O."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from drill.durations import format_duration
from drill.report import Objective, Rpo, Rto
from drill.steps import RecoveryPoint


def worst_recovery_point(points: Sequence[RecoveryPoint]) -> RecoveryPoint | None:
    """With several sources, the service is only as recent as its oldest one."""
    return min(points, key=lambda p: p.at) if points else None


def rpo(t0: datetime, point: RecoveryPoint | None, target_s: float) -> Rpo:
    if point is None:
        return Rpo(
            target_s=target_s,
            measured_s=None,
            margin_s=None,
            met=None,
            source="no step set a recovery point",
        )
    measured_s = max((t0 - point.at).total_seconds(), 0.0)
    measured = _objective(target_s, measured_s, point.source)
    return Rpo(**measured.model_dump(), from_backup_s=measured.measured_s)


def rto(
    t0: datetime, recovered_at: datetime | None, unverified: str | None, target_s: float
) -> Rto:
    """``unverified`` names a verify step that did not pass; then recovery was not shown."""
    if recovered_at is None or unverified:
        why = unverified or "no verify step ran in this mode"
        return Rto(
            target_s=target_s,
            measured_s=None,
            margin_s=None,
            met=False if unverified else None,
            source=f"not measured: {why}",
        )
    measured_s = (recovered_at - t0).total_seconds()
    measured = _objective(target_s, measured_s, "t0 to the last verify step passing")
    return Rto(**measured.model_dump(), service_restored_s=measured.measured_s)


def _objective(target_s: float, measured_s: float, source: str) -> Objective:
    return Objective(
        target_s=target_s,
        measured_s=round(measured_s, 3),
        margin_s=round(target_s - measured_s, 3),
        met=measured_s <= target_s,
        source=source,
    )


def describe(objective: Objective) -> str:
    if objective.measured_s is None or objective.margin_s is None:
        return f"target {format_duration(objective.target_s)}, {objective.source}"
    verdict = "met" if objective.met else "MISSED"
    return (
        f"{format_duration(objective.measured_s)} of {format_duration(objective.target_s)} "
        f"({verdict}, margin {format_duration(objective.margin_s)})"
    )
