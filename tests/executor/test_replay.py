"""Reports rebuilt from journals the real executor wrote: the same facts, and honest gaps."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from drill.errors import UsageError
from drill.executor import FileJournal, pending_undos, read_events, report_from_journal
from drill.report import RunReport, StepReport, render_text
from drill.tiers import DEFAULT_TIERS

from .fakes import START
from .journals import (
    RUN_ID,
    SAMPLES,
    crashing_plan,
    drop_fields,
    finished_plan,
    kit_with_crash,
    run_to_journal,
)

ROLLBACK = f"drill rollback {RUN_ID} --report-dir reports"


def without_details(report: RunReport) -> RunReport:
    """What a journal cannot hold: step summaries and facts, and the report's notes."""
    steps = [s.model_copy(update={"summary": None, "facts": {}}) for s in report.steps]
    return report.model_copy(update={"steps": steps, "notes": []})


def statuses(steps: list[StepReport]) -> dict[str, str]:
    return {s.id: s.status for s in steps}


@pytest.mark.parametrize("disaster_at_s", [None, 600.0])
def test_a_finished_run_rebuilds_to_its_own_report(tmp_path: Path, disaster_at_s: float) -> None:
    kit = kit_with_crash()
    plan = finished_plan(kit)
    report = run_to_journal(kit, plan, tmp_path, disaster_at_s)
    assert report is not None
    journal = str(tmp_path / "journal.jsonl")
    rebuilt = report_from_journal(read_events(Path(journal)), plan=plan, journal_path=journal)
    assert without_details(rebuilt) == without_details(report)
    assert (
        rebuilt.notes[0] == "rebuilt from the journal: the run finished, but its report is missing"
    )
    unreadable = report_from_journal(
        read_events(Path(journal)), plan=plan, report_unreadable="report.json: damaged"
    )
    assert unreadable.notes[0] == (
        "rebuilt from the journal: the run finished, but its report cannot be read "
        "(report.json: damaged)"
    )


def test_without_the_plan_steps_keep_what_the_journal_says(tmp_path: Path) -> None:
    kit = kit_with_crash()
    report = run_to_journal(kit, finished_plan(kit), tmp_path)
    assert report is not None
    rebuilt = report_from_journal(read_events(tmp_path / "journal.jsonl"))
    assert [(s.id, s.phase, s.type, s.status) for s in rebuilt.steps] == [
        (s.id, s.phase, s.type, s.status) for s in report.steps
    ]
    assert rebuilt.steps[0].description == "fake.advance"  # the plan would say more
    assert (rebuilt.rpo, rebuilt.rto) == (report.rpo, report.rto)
    assert (rebuilt.service, rebuilt.tier) == ("shop", "critical")


def test_a_drill_killed_mid_failover_needs_a_human(tmp_path: Path) -> None:
    kit = kit_with_crash()
    plan = crashing_plan(kit)
    assert run_to_journal(kit, plan, tmp_path) is None
    events = read_events(tmp_path / "journal.jsonl")
    assert events[-1].event.kind == "step_started"
    rebuilt = report_from_journal(events, plan=plan, rollback_command=ROLLBACK)
    assert (rebuilt.outcome, rebuilt.exit_code) == ("rollback_incomplete", 4)
    assert statuses(rebuilt.steps) == {
        "p1": "passed",
        "r1": "passed",
        "m1": "passed",
        "boom": "interrupted",
        "v1": "not_run",
        "rb1": "not_run",
    }
    boom = rebuilt.steps[3]
    assert boom.started_at == START.replace(second=9)  # 2s + 4s + 3s in
    assert (boom.finished_at, boom.duration_s) == (None, None)
    assert "the run stopped here" in (boom.error or "")
    assert rebuilt.undo == []
    assert rebuilt.rollback_command == ROLLBACK
    assert rebuilt.finished_at == START.replace(second=9)
    assert rebuilt.notes[:3] == [
        "rebuilt from the journal: the run did not finish "
        f"(its journal ends at {START.replace(second=9).isoformat()})",
        "the journal holds no step summaries or facts, so this report has none",
        f"still changed, never undone: m1; undo with: {ROLLBACK}",
    ]


def test_rpo_is_measured_and_rto_is_not_when_the_run_died_before_verify(tmp_path: Path) -> None:
    kit = kit_with_crash()
    plan = crashing_plan(kit)
    run_to_journal(kit, plan, tmp_path)
    rebuilt = report_from_journal(read_events(tmp_path / "journal.jsonl"), plan=plan)
    assert rebuilt.recovery_point == START - timedelta(hours=1)
    assert (rebuilt.rpo.measured_s, rebuilt.rpo.met, rebuilt.rpo.source) == (
        3600.0,
        True,
        "backup b1",
    )
    assert (rebuilt.rto.measured_s, rebuilt.rto.met) == (None, False)
    assert rebuilt.rto.source == "not measured: verify step v1 not run"
    # Without the plan nobody knows which verify steps there were: still not measured.
    blind = report_from_journal(read_events(tmp_path / "journal.jsonl"))
    assert blind.rto.source == "not measured: the run ended before its verify phase did"
    assert "v1" not in statuses(blind.steps)


def test_a_live_run_that_died_is_interrupted_and_shows_how_to_roll_back(tmp_path: Path) -> None:
    kit = kit_with_crash()
    plan = crashing_plan(kit, mode="live")
    run_to_journal(kit, plan, tmp_path)
    rebuilt = report_from_journal(
        read_events(tmp_path / "journal.jsonl"), plan=plan, rollback_command=ROLLBACK
    )
    assert (rebuilt.mode, rebuilt.outcome, rebuilt.exit_code) == ("live", "interrupted", 130)
    assert rebuilt.rollback_command == ROLLBACK
    assert f"changed by this live run and not rolled back: m1; undo with: {ROLLBACK}" in (
        rebuilt.notes
    )


def test_a_later_drill_rollback_is_noted_not_merged(tmp_path: Path) -> None:
    kit = kit_with_crash()
    plan = crashing_plan(kit)
    run_to_journal(kit, plan, tmp_path)
    path = tmp_path / "journal.jsonl"
    journal = FileJournal(path, RUN_ID, kit.clock)
    try:
        kit.executor(journal=journal).roll_back(pending_undos(read_events(path)), None)
    finally:
        journal.close()
    rebuilt = report_from_journal(read_events(path), plan=plan, rollback_command=ROLLBACK)
    assert (rebuilt.outcome, rebuilt.exit_code) == ("interrupted", 130)
    assert rebuilt.undo == []
    assert rebuilt.rollback_command is None
    assert rebuilt.notes[-1].startswith("drill rollback ran afterwards, from ")
    assert rebuilt.notes[-1].endswith(
        ": undone m1; rolled back in 0ms; verified: the one object read back as drill found it"
    )
    assert rebuilt.rollback is None  # the run itself never rolled back


def test_an_old_journal_without_targets_gives_no_verdict_on_them(tmp_path: Path) -> None:
    kit = kit_with_crash()
    run_to_journal(kit, finished_plan(kit), tmp_path)
    path = tmp_path / "journal.jsonl"
    drop_fields(path, 1, "targets", "service", "tier", "disaster_at_source")
    rebuilt = report_from_journal(read_events(path))
    assert (rebuilt.service, rebuilt.tier, rebuilt.disaster_at_source) == (
        "unknown",
        "unknown",
        "run start",
    )
    assert (rebuilt.rpo.measured_s, rebuilt.rpo.margin_s, rebuilt.rpo.met) == (1800.0, None, None)
    assert rebuilt.rpo.source.endswith("target unknown (not in the journal, no plan)")


def test_a_journal_that_is_not_a_run_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    finished = {"event": "run_finished", "ts": START.isoformat(), "run_id": "r"}
    path.write_text(json.dumps({**finished, "outcome": "passed", "exit_code": 0}) + "\n")
    with pytest.raises(UsageError, match="no readable run_started event: not the journal of a"):
        report_from_journal(read_events(path))
    started = {
        "event": "run_started",
        "ts": START.isoformat(),
        "run_id": "r",
        "plan": "p",
        "plan_file": "p.yaml",
        "mode": "chaos",
        "disaster_at": START.isoformat(),
        "contexts": {},
    }
    path.write_text(json.dumps(started) + "\n")
    with pytest.raises(UsageError, match=r"journal\.jsonl:1: journal event run_started: mode: "):
        read_events(path)


# --- journals earlier drills wrote -------------------------------------------------------------


def test_a_journal_from_before_the_schema_rebuilds_to_the_report_a_run_makes_now(
    tmp_path: Path,
) -> None:
    kit = kit_with_crash()
    plan = finished_plan(kit)
    report = run_to_journal(kit, plan, tmp_path)
    assert report is not None
    old = read_events(SAMPLES / "finished.jsonl")
    rebuilt = report_from_journal(old, plan=plan, journal_path=report.journal)
    # A journal from before read-backs cannot say whether the rollback was verified.
    assert rebuilt.rollback is None
    assert report.rollback is not None
    assert without_details(rebuilt) == without_details(report).model_copy(update={"rollback": None})


def test_a_first_format_journal_rebuilds_from_what_it_holds() -> None:
    entries = read_events(SAMPLES / "first-format.jsonl")
    blind = report_from_journal(entries)
    assert (blind.outcome, blind.exit_code, blind.service) == ("passed", 0, "unknown")
    public = next(s for s in blind.steps if s.id == "public")
    assert (public.type, public.phase, public.status, public.skip_reason) == (
        "unknown",
        "unknown",
        "skipped",
        "serves users",
    )
    planned = report_from_journal(entries, plan=finished_plan(kit_with_crash()))
    public = next(s for s in planned.steps if s.id == "public")
    assert (public.type, public.phase, public.status) == ("fake.advance", "verify", "skipped")
    assert (planned.rpo.measured_s, planned.rpo.met) == (1800.0, True)


def test_a_rolled_back_journal_from_before_the_schema_notes_its_rollback() -> None:
    entries = read_events(SAMPLES / "rolled-back.jsonl")
    assert pending_undos(entries) == []
    rebuilt = report_from_journal(entries, plan=crashing_plan(kit_with_crash()))
    assert (rebuilt.outcome, rebuilt.exit_code) == ("interrupted", 130)
    assert rebuilt.notes[-1] == (
        "drill rollback ran afterwards, from 2026-01-01T00:00:10+00:00: undone m1"
    )


def test_a_plan_override_of_a_target_is_said_again_from_the_journal(tmp_path: Path) -> None:
    kit = kit_with_crash()
    critical = DEFAULT_TIERS["critical"]
    plan = replace(
        finished_plan(kit), tier="critical", targets=critical.with_plan_targets(None, 1800)
    )
    report = run_to_journal(kit, plan, tmp_path)
    assert report is not None
    assert (report.rto.target_s, report.rto.target_source, report.rto.tier_default_s) == (
        1800,
        "plan",
        900,
    )
    assert report.rpo.target_source == "tier default"
    # Without the plan, the journal alone says where the target came from.
    rebuilt = report_from_journal(read_events(tmp_path / "journal.jsonl"))
    assert (rebuilt.rpo, rebuilt.rto) == (report.rpo, report.rto)
    said = "RTO target 30m00s (plan override; critical tier default 15m00s)"
    for text in (render_text(rebuilt), render_text(report)):
        assert [line.strip() for line in text.splitlines() if "override;" in line] == [said]
