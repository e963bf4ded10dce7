"""The journal: what a run writes, in which order, and what ``drill rollback`` reads back."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import pytest

from drill.errors import UsageError
from drill.executor import (
    FileJournal,
    JournalEvent,
    MutationRecord,
    RollbackStarted,
    RunFinished,
    RunStarted,
    StepFinished,
    StepSkipped,
    UndoFinished,
    pending_undos,
    read_events,
    run_record,
)
from drill.plan import ExecutionPlan
from drill.steps import Mode

from .fakes import START, Call, Kit, RecordingProgress, TeeJournal, build_plan
from .journals import SAMPLES


def mutation_plan(kit: Kit, mode: Mode = "drill", fail_undo_m1: bool = False) -> ExecutionPlan:
    return build_plan(
        [
            ("preflight", kit.step("p1", "fake.advance", seconds=1)),
            (
                "restore",
                kit.step("r1", "fake.restore", at=START, source="velero backup b1"),
            ),
            (
                "failover",
                kit.step(
                    "m1",
                    "fake.mutate",
                    context_role="dr",
                    target="dns",
                    retries=2,
                    timeout_s=45,
                    fail_undo=fail_undo_m1,
                ),
            ),
            ("failover", kit.step("m2", "fake.mutate", target="replicas")),
            ("verify", kit.step("v1", "fake.advance", seconds=2)),
        ],
        mode=mode,
    )


def test_events_cover_the_whole_run_in_order() -> None:
    kit = Kit()
    journal = TeeJournal(kit.calls)
    kit.executor(journal=journal).run(mutation_plan(kit))
    assert journal.names() == [
        "run_started",
        "step_started",  # p1
        "step_finished",
        "step_started",  # r1
        "recovery_point",
        "step_finished",
        "step_started",  # m1
        "prior_state",
        "step_finished",
        "step_started",  # m2
        "prior_state",
        "step_finished",
        "step_started",  # v1
        "step_finished",
        "undo_finished",  # m2
        "undo_verified",
        "undo_finished",  # m1
        "undo_verified",
        "rollback_measured",
        "run_finished",
    ]


def test_run_started_and_run_finished_carry_what_a_reader_needs() -> None:
    kit = Kit()
    journal = TeeJournal(kit.calls)
    report = kit.executor(journal=journal).run(mutation_plan(kit))
    started, finished = journal.events[0], journal.events[-1]
    assert isinstance(started, RunStarted)
    assert started.plan == "fake-plan"
    assert started.plan_file == "plans/fake-plan.yaml"
    assert started.mode == "drill"
    assert started.disaster_at == START
    assert started.contexts == {"primary": "kind-a", "dr": "kind-b"}
    assert finished == RunFinished(outcome="passed", exit_code=0)
    assert report.exit_code == 0


def test_prior_state_is_journaled_after_capture_and_before_the_mutation() -> None:
    kit = Kit()
    kit.executor(journal=TeeJournal(kit.calls)).run(mutation_plan(kit))
    for step_id in ("m1", "m2"):
        order = [
            kit.calls.index(("journal:step_started", step_id)),
            kit.calls.index(("capture", step_id)),
            kit.calls.index(("journal:prior_state", step_id)),
            kit.calls.index(("mutate", step_id)),
            kit.calls.index(("journal:step_finished", step_id)),
            kit.calls.index(("undo", step_id)),
            kit.calls.index(("journal:undo_finished", step_id)),
        ]
        assert order == sorted(order), step_id


def test_prior_state_event_is_enough_to_undo_without_the_plan() -> None:
    kit = Kit()
    journal = TeeJournal(kit.calls)
    kit.executor(journal=journal).run(mutation_plan(kit))
    prior = next(e for e in journal.events if e.kind == "prior_state")
    assert prior == MutationRecord(
        step_id="m1",
        type="fake.mutate",
        params={
            "target": "dns",
            "seconds": 0.0,
            "fail_run": False,
            "fail_undo": False,
            "read_back": "equal",
        },
        prior={"target": "dns", "old": "old-m1"},
        context="kind-b",
        timeout_s=45.0,
        retries=2,
        notes_kept=True,
    )


def test_step_finished_and_undo_finished_record_outcomes() -> None:
    kit = Kit()
    journal = TeeJournal(kit.calls)
    kit.executor(journal=journal).run(mutation_plan(kit, fail_undo_m1=True))
    finished = {e.step_id: e for e in journal.events if isinstance(e, StepFinished)}
    assert finished["p1"] == StepFinished(
        step_id="p1", status="passed", duration_s=1.0, attempts=1, error=None
    )
    undos = {e.step_id: e.status for e in journal.events if isinstance(e, UndoFinished)}
    assert undos == {"m2": "undone", "m1": "failed"}
    assert journal.events[-1] == RunFinished(outcome="rollback_incomplete", exit_code=4)


def test_each_step_event_reaches_journal_log_and_progress_line_together() -> None:
    kit = Kit()
    plan = build_plan(
        [
            ("preflight", kit.step("p1", "fake.advance", seconds=1)),
            ("failover", kit.step("m1", "fake.mutate", fail_undo=True)),
            ("verify", kit.step("v1", "fake.fail")),
        ]
    )
    kit.executor(progress=RecordingProgress(kit.calls)).run(plan)
    told = [call for call in kit.calls if call[0].startswith(("journal:", "progress:"))]
    assert told[:2] == [("journal:run_started", ""), ("progress:run_started", "")]
    assert told[2:-1] == [
        ("journal:step_started", "p1"),
        ("progress:started", "p1"),
        ("progress:finished", "p1"),
        ("journal:step_finished", "p1"),
        ("journal:step_started", "m1"),
        ("progress:started", "m1"),
        ("journal:prior_state", "m1"),
        ("progress:finished", "m1"),
        ("journal:step_finished", "m1"),
        ("journal:step_started", "v1"),
        ("progress:started", "v1"),
        ("progress:finished", "v1"),
        ("journal:step_finished", "v1"),
        ("progress:started", "m1"),  # its undo
        ("progress:finished", "m1"),
        ("journal:undo_finished", "m1"),
        ("progress:started", "m1"),  # its read-back
        ("progress:finished", "m1"),
        ("journal:undo_verified", "m1"),
        ("journal:rollback_measured", ""),
    ]
    logged = [(level, event, kw.get("step")) for level, event, kw in kit.log.records]
    assert logged == [
        ("info", "run_started", None),
        ("info", "step_started", "p1"),
        ("info", "step_finished", "p1"),
        ("info", "step_started", "m1"),
        ("info", "step_finished", "m1"),
        ("info", "step_started", "v1"),
        ("warning", "step_finished", "v1"),
        ("warning", "undo_finished", "m1"),
        ("info", "undo_verified", "m1"),
        ("info", "rollback_measured", None),
        ("info", "run_finished", None),
    ]


def test_pending_undos_of_a_live_run_lists_every_mutation_oldest_first(tmp_path: Path) -> None:
    kit = Kit()
    path = tmp_path / "run-1.jsonl"
    journal = FileJournal(path, "run-1", kit.clock)
    try:
        kit.executor(mode="live", journal=journal).run(mutation_plan(kit, mode="live"))
    finally:
        journal.close()
    events = read_events(path)
    assert all(e.run_id == "run-1" for e in events)
    pending = pending_undos(events)
    assert [m.step_id for m in pending] == ["m1", "m2"]
    assert pending[0].type == "fake.mutate"
    assert pending[0].prior == {"target": "dns", "old": "old-m1"}
    assert pending[0].context == "kind-b"
    assert (pending[0].timeout_s, pending[0].retries) == (45.0, 2)
    record = run_record(events)
    assert (record.run_id, record.mode, record.plan) == ("run-1", "live", "fake-plan")


def test_pending_undos_after_a_drill_run_holds_only_what_failed_to_undo(tmp_path: Path) -> None:
    kit = Kit()
    path = tmp_path / "run-1.jsonl"
    journal = FileJournal(path, "run-1", kit.clock)
    try:
        kit.executor(journal=journal).run(mutation_plan(kit, fail_undo_m1=True))
    finally:
        journal.close()
    assert [m.step_id for m in pending_undos(read_events(path))] == ["m1"]


def test_drill_rollback_undoes_a_live_run_from_its_journal(tmp_path: Path) -> None:
    kit = Kit()
    path = tmp_path / "run-1.jsonl"
    journal = FileJournal(path, "run-1", kit.clock)
    try:
        kit.executor(mode="live", journal=journal).run(mutation_plan(kit, mode="live"))
        assert kit.actions("undo") == []
        pending = pending_undos(read_events(path))
        rolled = kit.executor(mode="live", journal=journal).roll_back(pending, None)
    finally:
        journal.close()
    assert kit.actions("undo") == ["m2", "m1"]
    assert kit.actions("read_back") == ["m2", "m1"]
    assert [(u.step_id, u.status) for u in rolled.undo] == [("m2", "undone"), ("m1", "undone")]
    assert rolled.steps == []
    assert rolled.rollback is not None
    assert rolled.rollback.verified is True
    assert [(c.step_id, c.target, c.status) for c in rolled.rollback.checks] == [
        ("m2", "replicas", "equal"),
        ("m1", "dns", "equal"),
    ]
    events = read_events(path)
    assert pending_undos(events) == []
    names = [e.event.kind for e in events]
    assert names.index("rollback_started") < names.index("undo_verified")
    assert names.index("rollback_measured") < names.index("rollback_finished")


def test_half_written_last_line_is_ignored(tmp_path: Path) -> None:
    kit = Kit()
    path = tmp_path / "run-1.jsonl"
    journal = FileJournal(path, "run-1", kit.clock)
    try:
        kit.executor(mode="live", journal=journal).run(mutation_plan(kit, mode="live"))
    finally:
        journal.close()
    complete = read_events(path)
    with path.open("a", encoding="utf-8") as file:
        file.write('{"ts": "2026-01-01T00:00:09+00:00", "event": "undo_fin')
    assert read_events(path) == complete
    assert [m.step_id for m in pending_undos(read_events(path))] == ["m1", "m2"]


def test_a_broken_line_in_the_middle_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.jsonl"
    path.write_text('{"event": "run_started"}\nnot json\n{"event": "run_finished"}\n')
    with pytest.raises(UsageError, match=r"broken\.jsonl:2: journal line is not JSON"):
        read_events(path)


def test_a_line_that_is_not_utf8_is_told_by_its_number_not_as_an_internal_error(
    tmp_path: Path,
) -> None:
    """drill writes its journal as ASCII JSON: bytes that do not decode are damage, and the
    lines around them still read."""
    path = tmp_path / "damaged.jsonl"
    path.write_bytes(b'{"event": "run_started"}\n{"ts": "\xff\xfe"}\n{"event": "run_finished"}\n')
    with pytest.raises(UsageError, match=r"damaged\.jsonl:2: journal line is not UTF-8 text"):
        read_events(path)
    # The same bytes half-written as the last line are a crash mid-write, passed over.
    path.write_bytes(b'{"note": "not an event"}\n{"ts": "\xff')
    assert read_events(path) == []


def test_missing_journal_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot read journal"):
        read_events(tmp_path / "nope.jsonl")


# --- journals earlier drills wrote -------------------------------------------------------------


@pytest.mark.parametrize("name", ["finished", "rolled-back"])
def test_a_journal_from_before_the_schema_reads_and_writes_back_field_for_field(name: str) -> None:
    path = SAMPLES / f"{name}.jsonl"
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    entries = read_events(path)
    assert len(entries) == len(lines)
    for entry, line in zip(entries, lines, strict=True):
        again = json.loads(entry.to_line())
        added = {key: again.pop(key) for key in list(again) if key not in line}
        assert list(again) == list(line)  # the same fields, in the same order
        assert again == line
        # Only fields added since, at the defaults that mean "this journal is older".
        later = {
            "prior_state": {"notes_kept": False},
            "run_started": {"plan_sha256": None, "sandbox": None, "host": None, "pid": None},
            "recovery_point": {"point_kind": None},
        }
        assert added == later.get(str(line["event"]), {})


def test_the_samples_hold_every_kind_of_event_under_its_old_name() -> None:
    kinds = {
        entry.event.kind
        for name in ("finished", "rolled-back", "first-format")
        for entry in read_events(SAMPLES / f"{name}.jsonl")
    }
    assert kinds == {
        "run_started",
        "step_skipped",
        "step_started",
        "prior_state",
        "recovery_point",
        "step_finished",
        "undo_finished",
        "rollback_started",
        "rollback_finished",
        "run_finished",
    }


def test_first_format_lines_still_parse() -> None:
    entries = read_events(SAMPLES / "first-format.jsonl")
    started = run_record(entries)
    assert (started.run_id, started.mode, started.ts) == ("run-1", "drill", START)
    assert (started.service, started.tier, started.targets, started.disaster_at_source) == (
        None,
        None,
        None,
        None,
    )
    skipped = [e.event for e in entries if isinstance(e.event, StepSkipped)]
    assert skipped == [StepSkipped(step_id="public", reason="serves users")]


def test_events_of_unknown_kinds_are_left_out(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    lines = (SAMPLES / "finished.jsonl").read_text(encoding="utf-8").splitlines()
    newer = '{"ts": "2026-01-01T00:00:01+00:00", "run_id": "run-1", "event": "lease_renewed"}'
    path.write_text("\n".join([lines[0], newer, *lines[1:]]) + "\n", encoding="utf-8")
    assert read_events(path) == read_events(SAMPLES / "finished.jsonl")


def test_a_malformed_event_names_its_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    lines = (SAMPLES / "finished.jsonl").read_text(encoding="utf-8").splitlines()
    broken = lines[9].replace('"timeout_s": 60.0, ', "")
    assert broken != lines[9]
    path.write_text("\n".join([*lines[:9], broken, *lines[10:]]) + "\n", encoding="utf-8")
    with pytest.raises(
        UsageError, match=r"journal\.jsonl:10: journal event prior_state: timeout_s: "
    ):
        read_events(path)


def test_a_torn_last_line_is_dropped_before_anything_is_appended(tmp_path: Path) -> None:
    kit = Kit()
    path = tmp_path / "journal.jsonl"
    journal = FileJournal(path, "run-1", kit.clock)
    kit.executor(mode="live", journal=journal).run(mutation_plan(kit, mode="live"))
    journal.close()
    whole = path.read_text()
    path.write_text(whole + '{"ts": "2026-11-24T00:31:00+00:00", "run_id": "run-1", "ev')
    again = FileJournal(path, "run-1", kit.clock)
    again.write(RollbackStarted(pending=["m1"]))
    again.close()
    entries = read_events(path)  # readable: the torn fragment is gone, not buried
    assert entries[-1].event == RollbackStarted(pending=["m1"])
    assert path.read_text().startswith(whole)


def test_a_journal_removed_or_replaced_underneath_is_a_write_that_failed(tmp_path: Path) -> None:
    kit = Kit()
    path = tmp_path / "journal.jsonl"
    journal = FileJournal(path, "run-1", kit.clock)
    journal.write(RollbackStarted(pending=["m1"]))
    path.unlink()  # the open file still takes writes, and keeps them for nobody
    with pytest.raises(OSError, match=r"journal\.jsonl was removed"):
        journal.write(RollbackStarted(pending=["m2"]))
    path.write_text("")  # another file at its path is not this journal either
    with pytest.raises(OSError, match=r"journal\.jsonl was replaced by another file"):
        journal.write(RollbackStarted(pending=["m3"]))
    journal.close()


class FullDisk(TeeJournal):
    """Writes until ``room`` events are on disk, then fails like a full disk."""

    def __init__(self, calls: list[Call], room: int) -> None:
        super().__init__(calls)
        self.room = room

    def write(self, event: JournalEvent) -> None:
        if len(self.events) >= self.room:
            raise OSError(errno.ENOSPC, "No space left on device")
        super().write(event)


def test_a_full_disk_stops_forward_work_and_undoes_from_memory() -> None:
    kit = Kit()
    plan = mutation_plan(kit)
    probe = TeeJournal([])
    kit.executor(journal=probe).run(mutation_plan(Kit()))
    # Room for everything up to m1's prior state and its start... then the disk is full.
    room = next(
        i for i, e in enumerate(probe.events) if e.kind == "step_finished" and e.step_id == "m1"
    )
    report = kit.executor(journal=FullDisk(kit.calls, room)).run(plan)
    assert (report.outcome, report.exit_code) == ("failed", 3)
    assert [(u.step_id, u.status) for u in report.undo] == [("m1", "undone")]
    blocked = {s.id: s.skip_reason for s in report.steps if s.status == "not_run"}
    reason = "the journal could not be written: No space left on device"
    assert blocked == {"m2": reason, "v1": reason}
    assert "m2" not in kit.actions("run")
    assert kit.log.events().count("journal_failed") == 1


def test_a_prior_state_that_cannot_be_journaled_changes_nothing() -> None:
    kit = Kit()
    probe = TeeJournal([])
    kit.executor(journal=probe).run(mutation_plan(Kit()))
    room = next(i for i, e in enumerate(probe.events) if e.kind == "prior_state")
    report = kit.executor(journal=FullDisk(kit.calls, room)).run(mutation_plan(kit))
    first = next(s for s in report.steps if s.id == "m1")
    assert first.status == "failed"
    assert first.error == "not changed: the journal could not be written: No space left on device"
    assert "m1" not in kit.actions("run")
    assert report.undo == []
