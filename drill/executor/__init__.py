"""Runs a resolved plan: phases, per-step timeouts and retries, journal, undo, the report.

Public surface: ``Executor``, ``Cancellation``, ``StepRuntime``, journals and their events
(``JournalEntry``, one model per event kind), ``decide_outcome`` and
``decide_rollback_outcome``, ``report_from_journal`` (a report rebuilt from a journal, for runs
that never wrote one), ``rollback_report`` (the report of a ``drill rollback``).

Must not: parse plans or flags, print anything for people (it returns a RunReport and logs
structured events), read the clock except through the injected one, or touch SDKs.
"""

from drill.executor._events import (
    JournalEntry,
    JournalEvent,
    MutationRecord,
    RecoveryPointSet,
    RollbackFinished,
    RollbackMeasured,
    RollbackStarted,
    RunFinished,
    RunStarted,
    StepFinished,
    StepSkipped,
    StepStarted,
    UndoFinished,
    UndoVerified,
)
from drill.executor._journal import (
    FileJournal,
    Journal,
    MemoryJournal,
    RunRecord,
    pending_undos,
    read_events,
    run_record,
    step_notes,
)
from drill.executor._lease import LeaseUnavailable, RunLease, RunLocked
from drill.executor._progress import READ_BACK, UNDO, NoProgress, Progress
from drill.executor._replay import report_from_journal
from drill.executor._rollback_report import rollback_from_journal, rollback_report
from drill.executor._runner import (
    Cancellation,
    Executor,
    RolledBack,
    decide_outcome,
    decide_rollback_outcome,
    rollback_verdict,
)
from drill.executor._signals import cancel_on_signals
from drill.executor._stepcall import StepRuntime

__all__ = [
    "READ_BACK",
    "UNDO",
    "Cancellation",
    "Executor",
    "FileJournal",
    "Journal",
    "JournalEntry",
    "JournalEvent",
    "LeaseUnavailable",
    "MemoryJournal",
    "MutationRecord",
    "NoProgress",
    "Progress",
    "RecoveryPointSet",
    "RollbackFinished",
    "RollbackMeasured",
    "RollbackStarted",
    "RolledBack",
    "RunFinished",
    "RunLease",
    "RunLocked",
    "RunRecord",
    "RunStarted",
    "StepFinished",
    "StepRuntime",
    "StepSkipped",
    "StepStarted",
    "UndoFinished",
    "UndoVerified",
    "cancel_on_signals",
    "decide_outcome",
    "decide_rollback_outcome",
    "pending_undos",
    "read_events",
    "report_from_journal",
    "rollback_from_journal",
    "rollback_report",
    "rollback_verdict",
    "run_record",
    "step_notes",
]
