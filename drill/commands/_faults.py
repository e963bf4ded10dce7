"""The sandbox faults of one run, armed when they are due: at once, when their step starts, or
after their delay from the start of the run.

The executor knows nothing of the sandbox: the armer listens to the run's progress (the
``Progress`` the executor already reports step starts to) and, when a step a fault waits for
starts, has the sandbox carry out the fault's actions before the step makes its first request.
Undo and read-back of a step do not arm anything. Every fault ends up in the report's notes:
armed (and when), or never armed (its step never started), so a rehearsal's report says what
was done to it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from drill.clock import Clock
from drill.errors import Interrupted, UsageError
from drill.executor import NoProgress, Progress
from drill.plan import ExecutionPlan

if TYPE_CHECKING:
    from drill.sandbox.worlds.faults import Action, FaultSpec

# Phases the executor reports that are not a step's own forward run.
_NOT_FORWARD = ("undo", "read back")


class FaultArmer(NoProgress):
    """Arms each fault when its step starts; hears of steps as a Progress does."""

    def __init__(
        self,
        send: Callable[[list[dict[str, object]]], None],
        plan: ExecutionPlan,
        faults: list[FaultSpec],
        clock: Clock,
    ) -> None:
        """Plans every fault against ``plan`` now: an unknown fault or step, or a fault with
        nothing to act on, is a usage error before anything runs."""
        self._send = send
        self._clock = clock
        self._planned = [(spec, _planned(spec, plan)) for spec in faults]
        self._lock = threading.Lock()
        self._waiting: dict[str, list[tuple[FaultSpec, list[Action]]]] = {
            spec.at_step: [] for spec, _ in self._planned if spec.at_step
        }
        self._notes: list[str] = []
        self._stop = threading.Event()
        self._timers: list[threading.Thread] = []
        self.log: Any = None  # set by the run once its logger exists

    def start(self) -> None:
        """Arm the faults due at once; start the clocks of the delayed ones."""
        for spec, actions in self._planned:
            if spec.at_step is not None:
                self._waiting[spec.at_step].append((spec, actions))
            elif spec.after_s is None:
                self._arm(spec, actions, "before the run")
            else:
                timer = threading.Thread(
                    target=self._arm_later, args=(spec, actions), name="fault", daemon=True
                )
                self._timers.append(timer)
                timer.start()

    def stop(self) -> None:
        self._stop.set()
        for timer in self._timers:
            timer.join(timeout=1.0)

    def notes(self) -> list[str]:
        """One line per fault: when it was armed, or why it never was."""
        with self._lock:
            unarmed = [spec for waiting in self._waiting.values() for spec, _ in waiting]
            notes = list(self._notes)
        notes += [f"sandbox fault {spec}: never armed (its step never started)" for spec in unarmed]
        return notes

    # --- Progress -----------------------------------------------------------------------------

    def started(self, step_id: str, phase: str) -> None:
        if phase in _NOT_FORWARD:
            return
        with self._lock:
            due = self._waiting.pop(step_id, [])
        for spec, actions in due:
            self._arm(spec, actions, f"when step {step_id} started")

    def waiting(self, step_id: str, waiting_for: str) -> None:
        return

    def finished(self, step_id: str, status: str = "", detail: str = "") -> None:
        return

    # --- arming -------------------------------------------------------------------------------

    def _arm_later(self, spec: FaultSpec, actions: list[Action]) -> None:
        try:
            self._clock.sleep(spec.after_s or 0.0, self._stop)
        except Interrupted:
            with self._lock:
                self._notes.append(f"sandbox fault {spec}: never armed (the run ended first)")
            return
        self._arm(spec, actions, f"{spec.after_s:g}s into the run")

    def _arm(self, spec: FaultSpec, actions: list[Action], when: str) -> None:
        try:
            self._send([action.as_json() for action in actions])
        except UsageError as exc:
            note = f"sandbox fault {spec}: not armed: {exc}"
        else:
            note = f"sandbox fault {spec}: armed {when}"
        with self._lock:
            self._notes.append(note)
        if self.log is not None:
            self.log.info("sandbox_fault", fault=str(spec), note=note)


class Listeners:
    """Progress for several listeners: the terminal view and the fault armer."""

    def __init__(self, *listeners: Progress | None) -> None:
        self._listeners = [listener for listener in listeners if listener is not None] or [
            NoProgress()
        ]

    def run_started(self, disaster_at: datetime) -> None:
        for listener in self._listeners:
            listener.run_started(disaster_at)

    def started(self, step_id: str, phase: str) -> None:
        for listener in self._listeners:
            listener.started(step_id, phase)

    def waiting(self, step_id: str, waiting_for: str) -> None:
        for listener in self._listeners:
            listener.waiting(step_id, waiting_for)

    def finished(self, step_id: str, status: str, detail: str = "") -> None:
        for listener in self._listeners:
            listener.finished(step_id, status, detail)

    def skipped(self, step_id: str, reason: str) -> None:
        for listener in self._listeners:
            listener.skipped(step_id, reason)

    def recovery_point(self, at: datetime) -> None:
        for listener in self._listeners:
            listener.recovery_point(at)

    def probe(self, name: str, ok: bool, latency_ms: float | None) -> None:
        for listener in self._listeners:
            listener.probe(name, ok, latency_ms)


def _planned(spec: FaultSpec, plan: ExecutionPlan) -> list[Action]:
    # The fault catalogue loads only for a run that arms a fault.
    from drill.sandbox.worlds.faults import planned_actions

    return planned_actions(spec, plan)
