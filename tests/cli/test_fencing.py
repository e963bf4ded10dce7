"""Fencing: a run that loses its lease stops forward work at once, undoes, and fails."""

from __future__ import annotations

import threading
import time

from drill.clock import SystemClock
from drill.commands.run import fenced
from drill.executor import Cancellation
from tests.executor.fakes import Kit, build_plan


class LosableLease:
    """What fencing reads of a RunLease: ``lost`` and why."""

    def __init__(self) -> None:
        self.lost = threading.Event()
        self.lost_reason: str | None = None

    def lose(self, reason: str) -> None:
        self.lost_reason = reason
        self.lost.set()


def test_a_lost_lease_stops_forward_work_and_fails_the_run() -> None:
    kit = Kit(clock=SystemClock())
    plan = build_plan(
        [
            ("failover", kit.step("m1", "fake.mutate")),
            ("failover", kit.step("wait", "fake.wait", timeout_s=30, poll_s=0.05)),
            ("verify", kit.step("v1", "fake.advance")),
        ]
    )
    lease, cancellation = LosableLease(), Cancellation()
    reason = "renewals failed for 60s (the process was paused?)"
    threading.Timer(0.3, lease.lose, [reason]).start()
    started = time.monotonic()
    with fenced(lease, cancellation):  # type: ignore[arg-type]
        report = kit.executor(cancellation=cancellation).run(plan)
    assert time.monotonic() - started < 5  # stopped at once, not at the step's timeout
    assert (report.outcome, report.exit_code) == ("failed", 3)
    steps = {s.id: s for s in report.steps}
    assert steps["wait"].status == "interrupted"
    # No signal came: the step says what stopped it.
    assert steps["wait"].error == f"stopped: lost the run lease: {reason}"
    assert steps["v1"].skip_reason == f"lost the run lease: {reason}"
    assert [(u.step_id, u.status) for u in report.undo] == [("m1", "undone")]


def test_a_kept_lease_changes_nothing() -> None:
    kit = Kit(clock=SystemClock())
    plan = build_plan([("verify", kit.step("v1", "fake.advance"))])
    cancellation = Cancellation()
    with fenced(LosableLease(), cancellation):  # type: ignore[arg-type]
        report = kit.executor(cancellation=cancellation).run(plan)
    assert report.exit_code == 0
    assert cancellation.failure is None
