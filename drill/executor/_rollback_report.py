"""A rollback as reports show it: timed, and verified object by object.

``rollback_report`` is the report of a ``drill rollback`` (a ``RunReport`` of kind
``rollback``): its failback time, each undo and read-back, its rollback phase, and an outcome
and exit code decided as for runs. ``rollback_from_journal`` rebuilds a rollback's timing and
read-backs from the journal events it wrote, for reports rebuilt from a journal.

Must not: write anything or read the clock: moments are handed in or come from the journal.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from itertools import pairwise

from drill.executor._events import JournalEntry, RollbackMeasured, UndoFinished, UndoVerified
from drill.executor._journal import RunRecord
from drill.executor._runner import RolledBack, decide_rollback_outcome, rollback_verdict
from drill.report import RollbackCheck, RollbackReport, Rpo, Rto, RunReport
from drill.tiers import Targets

NOT_MEASURED = "a rollback measures no RPO or RTO: see the report of the run it rolled back"


def rollback_report(
    run: RunRecord,
    rolled: RolledBack,
    *,
    started_at: datetime,
    finished_at: datetime,
    interrupted: bool = False,
    journal: str | None = None,
    rollback_command: str | None = None,
) -> RunReport:
    """The report of ``drill rollback`` of ``run``. ``started_at``/``finished_at``: the
    command's own (the failback time is ``rollback.duration_s``). ``rollback_command`` is shown
    when something is still changed, to go on where this one stopped."""
    outcome, exit_code = decide_rollback_outcome(rolled, interrupted)
    targets = run.targets or Targets(rpo_s=0.0, rto_s=0.0)
    still_changed = [u.step_id for u in rolled.undo if u.status != "undone"]
    return RunReport(
        kind="rollback",
        run_id=run.run_id,
        plan=run.plan,
        plan_file=run.plan_file,
        service=run.service or "unknown",
        tier=run.tier or "unknown",
        mode=run.mode,
        sandbox=bool(run.sandbox),
        outcome=outcome,
        exit_code=int(exit_code),
        started_at=started_at,
        finished_at=finished_at,
        disaster_at=run.disaster_at,
        disaster_at_source=run.disaster_at_source or "run start",
        rpo=Rpo(
            target_s=targets.rpo_s, measured_s=None, margin_s=None, met=None, source=NOT_MEASURED
        ).with_target_origin(targets.rpo_origin),
        rto=Rto(
            target_s=targets.rto_s, measured_s=None, margin_s=None, met=None, source=NOT_MEASURED
        ).with_target_origin(targets.rto_origin),
        contexts=run.contexts,
        steps=rolled.steps,
        undo=rolled.undo,
        rollback=rolled.rollback,
        rollback_command=rollback_command if still_changed else None,
        journal=journal,
        notes=[f"rollback of run {run.run_id}, which started {run.ts.isoformat()}"],
    )


def rollback_from_journal(entries: Sequence[JournalEntry]) -> RollbackReport | None:
    """The rollback these events (one run's, or one ``drill rollback``'s) hold; None when
    they hold no read-back (nothing was undone, or a drill from before read-backs wrote them).

    A rollback that never measured itself (the process died in it) is not verified, and ends
    at its last read-back."""
    checks = [c for e in entries if isinstance(e.event, UndoVerified) for c in e.event.checks]
    measured = [e.event for e in entries if isinstance(e.event, RollbackMeasured)]
    if measured:
        return _measured(measured[-1], checks)
    if not checks:
        return None
    started_at = _first_undo_started(entries)
    finished_at = max(e.ts for e in entries if isinstance(e.event, UndoVerified))
    verdict = rollback_verdict(checks)
    return RollbackReport(
        started_at=started_at,
        finished_at=finished_at,
        duration_s=round((finished_at - started_at).total_seconds(), 3),
        verified=None if verdict is True else verdict,
        checks=checks,
    )


def _measured(event: RollbackMeasured, checks: list[RollbackCheck]) -> RollbackReport:
    return RollbackReport(
        started_at=event.started_at,
        finished_at=event.started_at + timedelta(seconds=event.duration_s),
        duration_s=event.duration_s,
        verified=event.verified,
        checks=checks,
    )


def _first_undo_started(entries: Sequence[JournalEntry]) -> datetime:
    """Undo starts are not journaled: the first began when the event before it was written."""
    for before, entry in pairwise(entries):
        if isinstance(entry.event, UndoFinished | UndoVerified):
            return before.ts
    return entries[0].ts
