"""SIGTERM during a run: real signal handlers, the real clock, waits well under a second."""

from __future__ import annotations

import signal

import pytest

from drill.clock import FakeClock, SystemClock
from drill.executor import Cancellation, cancel_on_signals
from drill.executor._signals import DELIBERATE_S, SignalLadder
from drill.report import RunReport, render_json, render_text

from .fakes import Kit, TeeJournal, build_plan


class Ticking(FakeClock):
    """Each reading is 1.5 s after the last: signals arrive as deliberately as a person's."""

    def monotonic(self) -> float:
        self.advance(1.5)
        return super().monotonic()


def run_with_signals(kit: Kit, signals: int = 1, then_wait: bool = True) -> RunReport:
    plan = build_plan(
        [
            ("restore", kit.step("ns", "fake.mutate")),
            ("failover", kit.step("m1", "fake.mutate")),
            (
                "failover",
                kit.step(
                    "term",
                    "fake.sigterm",
                    timeout_s=5,
                    signals=signals,
                    then_wait=then_wait,
                ),
            ),
            ("failover", kit.step("m2", "fake.mutate")),
            ("verify", kit.step("v1", "fake.advance")),
            ("rollback", kit.step("rb1", "fake.advance", seconds=0.01)),
            ("cleanup", kit.step("c1", "fake.advance", seconds=0.01)),
        ]
    )
    cancellation = Cancellation()
    executor = kit.executor(journal=TeeJournal(kit.calls), cancellation=cancellation)
    with cancel_on_signals(cancellation, kit.log, Ticking()):
        return executor.run(plan)


@pytest.fixture
def kit() -> Kit:
    return Kit(clock=SystemClock())


def test_sigterm_during_a_step_rolls_back_and_exits_130(kit: Kit) -> None:
    before = signal.getsignal(signal.SIGTERM)
    report = run_with_signals(kit)
    assert (report.outcome, report.exit_code) == ("interrupted", 130)
    steps = {s.id: s for s in report.steps}
    assert steps["term"].status == "interrupted"
    assert steps["term"].duration_s is not None
    assert steps["term"].duration_s < 2.0
    assert (steps["m2"].status, steps["v1"].status) == ("not_run", "not_run")
    assert steps["m2"].skip_reason == "interrupted before it started"
    assert [(u.step_id, u.status) for u in report.undo] == [("m1", "undone"), ("ns", "undone")]
    assert (steps["rb1"].status, steps["c1"].status) == ("passed", "passed")
    assert kit.actions("mutate") == ["ns", "m1"]
    assert kit.actions("undo") == ["m1", "ns"]
    assert ("warning", "stopping") in [(level, event) for level, event, _ in kit.log.records]
    assert signal.getsignal(signal.SIGTERM) is before
    assert '"outcome": "interrupted"' in render_json(report)
    assert "INTERRUPTED (exit 130)" in render_text(report)


def test_sigterm_run_journals_its_finish(kit: Kit) -> None:
    run_with_signals(kit)
    journaled = [call for call in kit.calls if call[0].startswith("journal:")]
    assert ("journal:step_finished", "term") in journaled
    assert journaled[-1] == ("journal:run_finished", "")
    assert kit.calls.index(("journal:undo_finished", "ns")) < kit.calls.index(
        ("journal:run_finished", "")
    )


def test_two_signals_still_roll_back(kit: Kit) -> None:
    report = run_with_signals(kit, signals=2)
    assert (report.outcome, report.exit_code) == ("interrupted", 130)
    assert kit.actions("undo") == ["m1", "ns"]
    events = [event for _, event, _ in kit.log.records]
    assert "rollback_in_progress" in events


def test_sigterm_while_a_step_is_busy_still_reports_interrupted(kit: Kit) -> None:
    # The step does not wait after the signal, so it passes; the steps after it must not run
    # and the run must still say it was interrupted (it used to report passed, exit 0).
    report = run_with_signals(kit, then_wait=False)
    steps = {s.id: s.status for s in report.steps}
    assert (steps["term"], steps["m2"], steps["v1"]) == ("passed", "not_run", "not_run")
    assert kit.actions("undo") == ["m1", "ns"]
    assert (report.outcome, report.exit_code) == ("interrupted", 130)


def test_live_run_stopped_by_a_signal_skips_cleanup(kit: Kit) -> None:
    plan = build_plan(
        [
            ("failover", kit.step("m1", "fake.mutate")),
            ("failover", kit.step("term", "fake.sigterm", then_wait=False)),
            ("verify", kit.step("v1", "fake.advance")),
            ("cleanup", kit.step("c1", "fake.advance")),
        ],
        mode="live",
    )
    cancellation = Cancellation()
    executor = kit.executor(mode="live", cancellation=cancellation)
    with cancel_on_signals(cancellation, kit.log):
        report = executor.run(plan)
    assert {s.id: s.status for s in report.steps}["c1"] == "not_run"
    assert report.undo == []
    assert kit.actions("undo") == []
    assert (report.outcome, report.exit_code) == ("interrupted", 130)


def test_third_signal_abandons_rollback_and_exits_4(kit: Kit) -> None:
    report = run_with_signals(kit, signals=3)
    assert (report.outcome, report.exit_code) == ("rollback_incomplete", 4)
    # What was never undone was never read back either: the rollback is not verified.
    assert report.rollback is not None
    assert report.rollback.verified is None
    assert any("abandoned by signal" in c.detail for c in report.rollback.checks)


def test_signals_in_quick_succession_never_abandon_a_rollback() -> None:
    clock = FakeClock()
    ladder = SignalLadder(clock)
    assert [ladder.climb() for _ in range(3)] == ["stop", "warn", "warn"]
    clock.advance(DELIBERATE_S / 2)
    assert ladder.climb() == "warn"  # still within a second of the second signal


def test_a_third_signal_a_second_after_the_second_abandons() -> None:
    clock = FakeClock()
    ladder = SignalLadder(clock)
    assert [ladder.climb(), ladder.climb()] == ["stop", "warn"]
    clock.advance(DELIBERATE_S)
    assert ladder.climb() == "abandon"
