"""``decide_outcome``: the exit codes in priority order (docs/architecture.md), as a table."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from drill.errors import ExitCode
from drill.executor import RolledBack, decide_outcome, decide_rollback_outcome
from drill.report import Objective, RollbackReport, StepReport, UndoReport

AT = datetime(2026, 1, 1, tzinfo=UTC)


def step(phase: str, status: str) -> StepReport:
    return StepReport(
        id=f"{phase}-{status}", type="fake", phase=phase, description="", status=status
    )


def undo(status: str) -> UndoReport:
    return UndoReport(
        step_id="m",
        type="fake",
        status=status,
        detail="",
        started_at=AT,
        duration_s=0.0,
    )


def objective(met: bool | None) -> Objective:
    measured = None if met is None else (10.0 if met else 100.0)
    margin = None if measured is None else 50.0 - measured
    return Objective(target_s=50.0, measured_s=measured, margin_s=margin, met=met, source="t")


P, F, T, INT, N, S = "passed", "failed", "timed_out", "interrupted", "not_run", "skipped"

# forward statuses, after-phase (rollback/cleanup) statuses, undo statuses, rpo met, rto met
CASES = [
    # everything fine
    ((P, P), (P,), ("undone",), True, True, "passed", ExitCode.PASSED),
    ((P, S), (), (), None, None, "passed", ExitCode.PASSED),
    ((P,), (N,), (), True, None, "passed", ExitCode.PASSED),  # live: rollback not run
    # targets
    ((P,), (P,), ("undone",), False, True, "target_missed", ExitCode.TARGET_MISSED),
    ((P,), (P,), ("undone",), True, False, "target_missed", ExitCode.TARGET_MISSED),
    ((P,), (), (), False, False, "target_missed", ExitCode.TARGET_MISSED),
    # a step failed, rolled back cleanly; a failure outranks a missed target
    ((P, F, N), (P,), ("undone",), True, None, "failed", ExitCode.STEP_FAILED),
    ((P, T, N), (), ("undone",), False, False, "failed", ExitCode.STEP_FAILED),
    ((F,), (N,), (), None, None, "failed", ExitCode.STEP_FAILED),  # live after a failure
    # rollback or cleanup incomplete outranks failure, targets and success
    ((P,), (P,), ("undone", "failed"), True, True, "rollback_incomplete", 4),
    ((P,), (F,), (), True, True, "rollback_incomplete", 4),
    ((P,), (T,), (), True, True, "rollback_incomplete", 4),
    ((P,), (INT,), (), True, True, "rollback_incomplete", 4),
    ((P, F), (P,), ("failed",), True, True, "rollback_incomplete", 4),
    ((P, T), (F,), (), True, True, "rollback_incomplete", 4),
    ((P,), (F,), (), False, False, "rollback_incomplete", 4),
    # interrupted outranks failure and targets, not an incomplete rollback
    ((P, INT, N), (P,), ("undone",), True, True, "interrupted", ExitCode.INTERRUPTED),
    ((F, INT), (P,), (), True, True, "interrupted", ExitCode.INTERRUPTED),
    ((INT,), (), (), False, False, "interrupted", ExitCode.INTERRUPTED),
    ((INT,), (P,), ("failed",), True, True, "rollback_incomplete", 4),
    ((INT,), (INT,), (), True, True, "rollback_incomplete", 4),
]


@pytest.mark.parametrize(
    ("forward", "after", "undos", "rpo_met", "rto_met", "outcome", "exit_code"), CASES
)
def test_decide_outcome(
    forward: tuple[str, ...],
    after: tuple[str, ...],
    undos: tuple[str, ...],
    rpo_met: bool | None,
    rto_met: bool | None,
    outcome: str,
    exit_code: int,
) -> None:
    phases = ("preflight", "restore", "failover", "verify")
    steps = [step(phases[i % 4], s) for i, s in enumerate(forward)]
    steps += [step("cleanup" if i % 2 else "rollback", s) for i, s in enumerate(after)]
    got = decide_outcome(steps, [undo(u) for u in undos], objective(rpo_met), objective(rto_met))
    assert got == (outcome, exit_code)
    assert isinstance(got[1], ExitCode)


@pytest.mark.parametrize(
    ("forward", "after", "undos", "outcome", "exit_code"),
    [
        ((P, N), (P,), ("undone",), "interrupted", ExitCode.INTERRUPTED),
        ((P, F, N), (), (), "interrupted", ExitCode.INTERRUPTED),
        ((P, N), (F,), (), "rollback_incomplete", 4),
        ((P, N), (P,), ("failed",), "rollback_incomplete", 4),
    ],
)
def test_a_run_stopped_by_a_signal_is_interrupted_even_without_an_interrupted_step(
    forward: tuple[str, ...],
    after: tuple[str, ...],
    undos: tuple[str, ...],
    outcome: str,
    exit_code: int,
) -> None:
    steps = [step("failover", s) for s in forward] + [step("cleanup", s) for s in after]
    undo_reports = [undo(u) for u in undos]
    assert decide_outcome(
        steps, undo_reports, objective(True), objective(True), interrupted=True
    ) == (outcome, exit_code)
    if outcome == "interrupted":  # without the flag, the same steps would not say so
        assert decide_outcome(steps, undo_reports, objective(True), objective(True))[0] != outcome


def test_step_order_does_not_change_the_outcome() -> None:
    steps = [step("cleanup", P), step("verify", INT), step("failover", F)]
    assert decide_outcome(steps, [], objective(True), objective(True)) == (
        "interrupted",
        ExitCode.INTERRUPTED,
    )
    assert decide_outcome(list(reversed(steps)), [], objective(True), objective(True)) == (
        "interrupted",
        ExitCode.INTERRUPTED,
    )


def rollback(verified: bool | None) -> RollbackReport:
    return RollbackReport(started_at=AT, finished_at=AT, duration_s=0.0, verified=verified)


@pytest.mark.parametrize(
    ("verified", "forward", "outcome", "exit_code"),
    [
        (True, (P,), "passed", ExitCode.PASSED),
        (False, (P,), "rollback_incomplete", 4),  # an object differs from its prior state
        (None, (P,), "rollback_incomplete", 4),  # one could not be read back: not done
        (False, (P, F), "rollback_incomplete", 4),
        (True, (P, F), "failed", ExitCode.STEP_FAILED),
    ],
)
def test_a_rollback_is_complete_only_once_every_object_read_back_equal(
    verified: bool | None, forward: tuple[str, ...], outcome: str, exit_code: int
) -> None:
    steps = [step("failover", s) for s in forward]
    got = decide_outcome(
        steps, [undo("undone")], objective(True), objective(True), rollback=rollback(verified)
    )
    assert got == (outcome, exit_code)


@pytest.mark.parametrize(
    ("undos", "verified", "after", "interrupted", "outcome", "exit_code"),
    [
        (("undone",), True, (P,), False, "passed", ExitCode.PASSED),
        (("undone",), True, (S,), False, "passed", ExitCode.PASSED),
        (("undone",), True, (F,), False, "failed", ExitCode.STEP_FAILED),  # primary not back
        (("undone",), True, (T,), False, "failed", ExitCode.STEP_FAILED),
        (("undone",), True, (P,), True, "interrupted", ExitCode.INTERRUPTED),
        (("undone",), False, (P,), False, "rollback_incomplete", 4),
        (("undone",), None, (P,), False, "rollback_incomplete", 4),
        (("undone", "failed"), False, (P,), False, "rollback_incomplete", 4),
        (("skipped",), None, (INT,), True, "rollback_incomplete", 4),  # abandoned
    ],
)
def test_drill_rollback_exits_as_runs_do(
    undos: tuple[str, ...],
    verified: bool | None,
    after: tuple[str, ...],
    interrupted: bool,
    outcome: str,
    exit_code: int,
) -> None:
    rolled = RolledBack(
        [undo(u) for u in undos], [step("rollback", s) for s in after], rollback(verified)
    )
    assert decide_rollback_outcome(rolled, interrupted) == (outcome, exit_code)


def test_a_drill_rollback_with_nothing_left_to_undo_passes() -> None:
    assert decide_rollback_outcome(RolledBack([], [], None)) == ("passed", ExitCode.PASSED)
