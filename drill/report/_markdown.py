"""The report as Markdown (GitHub flavour), for tickets and postmortems.

Verdict in the title, then RPO/RTO (a rollback's report has none), the rollback's time and
read-back, steps and undo as tables, then notes and where to look next (journal, rollback
command).

Must not: let report text break the layout or smuggle in markup. Cells escape pipes and
HTML, keep to one line, and lose characters no renderer can show.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from drill.report._models import (
    VERDICTS,
    Objective,
    ProbeReport,
    RestoreCompleteness,
    RollbackReport,
    Rto,
    RunReport,
    StepReport,
    UndoReport,
)
from drill.report._shared import (
    KIND_WORDS,
    before_t0,
    count,
    cutover_summary,
    duration,
    kind_reasons,
    objective_verdict,
    percent,
    phase_summary,
    printable,
    probe_target,
    restore_heading,
    rollback_sentence,
    rollback_verdict,
    rpo_figures,
    stamp,
    step_detail,
    target_text,
    title,
)


def render_markdown(report: RunReport) -> str:
    sections = [
        _heading(report),
        "" if report.kind == "rollback" else _objectives(report),
        _rollback(report.rollback),
        _steps(report.steps),
        _restores(report.restores),
        _probes(report),
        _cutovers(report),
        _undo(report.undo),
        _notes(report.notes),
        _next(report),
    ]
    return "\n\n".join(section for section in sections if section) + "\n"


def _heading(report: RunReport) -> str:
    heading = f"# {cell(title(report))} ({report.mode} mode): {VERDICTS[report.outcome]}"
    facts = [
        f"run {code(report.run_id, in_table=False)}",
        f"service {cell(report.service)}",
        f"tier {cell(report.tier)}",
        f"exit code {report.exit_code}",
    ]
    times = [
        f"t0 {stamp(report.disaster_at)} ({report.disaster_at_source})",
        f"started {stamp(report.started_at)}",
        f"finished {stamp(report.finished_at)}",
    ]
    return "\n\n".join([heading, " · ".join(facts), " · ".join(times)])


def _objectives(report: RunReport) -> str:
    rows = [
        _objective_row("RPO", report.rpo, report.tier),
        _objective_row("RTO", report.rto, report.tier),
    ]
    rows.append(_users_served_row(report.rto))
    header = ("objective", "target", "measured", "margin", "met", "source")
    figures = rpo_figures(report.rpo)
    said = f"\n\nRPO {cell(figures)}" if figures else ""
    return "## Recovery objectives\n\n" + table(header, rows) + said + _recovery_points(report)


def _recovery_points(report: RunReport) -> str:
    if not report.rpo.points:
        return ""
    header = ("before t0", "kind", "step", "recovery point", "what said so")
    rows = [
        (
            duration(before_t0(report, p)),
            KIND_WORDS[p.kind],
            code(p.step_id),
            stamp(p.at),
            cell(p.source),
        )
        for p in report.rpo.points
    ]
    return "\n\n### Recovery points\n\n" + table(header, rows)


def _users_served_row(rto: Rto) -> tuple[str, ...]:
    """RTO as users see it: shown beside the target, judged by nothing (RTO's verdict is the
    service-restored clock)."""
    source = rto.users_served_source or "not measured"
    return ("RTO as users see it", "-", duration(rto.users_served_s), "-", "-", cell(source))


def _objective_row(label: str, objective: Objective, tier: str) -> tuple[str, ...]:
    return (
        f"**{label}**",
        cell(target_text(objective, tier)),
        duration(objective.measured_s),
        duration(objective.margin_s),
        objective_verdict(objective),
        cell(objective.source),
    )


def _steps(steps: Sequence[StepReport]) -> str:
    header = ("phase", "step", "status", "time", "tries", "detail")
    rows = [
        (
            cell(step.phase),
            code(step.id),
            _status(step.status),
            duration(step.duration_s),
            str(step.attempts) if step.attempts else "-",
            cell(step_detail(step)),
        )
        for step in steps
    ]
    return "## Steps\n\n" + table(header, rows)


def _probes(report: RunReport) -> str:
    if not report.probes:
        return ""
    header = ("probe", "url", "ok", "downtime", "served from", "per phase")
    rows = [
        (
            code(probe.name),
            cell(probe_target(probe)),
            f"{probe.successes}/{probe.attempts} ({percent(probe.success_ratio)})",
            duration(probe.downtime_s),
            _served_from(probe, report),
            cell("; ".join(phase_summary(phase) for phase in probe.phases)),
        )
        for probe in report.probes
    ]
    intro = "From the start of the run to the end of verify.\n\n"
    return "## Probes\n\n" + intro + table(header, rows)


def _served_from(probe: ProbeReport, report: RunReport) -> str:
    if probe.users_served_at is None:
        return cell(f"not served: {probe.not_served}")
    return "t0+" + duration((probe.users_served_at - report.disaster_at).total_seconds())


def _cutovers(report: RunReport) -> str:
    if not report.client_cutover:
        return ""
    header = ("step", "record", "client cut-over")
    rows = [
        (code(c.step_id), cell(c.record), cell(cutover_summary(c))) for c in report.client_cutover
    ]
    intro = "Clients that asked before a switch may keep the old answer for its TTL.\n\n"
    return "## Client cut-over (DNS)\n\n" + intro + table(header, rows)


def _status(status: str) -> str:
    shown = status.replace("_", " ")
    return f"**{shown.upper()}**" if status in ("failed", "timed_out", "interrupted") else shown


def _restores(restores: Sequence[RestoreCompleteness]) -> str:
    sections = []
    for restore in restores:
        header = ("kind", "in backup", "restored", "skipped", "excluded", "why")
        rows = [
            (
                code(k.kind),
                count(k.in_backup),
                count(k.restored),
                f"**{k.skipped}**" if k.skipped else "0",
                str(k.excluded),
                cell(kind_reasons(k)),
            )
            for k in restore.kinds
        ]
        heading = cell(restore_heading(restore))
        sections.append(f"## Restore completeness\n\n{heading}\n\n" + table(header, rows))
    return "\n\n".join(sections)


def _undo(undo: Sequence[UndoReport]) -> str:
    if not undo:
        return ""
    header = ("step", "type", "status", "time", "detail")
    rows = [
        (
            code(u.step_id),
            cell(u.type),
            u.status if u.status == "undone" else f"**{u.status.upper()}**",
            duration(u.duration_s),
            cell(u.detail),
        )
        for u in undo
    ]
    return "## Undo (newest first)\n\n" + table(header, rows)


def _rollback(rollback: RollbackReport | None) -> str:
    """The rollback's time and each object read back after its undo."""
    if rollback is None:
        return ""
    header = ("step", "object", "read back", "detail")
    rows = [
        (
            code(c.step_id),
            cell(c.target),
            c.status if c.status == "equal" else f"**{c.status.upper()}**",
            cell(c.detail),
        )
        for c in rollback.checks
    ]
    sentence = cell(rollback_sentence(rollback))
    return f"## Rollback: {rollback_verdict(rollback)}\n\n{sentence}\n\n" + table(header, rows)


def _notes(notes: Sequence[str]) -> str:
    return "## Notes\n\n" + "\n".join(f"- {cell(note)}" for note in notes) if notes else ""


def _next(report: RunReport) -> str:
    lines = []
    if report.rollback_command:
        lines.append(f"To roll back: {code(report.rollback_command, in_table=False)}")
    if report.journal:
        lines.append(f"Journal: {code(report.journal, in_table=False)}")
    return "\n\n".join(lines)


# --- escaping ---------------------------------------------------------------------------------


def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    lines = [_row(header), _row(["---"] * len(header))]
    lines += [_row(row) for row in rows]
    return "\n".join(lines)


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def cell(text: str) -> str:
    """Plain text made safe for one table cell (and for any line of Markdown).

    ``<`` and ``&`` are escaped so no tag or entity can form; ``>`` stays readable (``3 -> 20``).
    """
    escaped = printable(text).replace("&", "&amp;").replace("<", "&lt;").replace("|", "\\|")
    return "<br>".join(escaped.splitlines()) or " "


def code(text: str, in_table: bool = True) -> str:
    """Inline code that holds any text: fenced by more backticks than it contains."""
    flat = " ".join(printable(text).splitlines())
    if in_table:  # GitHub reads a pipe as a column break even inside code
        flat = flat.replace("|", "\\|")
    fence = "`" * (_longest_backtick_run(flat) + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


def _longest_backtick_run(text: str) -> int:
    longest = current = 0
    for char in text:
        current = current + 1 if char == "`" else 0
        longest = max(longest, current)
    return longest
