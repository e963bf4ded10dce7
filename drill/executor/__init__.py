"""Runs a resolved plan: phases, per-step timeouts and retries, journal, undo, the report.

Public surface: ``Executor``, ``Cancellation``, ``StepRuntime``, journals and their events
(``JournalEntry``, one model per event kind), ``decide_outcome`` and
``decide_rollback_outcome``, ``report_from_journal`` (a report rebuilt from a journal, for runs
that never wrote one), ``rollback_report`` (the report of a ``drill rollback``). Each name
loads with its module when first used.

Must not: parse plans or flags, print anything for people (it returns a RunReport and logs
structured events), read the clock except through the injected one, or touch SDKs.
"""

from typing import TYPE_CHECKING

from drill.lazy import lazy_exports

if TYPE_CHECKING:
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
        JournalUnreadable,
        MemoryJournal,
        RunRecord,
        pending_undos,
        raw_events,
        read_events,
        run_record,
        step_notes,
    )
    from drill.executor._lease import LeaseUnavailable, RunLease, RunLocked
    from drill.executor._progress import READ_BACK, UNDO, NoProgress, Progress
    from drill.executor._replay import report_from_journal
    from drill.executor._rollback_report import rollback_from_journal, rollback_report
    from drill.executor._runner import (
        Executor,
        RolledBack,
        decide_outcome,
        decide_rollback_outcome,
        rollback_verdict,
    )
    from drill.executor._signals import Cancellation, cancel_on_signals, stop_signals_to
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
    "JournalUnreadable",
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
    "raw_events",
    "read_events",
    "report_from_journal",
    "rollback_from_journal",
    "rollback_report",
    "rollback_verdict",
    "run_record",
    "step_notes",
    "stop_signals_to",
]

# Each name loads with its module when first used: `drill run` takes its lease (its first
# request) before the runner, the journal and the report models load.
if not TYPE_CHECKING:  # type checkers see the imports above, and flag unknown names
    __getattr__ = lazy_exports(
        __name__,
        {
            "Cancellation": "_signals",
            "Executor": "_runner",
            "FileJournal": "_journal",
            "Journal": "_journal",
            "JournalEntry": "_events",
            "JournalEvent": "_events",
            "LeaseUnavailable": "_lease",
            "MemoryJournal": "_journal",
            "MutationRecord": "_events",
            "NoProgress": "_progress",
            "Progress": "_progress",
            "READ_BACK": "_progress",
            "RecoveryPointSet": "_events",
            "RollbackFinished": "_events",
            "RollbackMeasured": "_events",
            "RollbackStarted": "_events",
            "RolledBack": "_runner",
            "RunFinished": "_events",
            "RunLease": "_lease",
            "RunLocked": "_lease",
            "JournalUnreadable": "_journal",
            "RunRecord": "_journal",
            "RunStarted": "_events",
            "StepFinished": "_events",
            "StepRuntime": "_stepcall",
            "StepSkipped": "_events",
            "StepStarted": "_events",
            "UNDO": "_progress",
            "UndoFinished": "_events",
            "UndoVerified": "_events",
            "cancel_on_signals": "_signals",
            "stop_signals_to": "_signals",
            "decide_outcome": "_runner",
            "decide_rollback_outcome": "_runner",
            "pending_undos": "_journal",
            "raw_events": "_journal",
            "read_events": "_journal",
            "report_from_journal": "_replay",
            "rollback_from_journal": "_rollback_report",
            "rollback_report": "_rollback_report",
            "rollback_verdict": "_runner",
            "run_record": "_journal",
            "step_notes": "_journal",
        },
    )
