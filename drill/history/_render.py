"""The history as a person reads it (an aligned table, then the verdict) and as JSON."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC

from pydantic import BaseModel, ConfigDict

from drill.durations import format_duration
from drill.history._regressions import Regression
from drill.history._store import History, Skipped
from drill.history._thresholds import (
    LOW_MARGIN_FRACTION,
    MIN_SAMPLES,
    MIN_SLOWDOWN_S,
    SHRINK_RUNS,
)
from drill.history._trend import TrendRow, trend_rows
from drill.report import Objective, Rpo

HEADER = (
    "STARTED (UTC)", "MODE", "OUTCOME", "RTO", "MARGIN", "USERS SERVED", "RPO", "MARGIN",
    "RPO FROM", "ROLLBACK", "SLOWEST STEP",
)  # fmt: skip
NUMBERS = range(3, 8)  # durations line up on their right edge, as numbers do


class Criteria(BaseModel):
    """What counted as a regression, so a reader of the JSON need not know the defaults."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    factor: float
    window: int
    min_samples: int = MIN_SAMPLES
    min_slowdown_s: float = MIN_SLOWDOWN_S
    shrink_runs: int = SHRINK_RUNS
    low_margin_fraction: float = LOW_MARGIN_FRACTION


class HistoryDocument(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    plan: str
    runs: list[TrendRow]  # oldest first
    regressions: list[Regression]
    criteria: Criteria
    skipped: list[Skipped]
    # Unreadable files where a newer run of the plan would be: the regressions are of the
    # newest readable run, and what the newest run was is not known.
    unread_newer: list[Skipped]


def render_history_json(
    history: History, regressions: Sequence[Regression], criteria: Criteria
) -> str:
    document = HistoryDocument(
        plan=history.plan,
        runs=trend_rows(history.reports),
        regressions=list(regressions),
        criteria=criteria,
        skipped=list(history.skipped),
        unread_newer=list(history.unread_newer),
    )
    return document.model_dump_json(indent=2) + "\n"


def render_history_text(
    history: History, regressions: Sequence[Regression], criteria: Criteria
) -> str:
    rows = trend_rows(history.reports)
    lines = [f"history of {history.plan}: {len(rows)} runs, oldest first", ""]
    lines += _table(rows)
    if rows:
        lines += ["", _targets(rows[-1], readable_only=bool(history.unread_newer))]
    lines += _unread_newer(history.unread_newer)
    lines += ["", *_verdict(rows, regressions, criteria, bool(history.unread_newer))]
    lines += _skipped([s for s in history.skipped if s not in history.unread_newer])
    return "\n".join(lines) + "\n"


def _table(rows: Sequence[TrendRow]) -> list[str]:
    cells = [HEADER, *(_cells(row) for row in rows)]
    widths = [max(len(line[i]) for line in cells) for i in range(len(HEADER))]
    return ["  " + "  ".join(_aligned(line, widths)).rstrip() for line in cells]


def _aligned(cells: Sequence[str], widths: Sequence[int]) -> list[str]:
    return [
        cell.rjust(width) if index in NUMBERS else cell.ljust(width)
        for index, (cell, width) in enumerate(zip(cells, widths, strict=True))
    ]


def _cells(row: TrendRow) -> tuple[str, ...]:
    slowest = row.slowest_step
    return (
        row.started_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
        row.mode,
        row.outcome if row.outcome == "passed" else row.outcome.replace("_", " ").upper(),
        _seconds(row.rto.measured_s),
        _seconds(row.rto.margin_s),
        _seconds(row.users_served_s),
        _seconds(row.rpo.measured_s),
        _seconds(row.rpo.margin_s),
        _rpo_from(row.rpo),
        _rollback(row),
        f"{slowest.id} {format_duration(slowest.duration_s)}" if slowest else "-",
    )


def _rollback(row: TrendRow) -> str:
    """The rollback's time, marked when it was not verified."""
    if row.rollback_s is None:
        return "-"
    verdict = {True: "", False: " DIFFERS", None: " not verified"}[row.rollback_verified]
    return format_duration(row.rollback_s) + verdict


def _rpo_from(rpo: Rpo) -> str:
    """What the RPO a run was judged on was read from: the data itself, or backup metadata."""
    if rpo.measured_s is None:
        return "-"
    return "data" if rpo.from_data_s is not None else "backup"


def _seconds(value: float | None) -> str:
    return "-" if value is None else format_duration(value)


def _targets(newest: TrendRow, readable_only: bool) -> str:
    which = "newest readable run" if readable_only else "newest run"
    return f"targets ({which}): RTO {_target(newest.rto)}, RPO {_target(newest.rpo)}"


def _target(objective: Objective) -> str:
    return format_duration(objective.target_s)


def _unread_newer(unread: Sequence[Skipped]) -> list[str]:
    if not unread:
        return []
    return [
        "",
        f"NEWEST RUN NOT KNOWN: {len(unread)} stored file(s) newer than the newest readable "
        "report cannot be read, so the newest run's outcome and regressions are not checked; "
        "below, the newest readable run is judged instead:",
        *(f"  {entry.name}: {entry.reason}" for entry in unread),
    ]


def _verdict(
    rows: Sequence[TrendRow],
    regressions: Sequence[Regression],
    criteria: Criteria,
    readable_only: bool,
) -> list[str]:
    judged = "the newest readable run" if readable_only else "the newest run"
    if not regressions:
        named = f"{judged}, {rows[-1].run_id}" if readable_only else judged
        return [f"No regressions in {named}. Checked: {_checked(criteria)}."]
    header = f"REGRESSIONS in {judged}, {rows[-1].run_id}:"
    return [header, *(f"  - {regression.detail}" for regression in regressions)]


def _checked(criteria: Criteria) -> str:
    return (
        f"steps over {criteria.factor:g}x their median over the last {criteria.window} runs "
        f"where they passed (at least {criteria.min_samples} such runs, and "
        f"{format_duration(criteria.min_slowdown_s)} slower); RTO and RPO margins shrinking in "
        f"each of the last {criteria.shrink_runs} runs, or under "
        f"{criteria.low_margin_fraction:.0%} of the target"
    )


def _skipped(skipped: Sequence[Skipped]) -> list[str]:
    if not skipped:
        return []
    lines = ["", f"Skipped {len(skipped)} stored file(s) that are not readable reports:"]
    return lines + [f"  {entry.name}: {entry.reason}" for entry in skipped]
