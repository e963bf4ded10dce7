"""The report as one self-contained HTML page: verdict, RPO/RTO bars, a timeline, the steps.

Everything is inline (CSS and SVG): no fonts, scripts, images or styles are fetched, so the
file works offline, attached to a ticket or opened from a CI artefact, and it needs no
JavaScript. The timeline runs from t0 to the end of the run: a row per phase, a bar per step
(from its start to its end, coloured by status; skipped and unrun steps get a marker), then a
row per undo. A rollback's time and its read-back of every object it put back get a section
of their own; a rollback's own report (kind ``rollback``) has no RPO or RTO.

Must not: put any report text into the page unescaped. Step errors quote remote systems, so
``<script>`` in one must show as text; every value goes through ``_esc``.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from drill.report._models import (
    VERDICTS,
    Objective,
    ProbeAttempt,
    ProbeReport,
    RestoreCompleteness,
    RollbackReport,
    Rpo,
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
    objective_sentence,
    objective_verdict,
    percent,
    phase_summary,
    printable,
    probe_target,
    recovered_at,
    restore_heading,
    restore_verdict,
    rollback_sentence,
    rollback_verdict,
    rpo_sentence,
    stamp,
    step_detail,
    title,
)


def render_html(report: RunReport) -> str:
    page_title = f"{title(report)}: {VERDICTS[report.outcome]}"
    sections = [
        _header(report),
        "" if report.kind == "rollback" else _objectives(report),
        _rollback_section(report.rollback),
        _timeline_section(report),
        _steps_table(report.steps, report.disaster_at),
        *(_restore_table(restore) for restore in report.restores),
        _probes_table(report),
        _cutover_table(report),
        _undo_table(report.undo),
        _step_details(report.steps),
        _footer(report),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_esc(page_title)}</title>\n<style>{_CSS}{_status_css()}</style>\n</head>\n<body>\n"
        + "\n".join(section for section in sections if section)
        + "\n</body>\n</html>\n"
    )


def _esc(value: object) -> str:
    return html.escape(printable(str(value)), quote=True)


def _css_name(value: str) -> str:
    """A status as a class name: only the characters a status may hold."""
    return "".join(char if char.isalnum() or char in "_-" else "-" for char in value)


# --- header and objectives --------------------------------------------------------------------


def _header(report: RunReport) -> str:
    verdict = f"{VERDICTS[report.outcome]} (exit {report.exit_code})"
    facts = {
        "mode": report.mode,
        "run": report.run_id,
        "service": report.service,
        "tier": report.tier,
        "t0": f"{stamp(report.disaster_at)} ({report.disaster_at_source})",
        "started": stamp(report.started_at),
        "finished": stamp(report.finished_at),
        "recovery point": stamp(report.recovery_point) if report.recovery_point else "-",
        "recovered": stamp(recovered) if (recovered := recovered_at(report)) else "-",
        "contexts": ", ".join(f"{role}={ctx}" for role, ctx in report.contexts.items()) or "-",
    }
    return (
        f"<header>\n<h1>{_esc(title(report))}</h1>\n"
        f'<p class="verdict o-{_css_name(report.outcome)}">{_esc(verdict)}</p>\n'
        f"{_definitions(facts, 'meta')}\n</header>"
    )


def _definitions(values: dict[str, str], css: str) -> str:
    items = "".join(f"<dt>{_esc(key)}</dt><dd>{_esc(value)}</dd>" for key, value in values.items())
    return f'<dl class="{css}">{items}</dl>'


def _objectives(report: RunReport) -> str:
    bars = [_objective("RPO", report.rpo, report.tier), _objective("RTO", report.rto, report.tier)]
    bars.append(_users_served(report.rto))
    heading = '<section class="objectives">\n<h2>Recovery objectives</h2>\n'
    points = _recovery_points(report)
    return heading + "\n".join([*bars, *points]) + "\n</section>"


def _recovery_points(report: RunReport) -> list[str]:
    """Every source's recovery point, read inside the data or from backup metadata."""
    if not report.rpo.points:
        return []
    header = ("before t0", "kind", "step", "recovery point", "what said so")
    rows = [
        (
            duration(before_t0(report, p)),
            KIND_WORDS[p.kind],
            p.step_id,
            stamp(p.at),
            p.source,
        )
        for p in report.rpo.points
    ]
    return ['<h3 id="recovery-points">Recovery points</h3>', _table(header, rows)]


def _users_served(rto: Rto) -> str:
    """RTO as users see it, beside RTO (whose verdict is the service-restored clock)."""
    source = rto.users_served_source or "not measured"
    measured = "" if rto.users_served_s is None else f"{duration(rto.users_served_s)} "
    return (
        f'<p class="users-served" data-users-served="{_esc(rto.users_served_s or "")}">'
        f"RTO as users see it: {_esc(measured)}({_esc(source)})</p>"
    )


def _objective(label: str, objective: Objective, tier: str) -> str:
    verdict = objective_verdict(objective)
    return (
        f'<div class="objective" data-objective="{label}" data-met="{_esc(verdict)}">\n'
        f'<h3>{label} <span class="badge m-{_css_name(verdict)}">{_esc(verdict)}</span></h3>\n'
        f"{_objective_svg(label, objective)}\n"
        f"<p>{_esc(_sentence(label, objective, tier))}</p>\n</div>"
    )


def _sentence(label: str, objective: Objective, tier: str) -> str:
    return (
        rpo_sentence(objective, tier)
        if isinstance(objective, Rpo)
        else objective_sentence(label, objective, tier)
    )


_OBJ_W, _OBJ_H, _OBJ_LEFT, _OBJ_TRACK_W = 640, 46, 10, 520


def _objective_svg(label: str, objective: Objective) -> str:
    """A track, the measured bar and a marker at the target, all on one scale."""
    top = max(objective.target_s, objective.measured_s or 0.0) * 1.15 or 1.0

    def x(seconds: float) -> float:
        return _OBJ_LEFT + max(seconds, 0.0) / top * _OBJ_TRACK_W

    parts = [
        f'<rect class="track" x="{_OBJ_LEFT}" y="18" width="{_OBJ_TRACK_W}" height="16"/>',
        _measured_bar(objective, x(objective.measured_s or 0.0)),
        _target_marker(objective, x(objective.target_s)),
    ]
    return (
        f'<svg class="objective-bar" viewBox="0 0 {_OBJ_W} {_OBJ_H}" role="img" '
        f'aria-label="{label} against its target">{"".join(parts)}</svg>'
    )


def _measured_bar(objective: Objective, end_x: float) -> str:
    if objective.measured_s is None:
        return f'<text class="obj-text" x="{_OBJ_LEFT + 6}" y="30">not measured</text>'
    css = {True: "met", False: "missed", None: "unknown"}[objective.met]
    measured = _esc(duration(objective.measured_s))
    return (
        f'<rect class="obj-bar {css}" x="{_OBJ_LEFT}" y="18" '
        f'width="{max(end_x - _OBJ_LEFT, 1.0):.1f}" height="16">'
        f"<title>measured {measured}</title></rect>"
        f'<text class="obj-text" x="{end_x + 4:.1f}" y="30">{measured}</text>'
    )


def _target_marker(objective: Objective, x: float) -> str:
    return (
        f'<line class="target" x1="{x:.1f}" y1="12" x2="{x:.1f}" y2="40"/>'
        f'<text class="target-text" x="{x:.1f}" y="10" text-anchor="middle">'
        f"target {_esc(duration(objective.target_s))}</text>"
    )


# --- the rollback ---------------------------------------------------------------------------


def _rollback_section(rollback: RollbackReport | None) -> str:
    """How long the rollback took, and each object read back after its undo."""
    if rollback is None:
        return ""
    verdict = rollback_verdict(rollback)
    header = ("step", "object", "read back", "detail")
    rows = [
        (c.step_id, c.target, _badge(f"c-{c.status}", c.status), c.detail) for c in rollback.checks
    ]
    return (
        f'<section class="rollback" data-verified="{_esc(verdict)}">\n'
        f'<h2>Rollback <span class="badge c-{_css_name(verdict)}">{_esc(verdict)}</span></h2>\n'
        f"<p>{_esc(rollback_sentence(rollback))} (from {_esc(stamp(rollback.started_at))} to "
        f"{_esc(stamp(rollback.finished_at))}).</p>\n{_table(header, rows)}\n</section>"
    )


# --- the timeline -----------------------------------------------------------------------------

_FORWARD_PHASES = ("preflight", "restore", "failover", "verify")
_WIDTH, _GUTTER, _RIGHT_PAD = 1000, 230, 130
_PLOT_W = _WIDTH - _GUTTER - _RIGHT_PAD
_AXIS_H, _ROW_H, _BAR_H = 34, 24, 14
_CHAR_W = 6.6  # an 11px sans-serif character, on average: for placing labels, not exactness
_LABEL_CHARS = 32
# Axis tick spacings in seconds, from tenths of a second up to a day.
_NICE_STEPS_S: tuple[float, ...] = (0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600)
_NICE_STEPS_S += (900, 1800, 3600, 7200, 10800, 21600, 86400)


@dataclass(frozen=True)
class _Row:
    """One line of the timeline. ``start`` None: never ran (a marker); ``end`` None: the
    record ends while it was still running."""

    kind: str  # "phase", "step", "undo"
    key: str
    label: str
    status: str
    start: datetime | None
    end: datetime | None
    note: str
    title: str


@dataclass(frozen=True)
class _Scale:
    origin: datetime
    end: datetime

    @property
    def span_s(self) -> float:
        return max((self.end - self.origin).total_seconds(), 0.001)

    def x(self, moment: datetime) -> float:
        return _GUTTER + (moment - self.origin).total_seconds() / self.span_s * _PLOT_W


def _timeline_section(report: RunReport) -> str:
    rows = _rows(report)
    origin, moment = _origin(report)
    return (
        '<section class="timeline">\n<h2>Timeline</h2>\n'
        f'<p class="hint">From {origin} ({_esc(stamp(moment))}) to the end; '
        "hover a bar for its details.</p>\n"
        f'<div class="scroll">{_timeline_svg(report, rows)}</div>\n{_legend()}\n</section>'
    )


def _rows(report: RunReport) -> list[_Row]:
    """Phases in report order, with the undo rows where undoing happened: after the forward
    phases, before the rollback and cleanup phases."""
    groups = _by_phase(report.steps)
    forward = [group for group in groups if group[0] in _FORWARD_PHASES]
    after = [group for group in groups if group[0] not in _FORWARD_PHASES]
    rows = [row for phase, steps in forward for row in _phase_rows(phase, steps)]
    if report.undo:
        rows.append(_Row("phase", "undo", "undo (newest first)", "undo", None, None, "", ""))
        rows += [_undo_row(undo) for undo in report.undo]
    return rows + [row for phase, steps in after for row in _phase_rows(phase, steps)]


def _phase_rows(phase: str, steps: Sequence[StepReport]) -> list[_Row]:
    return [_phase_row(phase, steps), *(_step_row(step) for step in steps)]


def _by_phase(steps: Sequence[StepReport]) -> list[tuple[str, list[StepReport]]]:
    """Consecutive steps of one phase, in report order."""
    groups: list[tuple[str, list[StepReport]]] = []
    for step in steps:
        if groups and groups[-1][0] == step.phase:
            groups[-1][1].append(step)
        else:
            groups.append((step.phase, [step]))
    return groups


def _phase_row(phase: str, steps: Sequence[StepReport]) -> _Row:
    starts = [s.started_at for s in steps if s.started_at]
    ends = [s.finished_at for s in steps if s.finished_at]
    start = min(starts) if starts else None
    end = max(ends) if ends else None
    span = (end - start).total_seconds() if start and end else None
    note = duration(span) if span is not None else "nothing ran"
    return _Row("phase", phase, phase, "phase", start, end or start, note, f"{phase}: {note}")


def _step_row(step: StepReport) -> _Row:
    status = step.status.replace("_", " ")
    if step.started_at is None:
        note = f"{status}: {step.skip_reason}" if step.skip_reason else status
    else:
        note = duration(step.duration_s) + ("" if step.status == "passed" else f" {status}")
    title = f"{step.id} ({step.type}) {status}, {duration(step.duration_s)}: {step_detail(step)}"
    end = step.finished_at
    if step.started_at is not None and end is None and step.duration_s is not None:
        end = step.started_at + timedelta(seconds=step.duration_s)
    return _Row("step", step.id, step.id, step.status, step.started_at, end, note, title)


def _undo_row(undo: UndoReport) -> _Row:
    end = undo.started_at + timedelta(seconds=undo.duration_s)
    note = duration(undo.duration_s) + ("" if undo.status == "undone" else f" {undo.status}")
    title = f"undo {undo.step_id} ({undo.type}) {undo.status}: {undo.detail}"
    return _Row("undo", undo.step_id, f"undo {undo.step_id}", undo.status, undo.started_at, end,
                note, title)  # fmt: skip


def _origin(report: RunReport) -> tuple[str, datetime]:
    """Where the timeline starts: t0 for a run, its own start for a rollback's report."""
    if report.kind == "rollback":
        return "rollback start", report.started_at
    return "t0", report.disaster_at


def _scale(report: RunReport, rows: Iterable[_Row]) -> _Scale:
    moments = [_origin(report)[1], report.started_at, report.finished_at]
    moments += [m for row in rows for m in (row.start, row.end) if m is not None]
    if recovered := recovered_at(report):
        moments.append(recovered)
    return _Scale(origin=min(moments), end=max(moments))


def _timeline_svg(report: RunReport, rows: Sequence[_Row]) -> str:
    scale = _scale(report, rows)
    strips_top = _AXIS_H + len(rows) * _ROW_H
    strips = [_probe_strip(p, report.disaster_at, strips_top + i * _ROW_H, scale)
              for i, p in enumerate(report.probes)]  # fmt: skip
    height = strips_top + len(strips) * _ROW_H + 8
    parts = [_HATCH, _axis(scale, height), _markers(report, scale, height)]
    cursor = scale.origin
    for index, row in enumerate(rows):
        parts.append(_draw_row(row, _AXIS_H + index * _ROW_H, scale, cursor))
        cursor = row.end or row.start or cursor
    parts += strips
    return (
        f'<svg class="gantt" viewBox="0 0 {_WIDTH} {height}" role="img" '
        f'aria-label="timeline of the run">{"".join(parts)}</svg>'
    )


def _probe_strip(probe: ProbeReport, t0: datetime, top: int, scale: _Scale) -> str:
    """Under the steps: a cell per attempt, from its start to the next one, green when it was
    answered as expected; a tick where users were served from."""
    text_y = top + _ROW_H / 2 + 4
    cell_top = top + (_ROW_H - _BAR_H) / 2
    ends = [a.at for a in probe.timeline[1:]] + [probe.stopped_at or scale.end]
    cells = "".join(
        _probe_cell(attempt, end, t0, cell_top, scale)
        for attempt, end in zip(probe.timeline, ends, strict=True)
    )
    served = ""
    if probe.users_served_at is not None:
        x, since = scale.x(probe.users_served_at), _since(probe.users_served_at, t0)
        served = (
            f'<line class="served" x1="{x:.2f}" y1="{top + 1}" x2="{x:.2f}" '
            f'y2="{top + _ROW_H - 1}"><title>users served from t0{_esc(_offset_label(since))}'
            "</title></line>"
        )
    title = f"probe {probe.name}: {probe_target(probe)}"
    return (
        f'<g class="row probe" data-probe="{_esc(probe.name)}"><title>{_esc(title)}</title>'
        f'<text class="label" x="{_GUTTER - 8}" y="{text_y}" text-anchor="end">'
        f"{_esc('probe ' + probe.name)}</text>{cells}{served}</g>"
    )


def _probe_cell(
    attempt: ProbeAttempt, end: datetime, t0: datetime, top: float, scale: _Scale
) -> str:
    x0 = scale.x(attempt.at)
    span = scale.x(max(end, attempt.at)) - x0
    width = max(span - 0.5 if span > 3 else span, 1.0)  # a hairline between wide cells
    answer = f"{attempt.status}" if attempt.status is not None else "no answer"
    latency = f" in {duration(attempt.latency_ms / 1000)}" if attempt.latency_ms is not None else ""
    why = f": {attempt.error}" if attempt.error else ""
    hover = (
        f"{_offset_label(_since(attempt.at, t0))} ({attempt.phase or '-'}) {answer}{latency}{why}"
    )
    css = "cell ok" if attempt.ok else "cell fail"
    return (
        f'<rect class="{css}" x="{x0:.2f}" y="{top:.1f}" width="{width:.2f}" height="{_BAR_H}">'
        f"<title>{_esc(hover)}</title></rect>"
    )


def _since(moment: datetime, t0: datetime) -> float:
    return (moment - t0).total_seconds()


def _axis(scale: _Scale, height: int) -> str:
    step_s = next((s for s in _NICE_STEPS_S if scale.span_s / s <= 8), None)
    step_s = step_s or 86400.0 * -(-scale.span_s // (8 * 86400))
    parts = []
    offset = 0.0
    while offset <= scale.span_s + 1e-9:
        x = scale.x(scale.origin + timedelta(seconds=offset))
        parts.append(
            f'<line class="grid" x1="{x:.1f}" y1="{_AXIS_H - 6}" x2="{x:.1f}" y2="{height}"/>'
            f'<text class="tick" x="{x:.1f}" y="{_AXIS_H - 10}" text-anchor="middle">'
            f"{_esc(_offset_label(offset))}</text>"
        )
        offset += step_s
    return "".join(parts)


def _offset_label(seconds: float) -> str:
    """Time since the left edge, in the largest whole units that fit: ``1m30s``, ``2h``."""
    if seconds < 60:
        return f"+{round(seconds, 1):g}s"
    whole = round(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    units = [(days, "d"), (hours, "h"), (minutes, "m"), (secs, "s")]
    return "+" + "".join(f"{value}{unit}" for value, unit in units if value)


def _markers(report: RunReport, scale: _Scale, height: int) -> str:
    marks = [_origin(report)]
    if abs((report.started_at - marks[0][1]).total_seconds()) >= 0.5:
        marks.append(("run start", report.started_at))
    if recovered := recovered_at(report):
        marks.append(("recovered", recovered))
    return "".join(
        f'<line class="mark" x1="{scale.x(moment):.1f}" y1="{_AXIS_H - 4}" '
        f'x2="{scale.x(moment):.1f}" y2="{height}"><title>{_esc(name)} '
        f"{_esc(stamp(moment))}</title></line>"
        f'<text class="mark-text" x="{scale.x(moment) + 3:.1f}" y="{height - 2}">'
        f"{_esc(name)}</text>"
        for name, moment in marks
    )


def _draw_row(row: _Row, top: int, scale: _Scale, cursor: datetime) -> str:
    status = _css_name(row.status)
    label = row.label if len(row.label) <= _LABEL_CHARS else row.label[: _LABEL_CHARS - 1] + "…"
    text_y = top + _ROW_H / 2 + 4
    label_css = "label phase-label" if row.kind == "phase" else "label"
    head = (
        f'<g class="row {row.kind} s-{status}" data-{row.kind}="{_esc(row.key)}" '
        f'data-status="{_esc(row.status)}"><title>{_esc(row.title)}</title>'
        f'<text class="{label_css}" x="{_GUTTER - 8}" y="{text_y}" text-anchor="end">'
        f"{_esc(label)}</text>"
    )
    if row.start is None and row.kind == "phase":  # a heading; say so if none of it ran
        x = scale.x(cursor)
        return head + (_note(row.note, x, x, text_y) if row.note else "") + "</g>"
    bar_top = top + (_ROW_H - _BAR_H) / 2
    return head + _bar(row, bar_top, text_y, scale, cursor) + "</g>"


def _bar(row: _Row, bar_top: float, text_y: float, scale: _Scale, cursor: datetime) -> str:
    if row.start is None:  # never ran: a marker where the run was at that point
        x0 = scale.x(cursor)
        x1, css = x0 + 8, "bar marker"
    else:
        x0 = scale.x(row.start)
        x1 = scale.x(row.end) if row.end else scale.x(scale.end)
        css = "bar" if row.end else "bar open"
    width = max(x1 - x0, 2.0)
    rect = (
        f'<rect class="{css}" x="{x0:.1f}" y="{bar_top:.1f}" width="{width:.1f}" '
        f'height="{_BAR_H}" rx="2"/>'
    )
    return rect + _note(row.note, x0, x0 + width, text_y)


def _note(text: str, x0: float, x1: float, text_y: float) -> str:
    """Beside the bar: after it if there is room, else before it."""
    shown = text if len(text) <= 48 else text[:47] + "…"
    width = len(shown) * _CHAR_W
    fits_after = x1 + 4 + width <= _WIDTH
    fits_before = x0 - 4 - width >= _GUTTER
    x, anchor = (x1 + 4, "start") if fits_after or not fits_before else (x0 - 4, "end")
    return (
        f'<text class="note" x="{x:.1f}" y="{text_y}" text-anchor="{anchor}">{_esc(shown)}</text>'
    )


_HATCH = (
    '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
    'patternTransform="rotate(45)"><rect width="3" height="6" fill="#7b1fa2"/></pattern></defs>'
)


def _legend() -> str:
    statuses = ("passed", "failed", "timed_out", "interrupted", "skipped", "not_run")
    undos = ("undone", "failed", "skipped")
    swatches = [(f"s-{s}", s.replace("_", " ")) for s in statuses]
    swatches += [(f"u-{s}", f"undo {s}") for s in undos]
    swatches += [("p-ok", "probe answered"), ("p-fail", "probe failed")]
    items = "".join(
        f'<span class="swatch {css}"><i></i>{_esc(text)}</span>' for css, text in swatches
    )
    return f'<p class="legend">{items}</p>'


# --- tables -----------------------------------------------------------------------------------


def _steps_table(steps: Sequence[StepReport], t0: datetime) -> str:
    header = ("phase", "step", "type", "status", "start", "time", "tries", "detail")
    rows = [
        (
            step.phase,
            step.id,
            step.type,
            _badge(f"s-{step.status}", step.status.replace("_", " ")),
            _offset_label((step.started_at - t0).total_seconds()) if step.started_at else "-",
            duration(step.duration_s),
            str(step.attempts) if step.attempts else "-",
            step_detail(step),
        )
        for step in steps
    ]
    return '<section class="steps">\n<h2>Steps</h2>\n' + _table(header, rows) + "\n</section>"


def _restore_table(restore: RestoreCompleteness) -> str:
    header = ("kind", "in backup", "restored", "skipped", "excluded", "why")
    rows = [
        (
            k.kind,
            count(k.in_backup),
            count(k.restored),
            str(k.skipped),
            str(k.excluded),
            kind_reasons(k),
        )
        for k in restore.kinds
    ]
    verdict = restore_verdict(restore)
    css = {"complete": "s-passed", "INCOMPLETE": "s-failed"}.get(verdict, "s-skipped")
    heading = (
        '<section class="restores">\n<h2>Restore completeness</h2>\n'
        f"<p>{_badge(css, verdict)} {_esc(restore_heading(restore))}</p>\n"
    )
    return heading + _table(header, rows) + "\n</section>"


def _probes_table(report: RunReport) -> str:
    if not report.probes:
        return ""
    header = ("probe", "url", "every", "ok", "downtime", "served from", "per phase")
    rows = [
        (
            probe.name,
            probe_target(probe),
            duration(probe.interval_s),
            f"{probe.successes}/{probe.attempts} ({percent(probe.success_ratio)})",
            duration(probe.downtime_s),
            "t0" + _offset_label(_since(probe.users_served_at, report.disaster_at))
            if probe.users_served_at
            else f"not served: {probe.not_served}",
            "; ".join(phase_summary(phase) for phase in probe.phases),
        )
        for probe in report.probes
    ]
    heading = '<section class="probes">\n<h2>Probes</h2>\n'
    hint = '<p class="hint">What users reach, from the start of the run to the end of verify.</p>'
    return heading + hint + _table(header, rows) + "\n</section>"


def _cutover_table(report: RunReport) -> str:
    if not report.client_cutover:
        return ""
    header = ("step", "record", "client cut-over")
    rows = [(c.step_id, c.record, cutover_summary(c)) for c in report.client_cutover]
    heading = '<section class="cutover">\n<h2>Client cut-over (DNS)</h2>\n'
    hint = (
        '<p class="hint">Clients that asked before a switch may keep the old answer for its '
        "TTL.</p>"
    )
    return heading + hint + _table(header, rows) + "\n</section>"


def _undo_table(undo: Sequence[UndoReport]) -> str:
    if not undo:
        return ""
    header = ("step", "type", "status", "time", "detail")
    rows = [
        (u.step_id, u.type, _badge(f"u-{u.status}", u.status), duration(u.duration_s), u.detail)
        for u in undo
    ]
    heading = '<section class="undo">\n<h2>Undo (newest first)</h2>\n'
    return heading + _table(header, rows) + "\n</section>"


class _Markup(str):
    """Cell content that is already safe HTML (built here from escaped parts)."""


def _badge(css: str, text: str) -> _Markup:
    return _Markup(f'<span class="badge {_css_name(css)}">{_esc(text)}</span>')


# Columns of free text (errors, reasons, details quoted from remote systems, URLs): they wrap,
# anywhere if they must, and are never cut; the other columns (ids, statuses, times) keep to
# one line, so a long text beside them cannot squeeze them to a letter a line.
_PROSE_COLUMNS = frozenset(
    {"detail", "why", "what said so", "url", "served from", "per phase", "client cut-over",
     "object", "record"}
)  # fmt: skip


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    head = "".join(f"<th>{_esc(cell)}</th>" for cell in header)
    opening = ['<td class="prose">' if name in _PROSE_COLUMNS else "<td>" for name in header]
    body = "".join(
        "<tr>"
        + "".join(f"{td}{_cell(cell)}</td>" for td, cell in zip(opening, row, strict=True))
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cell(value: str) -> str:
    return value if isinstance(value, _Markup) else _esc(value)


# --- step details, footer ---------------------------------------------------------------------


def _step_details(steps: Sequence[StepReport]) -> str:
    blocks = "\n".join(_step_detail(step) for step in steps)
    return f'<section class="details">\n<h2>Step details</h2>\n{blocks}\n</section>'


def _step_detail(step: StepReport) -> str:
    lines = [
        f'<h3>{_esc(step.id)} <span class="type">{_esc(step.type)}</span> '
        f"{_badge(f's-{step.status}', step.status.replace('_', ' '))}</h3>",
        f'<p class="description">{_esc(step.description)}</p>',
    ]
    for css, text in (("summary", step.summary), ("error", step.error), ("skip", step.skip_reason)):
        if text:
            lines.append(f'<p class="{css}">{_esc(text)}</p>')
    if step.facts:
        facts = {key: "null" if value is None else str(value) for key, value in step.facts.items()}
        lines.append(_definitions(facts, "facts"))
    return f'<article class="step-detail" data-step="{_esc(step.id)}">{"".join(lines)}</article>'


def _footer(report: RunReport) -> str:
    parts = []
    if report.notes:
        parts.append("<h2>Notes</h2><ul>")
        parts += [f"<li>{_esc(note)}</li>" for note in report.notes]
        parts.append("</ul>")
    if report.rollback_command:
        parts.append(f"<p>To roll back: <code>{_esc(report.rollback_command)}</code></p>")
    if report.journal:
        parts.append(f"<p>Journal: <code>{_esc(report.journal)}</code></p>")
    return "<footer>" + "\n".join(parts) + "</footer>" if parts else ""


# One colour per status, shared by bars, badges and the legend.
_STEP_COLOURS = {
    "passed": "#2e7d32",
    "failed": "#c62828",
    "timed_out": "#e65100",
    "interrupted": "#7b1fa2",
    "skipped": "#9e9e9e",
    "not_run": "#cfd8dc",
}
_UNDO_COLOURS = {"undone": "#00838f", "failed": "#c62828", "skipped": "#e65100"}
# A read-back, and a rollback's verdict: equal/verified, differs, not verified.
_CHECK_COLOURS = {
    "equal": "#2e7d32",
    "verified": "#2e7d32",
    "differs": "#c62828",
    "DIFFERS": "#c62828",
    "not-verified": "#e65100",
}


def _status_css() -> str:
    rules = [
        f".s-{status} .bar, .s-{status}.badge, .s-{status} i {{ fill: {colour}; "
        f"background: {colour}; }}"
        for status, colour in _STEP_COLOURS.items()
    ]
    rules += [
        f".row.undo.s-{status} .bar, .u-{status}.badge, .u-{status} i {{ fill: {colour}; "
        f"background: {colour}; }}"
        for status, colour in _UNDO_COLOURS.items()
    ]
    rules += [
        f".c-{status}.badge {{ background: {colour}; }}"
        for status, colour in _CHECK_COLOURS.items()
    ]
    return "\n".join(rules) + "\n"


_CSS = """
:root { --ink: #1f2328; --muted: #59636e; --passed: #2e7d32; --failed: #c62828; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
  color: var(--ink); margin: 2rem auto; max-width: 1100px; padding: 0 1rem; line-height: 1.4; }
h1 { margin-bottom: .25rem; } h2 { margin-top: 2rem; border-bottom: 1px solid #d0d7de; }
.verdict { display: inline-block; font-size: 1.3rem; font-weight: 700; padding: .3rem .8rem;
  border-radius: 6px; color: #fff; margin: .3rem 0 1rem; }
.o-passed { background: var(--passed); } .o-target_missed { background: #b26a00; }
.o-failed { background: var(--failed); } .o-interrupted { background: var(--interrupted); }
.o-rollback_incomplete { background: #000; outline: 4px solid var(--failed); }
dl.meta, dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem;
  margin: 0; }
dt { color: var(--muted); } dd { margin: 0; overflow-wrap: anywhere; }
.objective { margin: .5rem 0 1rem; } .objective h3 { margin: .2rem 0; }
.objective-bar { width: 100%; max-width: 640px; height: auto; display: block; }
.track { fill: #eef1f4; } .obj-bar.met { fill: var(--passed); }
.obj-bar.missed { fill: var(--failed); } .obj-bar.unknown { fill: var(--skipped); }
.target { stroke: var(--ink); stroke-width: 2; stroke-dasharray: 3 2; }
.obj-text, .target-text { font-size: 11px; fill: var(--ink); }
.badge { display: inline-block; padding: 0 .45rem; border-radius: 4px; font-size: .85em;
  color: #fff; background: var(--muted); }
.m-met { background: var(--passed); } .m-MISSED { background: var(--failed); }
.scroll { overflow-x: auto; } .gantt { width: 100%; min-width: 760px; height: auto; }
.gantt text { font-size: 11px; fill: var(--ink); }
.gantt .label { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.gantt .phase-label { font-weight: 700; font-family: inherit; }
.gantt .tick, .gantt .mark-text { fill: var(--muted); font-size: 10px; }
.grid { stroke: #eaeef2; } .mark { stroke: var(--muted); stroke-dasharray: 2 3; }
.row.phase .bar { fill: #d0d7de; }
.cell.ok, .p-ok i { fill: var(--passed); background: var(--passed); }
.cell.fail, .p-fail i { fill: var(--failed); background: var(--failed); }
.served { stroke: var(--ink); stroke-width: 2; }
.users-served { margin: 0 0 1rem; font-weight: 600; }
.bar.marker { stroke: var(--ink); stroke-dasharray: 2 2; }
.bar.open { fill: url(#hatch); }
.s-not_run.badge { color: var(--ink); }
.legend { font-size: .85rem; color: var(--muted); }
.swatch { margin-right: 1rem; white-space: nowrap; }
.swatch i { display: inline-block; width: .8rem; height: .8rem; margin-right: .3rem;
  vertical-align: -1px; border-radius: 2px; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #eaeef2;
  vertical-align: top; }
td.prose, p, li { overflow-wrap: anywhere; } td:not(.prose), .badge { white-space: nowrap; }
.step-detail { border-left: 3px solid #d0d7de; padding: .2rem .8rem; margin: .8rem 0; }
.step-detail h3 { margin: .2rem 0; font-size: 1rem; } .type { color: var(--muted); }
.error { color: var(--failed); white-space: pre-wrap; } .hint { color: var(--muted); }
code { background: #f6f8fa; padding: .1rem .3rem; border-radius: 4px; overflow-wrap: anywhere; }
@media print { .scroll { overflow: visible; } .gantt { min-width: 0; } }
"""
