"""`drill history PLAN` over reports stored in a directory, called as the CLI calls it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drill.history import store_report
from providers.report_store import DirectoryReportStore
from tests.cli.test_parsing import invoke
from tests.history.builders import PLAN, run_id, steady, with_durations
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
        ((PLAN,), "no history location: pass --history LOCATION"),
        ((PLAN, "--history", "gs://"), "history location 'gs://' names no bucket"),
        (("other-plan", "--history", "{history}"), "no runs of other-plan are stored in"),
        (("plans/region-failure.yaml", "--history", "{history}"), "give the plan's name"),
        ((PLAN, "--history", "{history}", "--factor", "1"), "Invalid value for '--factor'"),
        ((PLAN, "--history", "{history}", "--last", "0"), "Invalid value for '--last'"),
    ],
)
def test_usage_errors_exit_2_with_one_message(
    history: Path, args: tuple[str, ...], message: str
) -> None:
    # Through flag parsing: two of these are click's own messages.
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
