"""The live line on a terminal during a run: phase, step, elapsed time, what it waits for.

Shown only when stderr is a terminal and the report goes out as text; JSON output and
non-terminal runs (the CronJob, CI) get the structured logs alone. Log lines pass through
``guard`` so the status line is cleared before each one and redrawn after it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TextIO, cast

from drill.clock import Clock
from drill.durations import format_duration

_REDRAW_S = 0.2
_CLEAR = "\r\x1b[K"
_SPINNER = "|/-\\"


@dataclass
class _Running:
    phase: str
    started_mono: float
    waiting_for: str = ""


class LiveDisplay:
    """A ``Progress`` listener that keeps one redrawn status line on a terminal."""

    def __init__(self, stream: TextIO, clock: Clock, width: int = 120) -> None:
        self.stream = stream
        self.clock = clock
        self.width = width
        self._lock = threading.Lock()
        self._running: dict[str, _Running] = {}
        self._stop = threading.Event()
        self._shown = False
        self._ticks = 0
        self._thread = threading.Thread(target=self._loop, name="live-display", daemon=True)

    # --- Progress ---------------------------------------------------------------------------

    def started(self, step_id: str, phase: str) -> None:
        with self._lock:
            self._running[step_id] = _Running(phase, self.clock.monotonic())

    def waiting(self, step_id: str, waiting_for: str) -> None:
        with self._lock:
            if step_id in self._running:
                self._running[step_id].waiting_for = waiting_for

    def finished(self, step_id: str) -> None:
        with self._lock:
            self._running.pop(step_id, None)

    # --- drawing ----------------------------------------------------------------------------

    def __enter__(self) -> LiveDisplay:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(2.0)
        with self._lock:
            self._clear()

    def guard(self) -> TextIO:
        """A stream for the logger: each write clears the status line first."""
        # The logger only writes, flushes and asks isatty(): _Guarded has all three.
        return cast(TextIO, _Guarded(self))

    def status_line(self) -> str:
        with self._lock:
            running = dict(self._running)
        if not running:
            return ""
        now = self.clock.monotonic()
        parts = [
            f"{item.phase} {step} {format_duration(now - item.started_mono)}"
            + (f" - waiting for {item.waiting_for}" if item.waiting_for else "")
            for step, item in running.items()
        ]
        spinner = _SPINNER[self._ticks % len(_SPINNER)]
        return f"{spinner} " + " | ".join(parts)

    def _loop(self) -> None:
        while not self._stop.wait(_REDRAW_S):
            self._ticks += 1
            line = self.status_line()[: self.width - 1]
            with self._lock:
                self.stream.write(_CLEAR + line)
                self.stream.flush()
                self._shown = bool(line)

    def _clear(self) -> None:
        if self._shown:
            self.stream.write(_CLEAR)
            self.stream.flush()
            self._shown = False

    def write_through(self, text: str) -> None:
        with self._lock:
            self._clear()
            self.stream.write(text)
            self.stream.flush()


class _Guarded:
    """The parts of a text stream structlog's PrintLogger uses, clearing the live line first."""

    def __init__(self, display: LiveDisplay) -> None:
        self._display = display

    def write(self, text: str) -> int:
        self._display.write_through(text)
        return len(text)

    def flush(self) -> None:
        self._display.stream.flush()

    def isatty(self) -> bool:
        return self._display.stream.isatty()
