"""The executor: phases in order, every step timed, every mutation journaled and undone.

Order of a run:
  preflight -> restore -> failover -> verify        (stops at the first failure)
  drill mode: undo every mutation, newest first -> rollback phase -> cleanup phase
  live mode:  cleanup phase if everything passed; never an automatic rollback
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from drill.clock import Anchor
from drill.errors import ExitCode
from drill.executor import _measure
from drill.executor._journal import Journal, MutationRecord
from drill.executor._stepcall import Attempts, StepRuntime, classify, with_retries
from drill.plan import ExecutionPlan, PhaseName, ResolvedStep, Stage
from drill.report import Objective, Outcome, RunReport, StepReport, StepStatus, UndoReport
from drill.steps import STEP_TYPES, AnyStepType, RecoveryPoint, StepResult

FORWARD_PHASES: tuple[PhaseName, ...] = ("preflight", "restore", "failover", "verify")


@dataclass(frozen=True)
class Cancellation:
    """Two levels of stop: the first signal stops forward work, a later one gives up undoing."""

    stop_work: threading.Event = field(default_factory=threading.Event)
    abandon_undo: threading.Event = field(default_factory=threading.Event)


@dataclass
class _RunState:
    """What the run has learned so far; one per run, guarded for parallel groups."""

    steps: list[StepReport] = field(default_factory=list)
    mutations: list[MutationRecord] = field(default_factory=list)
    recovery_points: list[RecoveryPoint] = field(default_factory=list)
    recovered_at: datetime | None = None
    stopped: bool = False  # a signal kept forward steps from starting
    lock: threading.Lock = field(default_factory=threading.Lock)

    def forward_failed(self) -> bool:
        return any(
            s.status in ("failed", "timed_out") for s in self.steps if s.phase in FORWARD_PHASES
        )

    def interrupted(self) -> bool:
        return self.stopped or any(s.status == "interrupted" for s in self.steps)


class Executor:
    def __init__(
        self,
        runtime: StepRuntime,
        journal: Journal,
        cancellation: Cancellation,
        journal_path: str | None = None,
        rollback_command: str | None = None,
        step_types: Mapping[str, AnyStepType] = STEP_TYPES,
    ) -> None:
        self.runtime = runtime
        self.step_types = step_types
        self.journal = journal
        self.cancellation = cancellation
        self.journal_path = journal_path
        self.rollback_command = rollback_command
        self.log: Any = runtime.log

    # --- the run ------------------------------------------------------------------------------

    def run(self, plan: ExecutionPlan, disaster_at: datetime | None = None) -> RunReport:
        anchor = Anchor(self.runtime.clock)
        t0 = disaster_at or anchor.wall
        self.journal.write(
            "run_started",
            plan=plan.name,
            plan_file=plan.source,
            mode=plan.mode,
            service=plan.service,
            tier=plan.tier,
            targets={"rpo_s": plan.targets.rpo_s, "rto_s": plan.targets.rto_s},
            disaster_at=t0.isoformat(),
            disaster_at_source="--disaster-at" if disaster_at is not None else "run start",
            contexts=dict(plan.contexts),
        )
        self.log.info("run_started", plan=plan.name, mode=plan.mode, disaster_at=t0.isoformat())
        state = _RunState()
        for phase in FORWARD_PHASES:
            for stage in plan.phases.get(phase, ()):
                self._run_stage(stage, plan, state, anchor, self.cancellation.stop_work)
        undo = self._finish(plan, state, anchor)
        return self._report(plan, state, undo, anchor, t0, disaster_at is not None)

    def _finish(self, plan: ExecutionPlan, state: _RunState, anchor: Anchor) -> list[UndoReport]:
        if plan.mode == "live":
            if not state.forward_failed() and not state.interrupted():
                self._run_phase("cleanup", plan, state, anchor)
            else:
                self._mark_not_run(plan, state, "cleanup", "not run in live mode after a failure")
            self._mark_not_run(plan, state, "rollback", "live mode never rolls back by itself")
            return []
        undo = self.undo_all(list(state.mutations), anchor)
        self._run_phase("rollback", plan, state, anchor)
        self._run_phase("cleanup", plan, state, anchor)
        return undo

    def _run_phase(
        self, phase: PhaseName, plan: ExecutionPlan, state: _RunState, anchor: Anchor
    ) -> None:
        # Undoing and cleaning up must go on after the signal that stopped the forward work.
        for stage in plan.phases.get(phase, ()):
            self._run_stage(stage, plan, state, anchor, self.cancellation.abandon_undo)

    def _mark_not_run(
        self, plan: ExecutionPlan, state: _RunState, phase: PhaseName, reason: str
    ) -> None:
        for step in plan.steps(phase):
            state.steps.append(_unstarted(step, "not_run", reason))

    # --- stages and steps ---------------------------------------------------------------------

    def _run_stage(
        self,
        stage: Stage,
        plan: ExecutionPlan,
        state: _RunState,
        anchor: Anchor,
        cancel: threading.Event,
    ) -> None:
        blocked = cancel.is_set() or (
            stage.steps[0].phase in FORWARD_PHASES
            and (state.forward_failed() or state.interrupted())
        )
        if blocked:
            forward = stage.steps[0].phase in FORWARD_PHASES
            if cancel.is_set() and not forward:
                # Undo work abandoned by a signal is unfinished business, not a normal skip.
                state.steps.extend(
                    _unstarted(step, "interrupted", "abandoned by signal before it started")
                    for step in stage.steps
                )
                return
            state.stopped = state.stopped or cancel.is_set()
            reason = (
                "interrupted before it started" if cancel.is_set() else "an earlier step failed"
            )
            state.steps.extend(_unstarted(step, "not_run", reason) for step in stage.steps)
            return
        if not stage.parallel:
            state.steps.append(self._run_step(stage.steps[0], plan, state, anchor, cancel))
            return
        with ThreadPoolExecutor(max_workers=len(stage.steps), thread_name_prefix="step") as pool:
            futures = [
                pool.submit(self._run_step, step, plan, state, anchor, cancel)
                for step in stage.steps
            ]
            state.steps.extend(future.result() for future in futures)

    def _run_step(
        self,
        step: ResolvedStep,
        plan: ExecutionPlan,
        state: _RunState,
        anchor: Anchor,
        cancel: threading.Event,
    ) -> StepReport:
        if step.skipped or step.params is None:
            self.journal.write(
                "step_skipped",
                step_id=step.id,
                type=step.type.name,
                phase=step.phase,
                reason=step.skip_reason,
            )
            self.log.info("step_skipped", step=step.id, reason=step.skip_reason)
            return _unstarted(step, "skipped", step.skip_reason)
        context = plan.contexts.get(step.context_role) if step.context_role else None
        env = self.runtime.env_for(step.id, context, step.timeout_s, cancel)
        started_mono, started_at = anchor.stamp()
        self.journal.write("step_started", step_id=step.id, type=step.type.name, phase=step.phase)
        env.log.info("step_started", phase=step.phase, type=step.type.name)
        self.runtime.progress.started(step.id, step.phase)
        attempts = Attempts()
        result: StepResult | None = None
        failure = None
        try:
            if step.type.mutating:
                self._record_prior_state(step, context, env, state, attempts)
            result = with_retries(
                lambda: step.type.run(step.params, env), env, step.retries, attempts
            )
        except Exception as exc:  # noqa: BLE001 - any failure must still lead to rollback
            failure = classify(exc)
        finished_mono, finished_at = anchor.stamp()
        self.runtime.progress.finished(step.id)
        duration_s = round(finished_mono - started_mono, 3)
        if result is not None:
            self._note_result(step, result, finished_at, state)
        status = failure.status if failure else "passed"
        self.journal.write(
            "step_finished",
            step_id=step.id,
            status=status,
            duration_s=duration_s,
            attempts=attempts.count,
            error=failure.message if failure else None,
        )
        log_event = env.log.info if failure is None else env.log.warning
        log_event(
            "step_finished", status=status, duration_s=duration_s, error=failure and failure.message
        )
        return StepReport(
            id=step.id,
            type=step.type.name,
            phase=step.phase,
            description=step.describe(),
            status=status,
            started_at=started_at,
            finished_at=finished_at,
            duration_s=duration_s,
            attempts=attempts.count,
            error=failure.message if failure else None,
            summary=result.summary if result else None,
            facts=dict(result.facts) if result else {},
        )

    def _record_prior_state(
        self,
        step: ResolvedStep,
        context: str | None,
        env: Any,
        state: _RunState,
        attempts: Attempts,
    ) -> None:
        """Snapshot what the step will change, and journal it, before it changes anything."""
        assert step.params is not None, "skipped steps are never run"
        params = step.params
        prior = with_retries(
            lambda: step.type.capture_prior_state(step.params, env), env, step.retries, attempts
        )
        record = MutationRecord(
            step_id=step.id,
            type=step.type.name,
            params=params.as_json(),
            prior=prior,
            context=context,
            timeout_s=step.timeout_s,
            retries=step.retries,
        )
        self.journal.write("prior_state", **record.model_dump(mode="json"))
        with state.lock:
            state.mutations.append(record)

    def _note_result(
        self, step: ResolvedStep, result: StepResult, finished_at: datetime, state: _RunState
    ) -> None:
        with state.lock:
            if result.recovery_point is not None:
                state.recovery_points.append(result.recovery_point)
                self.journal.write(
                    "recovery_point",
                    step_id=step.id,
                    at=result.recovery_point.at.isoformat(),
                    source=result.recovery_point.source,
                )
            if step.phase == "verify":
                state.recovered_at = max(filter(None, (state.recovered_at, finished_at)))

    # --- undo ---------------------------------------------------------------------------------

    def roll_back(
        self, mutations: list[MutationRecord], plan: ExecutionPlan | None
    ) -> tuple[list[UndoReport], list[StepReport]]:
        """``drill rollback``: undo a past run's pending mutations, then its rollback phase."""
        anchor = Anchor(self.runtime.clock)
        self.journal.write("rollback_started", pending=[m.step_id for m in mutations])
        undo = self.undo_all(mutations, anchor)
        state = _RunState()
        if plan is not None:
            self._run_phase("rollback", plan, state, anchor)
        failed = [u.step_id for u in undo if u.status == "failed"]
        self.journal.write("rollback_finished", failed=failed)  # type: ignore[arg-type]
        return undo, state.steps

    def undo_all(self, mutations: list[MutationRecord], anchor: Anchor) -> list[UndoReport]:
        """Undo each recorded mutation, newest first; one failing does not stop the others."""
        reports = []
        for record in reversed(mutations):
            if self.cancellation.abandon_undo.is_set():
                reports.append(_undo_abandoned(record, anchor))
                self.journal.write(
                    "undo_finished",
                    step_id=record.step_id,
                    status="skipped",
                    detail="abandoned by signal",
                )
                continue
            reports.append(self._undo_one(record, anchor))
        return reports

    def _undo_one(self, record: MutationRecord, anchor: Anchor) -> UndoReport:
        step_type = self.step_types[record.type]
        started_mono, started_at = anchor.stamp()
        env = self.runtime.env_for(
            record.step_id, record.context, record.timeout_s, self.cancellation.abandon_undo
        )
        status, detail = "undone", ""
        self.runtime.progress.started(record.step_id, "undo")
        try:
            params = step_type.params_model.model_validate(record.params)
            detail = with_retries(
                lambda: step_type.undo(params, record.prior, env), env, record.retries, Attempts()
            )
        except Exception as exc:  # noqa: BLE001 - the other undos must still run
            status, detail = "failed", classify(exc).message
        self.runtime.progress.finished(record.step_id)
        duration_s = round(anchor.stamp()[0] - started_mono, 3)
        self.journal.write("undo_finished", step_id=record.step_id, status=status, detail=detail)
        log_event = env.log.info if status == "undone" else env.log.warning
        log_event("undo_finished", status=status, detail=detail)
        return UndoReport(
            step_id=record.step_id,
            type=record.type,
            status=status,
            detail=detail,
            started_at=started_at,
            duration_s=duration_s,
        )

    # --- the report ---------------------------------------------------------------------------

    def _report(
        self,
        plan: ExecutionPlan,
        state: _RunState,
        undo: list[UndoReport],
        anchor: Anchor,
        t0: datetime,
        t0_given: bool,
    ) -> RunReport:
        point = _measure.worst_recovery_point(state.recovery_points)
        rpo = _measure.rpo(t0, point, plan.targets.rpo_s)
        rto = _measure.rto(t0, state.recovered_at, _unverified(state.steps), plan.targets.rto_s)
        outcome, exit_code = decide_outcome(
            state.steps, undo, rpo, rto, interrupted=state.interrupted()
        )
        finished_at = anchor.stamp()[1]
        self.journal.write("run_finished", outcome=outcome, exit_code=int(exit_code))
        self.log.info("run_finished", outcome=outcome, exit_code=int(exit_code))
        return RunReport(
            run_id=self.runtime.run_id,
            plan=plan.name,
            plan_file=plan.source,
            service=plan.service,
            tier=plan.tier,
            mode=plan.mode,
            outcome=outcome,
            exit_code=int(exit_code),
            started_at=anchor.wall,
            finished_at=finished_at,
            disaster_at=t0,
            disaster_at_source="--disaster-at" if t0_given else "run start",
            recovery_point=point.at if point else None,
            recovered_at=state.recovered_at,
            rpo=rpo,
            rto=rto,
            contexts=dict(plan.contexts),
            steps=state.steps,
            undo=undo,
            rollback_command=self.rollback_command if plan.mode == "live" else None,
            journal=self.journal_path,
        )


def decide_outcome(
    steps: list[StepReport],
    undo: list[UndoReport],
    rpo: Objective,
    rto: Objective,
    interrupted: bool = False,
) -> tuple[Outcome, ExitCode]:
    """The exit codes in priority order (docs/architecture.md, "Exit codes").

    ``interrupted``: a signal stopped forward work, even if no step was caught mid-wait.
    """
    forward = [s for s in steps if s.phase in FORWARD_PHASES]
    after = [s for s in steps if s.phase not in FORWARD_PHASES]
    cleanup_ok = all(u.status == "undone" for u in undo) and not any(
        s.status in ("failed", "timed_out", "interrupted") for s in after
    )
    if interrupted or any(s.status == "interrupted" for s in forward):
        return ("interrupted", ExitCode.INTERRUPTED) if cleanup_ok else _incomplete()
    if any(s.status in ("failed", "timed_out") for s in forward):
        return ("failed", ExitCode.STEP_FAILED) if cleanup_ok else _incomplete()
    if not cleanup_ok:
        return _incomplete()
    if rpo.met is False or rto.met is False:
        return "target_missed", ExitCode.TARGET_MISSED
    return "passed", ExitCode.PASSED


def _incomplete() -> tuple[Outcome, ExitCode]:
    return "rollback_incomplete", ExitCode.ROLLBACK_INCOMPLETE


def _unverified(steps: list[StepReport]) -> str | None:
    """Why recovery was not shown: the first verify step that did not pass, if any."""
    for step in steps:
        if step.phase == "verify" and step.status not in ("passed", "skipped"):
            return f"verify step {step.id} {step.status.replace('_', ' ')}"
    return None


def _undo_abandoned(record: MutationRecord, anchor: Anchor) -> UndoReport:
    return UndoReport(
        step_id=record.step_id,
        type=record.type,
        status="skipped",
        detail="abandoned by signal: still changed",
        started_at=anchor.stamp()[1],
        duration_s=0.0,
    )


def _unstarted(step: ResolvedStep, status: StepStatus, reason: str | None) -> StepReport:
    """The report of a step that never ran: skipped by the plan, blocked, or abandoned."""
    if step.skipped:
        status, reason = "skipped", step.skip_reason
    return StepReport(
        id=step.id,
        type=step.type.name,
        phase=step.phase,
        description=step.describe(),
        status=status,
        skip_reason=reason,
    )
