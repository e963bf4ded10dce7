"""The report as a person reads it in a terminal: verdict first, then the numbers, then steps."""

from __future__ import annotations

from datetime import datetime

from drill.durations import format_duration
from drill.report._models import (
    VERDICTS,
    ClientCutover,
    Objective,
    ProbeReport,
    Rto,
    RunReport,
    StepReport,
)
from drill.report._shared import cutover_summary, phase_summary, probe_summary


def render_text(report: RunReport) -> str:
    lines = [
        f"drill {report.plan} - {report.mode} mode - run {report.run_id}",
        f"service {report.service}, tier {report.tier}, "
        f"t0 {_stamp(report.disaster_at)} ({report.disaster_at_source})",
        "",
        f"RESULT  {VERDICTS[report.outcome]} (exit {report.exit_code})",
        "",
        _objective_line("RPO", report.rpo),
        _objective_line("RTO", report.rto),
        _users_served_line(report.rto),
        "",
        *_steps_table(report.steps),
        *_probes_lines(report.probes, report.disaster_at),
        *_cutover_lines(report.client_cutover),
    ]
    if report.undo:
        lines += ["", "UNDO (newest first)"]
        lines += [f"  {u.step_id:<28} {u.status:<8} {u.detail}" for u in report.undo]
    lines += _footer(report)
    return "\n".join(lines) + "\n"


def _objective_line(label: str, objective: Objective) -> str:
    target = format_duration(objective.target_s)
    if objective.measured_s is None or objective.margin_s is None:
        verdict = "MISSED" if objective.met is False else "n/a"
        return f"  {label}  {'-':>9}  target {target:>7}  {verdict:<7} {objective.source}"
    verdict = "met" if objective.met else "MISSED"
    return (
        f"  {label}  {format_duration(objective.measured_s):>9}  target {target:>7}  "
        f"margin {format_duration(objective.margin_s):>7}  {verdict:<7} {objective.source}"
    )


def _users_served_line(rto: Rto) -> str:
    """Beside RTO (service restored, which pass/fail uses): when users were served again."""
    if rto.users_served_s is None:
        return f"  RTO as users see it: {rto.users_served_source or 'not measured'}"
    return (
        f"  RTO as users see it: {format_duration(rto.users_served_s)} ({rto.users_served_source})"
    )


def _probes_lines(probes: list[ProbeReport], t0: datetime) -> list[str]:
    if not probes:
        return []
    lines = ["", "PROBES (from the start of the run to the end of verify)"]
    for probe in probes:
        lines.append(f"  {probe.name}  {probe_summary(probe, t0)}")
        lines.append(f"    {probe.url} every {format_duration(probe.interval_s)}")
        lines += [f"    {phase_summary(phase)}" for phase in probe.phases]
    return lines


def _cutover_lines(cutovers: list[ClientCutover]) -> list[str]:
    if not cutovers:
        return []
    lines = ["", "CLIENT CUT-OVER (DNS: clients may keep the old answer for its TTL)"]
    return lines + [f"  {c.step_id}  {c.record}  {cutover_summary(c)}" for c in cutovers]


def _steps_table(steps: list[StepReport]) -> list[str]:
    header = ("PHASE", "STEP", "STATUS", "TIME", "TRIES", "DETAIL")
    rows = [
        (
            s.phase,
            s.id,
            s.status.upper() if s.status in ("failed", "timed_out") else s.status,
            format_duration(s.duration_s) if s.duration_s is not None else "-",
            str(s.attempts) if s.attempts else "-",
            _detail(s),
        )
        for s in steps
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(5)]
    return [
        "  " + "  ".join(cell.ljust(widths[i]) if i < 5 else cell for i, cell in enumerate(row))
        for row in (header, *rows)
    ]


def _detail(step: StepReport) -> str:
    return step.error or step.summary or step.skip_reason or step.description


def _footer(report: RunReport) -> list[str]:
    lines = [""]
    if report.rollback_command:
        lines.append(f"To roll back: {report.rollback_command}")
    if report.journal:
        lines.append(f"Journal: {report.journal}")
    lines += [f"Note: {note}" for note in report.notes]
    return lines if len(lines) > 1 else []


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%SZ")
