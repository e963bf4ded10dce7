"""In-memory fakes behind drill's own protocols: step types, providers, a logger, a journal.

Every fake step type appends what it does to one shared call log, as ``(action, step_id)``,
so a test can check the order of captures, mutations, undos and journal writes across steps.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

from pydantic import JsonValue

from drill.clock import Clock, FakeClock
from drill.errors import PermanentError, StepFailed, TransientError
from drill.executor import (
    Cancellation,
    Executor,
    Journal,
    JournalEvent,
    MemoryJournal,
    NoProgress,
    Progress,
    StepRuntime,
)
from drill.plan import ExecutionPlan, PhaseName, ResolvedProbe, ResolvedStep, Stage
from drill.steps import (
    AnyStepType,
    Mode,
    Providers,
    ReadBack,
    RecoveryPoint,
    RecoveryPointKind,
    StepEnv,
    StepParams,
    StepResult,
    StepType,
)
from drill.steps._base import Cloud
from drill.tiers import Targets
from providers.protocols import (
    BackendApi,
    DnsApi,
    HttpClient,
    KubeApi,
    ObjectStore,
    Resolver,
    VeleroApi,
)

START = datetime(2026, 1, 1, tzinfo=UTC)
Call = tuple[str, str]

# --- params -----------------------------------------------------------------------------------


class AdvanceParams(StepParams):
    seconds: float = 0.0


class FailParams(StepParams):
    error: Literal["step_failed", "permanent", "unexpected"] = "step_failed"
    seconds: float = 0.0


class FlakyParams(StepParams):
    failures: int


class MutateParams(StepParams):
    target: str = "thing"
    seconds: float = 0.0
    fail_run: bool = False
    fail_undo: bool = False
    # What reading the thing back after its undo finds: as before, changed, or an error.
    read_back: Literal["equal", "differs", "unreadable"] = "equal"


class RecoveryParams(StepParams):
    at: datetime
    source: str
    seconds: float = 0.0
    fail: bool = False


class WaitParams(StepParams):
    poll_s: float = 1.0


class SigtermParams(StepParams):
    signals: int = 1
    then_wait: bool = True
    poll_s: float = 0.02


class BarrierParams(StepParams):
    pass


# --- step types -------------------------------------------------------------------------------


class _Fake(StepType[Any]):
    def __init__(self, calls: list[Call]) -> None:
        self.calls = calls

    def describe(self, params: Any) -> str:
        return f"{self.name} {params.model_dump(mode='json')}"


class AdvanceCheck(_Fake):
    """A read-only check that passes after the clock moved ``seconds``."""

    name = "fake.advance"
    params_model = AdvanceParams
    summary = "passes after some seconds"

    def run(self, params: AdvanceParams, env: StepEnv) -> StepResult:
        self.calls.append(("run", env.step_id))
        env.clock.sleep(params.seconds, env.cancel)
        return StepResult(summary=f"waited {params.seconds}s", facts={"seconds": params.seconds})


class FailCheck(_Fake):
    name = "fake.fail"
    params_model = FailParams
    summary = "always fails"

    def run(self, params: FailParams, env: StepEnv) -> StepResult:
        self.calls.append(("run", env.step_id))
        env.clock.sleep(params.seconds, env.cancel)
        if params.error == "permanent":
            raise PermanentError("fake 403: denied")
        if params.error == "unexpected":
            raise KeyError("surprise")
        raise StepFailed("fake condition not met")


class FlakyCheck(_Fake):
    """Raises TransientError ``failures`` times per step id, then passes."""

    name = "fake.flaky"
    params_model = FlakyParams
    summary = "fails transiently, then passes"

    def __init__(self, calls: list[Call]) -> None:
        super().__init__(calls)
        self.tries: dict[str, int] = {}

    def run(self, params: FlakyParams, env: StepEnv) -> StepResult:
        self.calls.append(("run", env.step_id))
        self.tries[env.step_id] = self.tries.get(env.step_id, 0) + 1
        if self.tries[env.step_id] <= params.failures:
            raise TransientError(f"fake 503 (try {self.tries[env.step_id]})")
        return StepResult(summary="passed after transient errors")


class MutateStep(_Fake):
    """A mutating step: captures ``{"target", "old"}``, changes it, and can put it back."""

    name = "fake.mutate"
    params_model = MutateParams
    summary = "changes a thing"
    mutating = True

    def capture_prior_state(self, params: MutateParams, env: StepEnv) -> JsonValue:
        self.calls.append(("capture", env.step_id))
        return {"target": params.target, "old": f"old-{env.step_id}"}

    def run(self, params: MutateParams, env: StepEnv) -> StepResult:
        self.calls.append(("mutate", env.step_id))
        env.clock.sleep(params.seconds, env.cancel)
        if params.fail_run:
            raise StepFailed("fake mutation half done")
        return StepResult(summary=f"changed {params.target}")

    def undo(self, params: MutateParams, prior: JsonValue, env: StepEnv) -> str:
        self.calls.append(("undo", env.step_id))
        if params.fail_undo:
            raise PermanentError("fake undo refused")
        assert isinstance(prior, dict)
        return f"put back {prior['target']}={prior['old']}"

    def verify_undone(self, params: MutateParams, prior: JsonValue, env: StepEnv) -> list[ReadBack]:
        self.calls.append(("read_back", env.step_id))
        if params.read_back == "unreadable":
            raise PermanentError("fake read refused: permission denied")
        assert isinstance(prior, dict)
        if params.read_back == "differs":
            return [ReadBack(params.target, "differs", f"someone's, not {prior['old']}")]
        return [ReadBack(params.target, "equal", f"{prior['old']}, as before the run")]

    def undo_target(self, params: MutateParams) -> str:
        return params.target


class RecoveryPointStep(_Fake):
    name = "fake.restore"
    params_model = RecoveryParams
    summary = "restores data up to a point"
    recovery_point_kind: ClassVar[RecoveryPointKind | None] = "backup metadata"

    def __init__(self, calls: list[Call]) -> None:
        super().__init__(calls)
        self.seen_t0: list[datetime] = []  # the t0 each run was handed

    def run(self, params: RecoveryParams, env: StepEnv) -> StepResult:
        self.calls.append(("run", env.step_id))
        self.seen_t0.append(env.t0())
        env.clock.sleep(params.seconds, env.cancel)
        if params.fail:
            raise StepFailed("fake recovery point unknown")
        kind = self.recovery_point_kind or "backup metadata"
        point = RecoveryPoint(at=params.at, source=params.source, kind=kind)
        return StepResult(summary="restored", recovery_point=point)


class DataProbeStep(RecoveryPointStep):
    """Reads a recovery point inside the (fake) recovered data."""

    name = "fake.probe"
    summary = "reads the newest time in the data"
    recovery_point_kind = "data"


class WaitForever(_Fake):
    """Waits through ``env.wait`` for something that never happens."""

    name = "fake.wait"
    params_model = WaitParams
    summary = "waits for something that never comes"

    def run(self, params: WaitParams, env: StepEnv) -> StepResult:
        self.calls.append(("run", env.step_id))
        while True:
            env.wait(params.poll_s, "the fake thing to be ready")


class SelfSigterm(_Fake):
    """Sends SIGTERM to its own process ``signals`` times, then waits (or returns)."""

    name = "fake.sigterm"
    params_model = SigtermParams
    summary = "terminates its own process"

    def run(self, params: SigtermParams, env: StepEnv) -> StepResult:
        self.calls.append(("run", env.step_id))
        for _ in range(params.signals):
            os.kill(os.getpid(), signal.SIGTERM)
        while params.then_wait:
            env.wait(params.poll_s, "a signal to arrive")
        return StepResult(summary="sent SIGTERM and carried on")


class BarrierCheck(_Fake):
    """Passes only if another step reaches the same barrier at the same time."""

    name = "fake.barrier"
    params_model = BarrierParams
    summary = "meets another step"

    def __init__(self, calls: list[Call], barrier: threading.Barrier) -> None:
        super().__init__(calls)
        self.barrier = barrier

    def run(self, params: BarrierParams, env: StepEnv) -> StepResult:
        self.calls.append(("run", env.step_id))
        try:
            self.barrier.wait()
        except threading.BrokenBarrierError:
            raise StepFailed("no other step reached the barrier") from None
        return StepResult(summary="met")


# --- logger, providers, journal ---------------------------------------------------------------


@dataclass
class RecordingLogger:
    """Satisfies ``drill.steps.Logger`` (plus ``bind``/``error``); keeps every event."""

    records: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    bound: dict[str, Any] = field(default_factory=dict)

    def bind(self, **kw: Any) -> RecordingLogger:
        return RecordingLogger(self.records, {**self.bound, **kw})

    def _log(self, level: str, event: str, **kw: Any) -> None:
        self.records.append((level, event, {**self.bound, **kw}))

    def debug(self, event: str, **kw: Any) -> None:
        self._log("debug", event, **kw)

    def info(self, event: str, **kw: Any) -> None:
        self._log("info", event, **kw)

    def warning(self, event: str, **kw: Any) -> None:
        self._log("warning", event, **kw)

    def error(self, event: str, **kw: Any) -> None:
        self._log("error", event, **kw)

    def events(self) -> list[str]:
        return [event for _, event, _ in self.records]


class NoProviders:
    """The fakes reach nothing outside; a step that tries is a test bug."""

    def http(self) -> HttpClient:
        raise AssertionError("fake steps must not use providers")

    def kube(self, context: str) -> KubeApi:
        raise AssertionError("fake steps must not use providers")

    def velero(self, context: str, namespace: str) -> VeleroApi:
        raise AssertionError("fake steps must not use providers")

    def object_store(self, cloud: Cloud, project: str | None, region: str | None) -> ObjectStore:
        raise AssertionError("fake steps must not use providers")

    def dns(self, cloud: Cloud, project: str | None) -> DnsApi:
        raise AssertionError("fake steps must not use providers")

    def backends(self, cloud: Cloud) -> BackendApi:
        raise AssertionError("fake steps must not use providers")

    def resolver(self) -> Resolver:
        raise AssertionError("fake steps must not use providers")


class TeeJournal(MemoryJournal):
    """A MemoryJournal that also writes ``("journal:<event>", step_id)`` into the call log."""

    def __init__(self, calls: list[Call]) -> None:
        super().__init__()
        self.calls = calls

    def write(self, event: JournalEvent) -> None:
        super().write(event)
        self.calls.append((f"journal:{event.kind}", getattr(event, "step_id", "")))

    def names(self) -> list[str]:
        return [e.kind for e in self.events]


@dataclass
class RecordingProgress:
    """A live display that writes ``("progress:<what>", step_id)`` into the call log."""

    calls: list[Call]

    def started(self, step_id: str, phase: str) -> None:
        self.calls.append(("progress:started", step_id))

    def waiting(self, step_id: str, waiting_for: str) -> None:
        self.calls.append(("progress:waiting", step_id))

    def finished(self, step_id: str, status: str, detail: str = "") -> None:
        self.calls.append(("progress:finished", step_id))

    def run_started(self, disaster_at: datetime) -> None:
        self.calls.append(("progress:run_started", ""))

    def skipped(self, step_id: str, reason: str) -> None:
        self.calls.append(("progress:skipped", step_id))

    def recovery_point(self, at: datetime) -> None:
        self.calls.append(("progress:recovery_point", ""))

    def probe(self, name: str, ok: bool, latency_ms: float | None) -> None:
        self.calls.append(("progress:probe", name))


# --- the kit: one registry, one clock, one call log -------------------------------------------


@dataclass
class Kit:
    clock: Clock = field(default_factory=lambda: FakeClock(START))
    calls: list[Call] = field(default_factory=list)
    barrier: threading.Barrier = field(default_factory=lambda: threading.Barrier(2, timeout=2))
    registry: dict[str, AnyStepType] = field(init=False)
    log: RecordingLogger = field(default_factory=RecordingLogger)

    def __post_init__(self) -> None:
        types: list[AnyStepType] = [
            AdvanceCheck(self.calls),
            FailCheck(self.calls),
            FlakyCheck(self.calls),
            MutateStep(self.calls),
            RecoveryPointStep(self.calls),
            DataProbeStep(self.calls),
            WaitForever(self.calls),
            SelfSigterm(self.calls),
            BarrierCheck(self.calls, self.barrier),
        ]
        self.registry = {t.name: t for t in types}

    @property
    def fake_clock(self) -> FakeClock:
        assert isinstance(self.clock, FakeClock)
        return self.clock

    def step(
        self,
        step_id: str,
        type_name: str,
        *,
        timeout_s: float = 60.0,
        retries: int = 0,
        skip_reason: str | None = None,
        context_role: str | None = None,
        **params: Any,
    ) -> ResolvedStep:
        """A resolved step; its phase is set by ``build_plan``."""
        step_type = self.registry[type_name]
        return ResolvedStep(
            id=step_id,
            phase="preflight",
            type=step_type,
            params=None if skip_reason else step_type.params_model.model_validate(params),
            skip_reason=skip_reason,
            context_role=context_role,
            timeout_s=timeout_s,
            retries=retries,
            description="",
        )

    def executor(
        self,
        mode: Mode = "drill",
        journal: Journal | None = None,
        cancellation: Cancellation | None = None,
        rollback_command: str | None = None,
        journal_path: str | None = None,
        progress: Progress | None = None,
        providers: Providers | None = None,
    ) -> Executor:
        runtime = StepRuntime(
            run_id="run-1",
            mode=mode,
            clock=self.clock,
            providers=providers or NoProviders(),
            log=self.log,
            progress=progress or NoProgress(),
        )
        return Executor(
            runtime,
            journal if journal is not None else TeeJournal(self.calls),
            cancellation or Cancellation(),
            journal_path=journal_path,
            rollback_command=rollback_command,
            step_types=self.registry,
        )

    def actions(self, action: str) -> list[str]:
        return [step_id for done, step_id in self.calls if done == action]


Entry = tuple[PhaseName, ResolvedStep | Sequence[ResolvedStep]]


def build_plan(
    entries: Iterable[Entry],
    *,
    mode: Mode = "drill",
    targets: Targets | None = None,
    contexts: dict[str, str] | None = None,
    probes: Sequence[ResolvedProbe] = (),
) -> ExecutionPlan:
    """An ExecutionPlan from ``(phase, step)`` tuples; a sequence of steps is a parallel stage."""
    phases: dict[PhaseName, list[Stage]] = {}
    for phase, entry in entries:
        if isinstance(entry, ResolvedStep):
            stage = Stage(steps=(replace(entry, phase=phase),))
        else:
            steps = tuple(replace(s, phase=phase) for s in entry)
            stage = Stage(steps=steps, parallel=True, group_id=f"group-{steps[0].id}")
        phases.setdefault(phase, []).append(stage)
    return ExecutionPlan(
        name="fake-plan",
        source="plans/fake-plan.yaml",
        description="built in memory by tests/executor/fakes.py",
        service="shop",
        tier="critical",
        targets=targets or Targets(rpo_s=2 * 3600, rto_s=15 * 60),
        mode=mode,
        contexts=contexts if contexts is not None else {"primary": "kind-a", "dr": "kind-b"},
        phases={phase: tuple(stages) for phase, stages in phases.items()},
        probes=tuple(probes),
    )
