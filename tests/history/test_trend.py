"""Trend rows, and the history rendered as an aligned table and as JSON."""

from __future__ import annotations

import json
from datetime import timedelta

from drill.history import (
    Criteria,
    History,
    Skipped,
    find_regressions,
    render_history_json,
    render_history_text,
    trend_row,
    trend_rows,
)
from drill.report import RollbackReport, RunReport
from tests.history.builders import STEADY, report, run_id, started_at, steady, with_durations

CRITERIA = Criteria(factor=1.5, window=5)


def test_a_row_holds_outcome_objectives_and_the_slowest_step() -> None:
    row = trend_row(report(3, rto_s=900.0, rpo_s=None, outcome="target_missed"))
    assert (row.run_id, row.started_at, row.mode) == (run_id(3), started_at(3), "drill")
    assert (row.outcome, row.exit_code) == ("target_missed", 1)
    assert (row.rto.measured_s, row.rto.target_s, row.rto.margin_s) == (900.0, 3600.0, 2700.0)
    assert (row.rpo.measured_s, row.rpo.margin_s) == (None, None)
    assert row.slowest_step is not None
    assert (row.slowest_step.id, row.slowest_step.duration_s) == ("restore-db", 180.0)


def test_skipped_steps_are_never_the_slowest() -> None:
    row = trend_row(report(0, {**STEADY, "long-skip": 5000.0}, statuses={"long-skip": "skipped"}))
    assert row.slowest_step is not None
    assert row.slowest_step.id == "restore-db"


def test_a_run_without_timed_steps_has_no_slowest_step() -> None:
    assert trend_row(report(0, {})).slowest_step is None


def test_rows_keep_the_order_given() -> None:
    assert [row.run_id for row in trend_rows(steady(3))] == [run_id(i) for i in range(3)]


def text_for(history: History) -> str:
    return render_history_text(history, find_regressions(history.reports), CRITERIA)


def test_the_table_is_aligned_one_row_per_run() -> None:
    reports = (*steady(2), report(2, rto_s=3700.0, outcome="target_missed"))
    lines = text_for(History("region-failure", reports)).splitlines()
    assert lines[0] == "history of region-failure: 3 runs, oldest first"
    table = lines[2:6]
    assert table[0].split() == [
        "STARTED", "(UTC)", "MODE", "OUTCOME", "RTO", "MARGIN", "USERS", "SERVED", "RPO", "MARGIN",
        "RPO", "FROM", "ROLLBACK", "SLOWEST", "STEP",
    ]  # fmt: skip
    # Words start where their header does; durations end where theirs does.
    for header in ("MODE", "OUTCOME", "SLOWEST STEP"):
        start = table[0].index(header)
        assert all(line[start - 1] == " " != line[start] for line in table[1:]), header
    for end in (table[0].index("RTO") + 3, table[0].rindex("MARGIN") + 6):
        assert all(line[end - 1] != " " == line[end] for line in table[1:]), end
    served_end = table[0].index("USERS SERVED") + len("USERS SERVED")
    assert {line[served_end - 1] for line in table[1:]} == {"-"}  # these runs had no probes
    assert table[1].split()[:4] == ["2026-11-01", "02:00:00", "drill", "passed"]
    assert table[3].split()[3:9] == ["TARGET", "MISSED", "1h01m", "-1m40s", "-", "20m00s"]
    assert table[1].endswith("restore-db 3m00s")
    assert "targets (newest run): RTO 1h00m, RPO 1h00m" in lines


def test_the_verdict_lists_each_regression() -> None:
    reports = (*steady(6), with_durations(6, restore_db=540.0))
    text = text_for(History("region-failure", reports))
    assert f"REGRESSIONS in the newest run, {run_id(6)}:" in text
    assert "  - step restore-db took 9m00s, 2.9x its median 3m05s" in text


def test_a_clean_history_says_what_was_checked() -> None:
    text = text_for(History("region-failure", tuple(steady(4))))
    assert "No regressions in the newest run. Checked: steps over 1.5x their median" in text
    assert "REGRESSIONS" not in text


def test_skipped_files_are_named_with_their_reason() -> None:
    history = History(
        "region-failure", tuple(steady(1)), (Skipped("region-failure/x.json", "bad"),)
    )
    text = text_for(history)
    assert "Skipped 1 stored file(s) that are not readable reports:" in text
    assert "  region-failure/x.json: bad" in text


def test_json_holds_runs_regressions_criteria_and_skipped() -> None:
    history = History(
        "region-failure",
        (*steady(6), with_durations(6, restore_db=540.0)),
        (Skipped("region-failure/x.json", "bad"),),
    )
    document = json.loads(render_history_json(history, find_regressions(history.reports), CRITERIA))
    assert document["plan"] == "region-failure"
    assert [run["run_id"] for run in document["runs"]] == [run_id(i) for i in range(7)]
    assert document["runs"][-1]["slowest_step"] == {"id": "restore-db", "duration_s": 540.0}
    assert document["runs"][0]["rto"]["margin_s"] == 3000.0
    [regression] = document["regressions"]
    assert (regression["kind"], regression["subject"], regression["limit"]) == (
        "slow_step", "restore-db", 1.5,
    )  # fmt: skip
    assert document["criteria"] == {
        "factor": 1.5, "window": 5, "min_samples": 3, "min_slowdown_s": 1.0,
        "shrink_runs": 3, "low_margin_fraction": 0.25,
    }  # fmt: skip
    assert document["skipped"] == [{"name": "region-failure/x.json", "reason": "bad"}]


def test_the_rollback_column_gives_its_time_and_says_when_it_was_not_verified() -> None:
    def rolled(index: int, verified: bool | None) -> RunReport:
        at = started_at(index) + timedelta(minutes=14)
        rollback = RollbackReport(started_at=at, finished_at=at, duration_s=42.0, verified=verified)
        return report(index).model_copy(update={"rollback": rollback})

    reports = (report(0), rolled(1, True), rolled(2, False), rolled(3, None))
    rows = trend_rows(reports)
    assert [(row.rollback_s, row.rollback_verified) for row in rows] == [
        (None, None),
        (42.0, True),
        (42.0, False),
        (42.0, None),
    ]
    table = text_for(History("region-failure", reports)).splitlines()[2:7]
    column = table[0].index("ROLLBACK")
    assert [line[column:].split("  ")[0].strip() for line in table[1:]] == [
        "-",
        "42.0s",
        "42.0s DIFFERS",
        "42.0s not verified",
    ]


def from_data(index: int, data_s: float, backup_s: float) -> RunReport:
    """Run ``index`` judged on RPO from data, with backup metadata's figure beside it."""
    base = report(index, rpo_s=data_s)
    rpo = base.rpo.model_copy(update={"from_data_s": data_s, "from_backup_s": backup_s})
    return base.model_copy(update={"rpo": rpo})


def test_the_table_says_what_each_run_judged_rpo_on_and_json_keeps_both_figures() -> None:
    reports = (report(0), from_data(1, 1300.0, 1250.0), report(2, rpo_s=None))
    text = text_for(History("region-failure", reports))
    rows = text.splitlines()[3:6]
    column = text.splitlines()[2].index("RPO FROM")
    assert [row[column:].split()[0] for row in rows] == ["backup", "data", "-"]
    document = json.loads(render_history_json(History("region-failure", reports), [], CRITERIA))
    second = document["runs"][1]["rpo"]
    assert (second["measured_s"], second["from_data_s"], second["from_backup_s"]) == (
        1300.0,
        1300.0,
        1250.0,
    )


def test_users_served_stands_beside_rto_in_rows_table_and_json() -> None:
    served = report(1)
    served = served.model_copy(
        update={"rto": served.rto.model_copy(update={"users_served_s": 42.0})}
    )
    assert trend_row(served).users_served_s == 42.0
    assert trend_row(report(0)).users_served_s is None
    history = History("region-failure", (report(0), served))
    table = text_for(history).splitlines()[2:5]
    served_end = table[0].index("USERS SERVED") + len("USERS SERVED")
    assert [line[served_end - 5 : served_end] for line in table[1:]] == ["    -", "42.0s"]
    document = json.loads(render_history_json(history, [], CRITERIA))
    assert [run["users_served_s"] for run in document["runs"]] == [None, 42.0]
