"""--log-file: the logs go to a file as JSON lines, and none to stderr, terminal or not."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from tests.cli.test_run import http_plan
from tests.httpserver import Answer, Script, serve
from tests.inprocess import InProcess


def test_the_logs_go_to_the_file_and_none_to_stderr(
    commands: InProcess, write_plan: Callable[[str, str], Path], tmp_path: Path
) -> None:
    log_file = tmp_path / "drill.log"
    log_file.write_text('{"event": "an earlier run"}\n')
    settings = replace(commands.settings(), log_file=log_file)
    with serve(Script([Answer(200, b"ok")])) as url:
        result = commands.run(str(http_plan(write_plan, url)), settings=settings)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    [earlier, *logged] = [json.loads(line) for line in log_file.read_text().splitlines()]
    assert earlier == {"event": "an earlier run"}  # appended, never truncated
    events = [entry["event"] for entry in logged]
    assert events[0] == "run_started"
    assert {"step_started", "step_finished", "run_finished"} <= set(events)
    [run_id] = {entry["run_id"] for entry in logged}
    assert run_id in result.stdout


def test_a_log_file_that_cannot_be_written_stops_the_run_before_it_starts(
    commands: InProcess, write_plan: Callable[[str, str], Path], tmp_path: Path
) -> None:
    settings = replace(commands.settings(), log_file=tmp_path / "no-such-dir" / "drill.log")
    result = commands.run(str(http_plan(write_plan, "http://127.0.0.1:9")), settings=settings)
    assert result.returncode == 2
    assert result.stderr == (
        f"drill: --log-file {tmp_path / 'no-such-dir' / 'drill.log'}: cannot write to it "
        "(No such file or directory)\n"
    )
    assert not (tmp_path / "reports").exists()


def test_a_log_file_that_is_the_plan_or_a_journal_is_refused_and_left_alone(
    commands: InProcess, write_plan: Callable[[str, str], Path], tmp_path: Path
) -> None:
    """Log lines appended to the plan file broke it (no longer YAML, and no longer the plan
    the run's rollback checks); appended to a run's journal, they mangle that run's record."""
    plan = http_plan(write_plan, "http://127.0.0.1:9")
    earlier = tmp_path / "kept" / "web-check-20260101-000000-0000"
    earlier.mkdir(parents=True)
    journal = earlier / "journal.jsonl"
    journal.write_text('{"event": "run_started"}\n', encoding="utf-8")
    before = {path: path.read_bytes() for path in (plan, journal)}
    for log_file, says in (
        (plan, f"--log-file {plan}: that is the plan file this run uses; write it elsewhere"),
        (journal, f"--log-file {journal}: that is the journal.jsonl of run {earlier.name}"),
    ):
        settings = replace(commands.settings(), log_file=log_file)
        result = commands.run(str(plan), settings=settings)
        assert result.returncode == 2, result.stderr
        assert result.stderr.startswith(f"drill: {says}")
        assert len(result.stderr.splitlines()) == 1
    assert {path: path.read_bytes() for path in (plan, journal)} == before
    assert not (tmp_path / "reports").exists()
