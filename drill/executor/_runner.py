"""The executor: phases in order, every step timed, every mutation journaled and undone.

Order of a run:
  preflight -> restore -> failover -> verify        (stops at the first failure)
  drill mode: undo every mutation, newest first, reading each back -> rollback phase
              (the rollback, timed) -> cleanup phase
  live mode:  cleanup phase if everything passed; never an automatic rollback
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Literal

from pydantic import JsonValue

from drill.clock import Anchor
from drill.errors import ExitCode, StepFailed
from drill.executor import _measure
from drill.executor._events import (
    CutoverMeasured,
    MutationRecord,
    RollbackMeasured,
    RunFinished,
    RunStarted,
    StepFinished,
    StepNoted,
    UndoFinished,
)
from drill.executor._journal import Journal
from drill.executor._probes import ProbeSession
from drill.executor._recorder import ABANDONED, Recorder
from drill.executor._served import cutover_report, with_users_served
from drill.executor._signals import Cancellation
from drill.executor._stepcall import Attempts, Failure, StepRuntime, classify, with_retries
from drill.executor._stepreport import (
    FORWARD_PHASES,
    completeness,
    missing_recovery_point,
    unstarted,
    unverified,
)
from drill.plan import ExecutionPlan, PhaseName, ResolvedStep, Stage
from drill.report import (
    Objective,
    Outcome,
    RecoveryPointReport,
    RestoreCompleteness,
    RollbackCheck,
    RollbackReport,
    RunReport,
    StepReport,
    UndoReport,
)
from drill.steps import STEP_TYPES, AnyStepType, Cutover, StepEnv, StepResult


@dataclass(frozen=True)
class RolledBack:
    """What ``drill rollback`` did: each undo, the plan's rollback phase, the read-backs and
    the failback time."""

    undo: list[UndoReport]
    steps: list[StepReport]
    rollback: RollbackReport | None


@dataclass
class _RunState:
    """What the run has learned so far; one per run, guarded for parallel groups."""

    steps: list[StepReport] = field(default_factory=list)
    mutations: list[MutationRecord] = field(default_factory=list)
    notes: dict[str, dict[str, JsonValue]] = field(default_factory=dict)  # by step id
    restores: list[RestoreCompleteness] = field(default_factory=list)
    recovery_points: list[RecoveryPointReport] = field(default_factory=list)
    cutovers: list[CutoverMeasured] = field(default_factory=list)
    recovered_at: datetime | None = None
    # t0, handed to every step: what existed then is what a recovery may bring back.
    disaster_at: datetime | None = None
    disaster_at_source: Literal["run start", "--disaster-at"] = "run start"
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
        sandbox: bool = False,
        process: tuple[str, int] | None = None,
    ) -> None:
        self.runtime = runtime
        self.step_types = step_types
        self.journal = journal
        self.cancellation = cancellation
        self.journal_path = journal_path
        self.rollback_command = rollback_command
        self.sandbox = sandbox
        self.process = process  # (host, pid) of the process running the plan, journaled
        self.record = Recorder(
            journal,
            runtime.log,
            runtime.progress,
            on_journal_failure=cancellation.fail,
        )

    # --- the run ------------------------------------------------------------------------------

    def run(self, plan: ExecutionPlan, disaster_at: datetime | None = None) -> RunReport:
        anchor = Anchor(self.runtime.clock)
        t0 = disaster_at or anchor.wall
        self.record.run_started(
            RunStarted(
                plan=plan.name,
                plan_file=plan.source,
                mode=plan.mode,
                service=plan.service,
                tier=plan.tier,
                targets=plan.targets,
                disaster_at=t0,
                disaster_at_source="--disaster-at" if disaster_at is not None else "run start",
                contexts=dict(plan.contexts),
                plan_sha256=plan.source_sha256 or None,
                sandbox=self.sandbox or None,
                host=self.process[0] if self.process else None,
                pid=self.process[1] if self.process else None,
            )
        )
        state = _RunState(
            disaster_at=t0,
            disaster_at_source="--disaster-at" if disaster_at is not None else "run start",
        )
        probes = self._probes(plan, anchor)
        probes.start()
        try:
            for phase in FORWARD_PHASES:
                probes.enter(phase)
                for stage in plan.phases.get(phase, ()):
                    self._run_stage(stage, plan, state, anchor, self.cancellation.stop_work)
        except BaseException:
            probes.abandon()  # the run never reached the end of verify: nothing to journal
            raise
        probes.stop()  # the end of verify: what users see while undoing does not count
        undo, rollback = self._finish(plan, state, anchor)
        given = disaster_at is not None
        return self._report(plan, state, undo, rollback, anchor, t0, given, probes)

    def _probes(self, plan: ExecutionPlan, anchor: Anchor) -> ProbeSession:
        return ProbeSession(
            plan.probes,
            plan.mode,
            self.runtime.providers.http,
            self.runtime.clock,
            anchor.stamp,
            self.record,
            lambda role: self.runtime.providers.kube(plan.contexts[role]),
        )

    def _finish(
        self, plan: ExecutionPlan, state: _RunState, anchor: Anchor
    ) -> tuple[list[UndoReport], RollbackReport | None]:
        if plan.mode == "live":
            if not state.forward_failed() and not state.interrupted():
                self._run_phase("cleanup", plan, state, anchor)
            else:
                self._mark_not_run(plan, state, "cleanup", "not run in live mode after a failure")
            self._mark_not_run(plan, state, "rollback", "live mode never rolls back by itself")
            return [], None
        started = anchor.stamp()
        undo, checks = self.undo_all(list(state.mutations), anchor, state.notes)
        self._run_phase("rollback", plan, state, anchor)
        rollback = self._measured(started, checks, anchor) if state.mutations else None
        self._run_phase("cleanup", plan, state, anchor)
        return undo, rollback

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
            state.steps.append(unstarted(step, "not_run", reason))

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
                    unstarted(step, "interrupted", "abandoned by signal before it started")
                    for step in stage.steps
                )
                return
            state.stopped = state.stopped or cancel.is_set()
            reason = "an earlier step failed"
            if cancel.is_set():
                reason = self.cancellation.failure or "interrupted before it started"
            state.steps.extend(unstarted(step, "not_run", reason) for step in stage.steps)
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
        """Skip the step as the plan says, or run it and record how it ended."""
        if step.skipped or step.params is None:
            self.record.step_skipped(step)
            return unstarted(step, "skipped", step.skip_reason)
        context = plan.contexts.get(step.context_role) if step.context_role else None
        env = replace(
            self.runtime.env_for(step.id, context, step.timeout_s, cancel),
            disaster_at=state.disaster_at,
            disaster_at_source=state.disaster_at_source,
        )
        started_mono, started_at = anchor.stamp()
        self.record.step_started(step)
        attempts = Attempts()
        result, failure = self._attempt(step, plan, env, state, attempts)
        finished_mono, finished_at = anchor.stamp()
        if result is not None:
            self._note_result(step, result, finished_at, state)
        ended = _ended(step, finished_mono - started_mono, attempts, failure)
        self.record.step_finished(ended)
        return _ran(step, started_at, finished_at, ended, result)

    def _attempt(
        self,
        step: ResolvedStep,
        plan: ExecutionPlan,
        env: StepEnv,
        state: _RunState,
        attempts: Attempts,
    ) -> tuple[StepResult | None, Failure | None]:
        """A mutating step's prior state first, then the step, each with retries; what fails
        is returned, never raised."""
        try:
            if step.type.mutating:
                env = self._ready_to_change(step, plan, env, state, attempts)
            result = with_retries(
                lambda: step.type.run(step.params, env), env, step.retries, attempts
            )
        except Exception as exc:  # noqa: BLE001 - any failure must still lead to rollback
            failure = classify(exc)
            if failure.status == "interrupted" and self.cancellation.failure is not None:
                # Stopped by drill itself (a lost lease, a journal it cannot write): no signal.
                failure = replace(failure, message=f"stopped: {self.cancellation.failure}")
            return None, failure
        return result, None

    def _ready_to_change(
        self,
        step: ResolvedStep,
        plan: ExecutionPlan,
        env: StepEnv,
        state: _RunState,
        attempts: Attempts,
    ) -> StepEnv:
        """Refuse a drill's change to production; journal the prior state; hand the step its
        prior state (its change's precondition) and a notebook that reaches the journal."""
        clash = plan.production_clash(step)
        if clash is not None:
            raise StepFailed(f"refused: {clash}")
        record = self._record_prior_state(step, env, state, attempts)
        notes = state.notes.setdefault(step.id, {})

        def note(key: str, value: JsonValue) -> None:
            notes[key] = value
            self.record.step_noted(StepNoted(step_id=step.id, key=key, value=value))

        return replace(env, prior=record.prior, notes=notes, note=note)

    def _record_prior_state(
        self, step: ResolvedStep, env: StepEnv, state: _RunState, attempts: Attempts
    ) -> MutationRecord:
        """Snapshot what the step will change, and journal it, before it changes anything."""
        assert step.params is not None, "skipped steps are never run"
        params = step.params
        prior = with_retries(
            lambda: step.type.capture_prior_state(params, env), env, step.retries, attempts
        )
        record = MutationRecord(
            step_id=step.id,
            type=step.type.name,
            params=params.as_json(),
            prior=prior,
            context=env.context,
            timeout_s=step.timeout_s,
            retries=step.retries,
            notes_kept=True,
        )
        self.record.prior_state(record)
        with state.lock:
            state.mutations.append(record)
        return record

    def _note_result(
        self, step: ResolvedStep, result: StepResult, finished_at: datetime, state: _RunState
    ) -> None:
        with state.lock:
            if result.recovery_point is not None:
                state.recovery_points.append(_measure.point_report(step.id, result.recovery_point))
                self.record.recovery_point(step.id, result.recovery_point)
            if result.restore is not None:
                counted = completeness(step.id, result.restore)
                state.restores.append(counted)
                self.record.restore_counted(counted)
            if result.cutover is not None:
                state.cutovers.append(_cutover_measured(step.id, result.cutover))
                self.record.client_cutover(state.cutovers[-1])
            if step.phase == "verify":
                state.recovered_at = max(filter(None, (state.recovered_at, finished_at)))

    # --- undo ---------------------------------------------------------------------------------

    def roll_back(
        self,
        mutations: list[MutationRecord],
        plan: ExecutionPlan | None,
        notes: Mapping[str, Mapping[str, JsonValue]] | None = None,
        anchor: Anchor | None = None,
    ) -> RolledBack:
        """``drill rollback``: undo a past run's pending mutations (with what their steps
        noted, from the journal), reading each back, then its rollback phase. ``anchor``: the
        command's, so every timestamp of its report comes from one fixed point."""
        anchor = anchor or Anchor(self.runtime.clock)
        self.record.rollback_started([m.step_id for m in mutations])
        started = anchor.stamp()
        undo, checks = self.undo_all(mutations, anchor, notes or {})
        state = _RunState()
        if plan is not None:
            self._run_phase("rollback", plan, state, anchor)
        rollback = self._measured(started, checks, anchor) if mutations else None
        failed = [u.step_id for u in undo if u.status == "failed"]
        self.record.rollback_finished(failed)
        return RolledBack(undo, state.steps, rollback)

    def undo_all(
        self,
        mutations: list[MutationRecord],
        anchor: Anchor,
        notes: Mapping[str, Mapping[str, JsonValue]],
    ) -> tuple[list[UndoReport], list[RollbackCheck]]:
        """Undo each recorded mutation, newest first, and read what it changed back right
        after (before an older undo removes what it lives in: a scale of a restored copy is
        checked before the restore's namespace goes). One failing does not stop the others."""
        reports: list[UndoReport] = []
        checks: list[RollbackCheck] = []
        for record in reversed(mutations):
            if self.cancellation.abandon_undo.is_set():
                reports.append(_undo_abandoned(record, anchor))
                self.record.undo_abandoned(record.step_id)
                checks += self._not_read_back(record, f"{ABANDONED} before its undo")
                continue
            kept = notes.get(record.step_id, {}) if record.notes_kept else None
            reports.append(self._undo_one(record, anchor, kept))
            checks += self._read_back(record, kept)
        return reports, checks

    def _undo_one(
        self, record: MutationRecord, anchor: Anchor, notes: Mapping[str, JsonValue] | None
    ) -> UndoReport:
        step_type = self.step_types[record.type]
        started_mono, started_at = anchor.stamp()
        env = self._undo_env(record, notes)
        self.record.undo_started(record.step_id)
        try:
            params = step_type.params_model.model_validate(record.params)
            detail = with_retries(
                lambda: step_type.undo(params, record.prior, env), env, record.retries, Attempts()
            )
            ended = UndoFinished(step_id=record.step_id, status="undone", detail=detail)
        except Exception as exc:  # noqa: BLE001 - the other undos must still run
            message = classify(exc).message
            ended = UndoFinished(step_id=record.step_id, status="failed", detail=message)
        duration_s = round(anchor.stamp()[0] - started_mono, 3)
        self.record.undo_finished(ended)
        return UndoReport(
            step_id=record.step_id,
            type=record.type,
            status=ended.status,
            detail=ended.detail,
            started_at=started_at,
            duration_s=duration_s,
        )

    def _undo_env(self, record: MutationRecord, notes: Mapping[str, JsonValue] | None) -> StepEnv:
        env = self.runtime.env_for(
            record.step_id, record.context, record.timeout_s, self.cancellation.abandon_undo
        )
        return replace(env, prior=record.prior, notes=notes)

    def _read_back(
        self, record: MutationRecord, notes: Mapping[str, JsonValue] | None
    ) -> list[RollbackCheck]:
        """Re-read what the step changed and compare it with its journaled prior state, after
        its undo whatever the undo said: a failed undo may have put it back, a passed one may
        have been overtaken. A read that fails makes its objects "not verified"."""
        step_type = self.step_types[record.type]
        env = self._undo_env(record, notes)
        self.record.read_back_started(record.step_id)
        try:
            params = step_type.params_model.model_validate(record.params)
            read = with_retries(
                lambda: step_type.verify_undone(params, record.prior, env),
                env,
                record.retries,
                Attempts(),
            )
        except Exception as exc:  # noqa: BLE001 - an unread object is "not verified", not a crash
            return self._not_read_back(record, f"could not read it back: {classify(exc).message}")
        checks = [
            RollbackCheck(step_id=record.step_id, target=r.target, status=r.status, detail=r.detail)
            for r in read
        ]
        self.record.undo_verified(record.step_id, checks)
        return checks

    def _not_read_back(self, record: MutationRecord, why: str) -> list[RollbackCheck]:
        step_type = self.step_types[record.type]
        try:
            target = step_type.undo_target(step_type.params_model.model_validate(record.params))
        except Exception:  # noqa: BLE001 - params the journal holds wrongly still need naming
            target = f"what {record.type} changed"
        check = RollbackCheck(
            step_id=record.step_id, target=target, status="not verified", detail=why
        )
        self.record.undo_verified(record.step_id, [check])
        return [check]

    def _measured(
        self, started: tuple[float, datetime], checks: list[RollbackCheck], anchor: Anchor
    ) -> RollbackReport:
        """The rollback from its first undo to the end of its rollback phase, and its verdict:
        verified only when every object read back equal."""
        duration_s = round(anchor.stamp()[0] - started[0], 3)
        verified = rollback_verdict(checks)
        self.record.rollback_measured(
            RollbackMeasured(started_at=started[1], duration_s=duration_s, verified=verified)
        )
        return RollbackReport(
            started_at=started[1],
            # As a journal rebuilds it: a report from either says the same.
            finished_at=started[1] + timedelta(seconds=duration_s),
            duration_s=duration_s,
            verified=verified,
            checks=checks,
        )

    # --- the report ---------------------------------------------------------------------------

    def _report(
        self,
        plan: ExecutionPlan,
        state: _RunState,
        undo: list[UndoReport],
        rollback: RollbackReport | None,
        anchor: Anchor,
        t0: datetime,
        t0_given: bool,
        probes: ProbeSession,
    ) -> RunReport:
        missing = missing_recovery_point(state.steps, self.step_types)
        rpo = _measure.rpo(t0, state.recovery_points, missing, plan.targets.rpo_s)
        point = _measure.measured_point(rpo.points) if rpo.measured_s is not None else None
        rto = _measure.rto(t0, state.recovered_at, unverified(state.steps), plan.targets.rto_s)
        probe_reports = probes.reports()
        rto = with_users_served(rto, t0, probe_reports, probes.skipped)
        rpo = rpo.with_target_origin(plan.targets.rpo_origin)
        rto = rto.with_target_origin(plan.targets.rto_origin)
        outcome, exit_code = decide_outcome(
            state.steps,
            undo,
            rpo,
            rto,
            rollback=rollback,
            interrupted=state.interrupted() and self.cancellation.failure is None,
            broken=self.cancellation.failure is not None,
        )
        finished_at = anchor.stamp()[1]
        self.record.run_finished(RunFinished(outcome=outcome, exit_code=int(exit_code)))
        return RunReport(
            run_id=self.runtime.run_id,
            plan=plan.name,
            plan_file=plan.source,
            service=plan.service,
            tier=plan.tier,
            mode=plan.mode,
            sandbox=self.sandbox,
            outcome=outcome,
            exit_code=int(exit_code),
            started_at=anchor.wall,
            finished_at=finished_at,
            disaster_at=t0,
            disaster_at_source="--disaster-at" if t0_given else "run start",
            recovery_point=point.at if point else None,
            # Recovered only when the RTO clock says so: a verify step that passed before
            # another failed does not make the service recovered.
            recovered_at=state.recovered_at if rto.measured_s is not None else None,
            rpo=rpo,
            rto=rto,
            contexts=dict(plan.contexts),
            steps=state.steps,
            undo=undo,
            restores=state.restores,
            rollback=rollback,
            probes=probe_reports,
            client_cutover=[cutover_report(c) for c in state.cutovers],
            rollback_command=self.rollback_command if plan.mode == "live" else None,
            journal=self.journal_path,
        )


def decide_outcome(
    steps: list[StepReport],
    undo: list[UndoReport],
    rpo: Objective,
    rto: Objective,
    rollback: RollbackReport | None = None,
    interrupted: bool = False,
    broken: bool = False,
) -> tuple[Outcome, ExitCode]:
    """The exit codes in priority order (docs/architecture.md, "Exit codes").

    ``rollback``: the read-back of what was undone; a rollback not verified (an object
    differs, or could not be read) is not complete.
    ``interrupted``: a signal stopped forward work, even if no step was caught mid-wait.
    ``broken``: drill itself could not go on (its journal could not be written): a failure.
    """
    forward = [s for s in steps if s.phase in FORWARD_PHASES]
    after = [s for s in steps if s.phase not in FORWARD_PHASES]
    cleanup_ok = (
        all(u.status == "undone" for u in undo)
        and not any(s.status in ("failed", "timed_out", "interrupted") for s in after)
        and (rollback is None or rollback.verified is True)
    )
    if broken:  # drill stopped itself: not a person's interruption
        return ("failed", ExitCode.STEP_FAILED) if cleanup_ok else _incomplete()
    if interrupted or any(s.status == "interrupted" for s in forward):
        return ("interrupted", ExitCode.INTERRUPTED) if cleanup_ok else _incomplete()
    if any(s.status in ("failed", "timed_out") for s in forward):
        return ("failed", ExitCode.STEP_FAILED) if cleanup_ok else _incomplete()
    if not cleanup_ok:
        return _incomplete()
    if rpo.met is False or rto.met is False:
        return "target_missed", ExitCode.TARGET_MISSED
    return "passed", ExitCode.PASSED


def rollback_verdict(checks: list[RollbackCheck]) -> bool | None:
    """False when an object differs from its prior state; None when one could not be read
    back (or there was nothing to read); True only when every one read back equal."""
    if any(check.status == "differs" for check in checks):
        return False
    if not checks or any(check.status != "equal" for check in checks):
        return None
    return True


def decide_rollback_outcome(
    rolled_back: RolledBack, interrupted: bool = False
) -> tuple[Outcome, ExitCode]:
    """``drill rollback``'s exit code, as for runs: its rollback phase stands for the forward
    phases (a step of it failing is 3), undo and read-back for the cleanup."""
    undone = all(u.status == "undone" for u in rolled_back.undo)
    verified = rolled_back.rollback is None or rolled_back.rollback.verified is True
    if not (undone and verified) or any(s.status == "interrupted" for s in rolled_back.steps):
        return _incomplete()
    if interrupted:
        return "interrupted", ExitCode.INTERRUPTED
    if any(s.status in ("failed", "timed_out") for s in rolled_back.steps):
        return "failed", ExitCode.STEP_FAILED
    return "passed", ExitCode.PASSED


def _incomplete() -> tuple[Outcome, ExitCode]:
    return "rollback_incomplete", ExitCode.ROLLBACK_INCOMPLETE


def _undo_abandoned(record: MutationRecord, anchor: Anchor) -> UndoReport:
    return UndoReport(
        step_id=record.step_id,
        type=record.type,
        status="skipped",
        detail=f"{ABANDONED}: still changed",
        started_at=anchor.stamp()[1],
        duration_s=0.0,
    )


def _cutover_measured(step_id: str, cutover: Cutover) -> CutoverMeasured:
    return CutoverMeasured(
        step_id=step_id,
        record=cutover.record,
        visible_after_s=cutover.visible_after_s,
        old_ttl_s=cutover.old_ttl_s,
    )


def _ended(
    step: ResolvedStep, duration_s: float, attempts: Attempts, failure: Failure | None
) -> StepFinished:
    return StepFinished(
        step_id=step.id,
        status=failure.status if failure else "passed",
        duration_s=round(duration_s, 3),
        attempts=attempts.count,
        error=failure.message if failure else None,
    )


def _ran(
    step: ResolvedStep,
    started_at: datetime,
    finished_at: datetime,
    ended: StepFinished,
    result: StepResult | None,
) -> StepReport:
    """The report of a step that ran: how it ended, and what it found."""
    return StepReport(
        id=step.id,
        type=step.type.name,
        phase=step.phase,
        description=step.describe(),
        status=ended.status,
        started_at=started_at,
        finished_at=finished_at,
        duration_s=ended.duration_s,
        attempts=ended.attempts,
        error=ended.error,
        summary=result.summary if result else None,
        facts=dict(result.facts) if result else {},
    )
