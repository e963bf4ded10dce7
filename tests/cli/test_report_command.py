"""`drill report RUN`, called as the CLI calls it: every format, every way to name a run, a run
rebuilt from the journal of a run that died, and bad input."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from drill.report import RENDERERS, RunReport, render_json
from tests.executor.journals import RUN_ID, crashing_plan, kit_with_crash, run_to_journal
from tests.inprocess import InProcess
from tests.report.samples import mixed_report


@pytest.fixture
def reports(tmp_path: Path) -> Path:
    """The report directory runs are kept in (--report-dir)."""
    return tmp_path / "reports"


@pytest.fixture
def saved(reports: Path) -> RunReport:
    """A finished run: its report.json and (an empty stand-in for) its journal."""
    report = mixed_report()
    run_dir = reports / report.run_id
    run_dir.mkdir(parents=True)
    (run_dir / "report.json").write_text(render_json(report), encoding="utf-8")
    (run_dir / "journal.jsonl").write_text("", encoding="utf-8")
    return report


def assert_clean_exit(result: object, code: int = 0) -> None:
    assert getattr(result, "returncode", None) == code, getattr(result, "stderr", "")
    assert "Traceback" not in getattr(result, "stderr", "")


@pytest.mark.parametrize("output_format", list(RENDERERS))
def test_each_format_renders_the_saved_report(
    commands: InProcess, saved: RunReport, output_format: str
) -> None:
    result = commands.report(saved.run_id, output_format=output_format)
    assert_clean_exit(result)
    assert result.stdout == RENDERERS[output_format](saved)
    assert result.stderr == ""


@pytest.mark.parametrize("given", ["run dir", "journal", "report.json"])
def test_a_run_can_be_named_by_its_files(
    commands: InProcess, saved: RunReport, reports: Path, given: str
) -> None:
    run_dir = reports / saved.run_id
    path = {"run dir": run_dir, "journal": run_dir / "journal.jsonl"}.get(
        given, run_dir / "report.json"
    )
    result = commands.report(str(path), output_format="markdown", report_dir=Path("/nonexistent"))
    assert_clean_exit(result)
    assert result.stdout == RENDERERS["markdown"](saved)


def test_dot_inside_a_run_directory_is_that_run(
    commands: InProcess, saved: RunReport, reports: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(reports / saved.run_id)
    result = commands.report(".", output_format="markdown", report_dir=reports)
    assert_clean_exit(result)
    assert result.stdout == RENDERERS["markdown"](saved)
    monkeypatch.chdir(reports)  # the report directory is no run
    result = commands.report(".", report_dir=reports)
    assert_clean_exit(result, 2)
    assert result.stderr == "drill: .: no report.json and no journal.jsonl: not a run\n"


def test_output_replaces_the_file_whole_and_prints_nothing(
    commands: InProcess, saved: RunReport, tmp_path: Path
) -> None:
    target = tmp_path / "out" / "report.html"
    target.parent.mkdir()
    target.write_text("an older report", encoding="utf-8")
    result = commands.report(saved.run_id, output_format="html", output_file=target)
    assert_clean_exit(result)
    assert (result.stdout, result.stderr) == ("", "")
    assert target.read_text(encoding="utf-8") == RENDERERS["html"](saved)
    assert [p.name for p in target.parent.iterdir()] == ["report.html"]  # no temp file left
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


def test_output_over_a_runs_journal_or_report_is_refused_and_leaves_them_alone(
    commands: InProcess, reports: Path
) -> None:
    """A crashed run's journal is all `drill rollback` has to undo it from: a report written
    over it (a slip of the --output path) would lose what the run left changed."""
    kit = kit_with_crash()
    assert run_to_journal(kit, crashing_plan(kit), reports / RUN_ID) is None
    journal = reports / RUN_ID / "journal.jsonl"
    before = journal.read_bytes()
    result = commands.report(RUN_ID, output_format="html", output_file=journal)
    assert_clean_exit(result, 2)
    assert result.stderr == (
        f"drill: --output {journal}: that is the journal.jsonl of run {RUN_ID}, which drill "
        "reads to report and roll back that run; write the output elsewhere\n"
    )
    assert journal.read_bytes() == before
    assert [p.name for p in journal.parent.iterdir()] == ["journal.jsonl"]
    for name in ("report.json", "rollback-report.json"):
        other = journal.parent / name
        other.write_text("{}", encoding="utf-8")
        refused = commands.report(RUN_ID, output_format="text", output_file=other)
        assert_clean_exit(refused, 2)
        assert f"that is the {name} of run {RUN_ID}" in refused.stderr
        assert other.read_text(encoding="utf-8") == "{}"


def test_a_run_killed_mid_failover_is_rebuilt_from_its_journal(
    commands: InProcess, reports: Path
) -> None:
    kit = kit_with_crash()
    assert run_to_journal(kit, crashing_plan(kit), reports / RUN_ID) is None
    result = commands.report(RUN_ID, output_format="json")
    assert_clean_exit(result)
    report = RunReport.model_validate_json(result.stdout)
    assert (report.outcome, report.exit_code) == ("rollback_incomplete", 4)
    assert [(s.id, s.status) for s in report.steps] == [
        ("p1", "passed"),
        ("r1", "passed"),
        ("m1", "passed"),
        ("boom", "interrupted"),
    ]
    assert report.rpo.measured_s == 3600.0
    assert report.rollback_command == f"drill rollback {RUN_ID} --report-dir {reports}"
    assert report.journal == str(reports / RUN_ID / "journal.jsonl")
    assert report.notes[0].startswith("rebuilt from the journal: the run did not finish")
    assert report.notes[-1].startswith("plan not read (plans/fake-plan.yaml:1:1: file not found)")
    assert not (reports / RUN_ID / "report.json").exists()  # a reader: it writes nothing there


def test_a_report_json_that_cannot_be_read_does_not_hide_the_journal(
    commands: InProcess, reports: Path
) -> None:
    """A damaged report.json (or one a newer drill wrote) beside a readable journal: the
    report is rebuilt from the journal and says why; the damaged file is left as it is."""
    kit = kit_with_crash()
    assert run_to_journal(kit, crashing_plan(kit), reports / RUN_ID) is None
    damaged = _write(reports / RUN_ID / "report.json", '{"schema_version": 1,')
    result = commands.report(RUN_ID, output_format="json")
    assert_clean_exit(result)
    report = RunReport.model_validate_json(result.stdout)
    assert (report.outcome, report.exit_code) == ("rollback_incomplete", 4)
    assert report.notes[1].startswith(
        f"the report beside the journal cannot be read ({damaged}: not a report: invalid JSON: "
    )
    assert damaged.read_text(encoding="utf-8") == '{"schema_version": 1,'


def test_a_report_json_that_cannot_be_read_beside_no_readable_journal_is_refused(
    commands: InProcess, saved: RunReport, reports: Path
) -> None:
    (reports / saved.run_id / "report.json").write_text("{", encoding="utf-8")
    result = commands.report(saved.run_id)
    assert_clean_exit(result, 2)
    assert result.stderr.startswith(
        f"drill: {reports / saved.run_id / 'report.json'}: not a report: invalid JSON"
    )


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _empty_dir(path: Path) -> str:
    path.mkdir(parents=True)
    return path.name


def _report_with(**changes: object) -> str:
    document = json.loads(render_json(mixed_report()))
    document.update(changes)
    return json.dumps(document)


# Each case: the argument to give (made under the reports directory), how its message starts.
BAD_INPUT: dict[str, tuple[Callable[[Path], str], str]] = {
    "no such run": (lambda r: "nope", "no run 'nope' under {reports} (set --report-dir"),
    "empty run": (lambda r: "", "RUN is empty: give a run id (`drill runs --all` lists them)"),
    "blank run": (lambda r: " ", "RUN is empty: give a run id (`drill runs --all` lists them)"),
    "no such path": (lambda r: "missing/run", "missing/run: no such file or directory"),
    "invalid JSON": (
        lambda r: str(_write(r / "a" / "report.json", '{"schema_version": 1,')),
        "{reports}/a/report.json: not a report: invalid JSON: ",
    ),
    "newer schema": (
        lambda r: str(_write(r / "b" / "report.json", _report_with(schema_version=3))),
        "{reports}/b/report.json: schema_version 3: this drill reads versions 1 and 2",
    ),
    "not a report": (
        lambda r: str(_write(r / "c" / "report.json", _report_with(outcome="fine"))),
        "{reports}/c/report.json: not a valid report: outcome: ",
    ),
    "journal of no run": (
        lambda r: (
            _write(r / "d" / "journal.jsonl", '{"event": "x", "ts": "2026-01-01"}\n').parent.name
        ),
        "{reports}/d/journal.jsonl: journal has no readable run_started event",
    ),
    "empty run dir": (
        lambda r: _empty_dir(r / "e"),
        "{reports}/e: no report.json and no journal.jsonl: not a run",
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_is_one_message_and_exit_2(commands: InProcess, reports: Path, case: str) -> None:
    make, expected = BAD_INPUT[case]
    result = commands.report(make(reports))
    assert_clean_exit(result, 2)
    assert result.stdout == ""
    assert result.stderr.startswith("drill: " + expected.format(reports=reports)), result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_output_into_a_missing_directory_is_a_usage_error(
    commands: InProcess, saved: RunReport, tmp_path: Path
) -> None:
    target = tmp_path / "no" / "such" / "dir" / "r.xml"
    result = commands.report(saved.run_id, output_format="junit", output_file=target)
    assert_clean_exit(result, 2)
    assert result.stderr.startswith(f"drill: --output {target}: cannot write: No such file")
    assert not target.parent.exists()


def test_output_over_the_runs_plan_file_is_refused_and_leaves_it_alone(
    commands: InProcess, saved: RunReport, tmp_path: Path
) -> None:
    """The plan is what a rollback of the run checks it against: a report written over it
    (a slip of the --output path) would leave the run with no plan to roll back by."""
    plans = tmp_path / "plans"
    plans.mkdir()
    plan_file = plans / f"{saved.plan}.yaml"
    plan_file.write_text("name: the plan\n", encoding="utf-8")
    settings = commands.settings(plans_dir=plans)
    result = commands.report(saved.run_id, settings=settings, output_file=plan_file)
    assert_clean_exit(result, 2)
    assert result.stderr == (
        f"drill: --output {plan_file}: that is the plan file this run uses; write it elsewhere\n"
    )
    assert plan_file.read_text(encoding="utf-8") == "name: the plan\n"
