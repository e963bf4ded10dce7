"""What a run does, told once: each event goes to the journal, the log and the terminal view.

The runner decides; the recorder makes sure every decision reaches all three together, so the
journal a rollback reads, the log an operator reads and the live display never disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drill.errors import StepFailed
from drill.executor._events import (
    CutoverMeasured,
    JournalEvent,
    MutationRecord,
    ProbeAttempted,
    ProbesStarted,
    ProbesStopped,
    RecoveryPointSet,
    RestoreCounted,
    RollbackFinished,
    RollbackMeasured,
    RollbackStarted,
    RunFinished,
    RunStarted,
    StepFinished,
    StepNoted,
    StepSkipped,
    StepStarted,
    UndoFinished,
    UndoVerified,
)
from drill.executor._journal import Journal
from drill.executor._progress import READ_BACK, UNDO, Progress
from drill.plan import ResolvedStep
from drill.report import RestoreCompleteness, RollbackCheck
from drill.steps import RecoveryPoint

# What an undo abandoned by a second signal leaves in the journal (the report says more).
ABANDONED = "abandoned by signal"


def _nothing(reason: str) -> None:
    return


class Recorder:
    """``on_journal_failure`` is told, once, when the journal cannot be written (disk full, a
    read-only volume): the run must stop forward work and undo from what it holds in memory.
    """

    def __init__(
        self,
        journal: Journal,
        log: Any,
        progress: Progress,
        on_journal_failure: Callable[[str], None] = _nothing,
    ) -> None:
        self.journal = journal
        self.log = log  # structlog's BoundLogger, or a test's stand-in: needs bind()
        self.progress = progress
        self.on_journal_failure = on_journal_failure
        self.journal_failure: str | None = None
        self._probe_ok: dict[str, bool] = {}  # each probe's last answer, to log its changes

    def _write(self, event: JournalEvent) -> None:
        """Journal one event. A failure is said once and never raised: undo must go on."""
        try:
            self.journal.write(event)
        except OSError as exc:
            if self.journal_failure is None:
                self.journal_failure = f"the journal could not be written: {exc.strerror or exc}"
                self.log.error(
                    "journal_failed",
                    error=self.journal_failure,
                    action="stopping forward work; undoing from what this run holds in memory",
                )
                self.on_journal_failure(self.journal_failure)

    # --- the run ------------------------------------------------------------------------------

    def run_started(self, event: RunStarted) -> None:
        self._write(event)
        when = event.disaster_at.isoformat()
        self.log.info("run_started", plan=event.plan, mode=event.mode, disaster_at=when)
        self.progress.run_started(event.disaster_at)

    def run_finished(self, event: RunFinished) -> None:
        self._write(event)
        self.log.info("run_finished", outcome=event.outcome, exit_code=event.exit_code)

    def rollback_started(self, pending: list[str]) -> None:
        self._write(RollbackStarted(pending=pending))

    def rollback_finished(self, failed: list[str]) -> None:
        self._write(RollbackFinished(failed=failed))

    # --- steps --------------------------------------------------------------------------------

    def step_skipped(self, step: ResolvedStep) -> None:
        reason = step.skip_reason
        self._write(
            StepSkipped(step_id=step.id, type=step.type.name, phase=step.phase, reason=reason)
        )
        self.log.info("step_skipped", step=step.id, reason=reason)
        self.progress.skipped(step.id, reason or "")

    def step_started(self, step: ResolvedStep) -> None:
        self._write(StepStarted(step_id=step.id, type=step.type.name, phase=step.phase))
        self._step_log(step.id).info("step_started", phase=step.phase, type=step.type.name)
        self.progress.started(step.id, step.phase)

    def prior_state(self, record: MutationRecord) -> None:
        """Raises when the record cannot be journaled: the step must not change anything that
        a crash would leave no record of."""
        self._write(record)
        if self.journal_failure is not None:
            raise StepFailed(f"not changed: {self.journal_failure}")

    def step_noted(self, event: StepNoted) -> None:
        self._write(event)
        self._step_log(event.step_id).info("step_noted", key=event.key, value=event.value)

    def recovery_point(self, step_id: str, point: RecoveryPoint) -> None:
        self._write(
            RecoveryPointSet(
                step_id=step_id, at=point.at, source=point.source, point_kind=point.kind
            )
        )
        self._step_log(step_id).info(
            "recovery_point", at=point.at.isoformat(), kind=point.kind, source=point.source
        )
        self.progress.recovery_point(point.at)

    def restore_counted(self, completeness: RestoreCompleteness) -> None:
        self._write(RestoreCounted(completeness=completeness))
        self._step_log(completeness.step_id).info(
            "restore_completeness", complete=completeness.complete, reason=completeness.reason
        )

    def step_finished(self, event: StepFinished) -> None:
        self.progress.finished(event.step_id, event.status, event.error or "")
        self._write(event)
        log = self._step_log(event.step_id)
        (log.info if event.status == "passed" else log.warning)(
            "step_finished", status=event.status, duration_s=event.duration_s, error=event.error
        )

    def client_cutover(self, event: CutoverMeasured) -> None:
        self._write(event)

    # --- probes -------------------------------------------------------------------------------

    def probes_started(self, event: ProbesStarted) -> None:
        self._write(event)
        names = [probe.name for probe in event.probes]
        self.log.info("probes_started", probes=names, skipped=event.skipped)

    def probe_attempted(self, event: ProbeAttempted) -> None:
        """Every attempt is journaled; the log says when a probe starts or stops failing."""
        self._write(event)
        self.progress.probe(event.probe, event.ok, event.latency_ms)
        before = self._probe_ok.get(event.probe)
        self._probe_ok[event.probe] = event.ok
        if before != event.ok:
            # Failing is news, not a fault: a drill's target fails until its failover.
            self.log.info(
                "probe_serving" if event.ok else "probe_failing",
                probe=event.probe,
                phase=event.phase,
                status=event.status,
                error=event.error,
            )

    def probes_stopped(self, event: ProbesStopped) -> None:
        self._write(event)
        self.log.info("probes_stopped")

    # --- undo ---------------------------------------------------------------------------------

    def undo_started(self, step_id: str) -> None:
        self.progress.started(step_id, UNDO)

    def undo_finished(self, event: UndoFinished) -> None:
        self.progress.finished(event.step_id, event.status, event.detail)
        self._write(event)
        log = self._step_log(event.step_id)
        (log.info if event.status == "undone" else log.warning)(
            "undo_finished", status=event.status, detail=event.detail
        )

    def undo_abandoned(self, step_id: str) -> None:
        """Never started: nothing to log or show, but the journal says it is still changed."""
        self._write(UndoFinished(step_id=step_id, status="skipped", detail=ABANDONED))

    def read_back_started(self, step_id: str) -> None:
        """Shown, not journaled: the read-back's result is (``undo_verified``)."""
        self.progress.started(step_id, READ_BACK)

    def undo_verified(self, step_id: str, checks: list[RollbackCheck]) -> None:
        self.progress.finished(step_id, *_worst(checks))
        self._write(UndoVerified(step_id=step_id, checks=checks))
        log = self._step_log(step_id)
        for check in checks:
            (log.info if check.status == "equal" else log.warning)(
                "undo_verified", target=check.target, status=check.status, detail=check.detail
            )

    def rollback_measured(self, event: RollbackMeasured) -> None:
        self._write(event)
        self.log.info("rollback_measured", duration_s=event.duration_s, verified=event.verified)

    def _step_log(self, step_id: str) -> Any:
        return self.log.bind(step=step_id)


def _worst(checks: list[RollbackCheck]) -> tuple[str, str]:
    """What a step's read-back found, in a word and the detail of the object that says so:
    one object that differs makes the step's read-back differ."""
    for status in ("differs", "not verified"):
        for check in checks:
            if check.status == status:
                return status, f"{check.target}: {check.detail}"
    return ("equal", "") if checks else ("not verified", "nothing was read back")
