"""Journals written by the real Executor and FileJournal, of runs that finished or died.

A run "dies" in a step that raises ``Killed``, a BaseException the executor does not catch:
like SIGKILL, nothing after it runs, so the journal ends there (no undo, no run_finished).

``samples/`` holds journals as earlier drills wrote them, kept byte for byte: ``finished`` and
``rolled-back`` from the drill before the journal schema had its own models (runs of
``finished_plan`` and of ``crashing_plan`` followed by ``drill rollback``), ``first-format``
the same finished run as the first drill wrote it (no service, tier, targets or t0 source in
``run_started``; no type or phase in ``step_skipped``).
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from drill.executor import FileJournal
from drill.plan import ExecutionPlan
from drill.report import RunReport
from drill.steps import Mode, StepEnv, StepResult, StepType
from drill.tiers import Targets

from .fakes import START, AdvanceParams, Kit, build_plan

RUN_ID = "run-1"  # what Kit's executor names its run
SAMPLES = Path(__file__).parent / "samples"


class Killed(BaseException):
    """The process dies here."""


class CrashStep(StepType[AdvanceParams]):
    name = "fake.crash"
    params_model = AdvanceParams
    summary = "the process dies here"

    def describe(self, params: AdvanceParams) -> str:
        return "die mid-step"

    def run(self, params: AdvanceParams, env: StepEnv) -> StepResult:
        env.clock.sleep(params.seconds, env.cancel)
        raise Killed


def kit_with_crash() -> Kit:
    kit = Kit()
    kit.registry[CrashStep.name] = CrashStep()
    return kit


def crashing_plan(kit: Kit, mode: Mode = "drill") -> ExecutionPlan:
    """Checks, a restore (recovery point 1h before START), a mutation, then death in failover."""
    return build_plan(
        [
            ("preflight", kit.step("p1", "fake.advance", seconds=2)),
            (
                "restore",
                kit.step(
                    "r1",
                    "fake.restore",
                    at=START - timedelta(hours=1),
                    source="backup b1",
                    seconds=4,
                ),
            ),
            ("failover", kit.step("m1", "fake.mutate", seconds=3)),
            ("failover", kit.step("boom", "fake.crash", seconds=1)),
            ("verify", kit.step("v1", "fake.advance", seconds=5)),
            ("rollback", kit.step("rb1", "fake.advance", seconds=1)),
        ],
        mode=mode,
        targets=Targets(rpo_s=2 * 3600, rto_s=15 * 60),
    )


def finished_plan(kit: Kit) -> ExecutionPlan:
    """Every kind of journal event of a run that ends: skip, retry, mutation, undo, cleanup."""
    return build_plan(
        [
            ("preflight", kit.step("p1", "fake.advance", seconds=2)),
            ("preflight", kit.step("flaky", "fake.flaky", retries=2, failures=1)),
            (
                "restore",
                kit.step("r1", "fake.restore", at=START - timedelta(minutes=30), source="b1"),
            ),
            ("failover", kit.step("m1", "fake.mutate", seconds=3)),
            ("verify", kit.step("public", "fake.advance", skip_reason="serves users")),
            ("verify", kit.step("v1", "fake.advance", seconds=5)),
            ("cleanup", kit.step("c1", "fake.advance", seconds=1)),
        ],
        targets=Targets(rpo_s=2 * 3600, rto_s=15 * 60),
    )


def run_to_journal(
    kit: Kit, plan: ExecutionPlan, run_dir: Path, disaster_at_s: float | None = None
) -> RunReport | None:
    """Runs ``plan`` journaling to ``run_dir/journal.jsonl``; None when the run died."""
    journal = FileJournal(run_dir / "journal.jsonl", RUN_ID, kit.clock)
    t0 = None if disaster_at_s is None else START - timedelta(seconds=disaster_at_s)
    executor = kit.executor(mode=plan.mode, journal=journal, journal_path=str(journal.path))
    try:
        return executor.run(plan, t0)
    except Killed:
        return None
    finally:
        journal.close()


def drop_fields(path: Path, number: int, *keys: str) -> None:
    """Rewrites line ``number`` (from 1) of the journal at ``path`` without ``keys``: the line
    as a drill from before those fields were written would have left it."""
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    for key in keys:
        del lines[number - 1][key]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
