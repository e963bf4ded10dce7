"""What the renderers share: verdict words, text safe for any markup, objective sentences.

Must not: know about any one output format; escaping for a format belongs to its renderer.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from drill.durations import format_duration
from drill.report._models import (
    ClientCutover,
    Objective,
    ProbePhase,
    ProbeReport,
    RecoveryPointReport,
    RestoreCompleteness,
    RestoredKind,
    RollbackReport,
    Rpo,
    RunReport,
    StepReport,
)

# Characters XML 1.0 cannot carry at all (tab, newline and carriage return are fine), plus DEL.
# Step errors quote remote systems verbatim, so anything can arrive here, ANSI colour included.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def printable(text: str) -> str:
    """``text`` without the characters no markup can hold."""
    return _UNPRINTABLE.sub("", text)


def stamp(moment: datetime) -> str:
    """A UTC timestamp as people read it: ``2026-11-24 00:52:37Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def duration(seconds: float | None) -> str:
    return format_duration(seconds) if seconds is not None else "-"


def step_detail(step: StepReport) -> str:
    """The one line that says most about a step: its error, else what it found or why it
    did not run."""
    return step.error or step.summary or step.skip_reason or step.description


def recovered_at(report: RunReport) -> datetime | None:
    """When the service was shown recovered: only a run whose RTO (the service-restored
    clock) was measured was; a verify step that passed before another failed shows nothing."""
    return report.recovered_at if report.rto.measured_s is not None else None


def objective_verdict(objective: Objective) -> str:
    if objective.met is None:
        return "not measured" if objective.measured_s is None else "n/a"
    return "met" if objective.met else "MISSED"


def target_text(objective: Objective, tier: str) -> str:
    """``15m``, or for a target the plan or the config file set, where it came from and the
    tier default it replaced: ``30m (plan override; critical tier default 15m)``."""
    return objective.target_origin().annotate(objective.target_s, tier)


def objective_sentence(label: str, objective: Objective, tier: str) -> str:
    """Measured against target, with the margin, in one sentence (for CI and tickets)."""
    target = target_text(objective, tier)
    if objective.measured_s is None:
        missed = " (counts as missed)" if objective.met is False else ""
        return f"{label} not measured{missed}: {objective.source}; target {target}"
    measured = format_duration(objective.measured_s)
    margin = "" if objective.margin_s is None else f", margin {format_duration(objective.margin_s)}"
    verdict = {True: "within", False: "missed", None: "against"}[objective.met]
    return f"{label} {measured} {verdict} target {target}{margin} ({objective.source})"


def restore_verdict(restore: RestoreCompleteness) -> str:
    """``complete``, ``INCOMPLETE`` or ``not measured``: a restore is complete only when drill
    compared it with the backup."""
    if restore.complete is None:
        return "not measured"
    return "complete" if restore.complete else "INCOMPLETE"


def restore_heading(restore: RestoreCompleteness) -> str:
    source = f"restore {restore.restore} of backup {restore.backup}"
    return f"{restore.step_id}: {source}: {restore_verdict(restore)} ({restore.reason})"


def count(value: int | None) -> str:
    return "?" if value is None else str(value)


def kind_reasons(kind: RestoredKind) -> str:
    """Why items of a kind were not restored: skipped ones first, then rules that left some out."""
    said = [f"skipped: {why}" for why in kind.why_skipped]
    said += [f"excluded: {why}" for why in kind.why_excluded]
    return "; ".join(said)


def rollback_verdict(rollback: RollbackReport) -> str:
    """``verified``, ``DIFFERS`` or ``not verified``: one word for badges and tables."""
    return {True: "verified", False: "DIFFERS", None: "not verified"}[rollback.verified]


def rollback_sentence(rollback: RollbackReport) -> str:
    """How long the rollback took and what its read-back found, in one sentence."""
    total = len(rollback.checks)
    differ = sum(check.status == "differs" for check in rollback.checks)
    unread = sum(check.status == "not verified" for check in rollback.checks)
    took = f"rolled back in {format_duration(rollback.duration_s)}"
    if rollback.verified is True:
        every = "the one object" if total == 1 else f"all {total} objects"
        them = "it" if total == 1 else "them"
        return f"{took}; verified: {every} read back as drill found {them}"
    said = []
    if differ:
        said.append(f"{differ} of {total} objects differ from how drill found them")
    if unread:
        said.append(f"{unread} of {total} could not be verified")
    return f"{took}; NOT verified: {', '.join(said) or 'nothing was read back'}"


def title(report: RunReport) -> str:
    """What the report is of: a run, or a rollback of one; a sandbox run says so, so that no
    reader (a Slack channel, a dashboard) takes a rehearsal for a real failover."""
    where = " in the sandbox" if report.sandbox else ""
    if report.kind == "rollback":
        return f"drill rollback of {report.plan} run {report.run_id}{where}"
    return f"drill {report.plan}{where}"


# --- RPO from data and from backup metadata ---------------------------------------------------

KIND_WORDS = {"data": "from data", "backup metadata": "from backup metadata"}


def rpo_figures(rpo: Rpo) -> str:
    """Both RPO figures, each named by its kind (``from data 2m43s; from backup metadata
    2m32s``); empty when neither was measured."""
    figures = [
        f"{KIND_WORDS[kind]} {format_duration(seconds)}"
        for kind, seconds in (("data", rpo.from_data_s), ("backup metadata", rpo.from_backup_s))
        if seconds is not None
    ]
    return "; ".join(figures)


def before_t0(report: RunReport, point: RecoveryPointReport) -> float:
    """How long before t0 a recovery point is (negative: after t0, which is an error)."""
    return (report.disaster_at - point.at).total_seconds()


def rpo_sentence(rpo: Rpo, tier: str) -> str:
    """The RPO sentence, with both figures when a run measured them."""
    figures = rpo_figures(rpo)
    return objective_sentence("RPO", rpo, tier) + (f"; {figures}" if figures else "")


def percent(ratio: float | None) -> str:
    return "-" if ratio is None else f"{ratio:.0%}"


def probe_target(probe: ProbeReport) -> str:
    """What the probe asked: its URL, and the API server it asked it through, if any."""
    if probe.through is None:
        return probe.url
    return f"{probe.url} (through the API server of context role {probe.through})"


def probe_summary(probe: ProbeReport, t0: datetime) -> str:
    """``57/80 ok (71%), down 3.4s, served from t0+12.0s``, or why it was not served."""
    head = f"{probe.successes}/{probe.attempts} ok ({percent(probe.success_ratio)})"
    down = f"down {duration(probe.downtime_s)}"
    if probe.users_served_at is None:
        return f"{head}, {down}, not served at the end of verify: {probe.not_served}"
    after = format_duration((probe.users_served_at - t0).total_seconds())
    return f"{head}, {down}, served from t0+{after}"


def phase_summary(phase: ProbePhase) -> str:
    """``failover: 3/20 ok (15%), latency p50 3ms p95 5ms``."""
    text = f"{phase.phase}: {phase.successes}/{phase.attempts} ok ({percent(phase.success_ratio)})"
    if phase.latency_p50_ms is not None and phase.latency_p95_ms is not None:
        text += (
            f", latency p50 {duration(phase.latency_p50_ms / 1000)} "
            f"p95 {duration(phase.latency_p95_ms / 1000)}"
        )
    return text


def cutover_summary(cutover: ClientCutover) -> str:
    """``visible after 1.2s + old TTL 5m00s = worst case 5m01s``, or why it is not known."""
    visible = "visible after " + (
        duration(cutover.visible_after_s) if cutover.visible_after_s is not None else "not measured"
    )
    ttl = "no old record" if cutover.old_ttl_s is None else f"old TTL {duration(cutover.old_ttl_s)}"
    if cutover.worst_case_s is None:
        return f"{visible}; {ttl}; worst case {cutover.not_measured or 'not measured'}"
    return f"{visible} + {ttl} = worst case {duration(cutover.worst_case_s)}"
