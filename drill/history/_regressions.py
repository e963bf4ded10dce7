"""Regressions of the newest run against the runs before it (definitions: the package doc)."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from itertools import pairwise
from typing import Literal

from pydantic import BaseModel, ConfigDict

from drill.durations import format_duration
from drill.history._thresholds import (
    DEFAULT_FACTOR,
    DEFAULT_WINDOW,
    LOW_MARGIN_FRACTION,
    MIN_SAMPLES,
    MIN_SLOWDOWN_S,
    SHRINK_RUNS,
)
from drill.history._trend import RAN
from drill.report import Objective, RunReport

RegressionKind = Literal["slow_step", "shrinking_margin", "low_margin"]


class Regression(BaseModel):
    """What regressed in the newest run, by how much, and against what.

    ``value_s`` is the step's duration (slow_step) or the newest margin (the others);
    ``baseline_s`` is the median it is compared with, the margin before the shrinking began,
    or the target. ``samples_s`` are the earlier durations the median came from, or the
    shrinking margins, oldest first; ``compared_with`` their run ids. ``limit`` is the
    threshold crossed: the factor, the number of runs, or the fraction of the target.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: RegressionKind
    subject: str  # a step id, or "RTO" / "RPO"
    run_id: str  # the newest run, where it shows
    value_s: float
    baseline_s: float
    ratio: float | None  # value_s / baseline_s where that means something
    limit: float
    samples_s: tuple[float, ...] = ()
    compared_with: tuple[str, ...] = ()
    detail: str


def find_regressions(
    reports: Sequence[RunReport],
    factor: float = DEFAULT_FACTOR,
    window: int = DEFAULT_WINDOW,
) -> list[Regression]:
    """Regressions of the newest of ``reports`` (in any order): slow steps, then RTO, then
    RPO margins. None for an empty history."""
    ordered = sorted(reports, key=lambda r: (r.started_at, r.run_id))
    if not ordered:
        return []
    found = slow_steps(ordered, factor, window)
    for label in ("RTO", "RPO"):
        found += margin_regressions(ordered, label)
    return found


def slow_steps(ordered: Sequence[RunReport], factor: float, window: int) -> list[Regression]:
    newest, earlier = ordered[-1], ordered[:-1]
    found = []
    for step in newest.steps:
        if step.status not in RAN or step.duration_s is None:
            continue
        baseline = passed_durations(step.id, earlier, window)
        regression = _slow_step(newest.run_id, step.id, step.duration_s, baseline, factor)
        if regression is not None:
            found.append(regression)
    return found


def passed_durations(
    step_id: str, earlier: Sequence[RunReport], window: int
) -> list[tuple[str, float]]:
    """(run id, duration) of ``step_id`` in the latest ``window`` earlier runs where it
    passed, oldest first. Runs where it failed, was skipped or is absent are passed over."""
    found: list[tuple[str, float]] = []
    for report in reversed(earlier):
        if len(found) >= window:
            break
        step = next((s for s in report.steps if s.id == step_id), None)
        if step is not None and step.status == "passed" and step.duration_s is not None:
            found.append((report.run_id, step.duration_s))
    return found[::-1]


def _slow_step(
    run_id: str, step_id: str, took_s: float, baseline: list[tuple[str, float]], factor: float
) -> Regression | None:
    if len(baseline) < MIN_SAMPLES:
        return None
    median_s = statistics.median(d for _, d in baseline)
    if took_s <= factor * median_s or took_s - median_s < MIN_SLOWDOWN_S:
        return None
    ratio = took_s / median_s if median_s > 0 else None
    times = f"{ratio:.1f}x" if ratio is not None else "against"
    return Regression(
        kind="slow_step",
        subject=step_id,
        run_id=run_id,
        value_s=took_s,
        baseline_s=median_s,
        ratio=ratio,
        limit=factor,
        samples_s=tuple(d for _, d in baseline),
        compared_with=tuple(r for r, _ in baseline),
        detail=f"step {step_id} took {format_duration(took_s)}, {times} its median "
        f"{format_duration(median_s)} over the previous {len(baseline)} runs where it passed "
        f"(flagged above {factor:g}x)",
    )


def margin_regressions(ordered: Sequence[RunReport], label: str) -> list[Regression]:
    found = [_shrinking(ordered, label), _low_margin(ordered[-1], label)]
    return [regression for regression in found if regression is not None]


def _objective(report: RunReport, label: str) -> Objective:
    return report.rto if label == "RTO" else report.rpo


def _shrinking(ordered: Sequence[RunReport], label: str) -> Regression | None:
    series = ordered[-(SHRINK_RUNS + 1) :]
    margins = [_objective(r, label).margin_s for r in series]
    if len(series) <= SHRINK_RUNS or any(m is None for m in margins):
        return None
    known = [m for m in margins if m is not None]
    if not all(later < before for before, later in pairwise(known)):
        return None
    path = " -> ".join(format_duration(m) for m in known)
    return Regression(
        kind="shrinking_margin",
        subject=label,
        run_id=series[-1].run_id,
        value_s=known[-1],
        baseline_s=known[0],
        ratio=None,
        limit=SHRINK_RUNS,
        samples_s=tuple(known),
        compared_with=tuple(r.run_id for r in series[:-1]),
        detail=f"{label} margin shrank in each of the last {SHRINK_RUNS} runs: {path} "
        f"({format_duration(known[0] - known[-1])} less)",
    )


def _low_margin(newest: RunReport, label: str) -> Regression | None:
    objective = _objective(newest, label)
    margin_s, target_s = objective.margin_s, objective.target_s
    if margin_s is None or target_s <= 0 or margin_s >= LOW_MARGIN_FRACTION * target_s:
        return None
    return Regression(
        kind="low_margin",
        subject=label,
        run_id=newest.run_id,
        value_s=margin_s,
        baseline_s=target_s,
        ratio=margin_s / target_s,
        limit=LOW_MARGIN_FRACTION,
        detail=_low_margin_detail(label, margin_s, target_s),
    )


def _low_margin_detail(label: str, margin_s: float, target_s: float) -> str:
    floor = f"flagged below {LOW_MARGIN_FRACTION:.0%} of the target"
    if margin_s < 0:
        return (
            f"{label} missed its {format_duration(target_s)} target by "
            f"{format_duration(-margin_s)} ({floor})"
        )
    return (
        f"{label} margin {format_duration(margin_s)} is {margin_s / target_s:.0%} of the "
        f"{format_duration(target_s)} target ({floor})"
    )
