"""The journal: an append-only JSON-lines record of what a run did, flushed per event.

It is written before and after every action, so a run that crashes, or a human who takes over
during an incident, can see exactly what was changed and undo it (``drill rollback RUN``).
Secrets never enter it: params hold references (``${env:NAME}``), not values. What each event
holds is defined once, in ``_events``.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import threading
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Protocol

from pydantic import JsonValue, ValidationError

from drill.clock import Clock
from drill.errors import UsageError
from drill.executor._events import (
    EVENT_KINDS,
    JournalEntry,
    JournalEvent,
    MutationRecord,
    ProbeAttempted,
    RunStarted,
    StepNoted,
    UndoFinished,
)


class Journal(Protocol):
    def write(self, event: JournalEvent) -> None: ...


class FileJournal:
    def __init__(self, path: Path, run_id: str, clock: Clock) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        _drop_torn_line(path)
        self.path = path
        self._run_id = run_id
        self._clock = clock
        self._lock = threading.Lock()
        self._file: IO[str] = path.open("a", encoding="utf-8")

    def write(self, event: JournalEvent) -> None:
        entry = JournalEntry(ts=self._clock.now(), run_id=self._run_id, event=event)
        line = entry.to_line()
        with self._lock:
            self._file.write(line + "\n")
            self._file.flush()  # in the kernel's hands: it survives the process dying
            if not isinstance(event, ProbeAttempted):
                # A journal that is not on disk cannot guide a rollback after a machine crash.
                # Probe attempts guide none, come several a second, and reach the disk with
                # the next event that does.
                os.fsync(self._file.fileno())
                self._still_on_disk()

    def _still_on_disk(self) -> None:
        """The file written is the one at the journal's path: a journal removed (or replaced)
        underneath the run still takes writes, and keeps none of them for a rollback."""
        written = os.fstat(self._file.fileno())
        try:
            there = os.stat(self.path)
        except OSError as exc:
            raise OSError(exc.errno, f"{self.path} was removed ({exc.strerror})") from None
        if (there.st_dev, there.st_ino) != (written.st_dev, written.st_ino):
            raise OSError(errno.ESTALE, f"{self.path} was replaced by another file")

    def close(self) -> None:
        # Every event was flushed as it was written; what is still buffered is what a failed
        # write left (a full disk), already told and acted on. Flushing it again fails again.
        with contextlib.suppress(OSError):
            self._file.close()


def _drop_torn_line(path: Path) -> None:
    """A crash mid-write leaves a last line without its newline; readers skip it while it is
    last, so it goes before anything is appended after it (``drill rollback`` appends)."""
    try:
        with path.open("rb+") as file:
            data = file.read()
            if data and not data.endswith(b"\n"):
                file.truncate(data.rfind(b"\n") + 1)
    except FileNotFoundError:
        return


class MemoryJournal:
    """For tests and dry runs: keeps events in a list."""

    def __init__(self) -> None:
        self.events: list[JournalEvent] = []

    def write(self, event: JournalEvent) -> None:
        self.events.append(event)


class RunRecord(RunStarted):
    """The run as its journal's ``run_started`` line names it: the event, when, and the run id."""

    ts: datetime
    run_id: str


def read_events(path: Path) -> list[JournalEntry]:
    """Every complete event, checked against the schema; a half-written last line (a crash
    mid-write) is ignored, and so are events of kinds this drill does not know."""
    lines = _json_lines(path)
    return [
        _entry(path, number, line) for number, line in lines if line.get("event") in EVENT_KINDS
    ]


def raw_events(path: Path) -> list[dict[str, JsonValue]]:
    """The lines of a journal that are events of kinds drill writes, unchecked: what can still
    be told of a journal ``read_events`` refuses (whether it is a run's damaged record at all,
    and of which plan)."""
    return [value for value in _raw_objects(path) if value.get("event") in EVENT_KINDS]


def _raw_objects(path: Path) -> Iterator[dict[str, JsonValue]]:
    """Each line of the file that is a JSON object, the others passed over."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return
    for line in lines:
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            yield value


class JournalUnreadable(UsageError):
    """A journal that cannot be read: which file, which line (None: the whole file), and why,
    so a listing that names the file can say the rest without taking the message apart."""

    def __init__(self, path: Path, line: int | None, reason: str) -> None:
        self.path, self.line, self.reason = path, line, reason
        super().__init__(f"{path}:{line}: {reason}" if line is not None else f"{path}: {reason}")


def _json_lines(path: Path) -> list[tuple[int, dict[str, JsonValue]]]:
    try:
        # Bytes, decoded line by line: a damaged line is told by its number, and does not
        # make the whole file unreadable as text.
        lines = path.read_bytes().splitlines()
    except OSError as exc:
        raise JournalUnreadable(path, None, f"cannot read journal: {exc.strerror}") from None
    objects = []
    for number, line in enumerate(lines, start=1):
        try:
            value = json.loads(line.decode("utf-8"))
        except ValueError as exc:
            if number == len(lines):
                break
            what = "UTF-8 text" if isinstance(exc, UnicodeDecodeError) else "JSON"
            raise JournalUnreadable(path, number, f"journal line is not {what}") from None
        if isinstance(value, dict):
            objects.append((number, value))
    return objects


def _entry(path: Path, number: int, line: dict[str, JsonValue]) -> JournalEntry:
    try:
        return JournalEntry.from_line(line)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = error["loc"][2:] if error["loc"][:1] == ("event",) else error["loc"]
        where = ".".join(str(part) for part in loc)
        reason = f"journal event {line['event']}: {where}: {error['msg']}"
        raise JournalUnreadable(path, number, reason) from None


def pending_undos(entries: Iterable[JournalEntry]) -> list[MutationRecord]:
    """Mutations recorded and not yet undone, oldest first."""
    events = [entry.event for entry in entries]
    undone = {e.step_id for e in events if isinstance(e, UndoFinished) and e.status == "undone"}
    return [e for e in events if isinstance(e, MutationRecord) and e.step_id not in undone]


def step_notes(entries: Iterable[JournalEntry]) -> dict[str, dict[str, JsonValue]]:
    """What each step noted (a change's id), by step id; a later note of a key wins."""
    notes: dict[str, dict[str, JsonValue]] = {}
    for entry in entries:
        if isinstance(entry.event, StepNoted):
            notes.setdefault(entry.event.step_id, {})[entry.event.key] = entry.event.value
    return notes


def run_record(entries: Iterable[JournalEntry]) -> RunRecord:
    for entry in entries:
        if isinstance(entry.event, RunStarted):
            return RunRecord.model_validate(
                {**entry.event.model_dump(), "ts": entry.ts, "run_id": entry.run_id}
            )
    raise UsageError("journal has no readable run_started event: not the journal of a run")
