"""The executor reads back every object it undid, times the rollback and decides from both: a
rollback whose objects do not all read back equal is not complete (exit 4), and the journal
holds every check, so a report rebuilt from it says the same."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from drill.clock import Anchor, FakeClock
from drill.executor import (
    Cancellation,
    FileJournal,
    RollbackMeasured,
    UndoVerified,
    pending_undos,
    read_events,
    report_from_journal,
)
from drill.plan import ExecutionPlan

from .fakes import START, Kit, TeeJournal, build_plan
from .journals import kit_with_crash, run_to_journal


def mutating_plan(
    kit: Kit,
    read_back_m2: str = "equal",
    *,
    read_back_m1: str = "equal",
    fail_undo_m1: bool = False,
) -> ExecutionPlan:
    """Two mutations, a 2 s verify, and a 3 s rollback phase: the rollback takes 3 s."""
    m1 = kit.step("m1", "fake.mutate", target="dns", read_back=read_back_m1, fail_undo=fail_undo_m1)
    return build_plan(
        [
            ("failover", m1),
            ("failover", kit.step("m2", "fake.mutate", target="replicas", read_back=read_back_m2)),
            ("verify", kit.step("v1", "fake.advance", seconds=2)),
            ("rollback", kit.step("rb1", "fake.advance", seconds=3)),
            ("cleanup", kit.step("c1", "fake.advance", seconds=5)),
        ]
    )


def test_a_drill_reads_back_each_object_and_times_its_rollback() -> None:
    kit = Kit()
    report = kit.executor().run(mutating_plan(kit))
    assert (report.outcome, report.exit_code) == ("passed", 0)
    rollback = report.rollback
    assert rollback is not None
    assert rollback.verified is True
    assert [(c.step_id, c.target, c.status, c.detail) for c in rollback.checks] == [
        ("m2", "replicas", "equal", "old-m2, as before the run"),
        ("m1", "dns", "equal", "old-m1, as before the run"),
    ]
    # From the first undo (after verify, 2 s in) to the end of the rollback phase, not cleanup.
    assert rollback.started_at == START + timedelta(seconds=2)
    assert rollback.duration_s == 3.0
    assert rollback.finished_at == START + timedelta(seconds=5)


def test_an_object_that_differs_after_its_undo_makes_the_rollback_incomplete() -> None:
    kit = Kit()
    report = kit.executor().run(mutating_plan(kit, read_back_m2="differs"))
    assert all(u.status == "undone" for u in report.undo)  # every undo said it was done
    assert report.rollback is not None
    assert report.rollback.verified is False
    assert [c.status for c in report.rollback.checks] == ["differs", "equal"]
    assert (report.outcome, report.exit_code) == ("rollback_incomplete", 4)


def test_an_object_that_cannot_be_read_back_is_not_verified_and_not_complete() -> None:
    kit = Kit()
    report = kit.executor().run(mutating_plan(kit, read_back_m1="unreadable"))
    assert report.rollback is not None
    assert report.rollback.verified is None
    check = report.rollback.checks[1]
    assert (check.step_id, check.target, check.status) == ("m1", "dns", "not verified")
    assert check.detail == "could not read it back: fake read refused: permission denied"
    assert (report.outcome, report.exit_code) == ("rollback_incomplete", 4)


def test_a_failed_undo_is_still_read_back() -> None:
    kit = Kit()
    report = kit.executor().run(mutating_plan(kit, fail_undo_m1=True))
    assert kit.actions("read_back") == ["m2", "m1"]
    assert [u.status for u in report.undo] == ["undone", "failed"]
    assert (report.outcome, report.exit_code) == ("rollback_incomplete", 4)


def test_an_abandoned_undo_is_not_verified() -> None:
    kit = Kit()
    cancellation = Cancellation()
    cancellation.abandon_undo.set()
    report = kit.executor(cancellation=cancellation).run(mutating_plan(kit))
    assert kit.actions("read_back") == []
    assert report.rollback is not None
    assert [(c.status, c.detail) for c in report.rollback.checks] == [
        ("not verified", "abandoned by signal before its undo"),
    ] * 2
    assert report.rollback.verified is None


def test_a_live_run_has_no_rollback() -> None:
    kit = Kit()
    plan = build_plan([("failover", kit.step("m1", "fake.mutate"))], mode="live")
    assert kit.executor(mode="live").run(plan).rollback is None


def test_a_drill_that_changed_nothing_has_no_rollback() -> None:
    kit = Kit()
    plan = build_plan([("verify", kit.step("v1", "fake.advance"))])
    assert kit.executor().run(plan).rollback is None


def test_the_journal_holds_each_check_and_the_rollbacks_time() -> None:
    kit = Kit()
    journal = TeeJournal(kit.calls)
    report = kit.executor(journal=journal).run(mutating_plan(kit, read_back_m2="differs"))
    verified = [e for e in journal.events if isinstance(e, UndoVerified)]
    assert [(e.step_id, [c.status for c in e.checks]) for e in verified] == [
        ("m2", ["differs"]),
        ("m1", ["equal"]),
    ]
    [measured] = [e for e in journal.events if isinstance(e, RollbackMeasured)]
    assert report.rollback is not None
    assert (measured.started_at, measured.duration_s, measured.verified) == (
        report.rollback.started_at,
        3.0,
        False,
    )


def test_a_report_rebuilt_from_the_journal_shows_the_same_rollback(tmp_path: Path) -> None:
    kit = Kit()
    path = tmp_path / "journal.jsonl"
    journal = FileJournal(path, "run-1", kit.clock)
    try:
        report = kit.executor(journal=journal).run(mutating_plan(kit, read_back_m2="differs"))
    finally:
        journal.close()
    rebuilt = report_from_journal(read_events(path))
    assert rebuilt.rollback == report.rollback
    assert (rebuilt.outcome, rebuilt.exit_code) == ("rollback_incomplete", 4)


def test_a_live_run_rolled_back_later_keeps_the_rollback_in_its_notes(tmp_path: Path) -> None:
    kit = Kit()
    path = tmp_path / "journal.jsonl"
    plan = mutating_plan(kit, read_back_m2="differs")
    live = build_plan([(s.phase, s) for s in plan.steps() if s.phase != "rollback"], mode="live")
    journal = FileJournal(path, "run-1", kit.clock)
    try:
        kit.executor(mode="live", journal=journal).run(live)
        rolled = kit.executor(mode="live", journal=journal).roll_back(
            pending_undos(read_events(path)), plan
        )
    finally:
        journal.close()
    assert rolled.rollback is not None
    assert rolled.rollback.verified is False
    assert [s.id for s in rolled.steps] == ["rb1"]
    assert rolled.rollback.duration_s == 3.0  # the rollback phase counts: failback time
    rebuilt = report_from_journal(read_events(path))
    assert rebuilt.rollback is None  # the live run itself never rolled back
    assert rebuilt.notes[-1].endswith(
        "rolled back in 3.0s; NOT verified: 1 of 2 objects differ from how drill found them "
        "(replicas differs)"
    )


def test_a_run_that_died_in_its_rollback_is_not_verified_when_rebuilt(tmp_path: Path) -> None:
    kit = kit_with_crash()
    plan = build_plan(
        [
            ("failover", kit.step("m1", "fake.mutate", target="dns")),
            ("verify", kit.step("v1", "fake.advance", seconds=2)),
            ("rollback", kit.step("dies", "fake.crash", seconds=1)),
        ]
    )
    run_to_journal(kit, plan, tmp_path)  # killed in the rollback phase, after m1's read-back
    rebuilt = report_from_journal(read_events(tmp_path / "journal.jsonl"), plan=plan)
    rollback = rebuilt.rollback
    assert rollback is not None
    assert [(c.step_id, c.status) for c in rollback.checks] == [("m1", "equal")]
    assert rollback.verified is None  # it never finished: not verified, whatever it read
    assert rollback.started_at == START + timedelta(seconds=2)


class WallSteppedBack(FakeClock):
    """A clock whose wall time is stepped back a second (an NTP correction) after the first
    reading; its monotonic time goes on."""

    def __init__(self) -> None:
        super().__init__(START)
        self.read = False

    def now(self) -> datetime:
        stepped = super().now() - timedelta(seconds=1 if self.read else 0)
        self.read = True
        return stepped


def test_a_rollback_given_its_command_s_anchor_never_starts_before_the_command(
    tmp_path: Path,
) -> None:
    """`drill rollback` stamps its report from one anchor: a wall clock stepped back between
    the command's start and the undo cannot put the undo before the command."""
    kit = Kit()
    path = tmp_path / "journal.jsonl"
    plan = mutating_plan(kit)
    live = build_plan([(s.phase, s) for s in plan.steps() if s.phase != "rollback"], mode="live")
    journal = FileJournal(path, "run-1", kit.clock)
    try:
        kit.executor(mode="live", journal=journal).run(live)
        kit.clock = WallSteppedBack()
        anchor = Anchor(kit.clock)  # the command's, made as it starts
        rolled = kit.executor(mode="live", journal=journal).roll_back(
            pending_undos(read_events(path)), plan, anchor=anchor
        )
    finally:
        journal.close()
    assert rolled.rollback is not None
    assert rolled.rollback.started_at >= anchor.wall
