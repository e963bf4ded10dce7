"""A run's report rebuilt from its journal, for runs that never wrote ``report.json``.

A run killed with SIGKILL, or on a machine that died, leaves only its journal. That is enough
for what matters afterwards: which steps ran, when and how they ended, the recovery points
(so RPO), the verify steps (so RTO), and what is still changed. The journal does not hold step
summaries or facts; given the plan, step descriptions and the steps the journal never reached
(as ``not_run``) come from it.

The outcome of a run with no ``run_finished`` event:

- ``rollback_incomplete`` (exit 4) in drill mode when a recorded change was never undone:
  something is still changed and a human has to run ``drill rollback``;
- ``interrupted`` (exit 130) otherwise. Live runs never undo by themselves, so there the
  report carries the rollback command instead.

A run that did finish keeps the outcome its ``run_finished`` event recorded. Events after a
later ``drill rollback`` started are not part of the run; a note says what that rollback did.

Must not: write anything, or read the clock: every moment comes from the journal.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Literal, TypeVar

from drill.errors import ExitCode
from drill.executor import _measure
from drill.executor._events import (
    CutoverMeasured,
    JournalEntry,
    MutationRecord,
    ProbeAttempted,
    ProbesStarted,
    ProbesStopped,
    RecoveryPointSet,
    RestoreCounted,
    RollbackStarted,
    RunFinished,
    StepFinished,
    StepSkipped,
    StepStarted,
    UndoFinished,
)
from drill.executor._journal import RunRecord, pending_undos, run_record
from drill.executor._rollback_report import rollback_from_journal
from drill.executor._served import cutover_report, probe_reports, with_users_served
from drill.executor._stepreport import (
    FORWARD_PHASES,
    missing_recovery_point,
    unstarted,
    unverified,
)
from drill.plan import ExecutionPlan, ResolvedStep
from drill.report import (
    Objective,
    Outcome,
    ProbeReport,
    RecoveryPointReport,
    RollbackReport,
    Rpo,
    Rto,
    RunReport,
    StepReport,
    UndoReport,
    rollback_sentence,
)
from drill.steps import STEP_TYPES

AnyObjective = TypeVar("AnyObjective", bound=Objective)

NO_END = "the journal ends while this step was running: the run stopped here"
NO_DETAILS = "the journal holds no step summaries or facts, so this report has none"


def report_from_journal(
    events: Sequence[JournalEntry],
    *,
    plan: ExecutionPlan | None = None,
    journal_path: str | None = None,
    rollback_command: str | None = None,
    report_unreadable: str | None = None,
) -> RunReport:
    """The report of the run whose journal ``events`` are (as ``read_events`` returns them).

    ``plan``: the run's plan resolved for its mode, for step descriptions and unreached
    steps. ``rollback_command``: shown when something the run changed is still changed.
    ``report_unreadable``: why the report the run wrote cannot be read, when that is why it
    is rebuilt (rather than its being missing).
    Raises UsageError for a journal without a ``run_started`` event.
    """
    start = run_record(events)
    run, later = _split_at_rollback(list(events))
    finished = next((e.event for e in run if isinstance(e.event, RunFinished)), None)
    steps = _steps(run, plan, start.mode, finished is not None)
    pending = [m.step_id for m in pending_undos(events)]
    outcome, exit_code = _outcome(finished, start.mode, pending)
    rpo, rto, point, recovered_at = _objectives(start, plan, run, steps, finished is not None)
    probes, rto = _probes(run, rto, start.disaster_at)
    t0_source = start.disaster_at_source or _guess_t0_source(start)
    return RunReport(
        run_id=start.run_id,
        plan=start.plan,
        plan_file=start.plan_file,
        service=start.service or (plan.service if plan else "unknown"),
        tier=start.tier or (plan.tier if plan else "unknown"),
        mode=start.mode,
        sandbox=bool(start.sandbox),
        outcome=outcome,
        exit_code=exit_code,
        started_at=start.disaster_at if t0_source == "run start" else start.ts,
        finished_at=run[-1].ts,  # run_finished, when the run got that far
        disaster_at=start.disaster_at,
        disaster_at_source=t0_source,
        recovery_point=point.at if point else None,
        recovered_at=recovered_at,
        rpo=rpo,
        rto=rto,
        contexts=start.contexts,
        steps=steps,
        undo=_undos(run),
        rollback=rollback_from_journal(run),
        restores=[e.event.completeness for e in run if isinstance(e.event, RestoreCounted)],
        probes=probes,
        client_cutover=[
            cutover_report(e.event) for e in run if isinstance(e.event, CutoverMeasured)
        ],
        rollback_command=rollback_command if pending or start.mode == "live" else None,
        journal=journal_path,
        notes=_notes(start, finished, run, later, pending, rollback_command, report_unreadable),
    )


def _split_at_rollback(
    entries: list[JournalEntry],
) -> tuple[list[JournalEntry], list[JournalEntry]]:
    """The run's own events, and those of any ``drill rollback`` run afterwards."""
    rollback = (i for i, e in enumerate(entries) if isinstance(e.event, RollbackStarted))
    cut = next(rollback, len(entries))
    return entries[:cut], entries[cut:]


def _guess_t0_source(start: RunRecord) -> Literal["run start", "--disaster-at"]:
    # Older journals: a t0 taken at run start is written within moments of it.
    gap_s = abs((start.ts - start.disaster_at).total_seconds())
    return "run start" if gap_s < 1.0 else "--disaster-at"


def _outcome(finished: RunFinished | None, mode: str, pending: list[str]) -> tuple[Outcome, int]:
    if finished is not None:
        return finished.outcome, finished.exit_code
    if mode == "drill" and pending:
        return "rollback_incomplete", int(ExitCode.ROLLBACK_INCOMPLETE)
    return "interrupted", int(ExitCode.INTERRUPTED)


# --- steps ------------------------------------------------------------------------------------


def _steps(
    run: list[JournalEntry], plan: ExecutionPlan | None, mode: str, finished: bool
) -> list[StepReport]:
    ranks = _phase_ranks(mode)
    planned = {step.id: step for step in plan.steps()} if plan else {}
    seen: dict[str, StepReport] = {}
    for entry in run:
        _apply(entry, seen, planned)
    why = "not run; the journal does not say why" if finished else "not reached: the run ended"
    for step in _unreached(list(planned.values()), seen, ranks):
        seen[step.id] = unstarted(step, "not_run", why)
    order = {step_id: index for index, step_id in enumerate(seen)}
    return sorted(seen.values(), key=lambda s: (ranks.get(s.phase, len(ranks)), order[s.id]))


def _unreached(
    planned: list[ResolvedStep], seen: Mapping[str, StepReport], ranks: Mapping[str, int]
) -> list[ResolvedStep]:
    """Plan steps the journal never mentions that come after the last one it does, in the
    forward phases and in the phases after them. One before it is a step the plan gained
    since the run, not one the run missed."""
    by_rank = sorted(planned, key=lambda step: ranks.get(step.phase, len(ranks)))
    unreached = []
    for forward in (True, False):
        part = [step for step in by_rank if (step.phase in FORWARD_PHASES) == forward]
        last_seen = max((i for i, step in enumerate(part) if step.id in seen), default=-1)
        unreached += [step for step in part[last_seen + 1 :] if step.id not in seen]
    return unreached


def _apply(
    entry: JournalEntry, seen: dict[str, StepReport], planned: dict[str, ResolvedStep]
) -> None:
    event = entry.event
    if isinstance(event, StepStarted):
        seen[event.step_id] = StepReport(
            id=event.step_id,
            type=event.type,
            phase=event.phase,
            description=_description(event.step_id, event.type, planned),
            status="interrupted",
            started_at=entry.ts,
            error=NO_END,
        )
    elif isinstance(event, StepFinished) and event.step_id in seen:
        seen[event.step_id] = _finish(seen[event.step_id], event, entry.ts)
    elif isinstance(event, StepSkipped):
        seen[event.step_id] = _skipped(event, planned.get(event.step_id))


def _finish(step: StepReport, event: StepFinished, written_at: datetime) -> StepReport:
    started_at = step.started_at or written_at
    return step.model_copy(
        update={
            "status": event.status,
            "finished_at": started_at + timedelta(seconds=event.duration_s),
            "duration_s": event.duration_s,
            "attempts": event.attempts,
            "error": event.error,
        }
    )


def _skipped(event: StepSkipped, planned: ResolvedStep | None) -> StepReport:
    if planned is not None and event.type is None:
        return unstarted(planned, "skipped", event.reason)
    step_type = event.type or "unknown"
    return StepReport(
        id=event.step_id,
        type=step_type,
        phase=event.phase or "unknown",
        description=planned.describe() if planned else step_type,
        status="skipped",
        skip_reason=event.reason,
    )


def _description(step_id: str, step_type: str, planned: dict[str, ResolvedStep]) -> str:
    return planned[step_id].describe() if step_id in planned else step_type


def _phase_ranks(mode: str) -> dict[str, int]:
    """The order phases run in: drill mode undoes, then rolls back, then cleans up; live mode
    cleans up and never rolls back."""
    after = ("cleanup", "rollback") if mode == "live" else ("rollback", "cleanup")
    return {phase: rank for rank, phase in enumerate((*FORWARD_PHASES, *after))}


# --- undo, RPO and RTO ------------------------------------------------------------------------


def _undos(run: list[JournalEntry]) -> list[UndoReport]:
    """Undo starts are not journaled; undos run one after another, so each began when the
    event before it was written."""
    types = {e.event.step_id: e.event.type for e in run if isinstance(e.event, MutationRecord)}
    reports = []
    for before, entry in pairwise(run):
        if isinstance(undo := entry.event, UndoFinished):
            reports.append(
                UndoReport(
                    step_id=undo.step_id,
                    type=types.get(undo.step_id, "unknown"),
                    status=undo.status,
                    detail=undo.detail,
                    started_at=before.ts,
                    duration_s=round((entry.ts - before.ts).total_seconds(), 3),
                )
            )
    return reports


def _objectives(
    start: RunRecord,
    plan: ExecutionPlan | None,
    run: list[JournalEntry],
    steps: list[StepReport],
    finished: bool,
) -> tuple[Rpo, Rto, RecoveryPointReport | None, datetime | None]:
    points = [
        RecoveryPointReport(
            step_id=e.event.step_id,
            at=e.event.at,
            kind=e.event.point_kind or "backup metadata",
            source=e.event.source,
        )
        for e in run
        if isinstance(e.event, RecoveryPointSet)
    ]
    recovered_at = _recovered_at(steps)
    why_unverified = unverified(steps)
    if why_unverified is None and not (finished or _forward_done(steps)):
        why_unverified = "the run ended before its verify phase did"
    targets = start.targets or (plan.targets if plan else None)
    known = {s.type: STEP_TYPES[s.type] for s in steps if s.type in STEP_TYPES}
    known.update({step.type.name: step.type for step in plan.steps()} if plan else {})
    missing = missing_recovery_point(steps, known)
    rpo = _measure.rpo(start.disaster_at, points, missing, targets.rpo_s if targets else 0.0)
    point = _measure.measured_point(rpo.points) if rpo.measured_s is not None else None
    rto_s = targets.rto_s if targets else 0.0
    rto = _measure.rto(start.disaster_at, recovered_at, why_unverified, rto_s)
    if targets is None:
        rpo, rto = _without_target(rpo), _without_target(rto)
    else:
        rpo = rpo.with_target_origin(targets.rpo_origin)
        rto = rto.with_target_origin(targets.rto_origin)
    return rpo, rto, point, recovered_at if rto.measured_s is not None else None


def _recovered_at(steps: list[StepReport]) -> datetime | None:
    """When the last verify step passed, as the executor counts it."""
    passed = [
        s.finished_at
        for s in steps
        if s.phase == "verify" and s.status == "passed" and s.finished_at is not None
    ]
    return max(passed, default=None)


def _forward_done(steps: list[StepReport]) -> bool:
    """Evidence the forward phases ended: a later phase began."""
    return any(s.phase not in FORWARD_PHASES and s.started_at for s in steps)


def _without_target(objective: AnyObjective) -> AnyObjective:
    """Neither the journal nor a plan said what the target was: no margin, no verdict."""
    return objective.model_copy(
        update={
            "margin_s": None,
            "met": objective.met if objective.measured_s is None else None,
            "source": f"{objective.source}; target unknown (not in the journal, no plan)",
        }
    )


# --- probes -----------------------------------------------------------------------------------

PROBES_UNSTOPPED = "not measured: the journal ends before the probes stopped at the end of verify"


def _probes(run: list[JournalEntry], rto: Rto, t0: datetime) -> tuple[list[ProbeReport], Rto]:
    """The probes' figures as the run reported them, and RTO with its users-served clock."""
    started = next((e.event for e in run if isinstance(e.event, ProbesStarted)), None)
    if started is None:
        return [], with_users_served(rto, t0, [], [])
    stopped = next((e.event for e in run if isinstance(e.event, ProbesStopped)), None)
    attempts = [e.event for e in run if isinstance(e.event, ProbeAttempted)]
    reports = probe_reports(started, attempts, stopped.at if stopped else run[-1].ts)
    rto = with_users_served(rto, t0, reports, started.skipped)
    if stopped is None:
        rto = rto.model_copy(
            update={"users_served_s": None, "users_served_source": PROBES_UNSTOPPED}
        )
    return reports, rto


# --- notes ------------------------------------------------------------------------------------


def _notes(
    start: RunRecord,
    finished: RunFinished | None,
    run: list[JournalEntry],
    later: list[JournalEntry],
    pending: list[str],
    rollback_command: str | None,
    report_unreadable: str | None,
) -> list[str]:
    report = "is missing" if report_unreadable is None else f"cannot be read ({report_unreadable})"
    if finished is None:
        ended = run[-1].ts.isoformat()
        notes = [f"rebuilt from the journal: the run did not finish (its journal ends at {ended})"]
        if report_unreadable is not None:
            notes.append(f"the report beside the journal {report}")
    else:
        notes = [f"rebuilt from the journal: the run finished, but its report {report}"]
    notes.append(NO_DETAILS)
    if pending:
        how = f"; undo with: {rollback_command}" if rollback_command else ""
        if start.mode == "live":
            notes.append(f"changed by this live run and not rolled back: {', '.join(pending)}{how}")
        else:
            notes.append(f"still changed, never undone: {', '.join(pending)}{how}")
    if later:
        notes.append(_later_rollback(later))
    return notes


def _later_rollback(later: list[JournalEntry]) -> str:
    undos = [e.event for e in later if isinstance(e.event, UndoFinished)]
    done = [e.step_id for e in undos if e.status == "undone"]
    not_done = [f"{e.step_id} ({e.status})" for e in undos if e.status != "undone"]
    return (
        f"drill rollback ran afterwards, from {later[0].ts.isoformat()}: "
        f"undone {', '.join(done) or 'nothing'}"
        + (f"; not undone {', '.join(not_done)}" if not_done else "")
        + _read_back(rollback_from_journal(later))
    )


def _read_back(rollback: RollbackReport | None) -> str:
    if rollback is None:
        return ""
    not_equal = [f"{c.target} {c.status}" for c in rollback.checks if c.status != "equal"]
    return f"; {rollback_sentence(rollback)}" + (f" ({', '.join(not_equal)})" if not_equal else "")
