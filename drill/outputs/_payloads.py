"""The bodies a finished run posts: a Slack message and the generic webhook's JSON document.

The generic payload is a contract with whoever receives it, versioned by its ``schema`` field
(``drill.notification/v1``); add fields freely, but renaming or removing one means v2::

    {
      "schema": "drill.notification/v1",
      "run_id": "region-failure-20260101-020000-ab12",
      "plan": "region-failure", "service": "api-server", "tier": "high",
      "mode": "drill" | "live",
      "sandbox": false | true  (a rehearsal against drill's local simulated world),
      "outcome": "passed" | "target_missed" | "failed" | "interrupted" | "rollback_incomplete",
      "exit_code": 0,
      "summary": "drill region-failure (drill mode): PASSED - RPO ... - RTO ...",
      "rpo": {"target_s": 3600.0, "target_source": "tier default" | "config" | "plan",
              "tier_default_s": 3600.0 | null  (the tier default an override replaced),
              "measured_s": 720.0 | null, "margin_s": 2880.0 | null,
              "met": true | false | null, "source": "velero backup daily-20260101020000",
              "from_data_s": 735.2 | null, "from_backup_s": 720.0 | null},
      "rto": {... as rpo ...},
      "users_served": {"measured_s": 95.5 | null, "source": "t0 to the first of 3 or more ..."},
      "probes": [{"name", "url", "attempts", "success_ratio", "downtime_s", "users_served_at"}],
      "failed_steps": [{"id", "phase", "type", "status", "error"}],
      "failed_undos": [{"step_id", "type", "detail"}],
      "rollback": {"duration_s": 4.2, "verified": true | false | null,
                   "not_equal": [{"step_id", "target", "status", "detail"}]}
                  | null  (null: nothing was rolled back, as in live runs),
      "report_location": "reports/RUN/report.json" | "https://..." | null,
      "rollback_command": "drill rollback RUN --report-dir reports" | null  (live runs only),
      "started_at": "2026-01-01T02:00:00Z", "finished_at": "2026-01-01T02:09:30Z"
    }

Texts taken from the report (errors, undo details) are cut to a few hundred characters.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from drill.durations import format_duration
from drill.redact import redact_url
from drill.report import (
    VERDICTS,
    Objective,
    Outcome,
    RollbackCheck,
    RollbackReport,
    RunReport,
    StepReport,
    TargetSource,
    UndoReport,
    rollback_sentence,
    rpo_figures,
    target_text,
    title,
)

WebhookSchema = Literal["drill.notification/v1"]
WEBHOOK_SCHEMA: WebhookSchema = "drill.notification/v1"
_FAILED_STATUSES = frozenset({"failed", "timed_out", "interrupted"})
_MAX_ERROR_CHARS = 300
_MAX_LISTED = 10
# Slack's own limits: header text 150 characters, section text 3000.
_MAX_HEADER_CHARS = 150
_MAX_SECTION_CHARS = 3000

# --- the generic webhook ----------------------------------------------------------------------


class _Model(BaseModel):
    # Built on first use: only a run that notifies a webhook needs it.
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)


class ObjectivePayload(_Model):
    target_s: float
    target_source: TargetSource = "tier default"
    tier_default_s: float | None = None
    measured_s: float | None
    margin_s: float | None
    met: bool | None
    source: str


class RpoPayload(ObjectivePayload):
    """RPO as judged (``measured_s``: from data when a probe read it), and both figures."""

    from_data_s: float | None = None
    from_backup_s: float | None = None


class UsersServedPayload(_Model):
    """RTO as users see it (probes), beside ``rto`` (service restored), which passes or fails."""

    measured_s: float | None
    source: str


class ProbePayload(_Model):
    name: str
    url: str
    attempts: int
    success_ratio: float | None
    downtime_s: float | None
    users_served_at: datetime | None


class FailedStepPayload(_Model):
    id: str
    phase: str
    type: str
    status: str
    error: str | None


class FailedUndoPayload(_Model):
    step_id: str
    type: str
    detail: str


class CheckPayload(_Model):
    step_id: str
    target: str
    status: str
    detail: str


class RollbackPayload(_Model):
    duration_s: float
    verified: bool | None
    not_equal: list[CheckPayload] = Field(
        description="objects that differ from before the run or could not be read back"
    )


class WebhookPayload(_Model):
    schema_id: WebhookSchema = Field(default=WEBHOOK_SCHEMA, alias="schema")
    run_id: str
    plan: str
    service: str
    tier: str
    mode: Literal["drill", "live"]
    sandbox: bool = False
    outcome: Outcome
    exit_code: int
    summary: str
    rpo: RpoPayload
    rto: ObjectivePayload
    users_served: UsersServedPayload
    probes: list[ProbePayload]
    failed_steps: list[FailedStepPayload]
    failed_undos: list[FailedUndoPayload]
    rollback: RollbackPayload | None = None
    report_location: str | None
    rollback_command: str | None
    started_at: datetime
    finished_at: datetime


def webhook_payload(report: RunReport, report_location: str | None) -> dict[str, Any]:
    """The JSON document (as plain data) the generic webhook receives."""
    payload = WebhookPayload(
        run_id=report.run_id,
        plan=report.plan,
        service=report.service,
        tier=report.tier,
        mode=report.mode,
        sandbox=report.sandbox,
        outcome=report.outcome,
        exit_code=report.exit_code,
        summary=summary_line(report),
        rpo=RpoPayload.model_validate(report.rpo.model_dump(include=set(RpoPayload.model_fields))),
        rto=_objective_payload(report.rto),
        users_served=UsersServedPayload(
            measured_s=report.rto.users_served_s,
            source=report.rto.users_served_source or "not measured",
        ),
        probes=[
            ProbePayload.model_validate(probe.model_dump(include=set(ProbePayload.model_fields)))
            for probe in report.probes
        ],
        failed_steps=[_failed_step_payload(step) for step in failed_steps(report)],
        failed_undos=[_failed_undo_payload(undo) for undo in failed_undos(report)],
        rollback=_rollback_payload(report.rollback) if report.rollback else None,
        report_location=shown_location(report_location),
        rollback_command=report.rollback_command,
        started_at=report.started_at,
        finished_at=report.finished_at,
    )
    return payload.model_dump(mode="json", by_alias=True)


def _objective_payload(objective: Objective) -> ObjectivePayload:
    return ObjectivePayload.model_validate(
        objective.model_dump(include=set(ObjectivePayload.model_fields))
    )


def _failed_step_payload(step: StepReport) -> FailedStepPayload:
    error = clip(step.error, _MAX_ERROR_CHARS) if step.error else None
    return FailedStepPayload(
        id=step.id, phase=step.phase, type=step.type, status=step.status, error=error
    )


def _failed_undo_payload(undo: UndoReport) -> FailedUndoPayload:
    detail = clip(undo.detail, _MAX_ERROR_CHARS)
    return FailedUndoPayload(step_id=undo.step_id, type=undo.type, detail=detail)


def _rollback_payload(rollback: RollbackReport) -> RollbackPayload:
    not_equal = [
        CheckPayload(
            step_id=c.step_id,
            target=c.target,
            status=c.status,
            detail=clip(c.detail, _MAX_ERROR_CHARS),
        )
        for c in not_equal_checks(rollback)
    ]
    return RollbackPayload(
        duration_s=rollback.duration_s, verified=rollback.verified, not_equal=not_equal
    )


# --- shared pieces ----------------------------------------------------------------------------


def failed_steps(report: RunReport) -> list[StepReport]:
    return [step for step in report.steps if step.status in _FAILED_STATUSES]


def failed_undos(report: RunReport) -> list[UndoReport]:
    return [undo for undo in report.undo if undo.status == "failed"]


def not_equal_checks(rollback: RollbackReport) -> list[RollbackCheck]:
    return [check for check in rollback.checks if check.status != "equal"]


def summary_line(report: RunReport) -> str:
    return (
        f"{title(report)} ({report.mode} mode): {VERDICTS[report.outcome]} - "
        f"RPO {objective_text(report.rpo, report.tier)} - "
        f"RTO {objective_text(report.rto, report.tier)}"
    )


def objective_text(objective: Objective, tier: str) -> str:
    """``12m03s, target 1h00m, margin 47m57s (met)``, or why there is no measurement; an
    overridden target says so (``target 30m (plan override; critical tier default 15m)``)."""
    target = target_text(objective, tier)
    if objective.measured_s is None or objective.margin_s is None:
        verdict = "MISSED" if objective.met is False else "does not count"
        return f"not measured, target {target} ({verdict}: {objective.source})"
    verdict = "met" if objective.met else "MISSED"
    return (
        f"{format_duration(objective.measured_s)}, target {target}, "
        f"margin {format_duration(objective.margin_s)} ({verdict})"
    )


def _rpo_text(report: RunReport) -> str:
    figures = rpo_figures(report.rpo)
    return objective_text(report.rpo, report.tier) + (f"; {figures}" if figures else "")


def users_served_text(report: RunReport) -> str:
    """``1m35s (t0 to the first of 3 ...)``, or why it was not measured."""
    rto = report.rto
    source = rto.users_served_source or "not measured"
    if rto.users_served_s is None:
        return source
    return f"{format_duration(rto.users_served_s)} ({source})"


def shown_location(location: str | None) -> str | None:
    """A report URL loses any credentials or signed query; a path is shown as it is."""
    if location is None or "://" not in location:
        return location
    return redact_url(location)


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


# --- Slack ------------------------------------------------------------------------------------


def slack_payload(report: RunReport, report_location: str | None) -> dict[str, Any]:
    """An incoming-webhook message: ``text`` for notifications and old clients, plus blocks."""
    blocks: list[dict[str, Any]] = [
        _header(f"{title(report)}: {VERDICTS[report.outcome]}"),
        _fields(
            ("Service", report.service),
            ("Tier", report.tier),
            ("Mode", report.mode),
            ("Exit code", str(report.exit_code)),
            ("Run", report.run_id),
        ),
        _fields(("RPO", _rpo_text(report)), ("RTO", objective_text(report.rto, report.tier))),
        _fields(("RTO as users see it", users_served_text(report))),
    ]
    blocks += _listing("Failed steps", [_step_line(step) for step in failed_steps(report)])
    blocks += _listing("Undo failures", [_undo_line(undo) for undo in failed_undos(report)])
    if report.rollback:
        blocks.append(_section(f"*Rollback:* {_escape(rollback_sentence(report.rollback))}"))
        shown = [_check_line(check) for check in not_equal_checks(report.rollback)]
        blocks += _listing("Not as drill found them", shown)
    if report.rollback_command:
        blocks.append(_section(f"*To roll back:* `{_escape(report.rollback_command)}`"))
    blocks.append(_context(report, shown_location(report_location)))
    return {"text": _escape(summary_line(report)), "blocks": blocks}


def _step_line(step: StepReport) -> str:
    error = clip(step.error or "no error recorded", _MAX_ERROR_CHARS)
    return f"{step.id} ({step.phase}, {step.status}): {error}"


def _check_line(check: RollbackCheck) -> str:
    return (
        f"{check.target} ({check.step_id}, {check.status}): {clip(check.detail, _MAX_ERROR_CHARS)}"
    )


def _undo_line(undo: UndoReport) -> str:
    return f"{undo.step_id} ({undo.type}): {clip(undo.detail, _MAX_ERROR_CHARS)}"


def _listing(title: str, lines: list[str]) -> list[dict[str, Any]]:
    if not lines:
        return []
    shown = [f"- {_escape(line)}" for line in lines[:_MAX_LISTED]]
    if len(lines) > _MAX_LISTED:
        shown.append(f"... and {len(lines) - _MAX_LISTED} more (see the report)")
    return [_section(clip(f"*{title}*\n" + "\n".join(shown), _MAX_SECTION_CHARS))]


def _context(report: RunReport, location: str | None) -> dict[str, Any]:
    finished = report.finished_at.strftime("%Y-%m-%d %H:%M:%SZ")
    where = f"Report: {_escape(location)}" if location else "Report: not saved"
    return {"type": "context", "elements": [_mrkdwn(f"{where} | finished {finished}")]}


def _header(text: str) -> dict[str, Any]:
    plain = {"type": "plain_text", "text": clip(text, _MAX_HEADER_CHARS)}
    return {"type": "header", "text": plain}


def _fields(*pairs: tuple[str, str]) -> dict[str, Any]:
    return {
        "type": "section",
        "fields": [_mrkdwn(f"*{label}*\n{_escape(value)}") for label, value in pairs],
    }


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": _mrkdwn(text)}


def _mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


def _escape(text: str) -> str:
    """Slack reads ``<...>`` as links and mentions; these three must be escaped in mrkdwn."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
