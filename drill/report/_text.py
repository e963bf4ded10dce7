"""The report as a person reads it in a terminal: verdict first, then the numbers, then steps."""

from __future__ import annotations

from datetime import datetime

from drill.durations import format_duration
from drill.report._models import (
    VERDICTS,
    ClientCutover,
    Objective,
    ProbeReport,
    RestoreCompleteness,
    RollbackReport,
    Rto,
    RunReport,
    StepReport,
)
from drill.report._shared import (
    KIND_WORDS,
    before_t0,
    count,
    cutover_summary,
    kind_reasons,
    phase_summary,
    probe_summary,
    probe_target,
    restore_heading,
    rollback_sentence,
    rpo_figures,
    target_text,
    title,
)


def render_text(report: RunReport) -> str:
    lines = [
        f"{title(report)} - {report.mode} mode"
        + ("" if report.kind == "rollback" else f" - run {report.run_id}"),
        f"service {report.service}, tier {report.tier}, "
        f"t0 {_stamp(report.disaster_at)} ({report.disaster_at_source})",
        "",
        f"RESULT  {VERDICTS[report.outcome]} (exit {report.exit_code})",
        "",
        *_numbers(report),
        "",
        *_steps_table(report.steps),
        *_probes_lines(report.probes, report.disaster_at),
        *_cutover_lines(report.client_cutover),
    ]
    for restore in report.restores:
        lines += ["", *_restore_lines(restore)]
    if report.undo:
        lines += ["", "UNDO (newest first)"]
        lines += [f"  {u.step_id:<28} {u.status:<8} {u.detail}" for u in report.undo]
    if report.rollback:
        lines += ["", *_read_back(report.rollback)]
    lines += _footer(report)
    return "\n".join(lines) + "\n"


def _restore_lines(restore: RestoreCompleteness) -> list[str]:
    lines = [f"RESTORE {restore_heading(restore)}"]
    if restore.kinds:
        lines.append(f"  {'KIND':<32} {'BACKUP':>6} {'RESTORED':>8} {'SKIPPED':>7} {'EXCLUDED':>8}")
    for kind in restore.kinds:
        numbers = f"{count(kind.in_backup):>6} {count(kind.restored):>8} "
        numbers += f"{kind.skipped:>7} {kind.excluded:>8}"
        reasons = kind_reasons(kind)
        lines.append(f"  {kind.kind:<32} {numbers}" + (f"  {reasons}" if reasons else ""))
    return lines


def _numbers(report: RunReport) -> list[str]:
    """RPO and RTO for a run; a rollback's report has its failback time instead."""
    if report.kind == "rollback":
        lines = [f"ROLLBACK of run {report.run_id}, from {_stamp(report.started_at)}"]
        if report.rollback:
            lines.append(f"  {rollback_sentence(report.rollback)}")
        return lines
    lines = [
        _objective_line("RPO", report.rpo),
        *_target_origin("RPO", report.rpo, report.tier),
        *_rpo_figures(report),
        _objective_line("RTO", report.rto),
        *_target_origin("RTO", report.rto, report.tier),
        _users_served_line(report.rto),
        *_recovery_points(report),
    ]
    if report.rollback:
        lines.append(f"  ROLLBACK {rollback_sentence(report.rollback)}")
    return lines


def _read_back(rollback: RollbackReport) -> list[str]:
    lines = [
        "READ BACK after undo (each object against the state drill journaled before changing it)"
    ]
    lines += [
        f"  {c.step_id:<28} {c.status.upper() if c.status == 'differs' else c.status:<12} "
        f"{c.target}: {c.detail}"
        for c in rollback.checks
    ]
    return lines


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


def _target_origin(label: str, objective: Objective, tier: str) -> list[str]:
    """Under a target the plan or the config file set: that it did, and the tier default."""
    if objective.target_source == "tier default":
        return []
    return [f"{'':11}{label} target {target_text(objective, tier)}"]


def _rpo_figures(report: RunReport) -> list[str]:
    figures = rpo_figures(report.rpo)
    return [f"{'':11}{figures}"] if figures else []


def _recovery_points(report: RunReport) -> list[str]:
    """Each source's recovery point and how long before t0 it is, oldest first."""
    if not report.rpo.points:
        return []
    rows = [
        (
            format_duration(before_t0(report, p)),
            KIND_WORDS[p.kind],
            p.step_id,
            f"{_stamp(p.at)}  {p.source}",
        )
        for p in report.rpo.points
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = ["", "  RECOVERY POINTS (before t0)"]
    lines += [
        f"    {age:>{widths[0]}}  {kind:<{widths[1]}}  {step:<{widths[2]}}  {said}"
        for age, kind, step, said in rows
    ]
    return lines


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
        lines.append(f"    {probe_target(probe)} every {format_duration(probe.interval_s)}")
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
