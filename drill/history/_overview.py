"""`drill history` without a plan: one line per plan, its newest run and its last passing drill.

Must not read the clock: the caller says what "now" is, so ages are testable.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict

from drill.durations import format_duration
from drill.history._store import History
from drill.report import VERDICTS, Outcome, RunReport

HEADER = ("PLAN", "LAST RUN (UTC)", "MODE", "OUTCOME", "RTO MARGIN", "RPO MARGIN", "LAST PASSED")


class PlanSummary(BaseModel):
    """A plan's standing, from the runs read of it (the newest ``--last``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    plan: str
    runs_read: int
    last_run_id: str
    last_started_at: datetime
    last_mode: str
    last_outcome: Outcome
    rto_margin_s: float | None
    rpo_margin_s: float | None
    last_passed_drill_at: datetime | None
    last_passed_drill_run_id: str | None
    # Stored where newer runs would be, but unreadable: the "last run" is the last one read.
    newer_unreadable: int = 0


class Overview(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    plans: list[PlanSummary]
    runs_per_plan_read: int


def plan_summaries(histories: Sequence[History]) -> list[PlanSummary]:
    return [summary for h in histories if (summary := plan_summary(h)) is not None]


def plan_summary(history: History) -> PlanSummary | None:
    if not history.reports:
        return None
    newest = history.reports[-1]
    passed = _last_passed_drill(history.reports)
    return PlanSummary(
        plan=history.plan,
        runs_read=len(history.reports),
        last_run_id=newest.run_id,
        last_started_at=newest.started_at,
        last_mode=newest.mode,
        last_outcome=newest.outcome,
        rto_margin_s=newest.rto.margin_s,
        rpo_margin_s=newest.rpo.margin_s,
        last_passed_drill_at=passed.started_at if passed else None,
        last_passed_drill_run_id=passed.run_id if passed else None,
        newer_unreadable=len(history.unread_newer),
    )


def _last_passed_drill(reports: Sequence[RunReport]) -> RunReport | None:
    """A rehearsal that passed: a live failover proves the runbook too, but it is not a drill."""
    passed = [r for r in reports if r.mode == "drill" and r.outcome == "passed"]
    return passed[-1] if passed else None


def render_overview_json(summaries: Sequence[PlanSummary], last: int) -> str:
    return Overview(plans=list(summaries), runs_per_plan_read=last).model_dump_json(indent=2) + "\n"


def render_overview_text(
    summaries: Sequence[PlanSummary], location: str, last: int, now: datetime
) -> str:
    lines = [f"plans with runs in {location}: {len(summaries)}", ""]
    cells = [HEADER, *(_cells(summary, last, now) for summary in summaries)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(HEADER))]
    lines += [
        "  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        for row in cells
    ]
    lines += _unread_notes(summaries)
    lines += ["", "`drill history PLAN` shows a plan's runs and flags regressions."]
    return "\n".join(lines) + "\n"


def _unread_notes(summaries: Sequence[PlanSummary]) -> list[str]:
    unread = [s for s in summaries if s.newer_unreadable]
    if not unread:
        return []
    return [""] + [
        f"* {s.plan}: {s.newer_unreadable} stored report(s) newer than its last run read cannot "
        "be read, so its last run is not known"
        for s in unread
    ]


def _cells(summary: PlanSummary, last: int, now: datetime) -> tuple[str, ...]:
    started = summary.last_started_at.astimezone(UTC)
    return (
        summary.plan,
        f"{started:%Y-%m-%d %H:%M} ({_age(summary.last_started_at, now)})",
        summary.last_mode,
        VERDICTS[summary.last_outcome] + ("*" if summary.newer_unreadable else ""),
        _margin(summary.rto_margin_s),
        _margin(summary.rpo_margin_s),
        _last_passed(summary, last, now),
    )


def _last_passed(summary: PlanSummary, last: int, now: datetime) -> str:
    if summary.last_passed_drill_at is None:
        return (
            f"none in the last {summary.runs_read} runs" if summary.runs_read >= last else "never"
        )
    return _age(summary.last_passed_drill_at, now)


def _margin(margin_s: float | None) -> str:
    if margin_s is None:
        return "not measured"
    return format_duration(margin_s) if margin_s >= 0 else f"-{format_duration(-margin_s)}"


def _age(at: datetime, now: datetime) -> str:
    return f"{format_duration(max((now - at).total_seconds(), 0.0))} ago"
