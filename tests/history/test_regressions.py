"""find_regressions: slow steps against their recent median, shrinking and low margins."""

from __future__ import annotations

import pytest

from drill.history import Regression, find_regressions
from drill.report import StepStatus
from tests.history.builders import STEADY, report, run_id, steady, with_durations


def slow(regressions: list[Regression]) -> list[Regression]:
    return [r for r in regressions if r.kind == "slow_step"]


def test_a_steady_series_has_no_regression() -> None:
    assert find_regressions(steady(8)) == []


def test_no_history_has_no_regression() -> None:
    assert find_regressions([]) == []


def test_a_step_three_times_its_median_in_the_newest_run_is_flagged() -> None:
    runs = [*steady(6), with_durations(6, restore_db=540.0)]
    [regression] = find_regressions(runs)
    assert regression.kind == "slow_step"
    assert regression.subject == "restore-db"
    assert regression.run_id == run_id(6)
    assert regression.value_s == 540.0
    # The previous five runs where it passed, oldest first; their median, and the ratio to it.
    assert regression.compared_with == tuple(run_id(i) for i in range(1, 6))
    assert regression.samples_s == tuple(r.steps[1].duration_s for r in runs[1:6])
    # Wobbles 1.08, 0.95, 1.03, 0.97, 1.05: the median is 1.03 x 180 s.
    assert regression.baseline_s == pytest.approx(185.4)
    assert regression.ratio == pytest.approx(540.0 / 185.4)
    assert regression.limit == 1.5
    assert regression.detail == (
        "step restore-db took 9m00s, 2.9x its median 3m05s over the previous 5 runs where it "
        "passed (flagged above 1.5x)"
    )


def test_the_order_of_the_reports_given_does_not_matter() -> None:
    runs = [*steady(6), with_durations(6, restore_db=540.0)]
    assert find_regressions(runs[::-1]) == find_regressions(runs)


def test_the_factor_is_a_strict_threshold() -> None:
    runs = [*(report(i) for i in range(5)), with_durations(5, restore_db=270.0)]
    assert slow(find_regressions(runs, factor=1.5)) == []
    [regression] = slow(find_regressions(runs, factor=1.4))
    assert regression.ratio == pytest.approx(1.5)
    assert regression.limit == 1.4


def test_only_the_latest_window_of_runs_makes_the_median() -> None:
    # Slow long ago, fast lately: the newest run is slow against the recent runs only.
    old = [with_durations(i, restore_db=1000.0) for i in range(4)]
    recent = [report(i) for i in range(4, 7)]
    newest = with_durations(7, restore_db=300.0)
    assert slow(find_regressions([*old, *recent, newest], window=3))[0].baseline_s == 180.0
    assert slow(find_regressions([*old, *recent, newest], window=7)) == []


def test_runs_where_the_step_failed_are_passed_over() -> None:
    passed = [report(i) for i in range(4)]
    failed_fast = [
        report(i, {**STEADY, "restore-db": 10.0}, statuses={"restore-db": "failed"})
        for i in range(4, 6)
    ]
    newest = with_durations(6, restore_db=300.0)
    [regression] = slow(find_regressions([*passed, *failed_fast, newest]))
    assert regression.baseline_s == 180.0
    assert regression.compared_with == tuple(run_id(i) for i in range(4))


@pytest.mark.parametrize("earlier", [0, 1, 2])
def test_fewer_than_three_earlier_passes_are_not_enough(earlier: int) -> None:
    runs = [*(report(i) for i in range(earlier)), with_durations(earlier, restore_db=900.0)]
    assert find_regressions(runs) == []


def test_earlier_failures_do_not_count_as_samples() -> None:
    failed: dict[str, StepStatus] = {"restore-db": "failed"}
    runs = [
        *(report(i, statuses=failed) for i in range(5)),
        *(report(i) for i in range(5, 7)),
        with_durations(7, restore_db=900.0),
    ]
    assert find_regressions(runs) == []


def test_a_step_new_in_the_newest_run_is_not_flagged() -> None:
    runs = [*steady(6), report(6, {**STEADY, "warm-cache": 600.0})]
    assert find_regressions(runs) == []


def test_a_timed_out_step_in_the_newest_run_is_flagged_as_slow() -> None:
    newest = report(6, {**STEADY, "restore-db": 900.0}, statuses={"restore-db": "timed_out"})
    assert [r.subject for r in slow(find_regressions([*steady(6), newest]))] == ["restore-db"]


def test_a_skipped_step_is_never_slow() -> None:
    newest = report(6, {**STEADY, "restore-db": 900.0}, statuses={"restore-db": "skipped"})
    assert find_regressions([*steady(6), newest]) == []


def test_a_slowdown_under_a_second_is_noise() -> None:
    quick = {"contexts-reachable": 0.05}
    runs = [*(report(i, quick) for i in range(5)), report(5, {"contexts-reachable": 0.6})]
    assert find_regressions(runs) == []


def test_an_rto_margin_shrinking_in_each_of_the_last_three_runs_is_flagged() -> None:
    runs = [report(i, rto_s=rto) for i, rto in enumerate([500.0, 600.0, 800.0, 1000.0, 1200.0])]
    [regression] = find_regressions(runs)
    assert regression.kind == "shrinking_margin"
    assert regression.subject == "RTO"
    assert regression.samples_s == (3000.0, 2800.0, 2600.0, 2400.0)
    assert (regression.baseline_s, regression.value_s) == (3000.0, 2400.0)
    assert regression.compared_with == tuple(run_id(i) for i in range(1, 4))
    assert regression.detail == (
        "RTO margin shrank in each of the last 3 runs: 50m00s -> 46m40s -> 43m20s -> 40m00s "
        "(10m00s less)"
    )


@pytest.mark.parametrize(
    "rpo_series",
    [
        [1000.0, 1200.0, 1200.0, 1400.0],  # one run held still
        [1000.0, 1200.0, 1400.0],  # only two shrinks seen
        [1000.0, None, 1200.0, 1400.0],  # one run could not measure it
        [1400.0, 1000.0, 1200.0, 1300.0],  # shrank twice, after growing
    ],
)
def test_a_margin_that_did_not_shrink_three_runs_running_is_not_flagged(
    rpo_series: list[float | None],
) -> None:
    runs = [report(i, rpo_s=rpo) for i, rpo in enumerate(rpo_series)]
    assert find_regressions(runs) == []


def test_a_margin_under_a_quarter_of_the_target_is_flagged() -> None:
    runs = [*steady(3), report(3, rpo_s=3000.0)]
    [regression] = find_regressions(runs)
    assert (regression.kind, regression.subject) == ("low_margin", "RPO")
    assert (regression.value_s, regression.baseline_s, regression.limit) == (600.0, 3600.0, 0.25)
    assert regression.ratio == pytest.approx(600.0 / 3600.0)
    assert regression.detail == (
        "RPO margin 10m00s is 17% of the 1h00m target (flagged below 25% of the target)"
    )


def test_a_margin_of_exactly_a_quarter_is_not_flagged() -> None:
    assert find_regressions([*steady(3), report(3, rpo_s=2700.0)]) == []


def test_a_missed_target_is_a_low_margin() -> None:
    [regression] = find_regressions([report(0, rto_s=3700.0, outcome="target_missed")])
    assert regression.kind == "low_margin"
    assert regression.value_s == -100.0
    assert regression.detail.startswith("RTO missed its 1h00m target by 1m40s")


def test_a_shrinking_low_margin_is_flagged_both_ways() -> None:
    runs = [report(i, rto_s=rto) for i, rto in enumerate([2000.0, 2500.0, 2900.0, 3000.0])]
    assert [r.kind for r in find_regressions(runs)] == ["shrinking_margin", "low_margin"]
