"""The executor against fake step types: timing, RPO/RTO, rollback, modes, retries, parallel."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from drill.plan import ExecutionPlan, ResolvedStep, StepSpec
from drill.report import RunReport, StepReport
from drill.steps import Mode
from drill.tiers import Targets

from .fakes import START, Kit, build_plan


def by_id(report: RunReport) -> dict[str, StepReport]:
    return {s.id: s for s in report.steps}


def statuses(report: RunReport) -> dict[str, str]:
    return {s.id: s.status for s in report.steps}


# --- timing, RPO and RTO ----------------------------------------------------------------------


def timed_plan(kit: Kit, rto_s: float = 900.0) -> ExecutionPlan:
    return build_plan(
        [
            ("preflight", kit.step("p1", "fake.advance", seconds=2)),
            (
                "restore",
                kit.step(
                    "r1",
                    "fake.restore",
                    at=START - timedelta(hours=1),
                    source="velero backup daily-1",
                    seconds=4,
                ),
            ),
            ("failover", kit.step("m1", "fake.mutate", seconds=3)),
            ("verify", kit.step("v1", "fake.advance", seconds=5)),
            ("verify", kit.step("v2", "fake.advance", seconds=7)),
            ("cleanup", kit.step("c1", "fake.advance", seconds=1)),
        ],
        targets=Targets(rpo_s=2 * 3600, rto_s=rto_s),
    )


def test_step_durations_are_exactly_what_the_clock_advanced() -> None:
    kit = Kit()
    report = kit.executor().run(timed_plan(kit))
    steps = by_id(report)
    assert {i: steps[i].duration_s for i in ("p1", "r1", "m1", "v1", "v2", "c1")} == {
        "p1": 2.0,
        "r1": 4.0,
        "m1": 3.0,
        "v1": 5.0,
        "v2": 7.0,
        "c1": 1.0,
    }
    assert all(s.attempts == 1 for s in report.steps)


def test_timestamps_are_consistent_with_durations() -> None:
    kit = Kit()
    report = kit.executor().run(timed_plan(kit))
    assert report.started_at == START
    expected_starts = {"p1": 0, "r1": 2, "m1": 6, "v1": 9, "v2": 14, "c1": 21}
    for step in report.steps:
        assert step.started_at == START + timedelta(seconds=expected_starts[step.id])
        assert step.finished_at is not None
        assert step.started_at is not None
        assert (step.finished_at - step.started_at).total_seconds() == step.duration_s
    assert report.finished_at == START + timedelta(seconds=22)
    assert report.undo[0].started_at == START + timedelta(seconds=21)


def test_rto_runs_from_t0_to_the_last_verify_step_passing() -> None:
    kit = Kit()
    report = kit.executor().run(timed_plan(kit))
    assert report.recovered_at == START + timedelta(seconds=21)
    assert report.rto.measured_s == 21.0
    assert report.rto.margin_s == 900.0 - 21.0
    assert report.rto.met is True
    assert report.disaster_at == START
    assert report.disaster_at_source == "run start"
    assert (report.outcome, report.exit_code) == ("passed", 0)


def test_rpo_is_t0_minus_the_recovery_point_and_names_its_source() -> None:
    kit = Kit()
    report = kit.executor().run(timed_plan(kit))
    assert report.recovery_point == START - timedelta(hours=1)
    assert report.rpo.measured_s == 3600.0
    assert report.rpo.margin_s == 2 * 3600 - 3600.0
    assert report.rpo.met is True
    assert report.rpo.source == "velero backup daily-1"


@pytest.mark.parametrize("older_first", [True, False])
def test_with_two_recovery_points_the_older_one_sets_rpo(older_first: bool) -> None:
    kit = Kit()
    older = kit.step(
        "velero", "fake.restore", at=START - timedelta(minutes=50), source="velero backup b1"
    )
    newer = kit.step(
        "objects", "fake.restore", at=START - timedelta(minutes=10), source="gcs object o1"
    )
    order = [older, newer] if older_first else [newer, older]
    plan = build_plan([("restore", step) for step in order])
    report = kit.executor().run(plan)
    assert report.recovery_point == START - timedelta(minutes=50)
    assert report.rpo.measured_s == 3000.0
    assert report.rpo.source == "velero backup b1"
    assert report.rpo.margin_s == 7200.0 - 3000.0


def test_disaster_at_shifts_rpo_and_rto() -> None:
    kit = Kit()
    t0 = START - timedelta(minutes=10)
    report = kit.executor().run(timed_plan(kit), t0)
    assert report.disaster_at == t0
    assert report.disaster_at_source == "--disaster-at"
    assert report.started_at == START  # the run itself still starts when it starts
    assert report.rpo.measured_s == 3600.0 - 600.0
    assert report.rto.measured_s == 21.0 + 600.0
    assert report.rto.margin_s == 900.0 - 621.0


def test_missed_rto_target_exits_1_with_a_negative_margin() -> None:
    kit = Kit()
    report = kit.executor().run(timed_plan(kit, rto_s=10))
    assert report.rto.met is False
    assert report.rto.margin_s == -11.0
    assert (report.outcome, report.exit_code) == ("target_missed", 1)


def test_no_recovery_point_and_no_verify_leaves_rpo_and_rto_unmeasured() -> None:
    kit = Kit()
    report = kit.executor().run(build_plan([("preflight", kit.step("p1", "fake.advance"))]))
    assert report.rpo.measured_s is None
    assert report.rpo.met is None
    assert report.rto.measured_s is None
    assert report.rto.met is None
    assert report.recovery_point is None
    assert report.recovered_at is None
    assert (report.outcome, report.exit_code) == ("passed", 0)


def test_skipped_step_is_reported_and_not_run() -> None:
    kit = Kit()
    plan = build_plan(
        [("failover", kit.step("dns", "fake.mutate", skip_reason="no drill target named"))]
    )
    report = kit.executor().run(plan)
    assert report.steps[0].status == "skipped"
    assert report.steps[0].skip_reason == "no drill target named"
    assert kit.calls == [
        ("journal:run_started", ""),
        ("journal:step_skipped", "dns"),
        ("journal:run_finished", ""),
    ]
    assert report.undo == []


# --- failure and rollback ---------------------------------------------------------------------


def failing_plan(kit: Kit, mode: Mode = "drill", **undo_failures: bool) -> ExecutionPlan:
    def mutate(step_id: str) -> ResolvedStep:
        return kit.step(step_id, "fake.mutate", fail_undo=undo_failures.get(step_id, False))

    return build_plan(
        [
            ("preflight", kit.step("p1", "fake.advance")),
            ("restore", mutate("ns")),
            ("failover", mutate("m1")),
            ("failover", mutate("m2")),
            ("failover", kit.step("boom", "fake.fail")),
            ("failover", mutate("m3")),
            ("verify", kit.step("v1", "fake.advance")),
            ("rollback", kit.step("rb1", "fake.advance")),
            ("cleanup", kit.step("c1", "fake.advance")),
        ],
        mode=mode,
    )


def test_failed_step_undoes_earlier_mutations_newest_first() -> None:
    kit = Kit()
    report = kit.executor().run(failing_plan(kit))
    assert [u.step_id for u in report.undo] == ["m2", "m1", "ns"]
    assert all(u.status == "undone" for u in report.undo)
    assert report.undo[0].detail == "put back thing=old-m2"
    work = [c for c in kit.calls if not c[0].startswith("journal:")]
    assert work == [
        ("run", "p1"),
        ("capture", "ns"),
        ("mutate", "ns"),
        ("capture", "m1"),
        ("mutate", "m1"),
        ("capture", "m2"),
        ("mutate", "m2"),
        ("run", "boom"),
        # Each undone step is read back at once, before an older undo changes its world.
        ("undo", "m2"),
        ("read_back", "m2"),
        ("undo", "m1"),
        ("read_back", "m1"),
        ("undo", "ns"),
        ("read_back", "ns"),
        ("run", "rb1"),
        ("run", "c1"),
    ]


def test_failed_step_marks_later_steps_not_run_and_exits_3() -> None:
    kit = Kit()
    report = kit.executor().run(failing_plan(kit))
    assert statuses(report) == {
        "p1": "passed",
        "ns": "passed",
        "m1": "passed",
        "m2": "passed",
        "boom": "failed",
        "m3": "not_run",
        "v1": "not_run",
        "rb1": "passed",
        "c1": "passed",
    }
    steps = by_id(report)
    assert steps["boom"].error == "fake condition not met"
    assert steps["m3"].skip_reason == "an earlier step failed"
    assert steps["m3"].started_at is None
    assert (report.outcome, report.exit_code) == ("failed", 3)
    assert report.rollback_command is None


def test_mutating_step_that_fails_after_capturing_is_undone_too() -> None:
    kit = Kit()
    plan = build_plan(
        [
            ("failover", kit.step("m1", "fake.mutate")),
            ("failover", kit.step("half", "fake.mutate", fail_run=True)),
        ]
    )
    report = kit.executor().run(plan)
    assert [u.step_id for u in report.undo] == ["half", "m1"]
    assert (report.outcome, report.exit_code) == ("failed", 3)


def test_undo_that_raises_gives_exit_4_and_the_other_undos_still_run() -> None:
    kit = Kit()
    report = kit.executor().run(failing_plan(kit, m1=True))
    assert kit.actions("undo") == ["m2", "m1", "ns"]
    assert [(u.step_id, u.status) for u in report.undo] == [
        ("m2", "undone"),
        ("m1", "failed"),
        ("ns", "undone"),
    ]
    assert "fake undo refused" in report.undo[1].detail
    assert kit.actions("run")[-2:] == ["rb1", "c1"]
    assert (report.outcome, report.exit_code) == ("rollback_incomplete", 4)


def test_failed_undo_after_a_passing_run_also_exits_4() -> None:
    kit = Kit()
    plan = build_plan([("failover", kit.step("m1", "fake.mutate", fail_undo=True))])
    report = kit.executor().run(plan)
    assert statuses(report) == {"m1": "passed"}
    assert (report.outcome, report.exit_code) == ("rollback_incomplete", 4)


def test_failed_cleanup_step_exits_4() -> None:
    kit = Kit()
    plan = build_plan(
        [
            ("failover", kit.step("m1", "fake.mutate")),
            ("cleanup", kit.step("c1", "fake.fail")),
            ("cleanup", kit.step("c2", "fake.advance")),
        ]
    )
    report = kit.executor().run(plan)
    assert [u.status for u in report.undo] == ["undone"]
    assert (report.outcome, report.exit_code) == ("rollback_incomplete", 4)


# --- modes ------------------------------------------------------------------------------------


def test_drill_mode_rolls_back_even_when_everything_passed() -> None:
    kit = Kit()
    plan = build_plan(
        [
            ("restore", kit.step("ns", "fake.mutate")),
            ("failover", kit.step("m1", "fake.mutate")),
            ("verify", kit.step("v1", "fake.advance")),
            ("rollback", kit.step("rb1", "fake.advance")),
            ("cleanup", kit.step("c1", "fake.advance")),
        ]
    )
    report = kit.executor(rollback_command="drill rollback run-1").run(plan)
    assert (report.outcome, report.exit_code) == ("passed", 0)
    assert [(u.step_id, u.status) for u in report.undo] == [("m1", "undone"), ("ns", "undone")]
    assert kit.actions("undo") == ["m1", "ns"]
    assert statuses(report)["rb1"] == "passed"
    assert statuses(report)["c1"] == "passed"
    assert report.rollback_command is None  # only live runs leave a rollback to a human


def live_plan(kit: Kit, fail: bool) -> ExecutionPlan:
    return build_plan(
        [
            ("failover", kit.step("m1", "fake.mutate")),
            ("failover", kit.step("m2", "fake.fail" if fail else "fake.mutate")),
            ("verify", kit.step("v1", "fake.advance")),
            ("rollback", kit.step("rb1", "fake.advance")),
            ("cleanup", kit.step("c1", "fake.advance")),
        ],
        mode="live",
    )


def test_live_mode_never_rolls_back_and_says_how_to() -> None:
    kit = Kit()
    report = kit.executor(mode="live", rollback_command="drill rollback run-1").run(
        live_plan(kit, fail=False)
    )
    assert (report.outcome, report.exit_code) == ("passed", 0)
    assert report.undo == []
    assert kit.actions("undo") == []
    assert "rb1" not in kit.actions("run")
    assert statuses(report)["rb1"] == "not_run"
    assert statuses(report)["c1"] == "passed"
    assert report.rollback_command == "drill rollback run-1"
    assert report.mode == "live"


def test_live_mode_with_a_failed_step_exits_3_without_undoing() -> None:
    kit = Kit()
    report = kit.executor(mode="live", rollback_command="drill rollback run-1").run(
        live_plan(kit, fail=True)
    )
    assert (report.outcome, report.exit_code) == ("failed", 3)
    assert report.undo == []
    assert kit.actions("undo") == []
    assert kit.actions("mutate") == ["m1"]
    assert statuses(report) == {
        "m1": "passed",
        "m2": "failed",
        "v1": "not_run",
        "c1": "not_run",
        "rb1": "not_run",
    }
    assert report.rollback_command == "drill rollback run-1"


def test_live_mode_says_why_rollback_and_cleanup_did_not_run() -> None:
    kit = Kit()
    passed = kit.executor(mode="live").run(live_plan(kit, fail=False))
    assert by_id(passed)["rb1"].skip_reason == "live mode never rolls back by itself"
    failed = kit.executor(mode="live").run(live_plan(kit, fail=True))
    assert by_id(failed)["rb1"].skip_reason == "live mode never rolls back by itself"
    assert by_id(failed)["c1"].skip_reason == "not run in live mode after a failure"


# --- retries and timeouts ---------------------------------------------------------------------


def test_transient_errors_are_retried_and_attempts_counted() -> None:
    kit = Kit()
    plan = build_plan([("preflight", kit.step("f1", "fake.flaky", failures=2, retries=3))])
    report = kit.executor().run(plan)
    step = report.steps[0]
    assert (step.status, step.attempts) == ("passed", 3)
    assert kit.actions("run") == ["f1"] * 3
    assert step.duration_s == 1.0 + 2.0  # exponential backoff slept on the fake clock
    assert (report.outcome, report.exit_code) == ("passed", 0)


def test_a_step_s_default_retries_ride_out_half_a_minute_of_transient_errors() -> None:
    """A control plane's upgrade or failover makes its API answer 503 for seconds: a step
    that gives up sooner fails a drill whose cluster was about to answer again."""
    default = StepSpec.model_fields["retries"].default
    kit = Kit()
    flaky = kit.step("f1", "fake.flaky", failures=default, retries=default, timeout_s=600)
    step = kit.executor().run(build_plan([("preflight", flaky)])).steps[0]
    assert (step.status, step.attempts) == ("passed", default + 1)
    assert step.duration_s is not None
    assert step.duration_s >= 30.0  # backing off 1, 2, 4, ... s on the fake clock


def test_transient_errors_beyond_retries_fail_the_step() -> None:
    kit = Kit()
    plan = build_plan(
        [
            ("preflight", kit.step("f1", "fake.flaky", failures=3, retries=2)),
            ("verify", kit.step("v1", "fake.advance")),
        ]
    )
    report = kit.executor().run(plan)
    step = report.steps[0]
    assert (step.status, step.attempts) == ("failed", 3)
    assert step.error == "fake 503 (try 3)"
    assert statuses(report)["v1"] == "not_run"
    assert (report.outcome, report.exit_code) == ("failed", 3)


def test_retries_stop_when_the_step_has_no_time_left() -> None:
    """Backoff sleeps 1, 2, then the 2 s left of the step's 5 s: a fourth try, and no more,
    though retries remain."""
    kit = Kit()
    plan = build_plan(
        [("preflight", kit.step("f1", "fake.flaky", failures=9, retries=8, timeout_s=5))]
    )
    step = kit.executor().run(plan).steps[0]
    assert (step.status, step.attempts, step.error) == ("failed", 4, "fake 503 (try 4)")
    assert kit.actions("run") == ["f1"] * 4
    assert step.duration_s == 5.0


@pytest.mark.parametrize("error", ["step_failed", "permanent", "unexpected"])
def test_non_transient_errors_are_not_retried(error: str) -> None:
    kit = Kit()
    plan = build_plan([("preflight", kit.step("f1", "fake.fail", error=error, retries=5))])
    report = kit.executor().run(plan)
    step = report.steps[0]
    assert (step.status, step.attempts) == ("failed", 1)
    assert kit.actions("run") == ["f1"]
    assert step.error
    assert (report.outcome, report.exit_code) == ("failed", 3)


def test_step_waiting_past_its_deadline_is_timed_out() -> None:
    kit = Kit()
    plan = build_plan(
        [
            ("failover", kit.step("m1", "fake.mutate")),
            ("verify", kit.step("w1", "fake.wait", timeout_s=30, retries=2, poll_s=4)),
            ("verify", kit.step("v2", "fake.advance")),
        ]
    )
    report = kit.executor().run(plan)
    step = by_id(report)["w1"]
    assert step.status == "timed_out"
    assert step.duration_s == 30.0
    assert step.attempts == 1
    assert step.error == "timed out waiting for the fake thing to be ready"
    assert statuses(report)["v2"] == "not_run"
    assert kit.actions("undo") == ["m1"]
    assert report.rto.met is False
    assert report.rto.measured_s is None
    assert (report.outcome, report.exit_code) == ("failed", 3)


# --- parallel stages --------------------------------------------------------------------------


def test_parallel_stage_runs_its_steps_at_the_same_time() -> None:
    kit = Kit()
    plan = build_plan(
        [
            ("verify", [kit.step("a", "fake.barrier"), kit.step("b", "fake.barrier")]),
            ("verify", kit.step("after", "fake.advance")),
        ]
    )
    report = kit.executor().run(plan)
    # A barrier of two only opens when both steps wait on it at once.
    assert statuses(report) == {"a": "passed", "b": "passed", "after": "passed"}
    assert report.recovered_at is not None
    assert (report.outcome, report.exit_code) == ("passed", 0)


def test_failure_in_a_parallel_stage_fails_the_run() -> None:
    kit = Kit()
    plan = build_plan(
        [
            ("failover", [kit.step("m1", "fake.mutate"), kit.step("bad", "fake.fail")]),
            ("verify", kit.step("v1", "fake.advance")),
        ]
    )
    report = kit.executor().run(plan)
    assert statuses(report) == {"m1": "passed", "bad": "failed", "v1": "not_run"}
    assert kit.actions("undo") == ["m1"]
    assert (report.outcome, report.exit_code) == ("failed", 3)


def test_recovered_at_is_the_latest_finish_in_a_parallel_verify_stage() -> None:
    kit = Kit()
    plan = build_plan(
        [("verify", [kit.step("quick", "fake.advance"), kit.step("slow", "fake.advance")])]
    )
    report = kit.executor().run(plan)
    finishes = [s.finished_at for s in report.steps if s.finished_at is not None]
    assert len(finishes) == 2
    assert report.recovered_at == max(finishes)


def test_report_started_at_is_run_start_even_with_disaster_at() -> None:
    kit = Kit()
    t0: datetime = START - timedelta(days=1)
    report = kit.executor().run(build_plan([("verify", kit.step("v", "fake.advance"))]), t0)
    assert report.rto.measured_s == 86400.0
    assert report.rto.met is False
    assert (report.outcome, report.exit_code) == ("target_missed", 1)
