"""Who wants to know, while a run goes on, which step is running and what it waits for.

The executor and ``StepEnv.wait`` report here; the CLI's live display on a terminal is the
one listener. Reports and the journal never depend on it.
"""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def started(self, step_id: str, phase: str) -> None: ...

    def waiting(self, step_id: str, waiting_for: str) -> None: ...

    def finished(self, step_id: str) -> None: ...


class NoProgress:
    """Nobody is watching (not a terminal, JSON output, tests)."""

    def started(self, step_id: str, phase: str) -> None:
        return

    def waiting(self, step_id: str, waiting_for: str) -> None:
        return

    def finished(self, step_id: str) -> None:
        return
