"""`drill runs` and the refusal to build on a dead run's leftovers, from journals on disk."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import JsonValue

from drill.clock import FakeClock
from drill.commands import Console
from drill.commands.run import refuse_while_left_behind
from drill.commands.runs import RunsOptions, runs
from drill.errors import UsageError
from drill.executor import (
    FileJournal,
    MutationRecord,
    RollbackFinished,
    RollbackStarted,
    RunFinished,
    RunStarted,
    UndoFinished,
)
from drill.plan import load_plan, resolve
from drill.tiers import DEFAULT_TIERS
from tests.child import REPO
from tests.executor.fakes import START
from tests.inprocess import InProcess

DEAD = "region-failure-20261124-003000-aaaa"  # run ids begin with their plan's name


def journal(
    report_dir: Path,
    run_id: str,
    *,
    sandbox: bool,
    finished: bool,
    params: dict[str, JsonValue] | None = None,
) -> None:
    clock = FakeClock(START)
    written = FileJournal(report_dir / run_id / "journal.jsonl", run_id, clock)
    written.write(
        RunStarted(
            plan="region-failure",
            plan_file="plans/region-failure.yaml",
            mode="drill",
            disaster_at=START,
            contexts={"dr": "dr-cluster"},
            sandbox=sandbox or None,
        )
    )
    written.write(
        MutationRecord(
            step_id="switch-dns",
            type="dns.switch",
            params=params or {},
            prior=None,
            context=None,
            timeout_s=60,
            retries=0,
            notes_kept=True,
        )
    )
    if finished:
        written.write(RunFinished(outcome="passed", exit_code=0))
    written.close()


def listed(report_dir: Path) -> tuple[int, str]:
    out = io.StringIO()
    console = Console(out, io.StringIO(), io.StringIO())
    clock = FakeClock(START + timedelta(minutes=3))
    code = runs(RunsOptions(report_dir), console, clock)
    return code, out.getvalue()


def test_runs_lists_a_dead_run_with_its_rollback_command(tmp_path: Path) -> None:
    journal(tmp_path, DEAD, sandbox=True, finished=False)
    code, text = listed(tmp_path)
    assert code == 1
    assert f"{DEAD}  plan region-failure, drill mode, started 3m00s ago" in text
    assert "unfinished (no finish in its journal: killed or crashed)" in text
    assert "changed: switch-dns (dns.switch)" in text
    assert f"undo:    drill rollback {DEAD} --report-dir {tmp_path} --sandbox" in text
    assert "lease:   drill-region-failure, taken by this run; it expires within a minute" in text


def rolled_back(report_dir: Path, run_id: str, failed: list[str]) -> None:
    """What `drill rollback` appends to a dead run's journal."""
    written = FileJournal(report_dir / run_id / "journal.jsonl", run_id, FakeClock(START))
    written.write(RollbackStarted(pending=["switch-dns"]))
    status = "failed" if failed else "undone"
    written.write(UndoFinished(step_id="switch-dns", status=status))
    written.write(RollbackFinished(failed=failed))
    written.close()


def test_a_dead_run_rolled_back_whole_is_settled_not_unfinished(tmp_path: Path) -> None:
    journal(tmp_path, DEAD, sandbox=True, finished=False)
    rolled_back(tmp_path, DEAD, failed=[])
    assert listed(tmp_path) == (0, f"no run under {tmp_path} left anything changed\n")
    out = io.StringIO()
    runs(RunsOptions(tmp_path, all=True), Console(out, io.StringIO(), io.StringIO()), FakeClock())
    assert (
        "unfinished (killed or crashed), then rolled back: nothing left changed" in out.getvalue()
    )
    assert "lease:" not in out.getvalue()  # no longer said to be held by the dead run


def test_a_dead_run_whose_rollback_failed_is_still_listed_with_what_is_left(
    tmp_path: Path,
) -> None:
    journal(tmp_path, DEAD, sandbox=True, finished=False)
    rolled_back(tmp_path, DEAD, failed=["switch-dns"])
    code, text = listed(tmp_path)
    assert code == 1
    assert "unfinished (no finish in its journal: killed or crashed)" in text
    assert "changed: switch-dns (dns.switch)" in text


def test_runs_is_quiet_when_nothing_is_left(tmp_path: Path) -> None:
    (tmp_path / "not-a-run").mkdir()
    (tmp_path / "not-a-run" / "journal.jsonl").write_text("not json at all\n{}\n")
    assert listed(tmp_path) == (0, f"no run under {tmp_path} left anything changed\n")


def test_only_leftovers_in_the_same_world_stop_a_new_run(tmp_path: Path) -> None:
    journal(tmp_path, "region-failure-20261124-003000-bbbb", sandbox=True, finished=False)
    refuse_while_left_behind("region-failure", tmp_path, sandbox=False)  # production: go on
    with pytest.raises(
        UsageError, match="run region-failure-20261124-003000-bbbb of region-failure did not finish"
    ):
        refuse_while_left_behind("region-failure", tmp_path, sandbox=True)


def test_a_finished_run_never_stops_a_new_one(tmp_path: Path) -> None:
    journal(tmp_path, "region-failure-20261124-003000-cccc", sandbox=False, finished=True)
    refuse_while_left_behind("region-failure", tmp_path, sandbox=False)
    code, text = listed(tmp_path)
    assert code == 1  # its changes are still listed, with the command that undoes them
    assert "finished (drill), changes not undone" in text


def test_a_sandbox_runs_commands_all_point_at_the_sandbox(tmp_path: Path) -> None:
    """`drill report` (rebuilt from the journal) prints the rollback command with --sandbox,
    and `drill rollback RUN` without the flag still goes to the sandbox: with none up it
    stops there (exit 2), never reaching for a kubeconfig or cloud credentials."""
    commands = InProcess(tmp_path, {"DRILL_SANDBOX_DIR": str(tmp_path / "no-sandbox")})
    reports = commands.reports
    loaded = load_plan(REPO / "plans" / "region-failure.yaml", DEFAULT_TIERS)
    plan = resolve(loaded.plan, loaded.source, "drill", DEFAULT_TIERS, {})
    switch = next(s for s in plan.steps() if s.id == "switch-dns")
    assert switch.params is not None
    journal(reports, DEAD, sandbox=True, finished=False, params=switch.params.as_json())
    rebuilt = commands.report(DEAD)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert f"drill rollback {DEAD} --report-dir {reports} --sandbox" in rebuilt.stdout
    missing = tmp_path / "no-such-kubeconfig"
    settings = commands.settings(kubeconfig=str(missing))
    rollback = commands.rollback(DEAD, yes=True, settings=settings)
    assert rollback.returncode == 2, rollback.stdout + rollback.stderr
    assert "no sandbox is up" in rollback.stderr
    assert str(missing) not in rollback.stderr


@pytest.mark.parametrize("kubeconfig", ["a directory", "missing"])
def test_a_rollback_whose_kubeconfig_cannot_be_used_is_bad_input_undoing_nothing(
    tmp_path: Path, kubeconfig: str
) -> None:
    """It ended with exit 3, as if a rollback step had failed: nothing was tried."""
    commands = InProcess(tmp_path, {"DRILL_SANDBOX_DIR": str(tmp_path / "no-sandbox")})
    loaded = load_plan(REPO / "plans" / "region-failure.yaml", DEFAULT_TIERS)
    plan = resolve(loaded.plan, loaded.source, "drill", DEFAULT_TIERS, {})
    switch = next(s for s in plan.steps() if s.id == "switch-dns")
    assert switch.params is not None
    journal(commands.reports, DEAD, sandbox=False, finished=False, params=switch.params.as_json())
    journal_file = commands.reports / DEAD / "journal.jsonl"
    before = journal_file.read_text()
    config = tmp_path / "kube"
    if kubeconfig == "a directory":
        config.mkdir()
        reason = f"{config} is a directory, not a kubeconfig file: name the file itself"
    else:
        reason = "no kubeconfig file there: set KUBECONFIG or write the file"
    settings = commands.settings(kubeconfig=str(config))
    refused = commands.rollback(DEAD, yes=True, settings=settings)
    assert refused.returncode == 2, refused.stderr
    assert refused.stderr == (
        f"drill: kube context 'dr-cluster' ({config}): {reason}; nothing was undone\n"
    )
    assert journal_file.read_text() == before
    assert not (commands.reports / DEAD / "rollback-report.json").exists()


def test_a_report_directory_that_is_not_there_is_not_called_clean(tmp_path: Path) -> None:
    """A mistyped --report-dir must not read as "no run left anything changed"."""
    with pytest.raises(UsageError, match=r"no report directory .*mistyped: runs keep their"):
        listed(tmp_path / "mistyped")
    (tmp_path / "a-file").write_text("")
    with pytest.raises(UsageError, match="no report directory"):
        listed(tmp_path / "a-file")
    assert listed(tmp_path) == (0, f"no run under {tmp_path} left anything changed\n")


def test_a_journal_that_cannot_be_read_is_listed_not_passed_over(tmp_path: Path) -> None:
    """A run whose journal is damaged may have changes in place: drill cannot tell, so it must
    not say that no run left anything changed."""
    journal(tmp_path, DEAD, sandbox=False, finished=True)
    path = tmp_path / DEAD / "journal.jsonl"
    first, *rest = path.read_text().splitlines(keepends=True)
    path.write_text(first + "{damaged\n" + "".join(rest))
    code, text = listed(tmp_path)
    assert code == 1
    assert f"{DEAD}  journal {path}\n" in text
    assert "state:   cannot be read (line 2: journal line is not JSON): what this run" in text
    assert f"undo:    mend or restore the journal, then `drill rollback {path}`" in text
    assert "left anything changed" not in text


def test_a_journal_with_bytes_that_are_not_text_is_listed_with_its_line(tmp_path: Path) -> None:
    journal(tmp_path, DEAD, sandbox=False, finished=True)
    path = tmp_path / DEAD / "journal.jsonl"
    first, second, *rest = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(first + second + b'{"ts": "\xff\xfe"}\n' + b"".join(rest))
    code, text = listed(tmp_path)
    assert code == 1
    assert "state:   cannot be read (line 3: journal line is not UTF-8 text)" in text
    with pytest.raises(UsageError, match=r"cannot be read \(line 3: journal line is not UTF-8"):
        refuse_while_left_behind("region-failure", tmp_path, sandbox=False)


def test_a_damaged_journal_of_the_plan_stops_a_new_run_in_either_world(tmp_path: Path) -> None:
    """It may have left changes in place, in production or the sandbox: a new run would take
    them for the prior state."""
    journal(tmp_path, DEAD, sandbox=True, finished=True)
    path = tmp_path / DEAD / "journal.jsonl"
    path.write_text(path.read_text().replace('"sandbox": true', '"sandbox": "perhaps"'))
    for sandbox in (False, True):
        with pytest.raises(UsageError, match=r"the journal of an earlier run of region-failure"):
            refuse_while_left_behind("region-failure", tmp_path, sandbox=sandbox)
    # A plan whose name only begins like the damaged run's is not stopped by it.
    refuse_while_left_behind("region", tmp_path, sandbox=False)
    other = "region-failure-aws-20261124-003000-cccc"
    journal(tmp_path, other, sandbox=False, finished=True)
    (tmp_path / DEAD / "journal.jsonl").unlink()
    damaged = tmp_path / other / "journal.jsonl"
    text = damaged.read_text().replace('"plan": "region-failure"', '"plan": "region-failure-aws"')
    first, *rest = text.splitlines(keepends=True)
    damaged.write_text(first + "{damaged\n" + "".join(rest))
    refuse_while_left_behind("region-failure", tmp_path, sandbox=False)  # its plan is named


def test_rolling_back_what_is_no_run_names_the_file(tmp_path: Path) -> None:
    commands = InProcess(tmp_path, {"DRILL_SANDBOX_DIR": str(tmp_path / "no-sandbox")})
    path = commands.reports / "not-a-run" / "journal.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text('{"note": "not an event"}\n')
    refused = commands.rollback("not-a-run", yes=True)
    assert refused.returncode == 2
    assert refused.stderr == (
        f"drill: {path}: journal has no readable run_started event: not the journal of a run\n"
    )


@pytest.mark.parametrize("where", ["report directory", "current directory"])
def test_rolling_back_an_empty_run_id_is_one_usage_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """'' was read as the current directory (or as the report directory itself), and refused
    as ": no journal.jsonl there: not a run"."""
    commands = InProcess(tmp_path, {"DRILL_SANDBOX_DIR": str(tmp_path / "no-sandbox")})
    commands.reports.mkdir(parents=True, exist_ok=True)
    monkeypatch.chdir(commands.reports if where == "report directory" else tmp_path)
    refused = commands.rollback("", yes=True)
    assert refused.returncode == 2
    assert refused.stdout == ""
    assert refused.stderr == (
        "drill: RUN is empty: give a run id (`drill runs --all` lists them), a run directory, "
        "a journal or a report file\n"
    )


def test_a_rollback_logging_into_the_plan_it_checks_is_refused_and_leaves_it_alone(
    tmp_path: Path,
) -> None:
    commands = InProcess(tmp_path, {"DRILL_SANDBOX_DIR": str(tmp_path / "no-sandbox")})
    plan_file = tmp_path / "region-failure.yaml"
    plan_file.write_bytes((REPO / "plans" / "region-failure.yaml").read_bytes())
    loaded = load_plan(plan_file, DEFAULT_TIERS)
    plan = resolve(loaded.plan, loaded.source, "drill", DEFAULT_TIERS, {})
    switch = next(s for s in plan.steps() if s.id == "switch-dns")
    assert switch.params is not None
    journal(commands.reports, DEAD, sandbox=True, finished=False, params=switch.params.as_json())
    before = plan_file.read_bytes()
    settings = replace(commands.settings(), log_file=plan_file)
    refused = commands.rollback(DEAD, yes=True, settings=settings, plan=plan_file)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert f"--log-file {plan_file}: that is the plan file this run uses" in refused.stderr
    assert plan_file.read_bytes() == before
