"""What the terminal view of `drill run` shows, as the run tells it: steps, clocks, probes.

Plain state, no terminal: the executor's threads report here (it is their ``Progress``) and
return at once; the view (``_view``) draws a ``Snapshot`` several times a second. Once the
run has ended, ``finish`` takes the report's word for every step, undo, read-back, RPO and
RTO, so the last frame on the screen says what the report says.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Concatenate, Literal, ParamSpec

from drill.clock import Clock
from drill.executor import READ_BACK, UNDO, Cancellation
from drill.plan import ExecutionPlan, PhaseName
from drill.report import (
    VERDICTS,
    Objective,
    RollbackReport,
    RunReport,
    StepReport,
    rollback_sentence,
)

State = Literal[
    "waiting",
    "running",
    "passed",
    "failed",
    "timed out",
    "interrupted",
    "skipped",
    "not run",
    "undoing",
    "undone",
    "undo failed",
    "not undone",
    "reading back",
    "differs",
    "not verified",
]
BUSY: frozenset[State] = frozenset({"running", "undoing", "reading back"})
_FORWARD: tuple[PhaseName, ...] = ("preflight", "restore", "failover", "verify")
# Phases as a run of each mode takes them: a drill undoes, then runs rollback, then cleanup.
_ORDER: dict[str, tuple[PhaseName, ...]] = {
    "drill": (*_FORWARD, "rollback", "cleanup"),
    "live": (*_FORWARD, "cleanup", "rollback"),
}
_STEP_STATES: dict[str, State] = {
    "passed": "passed",
    "failed": "failed",
    "timed_out": "timed out",
    "interrupted": "interrupted",
    "skipped": "skipped",
    "not_run": "not run",
}
_UNDO_STATES: dict[str, State] = {"undone": "undone", "failed": "undo failed"}
_READ_BACK_STATES: dict[str, State] = {
    "equal": "undone",
    "differs": "differs",
    "not verified": "not verified",
}


P = ParamSpec("P")


def _contained(
    method: Callable[Concatenate[Board, P], None],
) -> Callable[Concatenate[Board, P], None]:
    """What the run tells the board never raises back into the run: a bug here must not fail
    a step. The first such error is kept for the view to log, once."""

    @functools.wraps(method)
    def told(board: Board, /, *args: P.args, **kwargs: P.kwargs) -> None:
        try:
            method(board, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - the run goes on whatever the view's state
            if board.failure is None:
                board.failure = f"{type(exc).__name__}: {exc}"

    return told


@dataclass
class StepLine:
    """One step as the view shows it; ``detail`` is what it waits for, its error, its
    finding or why it did not run; ``after`` what its undo and read-back said."""

    id: str
    phase: str
    state: State = "waiting"
    started_mono: float | None = None  # of what it is doing now
    took_s: float | None = None  # its own run, not its undo
    detail: str = ""
    after: str = ""
    ran: State | None = None  # how its own run ended (its state goes on to its undo)
    undo: State | None = None  # how its undo ended, once it has


@dataclass(frozen=True)
class Reading:
    """One clock against its target. ``value_s`` None: no value (yet); ``verdict`` is the
    report's word once it exists, else what the clock is doing (running, stopped...)."""

    label: str
    target_s: float
    value_s: float | None
    verdict: str
    margin_s: float | None = None
    final: bool = False
    # Where the target came from when the plan or the config file set it, e.g. "plan
    # override; critical tier default 15m"; empty for the tier's own default.
    target_origin: str = ""


@dataclass(frozen=True)
class ProbeReading:
    name: str
    ok: bool
    latency_ms: float | None
    successes: int
    attempts: int


@dataclass(frozen=True)
class Snapshot:
    title: str
    doing: str
    elapsed_s: float
    phases: tuple[tuple[str, tuple[StepLine, ...]], ...]
    rto: Reading
    rpo: Reading
    rollback: str  # the report's sentence on the rollback, once there is one
    rollback_verified: bool
    probes: tuple[ProbeReading, ...]
    now_mono: float
    final: bool


@dataclass
class _Probe:
    ok: bool = False
    latency_ms: float | None = None
    successes: int = 0
    attempts: int = 0


@dataclass
class Board:
    """The run as the terminal view knows it; every method is safe from any thread."""

    plan: ExecutionPlan
    clock: Clock
    run_id: str = ""  # it starts with the plan's name
    cancellation: Cancellation | None = None
    sandbox: bool = False
    failure: str | None = field(default=None, init=False)  # the first error told, see _contained
    _steps: dict[str, StepLine] = field(init=False)
    _t0: datetime | None = field(default=None, init=False)
    _began_mono: float = field(init=False)
    _point: datetime | None = field(default=None, init=False)
    _recovered_at: datetime | None = field(default=None, init=False)
    _probes: dict[str, _Probe] = field(default_factory=dict, init=False)
    _report: RunReport | None = field(default=None, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def __post_init__(self) -> None:
        order = _ORDER[self.plan.mode]
        self._steps = {
            step.id: StepLine(step.id, step.phase)
            for phase in order
            for step in self.plan.steps(phase)
        }
        self._began_mono = self.clock.monotonic()

    # --- Progress: what the executor tells ------------------------------------------------

    @_contained
    def run_started(self, disaster_at: datetime) -> None:
        with self._lock:
            self._t0 = disaster_at
            self._began_mono = self.clock.monotonic()

    @_contained
    def started(self, step_id: str, phase: str) -> None:
        with self._lock:
            line = self._line(step_id, phase)
            line.state = _activity(phase)
            line.started_mono, line.detail = self.clock.monotonic(), ""

    @_contained
    def waiting(self, step_id: str, waiting_for: str) -> None:
        with self._lock:
            line = self._line(step_id, "")
            if line.state in BUSY:
                line.detail = waiting_for

    @_contained
    def finished(self, step_id: str, status: str, detail: str = "") -> None:
        with self._lock:
            line = self._line(step_id, "")
            if line.state == "undoing":
                line.state = line.undo = _UNDO_STATES.get(status, "undo failed")
                line.after = "" if line.state == "undone" else detail
            elif line.state == "reading back" or status in _READ_BACK_STATES:
                found = _READ_BACK_STATES.get(status, "not verified")
                line.state = (line.undo or "undone") if found == "undone" else found
                line.after = _read_back_note(line.after, status, detail)
            else:
                self._step_ended(line, status)
                line.detail = detail
                return
            line.detail, line.started_mono = "", None

    @_contained
    def skipped(self, step_id: str, reason: str) -> None:
        with self._lock:
            line = self._line(step_id, "")
            line.state = line.ran = "skipped"
            line.detail = reason

    @_contained
    def recovery_point(self, at: datetime) -> None:
        with self._lock:
            self._point = at if self._point is None else min(self._point, at)

    @_contained
    def probe(self, name: str, ok: bool, latency_ms: float | None) -> None:
        with self._lock:
            probe = self._probes.setdefault(name, _Probe())
            probe.ok, probe.latency_ms = ok, latency_ms
            probe.attempts += 1
            probe.successes += int(ok)

    # --- the end of the run ---------------------------------------------------------------

    @_contained
    def finish(self, report: RunReport) -> None:
        """The report's word on every step and on both clocks: the last frame shows it."""
        with self._lock:
            self._report = report
            for step in report.steps:
                self._take_step(step)
            for undo in report.undo:
                line = self._line(undo.step_id, "")
                line.state = _UNDO_STATES.get(undo.status, "not undone")
                line.after = "" if undo.status == "undone" else undo.detail
            for check in report.rollback.checks if report.rollback else ():
                line = self._line(check.step_id, "")
                if line.state == "undone" or check.status != "equal":
                    line.state = _READ_BACK_STATES[check.status]
                    line.after = _read_back_note(line.after, check.status, check.detail)

    # --- what the view draws --------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        with self._lock:
            now_mono, now = self.clock.monotonic(), self.clock.now()
            lines = [replace(line) for line in self._steps.values()]
            return Snapshot(
                title=self._title(),
                doing=self._doing(lines),
                elapsed_s=now_mono - self._began_mono,
                phases=_by_phase(lines),
                rto=replace(self._rto(lines, now), target_origin=self._origin("RTO")),
                rpo=replace(self._rpo(lines), target_origin=self._origin("RPO")),
                rollback=rollback_sentence(rolled) if (rolled := self._rolled_back()) else "",
                rollback_verified=rolled is not None and rolled.verified is True,
                probes=tuple(
                    ProbeReading(name, p.ok, p.latency_ms, p.successes, p.attempts)
                    for name, p in self._probes.items()
                ),
                now_mono=now_mono,
                final=self._report is not None,
            )

    # --- inside ---------------------------------------------------------------------------

    def _line(self, step_id: str, phase: str) -> StepLine:
        """A step the plan did not list (none should) still gets a line rather than an error."""
        if step_id not in self._steps:
            self._steps[step_id] = StepLine(step_id, phase or "other")
        return self._steps[step_id]

    def _step_ended(self, line: StepLine, status: str) -> None:
        line.state = line.ran = _STEP_STATES.get(status, "failed")
        if line.started_mono is not None:
            line.took_s = self.clock.monotonic() - line.started_mono
        line.started_mono = None
        if line.phase == "verify" and line.state == "passed":
            now = self.clock.now()
            self._recovered_at = max(filter(None, (self._recovered_at, now)))

    def _take_step(self, step: StepReport) -> None:
        line = self._line(step.id, step.phase)
        line.state = line.ran = _STEP_STATES.get(step.status, "failed")
        line.took_s = step.duration_s
        line.detail = step.error or step.summary or step.skip_reason or ""
        line.started_mono = None

    def _rolled_back(self) -> RollbackReport | None:
        return self._report.rollback if self._report is not None else None

    def _title(self) -> str:
        where = " · sandbox" if self.sandbox else ""
        return f"{self.run_id or self.plan.name} · {self.plan.mode} mode{where}"

    def _doing(self, lines: list[StepLine]) -> str:
        if self._report is not None:
            return f"{VERDICTS[self._report.outcome]} (exit {self._report.exit_code})"
        stop = self._stopping()
        if stop:
            return stop
        busy = [line for line in lines if line.state in BUSY]
        if any(line.state != "running" for line in busy):
            return "undoing what this run changed"
        if busy:
            return f"running {busy[0].phase}"
        return "starting" if self._t0 is None else "between steps"

    def _stopping(self) -> str:
        cancellation = self.cancellation
        if cancellation is None or not cancellation.stop_work.is_set():
            return ""
        if cancellation.abandon_undo.is_set():
            return "abandoning the rollback"
        if cancellation.failure:
            return f"stopping: {cancellation.failure}"
        return "stopped by a signal: undoing what this run changed"

    def _forward_over(self, lines: list[StepLine]) -> bool:
        """Forward work is done (or was stopped): a clock not stopped by now never will be."""
        if self.cancellation is not None and self.cancellation.stop_work.is_set():
            return True
        return any(line.phase not in _FORWARD and line.state != "waiting" for line in lines) or any(
            line.state in ("undoing", "reading back", "undone", "undo failed") for line in lines
        )

    def _origin(self, label: str) -> str:
        """Where the plan's target came from; the report's word once it exists."""
        if self._report is not None:
            objective = self._report.rto if label == "RTO" else self._report.rpo
            return objective.target_origin().describe(self._report.tier)
        targets = self.plan.targets
        origin = targets.rto_origin if label == "RTO" else targets.rpo_origin
        return origin.describe(self.plan.tier)

    def _rto(self, lines: list[StepLine], now: datetime) -> Reading:
        target = self.plan.targets.rto_s
        if self._report is not None:
            return _reported("RTO", self._report.rto)
        if self._t0 is None:
            return Reading("RTO", target, None, "starts with the run")
        verify = [line.ran for line in lines if line.phase == "verify"]
        if any(ran in ("failed", "timed out", "interrupted") for ran in verify):
            return Reading("RTO", target, None, "not measured: a verify step did not pass")
        done = all(ran in ("passed", "skipped") for ran in verify)
        if done and self._recovered_at is not None:
            value = (self._recovered_at - self._t0).total_seconds()
            return Reading("RTO", target, value, "recovered")
        if done:
            return Reading("RTO", target, None, "not measured: no verify step ran")
        if self._forward_over(lines):
            return Reading("RTO", target, None, "not measured: recovery was not shown")
        return Reading("RTO", target, (now - self._t0).total_seconds(), "running")

    def _rpo(self, lines: list[StepLine]) -> Reading:
        target = self.plan.targets.rpo_s
        if self._report is not None:
            return _reported("RPO", self._report.rpo)
        if self._t0 is not None and self._point is not None:
            value = max((self._t0 - self._point).total_seconds(), 0.0)
            return Reading("RPO", target, value, "recovery point found")
        if self._forward_over(lines):
            return Reading("RPO", target, None, "not measured: no recovery point")
        return Reading("RPO", target, None, "no recovery point yet")


def _reported(label: str, objective: Objective) -> Reading:
    if objective.measured_s is None:
        missed = " (counts as missed)" if objective.met is False else ""
        return Reading(label, objective.target_s, None, f"not measured{missed}", final=True)
    verdict = {True: "met", False: "MISSED", None: "n/a"}[objective.met]
    return Reading(
        label, objective.target_s, objective.measured_s, verdict, objective.margin_s, final=True
    )


def _activity(phase: str) -> State:
    if phase == UNDO:
        return "undoing"
    if phase == READ_BACK:
        return "reading back"
    return "running"


def _read_back_note(before: str, status: str, detail: str) -> str:
    """What the read-back found, after what the undo said (a failed undo's error stays); an
    object read back equal needs no words: the step's state says undone."""
    if status == "equal":
        return before
    note = f"read back {status}" + (f": {detail}" if detail else "")
    return f"{before}; {note}" if before else note


def _by_phase(lines: list[StepLine]) -> tuple[tuple[str, tuple[StepLine, ...]], ...]:
    phases: dict[str, list[StepLine]] = {}
    for line in lines:
        phases.setdefault(line.phase, []).append(line)
    return tuple((phase, tuple(steps)) for phase, steps in phases.items())
