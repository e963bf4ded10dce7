"""The report as JUnit XML, for CI systems that chart test results.

One ``<testsuite name="drill.PLAN">``: a test case per step (classname ``PLAN.PHASE``), one for
RPO and one for RTO (classname ``PLAN.objectives``), one per undo that did not undo its step
(classname ``PLAN.undo``), and, when the run rolled back, one timing the rollback and one per
object read back after its undo (classname ``PLAN.rollback``; failing when it differs or could
not be verified), so a rollback that left something changed turns CI red. A ``drill rollback``
report (suite ``drill.PLAN.rollback``) has no RPO or RTO cases.

Must not: write files, or emit text ElementTree has not escaped: every value passes through
``printable`` first, so the XML is well-formed whatever a remote system put in an error.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from drill.durations import format_duration
from drill.report._models import (
    Objective,
    RestoreCompleteness,
    RollbackCheck,
    RollbackReport,
    Rpo,
    RunReport,
    StepReport,
    UndoReport,
)
from drill.report._shared import (
    count,
    cutover_summary,
    kind_reasons,
    objective_sentence,
    printable,
    probe_summary,
    recovered_at,
    restore_heading,
    rollback_sentence,
    rollback_verdict,
    rpo_sentence,
)

_FAILING = ("failed", "timed_out", "interrupted")


def render_junit(report: RunReport) -> str:
    objectives = [_rpo_case(report, report.rpo), _rto_case(report, report.rto)]
    cases = [
        *(_step_case(report.plan, step) for step in report.steps),
        *(objectives if report.kind == "run" else []),
        *([_users_served_case(report)] if report.kind == "run" else []),
        *(_restore_case(report.plan, restore) for restore in report.restores),
        *(_undo_case(report.plan, undo) for undo in report.undo if undo.status != "undone"),
        *(_rollback_cases(report.plan, report.rollback) if report.rollback else []),
    ]
    name = f"drill.{report.plan}" + (".rollback" if report.kind == "rollback" else "")
    suite = _element("testsuite", name=name, **_totals(cases, report))
    suite.append(_properties(report))
    suite.extend(cases)
    if footer := _footer(report):
        _text_child(suite, "system-out", footer)
    root = _element("testsuites", name="drill", **_totals(cases, report))
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


# --- test cases -------------------------------------------------------------------------------


def _step_case(plan: str, step: StepReport) -> ET.Element:
    case = _case(f"{plan}.{step.phase}", step.id, step.duration_s)
    if step.status in _FAILING:
        why = step.error or step.skip_reason or step.status.replace("_", " ")
        body = f"{step.type}: {step.description}\n{why}"
        _text_child(case, "failure", body, message=why, type=step.status)
    elif step.status == "skipped":
        _element_in(case, "skipped", message=step.skip_reason or "skipped")
    elif step.status == "not_run":
        _element_in(case, "skipped", message=f"not run: {step.skip_reason or 'not reached'}")
    elif output := _step_output(step):
        _text_child(case, "system-out", output)
    return case


def _step_output(step: StepReport) -> str:
    lines = [step.summary] if step.summary else []
    lines += [f"{key}: {value}" for key, value in step.facts.items()]
    return "\n".join(lines)


def _rpo_case(report: RunReport, rpo: Rpo) -> ET.Element:
    """Not measured is skipped, unless a recovery point later than t0 made it count as missed."""
    case = _case(f"{report.plan}.objectives", "RPO", None)
    sentence = rpo_sentence(rpo, report.tier)
    points = [f"{p.kind}: {p.at.isoformat()} from step {p.step_id}: {p.source}" for p in rpo.points]
    body = "\n".join([sentence, *points])
    if rpo.measured_s is None and rpo.met is not False:
        _element_in(case, "skipped", message=sentence)
    elif rpo.met is False:
        kind = "not_measured" if rpo.measured_s is None else "target_missed"
        _text_child(case, "failure", body, message=sentence, type=kind)
    else:
        _text_child(case, "system-out", body)
    return case


def _rto_case(report: RunReport, rto: Objective) -> ET.Element:
    """Unlike RPO, an RTO nobody measured fails: the run did not show the service recovered."""
    case = _case(f"{report.plan}.objectives", "RTO", None)
    sentence = objective_sentence("RTO", rto, report.tier)
    if rto.measured_s is None or rto.met is False:
        kind = "not_measured" if rto.measured_s is None else "target_missed"
        _text_child(case, "failure", sentence, message=sentence, type=kind)
    else:
        _text_child(case, "system-out", sentence)
    return case


def _restore_case(plan: str, restore: RestoreCompleteness) -> ET.Element:
    """A restore that left asked-for items behind fails; one drill could not compare is
    skipped, never passed."""
    case = _case(f"{plan}.restores", f"{restore.step_id} completeness", None)
    lines = [restore_heading(restore)]
    lines += [
        f"{k.kind}: {count(k.in_backup)} in backup, {count(k.restored)} restored, "
        f"{k.skipped} skipped, {k.excluded} excluded. {kind_reasons(k)}".rstrip(". ")
        for k in restore.kinds
    ]
    body = "\n".join(lines)
    if restore.complete is False:
        _text_child(case, "failure", body, message=restore.reason, type="restore_incomplete")
    elif restore.complete is None:
        _element_in(case, "skipped", message=restore.reason)
    else:
        _text_child(case, "system-out", body)
    return case


def _users_served_case(report: RunReport) -> ET.Element:
    """RTO as users see it: information beside RTO, which alone passes or fails the run; not
    measured (no probes, or one never served) is skipped, saying why."""
    case = _case(f"{report.plan}.objectives", "RTO as users see it", None)
    rto = report.rto
    source = rto.users_served_source or "not measured"
    if rto.users_served_s is None:
        _element_in(case, "skipped", message=f"RTO as users see it {source}")
        return case
    lines = [f"RTO as users see it {format_duration(rto.users_served_s)} ({source})"]
    lines += [f"probe {p.name}: {probe_summary(p, report.disaster_at)}" for p in report.probes]
    lines += [f"{c.step_id} {c.record}: {cutover_summary(c)}" for c in report.client_cutover]
    _text_child(case, "system-out", "\n".join(lines))
    return case


def _undo_case(plan: str, undo: UndoReport) -> ET.Element:
    case = _case(f"{plan}.undo", f"undo {undo.step_id}", undo.duration_s)
    message = f"rollback incomplete: {undo.step_id} ({undo.type}) {undo.status}: {undo.detail}"
    _text_child(case, "failure", message, message=message, type=f"undo_{undo.status}")
    return case


def _rollback_cases(plan: str, rollback: RollbackReport) -> list[ET.Element]:
    """The rollback's time, then a case per object read back: one that differs from its state
    before the run, or could not be read back, fails (the rollback is not complete)."""
    timed = _case(f"{plan}.rollback", "rollback duration", rollback.duration_s)
    _text_child(timed, "system-out", rollback_sentence(rollback))
    return [timed, *(_check_case(plan, check) for check in rollback.checks)]


def _check_case(plan: str, check: RollbackCheck) -> ET.Element:
    case = _case(f"{plan}.rollback", f"read back {check.step_id}: {check.target}", None)
    said = f"{check.target}: {check.detail}"
    if check.status == "equal":
        _text_child(case, "system-out", said)
    else:
        message = f"rollback {check.status}: {said}"
        _text_child(case, "failure", message, message=message, type=check.status.replace(" ", "_"))
    return case


def _case(classname: str, name: str, duration_s: float | None) -> ET.Element:
    return _element("testcase", classname=classname, name=name, time=_seconds(duration_s))


# --- the suite --------------------------------------------------------------------------------


def _totals(cases: list[ET.Element], report: RunReport) -> dict[str, str]:
    return {
        "tests": str(len(cases)),
        "failures": str(sum(case.find("failure") is not None for case in cases)),
        "errors": "0",
        "skipped": str(sum(case.find("skipped") is not None for case in cases)),
        "time": _seconds((report.finished_at - report.started_at).total_seconds()),
        "timestamp": _timestamp(report.started_at),
    }


def _properties(report: RunReport) -> ET.Element:
    recovered = recovered_at(report)
    values = {
        "kind": report.kind,
        "run_id": report.run_id,
        "mode": report.mode,
        "outcome": report.outcome,
        "exit_code": str(report.exit_code),
        "service": report.service,
        "tier": report.tier,
        "disaster_at": report.disaster_at.isoformat(),
        "disaster_at_source": report.disaster_at_source,
        "recovery_point": report.recovery_point.isoformat() if report.recovery_point else None,
        "rpo_from_data_s": _number(report.rpo.from_data_s),
        "rpo_from_backup_s": _number(report.rpo.from_backup_s),
        "rpo_target_s": _number(report.rpo.target_s),
        "rpo_target_source": report.rpo.target_source,
        "recovered_at": recovered.isoformat() if recovered else None,
        "rto_target_s": _number(report.rto.target_s),
        "rto_target_source": report.rto.target_source,
        "rto_users_served_s": _number(report.rto.users_served_s),
        "journal": report.journal,
        "rollback_command": report.rollback_command,
        "rollback_s": str(report.rollback.duration_s) if report.rollback else None,
        "rollback_verified": rollback_verdict(report.rollback) if report.rollback else None,
    }
    properties = ET.Element("properties")
    for name, value in values.items():
        if value is not None:
            _element_in(properties, "property", name=name, value=value)
    return properties


def _footer(report: RunReport) -> str:
    lines = [f"note: {note}" for note in report.notes]
    if report.rollback_command:
        lines.append(f"to roll back: {report.rollback_command}")
    return "\n".join(lines)


# --- XML plumbing: everything printable, nothing unescaped ------------------------------------


def _element(tag: str, **attributes: str) -> ET.Element:
    return ET.Element(tag, {key: printable(value) for key, value in attributes.items()})


def _element_in(parent: ET.Element, tag: str, **attributes: str) -> ET.Element:
    child = _element(tag, **attributes)
    parent.append(child)
    return child


def _text_child(parent: ET.Element, tag: str, text: str, **attributes: str) -> None:
    _element_in(parent, tag, **attributes).text = printable(text)


def _number(value: float | None) -> str | None:
    return None if value is None else repr(value)


def _seconds(value: float | None) -> str:
    return f"{value or 0.0:.3f}"


def _timestamp(moment: datetime) -> str:
    # The JUnit schema's timestamp has no zone; these are UTC.
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
