"""`drill history PLAN` over reports stored in a directory, called as the CLI calls it."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from drill.clock import FakeClock
from drill.history import store_report
from drill.report import RunReport, render_json
from providers.report_store import DirectoryReportStore
from tests.cli.test_parsing import invoke
from tests.history.builders import FIRST_RUN_AT, PLAN, run_id, steady, with_durations
from tests.history.builders import report as built_report
from tests.inprocess import InProcess


@pytest.fixture
def history(tmp_path: Path) -> Path:
    """Six steady runs, then one whose restore took three times as long."""
    store = DirectoryReportStore(tmp_path / "history")
    for report in [*steady(6), with_durations(6, restore_db=540.0)]:
        store_report(report, store)
    return store.root


def test_a_slow_step_is_flagged_and_exits_1(commands: InProcess, history: Path) -> None:
    result = commands.history(PLAN, str(history))
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"history of {PLAN}: 7 runs, oldest first"
    assert lines[2].split()[:4] == ["STARTED", "(UTC)", "MODE", "OUTCOME"]
    assert lines[3].startswith("  2026-11-01 02:00:00  drill  passed")
    assert lines[9].endswith("restore-db 9m00s")
    assert f"REGRESSIONS in the newest run, {run_id(6)}:" in lines
    assert (
        "  - step restore-db took 9m00s, 2.9x its median 3m05s over the previous 5 runs where "
        "it passed (flagged above 1.5x)"
    ) in lines
    assert result.stderr == ""


def test_last_and_factor_change_what_is_read_and_flagged(
    commands: InProcess, history: Path
) -> None:
    result = commands.history(PLAN, str(history), last=4, factor=3.0)
    assert result.returncode == 0, result.stderr
    assert f"history of {PLAN}: 4 runs, oldest first" in result.stdout
    assert "No regressions in the newest run. Checked: steps over 3x" in result.stdout


def test_json_output_and_the_location_from_the_environment(history: Path) -> None:
    result = invoke("history", PLAN, "--output", "json", env={"DRILL_HISTORY": str(history)})
    assert result.returncode == 1, result.stderr
    document = json.loads(result.stdout)
    assert len(document["runs"]) == 7
    [regression] = document["regressions"]
    assert (regression["kind"], regression["subject"]) == ("slow_step", "restore-db")
    assert regression["ratio"] == pytest.approx(540.0 / 185.4)


def test_a_steady_history_exits_0(commands: InProcess, tmp_path: Path) -> None:
    store = DirectoryReportStore(tmp_path / "steady")
    for report in steady(5):
        store_report(report, store)
    result = commands.history(PLAN, str(store.root))
    assert result.returncode == 0, result.stderr
    assert "No regressions in the newest run." in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((PLAN,), "no report directory reports: runs keep their reports there"),
        ((PLAN, "--history", "gs://"), "history location 'gs://' names no bucket"),
        (("other-plan", "--history", "{history}"), "no runs of other-plan are stored in"),
        (("plans/region-failure.yaml", "--history", "{history}"), "give the plan's name"),
        ((PLAN, "--history", "{history}", "--factor", "1"), "Invalid value for '--factor'"),
        # click's range lets these through; either would flag no step, ever, and exit 0.
        ((PLAN, "--history", "{history}", "--factor", "nan"), "--factor nan: give a number"),
        ((PLAN, "--history", "{history}", "--factor", "inf"), "--factor inf: give a number"),
        ((PLAN, "--history", "{history}", "--last", "0"), "Invalid value for '--last'"),
    ],
)
def test_usage_errors_exit_2_with_one_message(
    history: Path,
    args: tuple[str, ...],
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Through flag parsing: two of these are click's own messages. From an empty directory,
    # so that a ./reports left by someone's own runs does not answer the first case.
    monkeypatch.chdir(tmp_path)
    result = invoke("history", *(arg.format(history=history) for arg in args))
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_nothing_readable_stored_exits_2_counting_what_was_skipped(
    commands: InProcess, tmp_path: Path
) -> None:
    broken = tmp_path / "broken" / PLAN
    broken.mkdir(parents=True)
    (broken / "20261101T020000Z-x.json").write_text("{")
    result = commands.history(PLAN, str(tmp_path / "broken"))
    assert result.returncode == 2
    assert (
        f"no runs of {PLAN} are stored in {tmp_path / 'broken'} (1 unreadable files skipped)"
        in (result.stderr)
    )


def keep_as_run(reports: Path, kept: RunReport) -> None:
    """Where `drill run` keeps a run's report, beside its journal."""
    run_dir = reports / kept.run_id
    run_dir.mkdir(parents=True)
    (run_dir / "report.json").write_text(render_json(kept))
    (run_dir / "journal.jsonl").write_text("{}\n")


def test_without_history_the_report_directory_is_read(commands: InProcess) -> None:
    for kept in [*steady(3), built_report(3, plan="other-plan")]:
        keep_as_run(commands.reports, kept)
    (commands.reports / "half-written").mkdir()
    (commands.reports / "half-written" / "report.json").write_text("{")
    result = commands.history(PLAN, None)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"history of {PLAN}: 3 runs, oldest first"
    assert [line.split()[0] for line in lines[3:6]] == ["2026-11-01", "2026-11-02", "2026-11-03"]
    assert "other-plan" not in result.stdout
    assert "half-written/report.json" in result.stdout  # listed as skipped, not fatal


def test_without_a_plan_each_plan_gets_one_line(tmp_path: Path) -> None:
    now = FIRST_RUN_AT + timedelta(days=10)
    commands = InProcess(tmp_path, clock=FakeClock(now))
    kept = [
        *steady(3),
        built_report(3, outcome="failed", rto_s=None),
        built_report(4, plan="other-plan"),
    ]
    for one in kept:
        keep_as_run(commands.reports, one)
    result = commands.history(None, None)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"plans with runs in report directory {commands.reports}: 2"
    header, first, second = lines[2:5]
    assert header.split()[:2] == ["PLAN", "LAST"]
    assert first.split() == [
        "other-plan", "2026-11-05", "02:00", "(6d00h", "ago)", "drill", "PASSED",
        "50m00s", "40m00s", "6d00h", "ago",
    ]  # fmt: skip
    assert second.split()[:2] == [PLAN, "2026-11-04"]
    assert "FAILED" in second
    assert "not measured" in second
    assert second.endswith("8d00h ago")  # the newest passing drill, not the failed one


def test_without_a_plan_json_lists_every_plan_from_a_history_location(
    commands: InProcess, history: Path
) -> None:
    result = commands.history(None, str(history), output="json")
    assert result.returncode == 0, result.stderr
    [summary] = json.loads(result.stdout)["plans"]
    assert summary["plan"] == PLAN
    assert summary["runs_read"] == 7
    assert summary["last_run_id"] == run_id(6)
    assert summary["last_passed_drill_run_id"] == run_id(6)


def test_without_a_plan_and_no_runs_it_says_so(commands: InProcess) -> None:
    commands.reports.mkdir()
    result = commands.history(None, None)
    assert result.returncode == 2
    assert result.stderr == f"drill: no runs are stored in report directory {commands.reports}\n"


def test_a_newest_report_that_cannot_be_read_leaves_the_newest_run_unjudged(
    commands: InProcess, tmp_path: Path
) -> None:
    # A damaged newest report may hide a failed or slow run: neither "no regression" (0) nor
    # "a regression" (1) is true of it.
    store = DirectoryReportStore(tmp_path / "stored")
    for report in steady(5):
        store_report(report, store)
    store.put(f"{PLAN}/20991231T000000Z-{PLAN}-newest.json", b'{"run_id": ')
    result = commands.history(PLAN, str(store.root))
    assert result.returncode == 2, result.stdout
    assert "NEWEST RUN NOT KNOWN: 1 stored file(s) newer than the newest readable" in result.stdout
    assert f"No regressions in the newest readable run, {run_id(4)}." in result.stdout
    assert "targets (newest readable run): RTO 1h00m, RPO 1h00m" in result.stdout
    assert "its regressions are not checked" in result.stderr
    document = json.loads(commands.history(PLAN, str(store.root), output="json").stdout)
    assert [entry["name"] for entry in document["unread_newer"]] == [
        f"{PLAN}/20991231T000000Z-{PLAN}-newest.json"
    ]


def test_without_a_plan_a_plan_whose_newest_report_cannot_be_read_is_marked(
    commands: InProcess,
) -> None:
    for one in steady(3):
        keep_as_run(commands.reports, one)
    newest = commands.reports / run_id(3)
    newest.mkdir()
    (newest / "report.json").write_text("{")
    result = commands.history(None, None)
    assert result.returncode == 0, result.stderr
    row = next(line for line in result.stdout.splitlines() if line.startswith(f"  {PLAN}"))
    assert "PASSED*" in row.split()
    assert (
        f"* {PLAN}: 1 stored report(s) newer than its last run read cannot be read, so its last "
        "run is not known"
    ) in result.stdout


def test_a_newer_run_that_left_no_report_leaves_the_newest_run_unjudged(
    commands: InProcess,
) -> None:
    for one in steady(3):
        keep_as_run(commands.reports, one)
    killed = commands.reports / run_id(3)
    killed.mkdir()
    (killed / "journal.jsonl").write_text("{}\n")
    result = commands.history(PLAN, None)
    assert result.returncode == 2, result.stdout
    assert f"  {run_id(3)}/journal.jsonl: no report beside this journal" in result.stdout
    assert f"No regressions in the newest readable run, {run_id(2)}." in result.stdout
