"""The executor's part in changing things safely: a drill's change to production is refused
before anything is read or written, and what a step notes reaches its retries, its undo and the
journal that ``drill rollback`` reads."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

from pydantic import JsonValue

from drill.clock import FakeClock
from drill.errors import TransientError
from drill.executor import (
    Cancellation,
    Executor,
    FileJournal,
    MemoryJournal,
    StepRuntime,
    pending_undos,
    read_events,
    step_notes,
)
from drill.plan import load_plan, resolve
from drill.steps import StepEnv, StepParams, StepResult, StepType
from drill.tiers import DEFAULT_TIERS
from tests.executor.fakes import START, Kit, NoProviders, RecordingLogger, build_plan
from tests.plan.helpers import TWO_ROLES


def test_a_drill_change_to_production_is_refused_before_anything_is_read(
    tmp_path: Path,
) -> None:
    """Two roles mapped to one cluster at run time: validation could not see it."""
    path = tmp_path / "two-roles.yaml"
    path.write_text(TWO_ROLES)
    loaded = load_plan(path, DEFAULT_TIERS)
    shared = {"primary": "one-cluster", "dr": "one-cluster"}
    resolved = resolve(loaded.plan, loaded.source, "drill", DEFAULT_TIERS, shared)
    plan = replace(resolved, phases={"failover": resolved.phases["failover"]})  # no preflight
    clock = FakeClock(START)
    journal = MemoryJournal()
    runtime = StepRuntime("run-1", "drill", clock, NoProviders(), RecordingLogger())
    report = Executor(runtime, journal, Cancellation()).run(plan)
    scale = next(s for s in report.steps if s.id == "scale-dr")
    assert scale.status == "failed"
    assert scale.error is not None
    assert scale.error.startswith(
        "refused: in drill mode this step would change workload Deployment api in namespace "
        "standby (kube context one-cluster), which is production: step scale-primary changes "
        "it in live mode"
    )
    assert [e.kind for e in journal.events if e.kind == "prior_state"] == []
    assert report.exit_code == 3


class NotingParams(StepParams):
    fail_first: bool = False


class NotingStep(StepType[NotingParams]):
    """Submits a change (noting its id), may lose the answer once; undo reports its notes."""

    name: ClassVar[str] = "fake.noting"
    params_model = NotingParams
    summary = "notes a change"
    mutating = True
    tries: ClassVar[list[tuple[JsonValue, dict[str, Any]]]] = []

    def describe(self, params: NotingParams) -> str:
        return "note a change"

    def capture_prior_state(self, params: NotingParams, env: StepEnv) -> JsonValue:
        return {"value": "old"}

    def run(self, params: NotingParams, env: StepEnv) -> StepResult:
        self.tries.append((env.prior, dict(env.notes or {})))
        if "change" not in (env.notes or {}):
            env.note("change", "op-7")
            if params.fail_first:
                raise TransientError("connection reset after the change was accepted")
        return StepResult(summary="changed")

    def undo(self, params: NotingParams, prior: JsonValue, env: StepEnv) -> str:
        return f"undone with notes {dict(env.notes) if env.notes is not None else None}"


def noting_kit() -> Kit:
    kit = Kit()
    kit.registry[NotingStep.name] = NotingStep()
    NotingStep.tries.clear()
    return kit


def test_a_retry_sees_the_prior_state_and_what_its_first_try_noted() -> None:
    kit = noting_kit()
    plan = build_plan([("failover", kit.step("n1", "fake.noting", retries=1, fail_first=True))])
    journal = MemoryJournal()
    report = kit.executor(journal=journal).run(plan)
    assert NotingStep.tries == [({"value": "old"}, {}), ({"value": "old"}, {"change": "op-7"})]
    assert report.undo[0].detail == "undone with notes {'change': 'op-7'}"
    noted = [e for e in journal.events if e.kind == "step_note"]
    assert [(e.step_id, e.key, e.value) for e in noted] == [("n1", "change", "op-7")]


def live_journal_of_a_noting_step(path: Path) -> Kit:
    """A live run of one noting step, journaled at ``path``; the kit that ran it."""
    kit = noting_kit()
    plan = build_plan([("failover", kit.step("n1", "fake.noting"))], mode="live")
    journal = FileJournal(path, "run-1", kit.clock)
    kit.executor(mode="live", journal=journal).run(plan)
    journal.close()
    return kit


def rolled_back_detail(kit: Kit, path: Path) -> str:
    entries = read_events(path)
    rolled = kit.executor(mode="live", journal=MemoryJournal()).roll_back(
        pending_undos(entries), None, step_notes(entries)
    )
    return rolled.undo[0].detail


def test_drill_rollback_hands_undo_the_notes_from_the_journal(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    kit = live_journal_of_a_noting_step(path)
    assert rolled_back_detail(kit, path) == "undone with notes {'change': 'op-7'}"


def test_a_journal_from_before_notes_gives_undo_no_notes_at_all(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    kit = live_journal_of_a_noting_step(path)
    older = [
        line.replace(', "notes_kept": true', "")
        for line in path.read_text().splitlines()
        if '"step_note"' not in line
    ]
    path.write_text("\n".join(older) + "\n")
    assert rolled_back_detail(kit, path) == "undone with notes None"  # unknown, not "never"
