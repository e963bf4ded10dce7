"""The journal: an append-only JSON-lines record of what a run did, flushed per event.

It is written before and after every action, so a run that crashes, or a human who takes over
during an incident, can see exactly what was changed and undo it (``drill rollback RUN``).
Secrets never enter it: params hold references (``${env:NAME}``), not values.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import IO, Protocol

from pydantic import BaseModel, ConfigDict, JsonValue, ValidationError

from drill.clock import Clock
from drill.errors import UsageError


class Journal(Protocol):
    def write(self, event: str, **fields: JsonValue) -> None: ...


class FileJournal:
    def __init__(self, path: Path, run_id: str, clock: Clock) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._run_id = run_id
        self._clock = clock
        self._lock = threading.Lock()
        self._file: IO[str] = path.open("a", encoding="utf-8")

    def write(self, event: str, **fields: JsonValue) -> None:
        record = {"ts": self._clock.now().isoformat(), "run_id": self._run_id, "event": event}
        line = json.dumps({**record, **fields}, sort_keys=False, default=str)
        with self._lock:
            self._file.write(line + "\n")
            self._file.flush()
            # A journal that is not on disk cannot guide a rollback after a crash.
            os.fsync(self._file.fileno())

    def close(self) -> None:
        self._file.close()


class MemoryJournal:
    """For tests and dry runs: keeps events in a list."""

    def __init__(self) -> None:
        self.events: list[dict[str, JsonValue]] = []

    def write(self, event: str, **fields: JsonValue) -> None:
        self.events.append({"event": event, **fields})


class MutationRecord(BaseModel):
    """A ``prior_state`` event: enough to undo one mutating step without the plan."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    step_id: str
    type: str
    params: dict[str, JsonValue]
    prior: JsonValue
    context: str | None
    timeout_s: float
    retries: int


class RunRecord(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    run_id: str
    plan: str
    plan_file: str
    mode: str
    contexts: dict[str, str]


def read_events(path: Path) -> list[dict[str, JsonValue]]:
    """All complete events; a half-written last line (crash mid-write) is ignored."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read journal: {exc.strerror}") from None
    events = []
    for number, line in enumerate(lines, start=1):
        try:
            event = json.loads(line)
        except ValueError:
            if number == len(lines):
                break
            raise UsageError(f"{path}:{number}: journal line is not JSON") from None
        if isinstance(event, dict):
            events.append(event)
    return events


def pending_undos(events: list[dict[str, JsonValue]]) -> list[MutationRecord]:
    """Mutations recorded and not yet undone, oldest first."""
    undone = {
        e.get("step_id")
        for e in events
        if e.get("event") == "undo_finished" and e.get("status") == "undone"
    }
    try:
        return [
            MutationRecord.model_validate(e)
            for e in events
            if e.get("event") == "prior_state" and e.get("step_id") not in undone
        ]
    except ValidationError as exc:
        raise UsageError(
            f"journal has a malformed prior_state event: {exc.errors()[0]['msg']}"
        ) from None


def run_record(events: list[dict[str, JsonValue]]) -> RunRecord:
    for event in events:
        if event.get("event") == "run_started":
            try:
                return RunRecord.model_validate(event)
            except ValidationError:
                break
    raise UsageError("journal has no readable run_started event")
