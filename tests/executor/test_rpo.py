"""RPO from data beside RPO from backup metadata, point-in-time t0, and honest gaps.

Pass/fail uses the figure from data when a probe read one; a source whose step did not pass
leaves RPO not measured; a recovery point later than t0 is never "RPO 0 met". A report rebuilt
from the journal says the same.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from drill.executor import FileJournal, read_events, report_from_journal
from drill.plan import ExecutionPlan
from drill.tiers import Targets

from .fakes import START, DataProbeStep, Kit, RecoveryPointStep, build_plan

T0 = START - timedelta(minutes=10)


def sources_plan(
    kit: Kit, *, backup_fails: bool = False, probe_at_s: float = -200.0
) -> ExecutionPlan:
    """A backup check (metadata 15 min before START), an object export (5 min before START)
    and a heartbeat probe in the restored data (``probe_at_s`` from START)."""
    return build_plan(
        [
            (
                "preflight",
                [
                    kit.step(
                        "velero-fresh",
                        "fake.restore",
                        at=START - timedelta(minutes=15),
                        source="velero backup b1 startTimestamp",
                        fail=backup_fails,
                    ),
                    kit.step(
                        "export-fresh",
                        "fake.restore",
                        at=START - timedelta(minutes=5),
                        source="gs://exports/db.dump creation time",
                    ),
                ],
            ),
            (
                "verify",
                kit.step(
                    "heartbeat",
                    "fake.probe",
                    at=START + timedelta(seconds=probe_at_s),
                    source="heartbeat configmap dr-test/drill-heartbeat key timestamp",
                ),
            ),
        ],
        targets=Targets(rpo_s=30 * 60, rto_s=15 * 60),
    )


def test_rpo_from_data_decides_and_backup_metadata_is_reported_beside_it() -> None:
    kit = Kit()
    report = kit.executor().run(sources_plan(kit, probe_at_s=-20 * 60))
    rpo = report.rpo
    assert rpo.from_data_s == 20 * 60.0
    assert rpo.from_backup_s == 15 * 60.0  # the older of the two backup sources
    assert (rpo.measured_s, rpo.margin_s, rpo.met) == (1200.0, 600.0, True)
    assert rpo.source == "heartbeat configmap dr-test/drill-heartbeat key timestamp"
    assert report.recovery_point == START - timedelta(minutes=20)
    assert [(p.step_id, p.kind) for p in rpo.points] == [
        ("heartbeat", "data"),
        ("velero-fresh", "backup metadata"),
        ("export-fresh", "backup metadata"),
    ]


def test_rpo_from_data_may_be_younger_than_the_backup_says() -> None:
    kit = Kit()
    report = kit.executor().run(sources_plan(kit, probe_at_s=-14 * 60))
    assert (report.rpo.measured_s, report.rpo.from_backup_s) == (840.0, 900.0)


def test_without_a_probe_backup_metadata_decides() -> None:
    kit = Kit()
    plan = build_plan(
        [("restore", kit.step("r", "fake.restore", at=START - timedelta(hours=1), source="b"))]
    )
    report = kit.executor().run(plan)
    assert (report.rpo.measured_s, report.rpo.from_data_s, report.rpo.from_backup_s) == (
        3600.0,
        None,
        3600.0,
    )


def test_a_failed_source_leaves_rpo_not_measured_even_when_another_passed() -> None:
    kit = Kit()
    report = kit.executor().run(sources_plan(kit, backup_fails=True))
    rpo = report.rpo
    assert (rpo.measured_s, rpo.met, rpo.from_data_s, rpo.from_backup_s) == (None, None, None, None)
    assert rpo.source == (
        "not measured: step velero-fresh failed, so the recovery point (backup metadata) of "
        "what it checks is unknown"
    )
    assert [p.step_id for p in rpo.points] == ["export-fresh"]  # what was seen, still listed
    assert report.recovery_point is None
    assert (report.outcome, report.exit_code) == ("failed", 3)


def test_a_source_that_never_ran_leaves_rpo_not_measured() -> None:
    kit = Kit()
    plan = build_plan(
        [
            ("restore", kit.step("r", "fake.restore", at=START - timedelta(hours=1), source="b")),
            ("failover", kit.step("switch", "fake.fail")),
            ("verify", kit.step("probe", "fake.probe", at=START, source="heartbeat")),
        ]
    )
    report = kit.executor().run(plan)
    assert report.rpo.measured_s is None
    assert report.rpo.source.startswith("not measured: step probe did not run")


def test_a_recovery_point_later_than_t0_is_an_error_never_rpo_zero() -> None:
    kit = Kit()
    later = START - timedelta(minutes=3)  # after t0 (10 minutes before START)
    plan = build_plan([("restore", kit.step("r", "fake.restore", at=later, source="velero b9"))])
    report = kit.executor().run(plan, T0)
    rpo = report.rpo
    assert (rpo.measured_s, rpo.margin_s, rpo.met) == (None, None, False)
    assert "from 2025-12-31 23:57:00Z (velero b9), later than t0 2025-12-31 23:50:00Z" in rpo.source
    assert report.recovery_point is None
    assert (report.outcome, report.exit_code) == ("target_missed", 1)


def test_every_step_is_handed_t0() -> None:
    kit = Kit()
    plan = sources_plan(kit)
    kit.executor().run(plan, T0)
    step_type = kit.registry["fake.restore"]
    probe = kit.registry["fake.probe"]
    assert isinstance(step_type, RecoveryPointStep)
    assert isinstance(probe, DataProbeStep)
    assert step_type.seen_t0 == [T0, T0]
    assert probe.seen_t0 == [T0]
    default = Kit()
    default.executor().run(sources_plan(default))
    seen = default.registry["fake.probe"]
    assert isinstance(seen, DataProbeStep)
    assert seen.seen_t0 == [START]  # run start


def test_a_report_rebuilt_from_the_journal_says_the_same_rpo(tmp_path: Path) -> None:
    for name, backup_fails in (("passed", False), ("failed", True)):
        kit = Kit()
        plan = sources_plan(kit, backup_fails=backup_fails, probe_at_s=-20 * 60)
        journal = tmp_path / f"{name}.jsonl"
        writer = FileJournal(journal, "run-1", kit.clock)
        report = kit.executor(journal=writer).run(plan)
        writer.close()
        rebuilt = report_from_journal(read_events(journal), plan=plan)
        assert rebuilt.rpo == report.rpo
        assert rebuilt.recovery_point == report.recovery_point
        without_plan = report_from_journal(read_events(journal))
        assert without_plan.rpo.points == report.rpo.points


def test_a_journal_from_before_probes_reads_its_points_as_backup_metadata(tmp_path: Path) -> None:
    kit = Kit()
    plan = build_plan(
        [("restore", kit.step("r", "fake.restore", at=START - timedelta(hours=1), source="b"))]
    )
    journal = tmp_path / "journal.jsonl"
    writer = FileJournal(journal, "run-1", kit.clock)
    kit.executor(journal=writer).run(plan)
    writer.close()
    old = [line.replace(', "point_kind": "backup metadata"', "") for line in journal.open()]
    assert not any("point_kind" in line for line in old)
    journal.write_text("".join(old))
    rebuilt = report_from_journal(read_events(journal), plan=plan)
    assert [p.kind for p in rebuilt.rpo.points] == ["backup metadata"]
    assert rebuilt.rpo.from_backup_s == 3600.0
