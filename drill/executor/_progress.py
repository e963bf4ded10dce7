"""Who wants to know, while a run goes on, what each step is doing and what it waits for.

The executor (through its recorder) and ``StepEnv.wait`` report here; the terminal view of
`drill run` is the one listener. Reports and the journal never depend on it, and a listener
must return at once: it is called from the steps' own threads, in the middle of their work.

``finished`` says how the step's current activity ended: a step's status (``passed``,
``failed``, ``timed_out``, ``interrupted``) after its phase; ``undone`` or ``failed`` after
``started(step, "undo")``; ``equal``, ``differs`` or ``not verified`` after
``started(step, "read back")``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

UNDO = "undo"  # the phase ``started`` names for a step's undo
READ_BACK = "read back"  # ... and for reading back what its undo put back


class Progress(Protocol):
    def run_started(self, disaster_at: datetime) -> None:
        """t0 of RPO and RTO is known."""

    def started(self, step_id: str, phase: str) -> None: ...

    def waiting(self, step_id: str, waiting_for: str) -> None: ...

    def finished(self, step_id: str, status: str, detail: str = "") -> None:
        """``detail``: the error of a step that did not pass, what an undo or read-back said."""

    def skipped(self, step_id: str, reason: str) -> None: ...

    def recovery_point(self, at: datetime) -> None:
        """A step found a recovery point (the oldest one counts)."""

    def probe(self, name: str, ok: bool, latency_ms: float | None) -> None:
        """One result of a probe of what users reach, as it comes in."""


class NoProgress:
    """Nobody is watching (not a terminal, JSON output, tests)."""

    def run_started(self, disaster_at: datetime) -> None:
        return

    def started(self, step_id: str, phase: str) -> None:
        return

    def waiting(self, step_id: str, waiting_for: str) -> None:
        return

    def finished(self, step_id: str, status: str, detail: str = "") -> None:
        return

    def skipped(self, step_id: str, reason: str) -> None:
        return

    def recovery_point(self, at: datetime) -> None:
        return

    def probe(self, name: str, ok: bool, latency_ms: float | None) -> None:
        return
