"""The real `drill` program in a child process: help, exit codes, signals, the README's run.

Everything else calls the commands in-process; these check what only a process shows: the
console script and `python -m drill` wiring, the exit status the shell sees (a finished run
leaves through os._exit once its report is flushed), and signal handling.
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.conftest import Drill
from tests.cli.test_run import http_plan
from tests.httpserver import Answer, Script, serve

# Child processes: each pays the interpreter's and drill's start-up.
pytestmark = pytest.mark.slow


def test_help_and_version(drill: Drill) -> None:
    assert drill("--help").returncode == 0
    assert "0.1.0" in drill("--version").stdout
    run_help = drill("run", "--help").stdout
    for flag in (
        "--dry-run",
        "--live",
        "--yes",
        "--context",
        "--disaster-at",
        "--output",
        "--report-dir",
    ):
        assert flag in run_help


def test_an_invalid_plan_exits_2_with_located_problems(
    drill: Drill, write_plan: Callable[[str, str], Path]
) -> None:
    path = write_plan("broken", "version: 1\nname: broken\nservice: s\ntier: high\nphases: 3\n")
    result = drill("validate", str(path))
    assert result.returncode == 2
    assert result.stderr.startswith(f"{path}:5:")
    assert "Traceback" not in result.stderr


def test_a_failed_run_exits_3_with_its_whole_report_flushed(
    drill: Drill, write_plan: Callable[[str, str], Path], tmp_path: Path
) -> None:
    with serve(Script([Answer(500, b"down")])) as url:
        result = drill("run", str(http_plan(write_plan, url, within="300ms")), "--output", "json")
    assert result.returncode == 3, result.stderr
    report = json.loads(result.stdout)
    assert report["outcome"] == "failed"
    run_dir = tmp_path / "reports" / report["run_id"]
    assert json.loads((run_dir / "report.json").read_text()) == report
    assert (run_dir / "journal.jsonl").read_text().splitlines()[-1].startswith("{")
    assert json.loads(result.stderr.splitlines()[-1])["event"] == "run_finished"


def test_sigterm_mid_step_rolls_back_writes_report_and_exits_130(
    drill: Drill, write_plan: Callable[[str, str], Path], tmp_path: Path
) -> None:
    with serve(Script([Answer(200, b"ok"), Answer(503)])) as url:
        process = drill.popen(
            "run", str(http_plan(write_plan, url, within="30s")), "--output", "json"
        )
        _wait_for_event(tmp_path / "reports", "step_started", count=2)
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=20)
    assert process.returncode == 130, stderr
    report = json.loads(stdout)
    assert report["outcome"] == "interrupted"
    statuses = {s["id"]: s["status"] for s in report["steps"]}
    assert statuses == {"reachable": "passed", "healthy": "interrupted"}
    assert (tmp_path / "reports" / report["run_id"] / "report.json").is_file()
    assert "Traceback" not in stderr


def _wait_for_event(report_dir: Path, event: str, count: int) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        for journal in report_dir.glob("*/journal.jsonl"):
            if journal.read_text().count(f'"event": "{event}"') >= count:
                return
        time.sleep(0.05)
    raise AssertionError(f"no {count} {event} events in time")


def test_the_readme_first_command_runs_region_failure_in_the_sandbox(
    drill: Drill, tmp_path: Path
) -> None:
    """And leaves no file behind: the kubernetes client writes a kubeconfig's certificates
    and client keys to temporary files, which must go when the run ends, fast exit or not."""
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    result = drill(
        "run",
        "region-failure",
        "--sandbox",
        env={"DRILL_SANDBOX_DIR": str(drill.workdir / "no-sandbox-up"), "TMPDIR": str(temporary)},
        timeout=180,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "RESULT  PASSED (exit 0)" in result.stdout
    assert "Traceback" not in result.stderr
    assert list(temporary.iterdir()) == []


def test_a_run_whose_output_nobody_reads_still_undoes_and_keeps_its_report(
    drill: Drill, tmp_path: Path
) -> None:
    """`drill run ... 2>&1 | head` closes both pipes while the run goes on: every later log
    line and the report are dropped from them, never allowed to stop the run half-way."""
    process = drill.popen(
        "run",
        "namespace-restore",
        "--sandbox",
        env={"DRILL_SANDBOX_DIR": str(tmp_path / "no-sandbox-up")},
    )
    assert process.stdout is not None
    assert process.stderr is not None
    process.stdout.close()
    process.stderr.close()
    assert process.wait(timeout=180) == 0
    (report_file,) = (tmp_path / "reports").glob("*/report.json")
    report = json.loads(report_file.read_text())
    assert report["outcome"] == "passed"
    assert report["rollback"]["verified"] is True
    assert all(s["status"] != "interrupted" for s in report["steps"])
