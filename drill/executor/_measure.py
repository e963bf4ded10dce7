"""RPO and RTO from the run's timestamps: pure arithmetic, no I/O.

RPO is t0 minus the recovery point, never clamped. Each source a run used says its recovery
point: read inside the recovered data (a heartbeat), or from backup metadata (a backup's start).
With several of a kind, the oldest counts: the service is only as recent as its oldest part.
Pass/fail uses the figure from data when a probe read one, else the one from backup metadata.

Not measured, with the reason: when a source's step failed or never ran (its point is unknown,
so the oldest is too), and when no step set one. A recovery point later than t0 is an error, not
"RPO 0": then RPO is not measured and counts as missed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from drill.durations import format_duration, format_moment
from drill.report import Objective, RecoveryPointReport, Rpo, Rto
from drill.steps import RecoveryPoint

NO_POINT = "no step set a recovery point"


def point_report(step_id: str, point: RecoveryPoint) -> RecoveryPointReport:
    return RecoveryPointReport(step_id=step_id, at=point.at, kind=point.kind, source=point.source)


def oldest(points: Sequence[RecoveryPointReport], kind: str) -> RecoveryPointReport | None:
    """The oldest recovery point of ``kind``: the service is only as recent as that."""
    found = [p for p in points if p.kind == kind]
    return min(found, key=lambda p: p.at) if found else None


def measured_point(points: Sequence[RecoveryPointReport]) -> RecoveryPointReport | None:
    """The point RPO is measured from: the oldest read inside the data, else from metadata."""
    return oldest(points, "data") or oldest(points, "backup metadata")


def rpo(
    t0: datetime,
    points: Sequence[RecoveryPointReport],
    missing_source: str | None,
    target_s: float,
) -> Rpo:
    """``missing_source`` says which source's point is unknown (its step failed or never ran)."""
    listed = sorted(points, key=lambda p: p.at)
    later = [p for p in listed if p.at > t0]
    if later:
        return _not_measured(target_s, listed, _after_t0(later[-1], t0), met=False)
    if missing_source is not None:
        return _not_measured(target_s, listed, f"not measured: {missing_source}", met=None)
    point = measured_point(listed)
    if point is None:
        return _not_measured(target_s, listed, NO_POINT, met=None)
    measured = _objective(target_s, _before(t0, point), point.source)
    return Rpo(
        **measured.model_dump(),
        from_data_s=_age(t0, oldest(listed, "data")),
        from_backup_s=_age(t0, oldest(listed, "backup metadata")),
        points=listed,
    )


def _after_t0(point: RecoveryPointReport, t0: datetime) -> str:
    return (
        f"not measured: step {point.step_id} says the recovered data is from "
        f"{format_moment(point.at)} ({point.source}), later than t0 {format_moment(t0)}: "
        "a recovery cannot bring back data from after the disaster"
    )


def _not_measured(
    target_s: float, points: list[RecoveryPointReport], source: str, met: bool | None
) -> Rpo:
    return Rpo(
        target_s=target_s, measured_s=None, margin_s=None, met=met, source=source, points=points
    )


def _before(t0: datetime, point: RecoveryPointReport) -> float:
    return (t0 - point.at).total_seconds()


def _age(t0: datetime, point: RecoveryPointReport | None) -> float | None:
    return None if point is None else round(_before(t0, point), 3)


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
