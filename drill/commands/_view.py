"""The terminal view of `drill run`: the plan as it runs, redrawn in place on stderr (rich).

Imported only when stderr is a terminal and the report goes out as text, so `--help`,
`validate`, piped runs and CronJobs never load rich. The executor knows none of this: it
tells a ``Board`` (its ``Progress``), and a thread of this module draws the board's snapshot
a few times a second. Whatever goes wrong here must not touch the run: a frame that fails to
render is replaced by one line saying so, a terminal that cannot be written any more is
left alone, and either is logged once. Log lines (-v, or warnings) are printed above the
view, which rich keeps at the bottom of the screen. Every line fits the terminal's width as
it is at that moment: details are cut first, then the elapsed column, never wrapped.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterable
from types import FrameType
from typing import Any, TextIO, cast

from rich.console import Console, ConsoleOptions, RenderResult
from rich.live import Live
from rich.text import Text

from drill.commands._board import BUSY, Board, ProbeReading, Reading, Snapshot, State, StepLine
from drill.durations import format_duration
from drill.report import RunReport

REFRESH_S = 0.25
_STATE_WIDTH = 12  # "reading back", "not verified"
_ELAPSED_WIDTH = 6  # "12.3s", "4m05s", "850ms"
_LOOK: dict[State, tuple[str, str, str]] = {  # glyph, plain-ASCII glyph, style
    "waiting": ("·", ".", "dim"),
    "running": ("", "", "bold yellow"),  # spinner
    "passed": ("✓", "+", "green"),
    "failed": ("✗", "x", "bold red"),
    "timed out": ("✗", "x", "bold red"),
    "interrupted": ("!", "!", "yellow"),
    "skipped": ("-", "-", "dim"),
    "not run": ("·", ".", "dim"),
    "undoing": ("", "", "cyan"),  # spinner
    "undone": ("↺", "<", "cyan"),
    "undo failed": ("✗", "x", "bold red"),
    "not undone": ("✗", "x", "bold red"),
    "reading back": ("", "", "cyan"),  # spinner
    "differs": ("≠", "!", "bold red"),
    "not verified": ("?", "?", "yellow"),
}
_SPINNER = ("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏", "|/-\\")
_VERDICT_STYLE = {"met": "green", "MISSED": "bold red", "running": "yellow"}


class TerminalView:
    """The view on one terminal for one run: ``with view:`` shows it, ``finish`` hands it the
    report so the last frame, left on the screen, says what the report says."""

    def __init__(self, board: Board, console: Console, refresh_s: float = REFRESH_S) -> None:
        self.board = board
        self.console = console
        self.refresh_s = refresh_s
        self.unicode = console.encoding.lower().startswith("utf")
        self._live = Live(
            get_renderable=self.frame,
            console=console,
            auto_refresh=False,  # our own thread refreshes, so a failure stays ours
            redirect_stdout=False,  # stdout is the report's alone
            redirect_stderr=False,
            transient=False,  # the last frame stays: one line per step, as it ended
        )
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._refresh_loop, name="view", daemon=True)
        self._failure: str | None = None
        self._failure_told = False
        self._terminal_lost = False
        self._log: Any = None
        self._log_lock = threading.Lock()
        self._previous_term: Any = None

    @classmethod
    def on(cls, stream: TextIO, board: Board, width: int | None = None) -> TerminalView:
        """A view on ``stream`` (a terminal); rich follows its width as the pane is resized."""
        console = Console(
            file=stream, width=width, highlight=False, markup=False, emoji=False, soft_wrap=False
        )
        return cls(board, console)

    # --- what the command uses ------------------------------------------------------------

    def attach_log(self, log: Any) -> None:
        """Where a failure of the view is said (once): the run's own log."""
        self._log = log

    def log_stream(self) -> TextIO:
        """A stream for the logger: each line is printed above the view."""
        # structlog's PrintLogger only writes, flushes and asks isatty(): _LogLines has them.
        return cast(TextIO, _LogLines(self))

    def finish(self, report: RunReport) -> None:
        self.board.finish(report)

    def __enter__(self) -> TerminalView:
        self._guard_sigterm()
        try:
            self._live.start(refresh=True)
        except Exception as exc:  # noqa: BLE001 - no view is better than no run
            self._failed(exc)
            self._terminal_lost = True
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=2.0)
        try:
            self._live.stop()  # draws the last frame, then gives the cursor back
        except Exception as error:  # noqa: BLE001 - the report must still be printed
            self._failed(error)
        self._tell_failure()
        if self._previous_term is not None:
            signal.signal(signal.SIGTERM, self._previous_term)

    # --- drawing --------------------------------------------------------------------------

    def frame(self) -> _Frame:
        """What rich draws: the board as it is when drawn, at the terminal's size then."""
        return _Frame(self)

    def lines(self, width: int, height: int) -> list[Text]:
        return frame_lines(self.board.snapshot(), width, height, self.unicode)

    def refresh(self) -> None:
        """Draw the board now (the view's thread does, every ``refresh_s``)."""
        if self._terminal_lost:
            return
        try:
            self._live.refresh()
        except Exception as exc:  # noqa: BLE001 - a terminal gone (EIO) must not stop a run
            self._failed(exc)
            self._terminal_lost = True
        self._tell_failure()

    def _refresh_loop(self) -> None:
        while not self._stop.wait(self.refresh_s) and not self._terminal_lost:
            self.refresh()

    def _failed(self, exc: BaseException) -> None:
        if self._failure is None:
            self._failure = f"{type(exc).__name__}: {exc}"

    def _tell_failure(self) -> None:
        """Once, from the refresh thread or at the end, never from inside a render."""
        failure = self._failure or self.board.failure
        if failure is None or self._failure_told or self._log is None:
            return
        self._failure_told = True
        self._log.warning("terminal_view_failed", error=failure, run="goes on")

    def print_log(self, line: str) -> None:
        if self._terminal_lost:
            return  # nowhere to show it; the journal and the report do not depend on it
        with self._log_lock:
            try:
                self.console.print(Text.from_ansi(line), soft_wrap=True)
            except OSError as exc:
                self._failed(exc)
                self._terminal_lost = True

    # --- signals --------------------------------------------------------------------------

    def _guard_sigterm(self) -> None:
        """SIGTERM where drill does not handle it itself (taking the lease, delivering the
        report) still kills the process at once, as without the view; the cursor the view
        hid is shown first."""
        main = threading.current_thread() is threading.main_thread()
        if main and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
            self._previous_term = signal.signal(signal.SIGTERM, self._terminated)

    def _terminated(self, signum: int, frame: FrameType | None) -> None:
        self._stop.set()
        if not self._terminal_lost:
            try:
                self.console.show_cursor(True)
            except OSError as exc:  # the terminal is gone: nothing to give back, die anyway
                self._failed(exc)
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)


class _Frame:
    """One frame, rendered at the size rich gives; a failure renders as one line."""

    def __init__(self, view: TerminalView) -> None:
        self.view = view

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        try:
            lines = self.view.lines(options.max_width, options.max_height)
        except Exception as exc:  # noqa: BLE001 - a view that cannot draw must not stop a run
            self.view._failed(exc)
            said = Text(f"(the view failed: {type(exc).__name__}; the run goes on)")
            lines = [_fit(said, options.max_width)]
        frame = Text("\n").join(lines)
        frame.no_wrap, frame.overflow = True, "ellipsis"
        yield frame


class _LogLines:
    """The parts of a text stream structlog's PrintLogger uses; whole lines go to the view."""

    def __init__(self, view: TerminalView) -> None:
        self._view = view
        self._pending = ""
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            self._pending += text
            *lines, self._pending = self._pending.split("\n")
        for line in lines:
            self._view.print_log(line)
        return len(text)

    def flush(self) -> None:
        return

    def isatty(self) -> bool:
        return True


# --- the frame, line by line ------------------------------------------------------------------


def frame_lines(snap: Snapshot, width: int, height: int, unicode: bool = True) -> list[Text]:
    """Every line at most ``width`` cells. While the run goes on the frame keeps within
    ``height`` (finished phases fold into one line each, then waiting ones); the last frame
    shows every step, for the scrollback."""
    head = [_title_line(snap, width), _doing_line(snap)]
    for reading in (snap.rto, snap.rpo):
        head += [_clock_line(reading), *_target_origin_line(reading)]
    if snap.rollback:
        style = "" if snap.rollback_verified else "bold red"
        head.append(Text.assemble(("ROLLBACK ", "bold"), (snap.rollback, style)))
    if snap.probes:
        head.append(_probes_line(snap.probes, unicode))
    columns = _Columns.fitting(snap, width)
    room = None if snap.final else max(height - 1 - len(head), 1)
    body = _body(snap, columns, unicode, room)
    return [_fit(line, width) for line in (*head, *body)]


def _body(snap: Snapshot, columns: _Columns, unicode: bool, room: int | None) -> list[Text]:
    """Phases and steps; when they do not fit ``room``, what is over folds first (finished
    phases), then what has not begun (waiting phases), then, inside the phases still open,
    every step but those running; a running step is the last thing to go."""
    shown = {phase: _FULL for phase, _ in snap.phases}
    lines = _phase_lines(snap, columns, unicode, shown)
    if room is None:
        return lines
    for fold, how in ((_finished, _FOLDED), (_waiting, _FOLDED), (_open, _BUSY_ONLY)):
        if len(lines) <= room:
            return lines
        shown.update({phase: how for phase, steps in snap.phases if fold(steps)})
        lines = _phase_lines(snap, columns, unicode, shown)
    if len(lines) > room:
        hidden = len(lines) - room + 1
        lines = [*lines[: room - 1], Text(f"  … {hidden} more lines", style="dim")]
    return lines


_FULL, _FOLDED, _BUSY_ONLY = "full", "folded", "busy only"


def _finished(steps: tuple[StepLine, ...]) -> bool:
    return all(step.state not in BUSY and step.state != "waiting" for step in steps)


def _waiting(steps: tuple[StepLine, ...]) -> bool:
    return all(step.state == "waiting" for step in steps)


def _open(steps: tuple[StepLine, ...]) -> bool:
    return not _finished(steps) and not _waiting(steps)


def _phase_lines(
    snap: Snapshot, columns: _Columns, unicode: bool, shown: dict[str, str]
) -> list[Text]:
    """Consecutive folded phases share one line: ``preflight · restore  3 passed``."""
    lines: list[Text] = []
    folded: list[tuple[str, tuple[StepLine, ...]]] = []
    for phase, steps in (*snap.phases, ("", ())):
        if shown.get(phase) == _FOLDED:
            folded.append((phase, steps))
            continue
        if folded:
            names = " · ".join(name for name, _ in folded)
            tally = _tally(step for _, group in folded for step in group)
            lines.append(Text.assemble((names, "bold"), "  ", (tally, "dim")))
            folded = []
        if not phase:
            break
        lines.append(Text(phase, style="bold"))
        busy = [s for s in steps if s.state in BUSY] if shown[phase] == _BUSY_ONLY else steps
        lines += [columns.step(step, snap.now_mono, unicode) for step in busy]
        if len(busy) < len(steps):
            rest = _tally(s for s in steps if s.state not in BUSY)
            lines.append(Text(f"    … {rest}", style="dim"))
    return lines


def _tally(steps: Iterable[StepLine]) -> str:
    counts: dict[str, int] = {}
    for step in steps:
        counts[step.state] = counts.get(step.state, 0) + 1
    return ", ".join(f"{n} {state}" for state, n in counts.items())


class _Columns:
    """Where each part of a step line goes at this width: the step's id, its state, how long
    it took, and the rest of the line for what it waits for or found."""

    def __init__(self, id_width: int, elapsed: bool, detail: bool) -> None:
        self.id_width, self.elapsed, self.detail = id_width, elapsed, detail

    @classmethod
    def fitting(cls, snap: Snapshot, width: int) -> _Columns:
        longest = max((len(s.id) for _, steps in snap.phases for s in steps), default=4)
        id_width = min(longest, max(8, width // 3))
        fixed = 4 + id_width + 1 + _STATE_WIDTH
        elapsed = width >= fixed + 1 + _ELAPSED_WIDTH
        detail = width >= fixed + 1 + _ELAPSED_WIDTH + 2 + 12
        return cls(id_width, elapsed, detail)

    def step(self, step: StepLine, now_mono: float, unicode: bool) -> Text:
        glyph, ascii_glyph, style = _LOOK[step.state]
        if step.state in BUSY:
            frames = _SPINNER[0 if unicode else 1]
            glyph = ascii_glyph = frames[int(now_mono / REFRESH_S) % len(frames)]
        name = Text(step.id)
        name.truncate(self.id_width, overflow="ellipsis", pad=True)
        parts: list[Text | str | tuple[str, str]] = [
            "  ",
            (glyph if unicode else ascii_glyph, style),
            " ",
            name,
            " ",
            (step.state.ljust(_STATE_WIDTH), style),
        ]
        if self.elapsed:
            parts += [" ", (_elapsed(step, now_mono).rjust(_ELAPSED_WIDTH), "dim")]
        said = "; ".join(filter(None, (step.after, step.detail)))
        if self.detail and said:
            parts += ["  ", said]
        return Text.assemble(*parts)


def _elapsed(step: StepLine, now_mono: float) -> str:
    if step.started_mono is not None:
        return format_duration(max(now_mono - step.started_mono, 0.0))
    return format_duration(step.took_s) if step.took_s is not None else ""


def _title_line(snap: Snapshot, width: int) -> Text:
    elapsed = format_duration(snap.elapsed_s)
    title = Text(snap.title, style="bold")
    title.truncate(max(width - len(elapsed) - 1, 1), overflow="ellipsis", pad=True)
    return Text.assemble(title, " ", (elapsed, "dim"))


def _doing_line(snap: Snapshot) -> Text:
    style = "bold"
    if snap.final:
        style = "bold green" if snap.doing.startswith("PASSED") else "bold red"
    elif snap.doing.startswith(("stop", "abandon")):
        style = "bold yellow"
    return Text(snap.doing, style=style)


def _clock_line(reading: Reading) -> Text:
    value = format_duration(reading.value_s) if reading.value_s is not None else "-"
    over = reading.value_s is not None and reading.value_s > reading.target_s
    style = "bold red" if over else _VERDICT_STYLE.get(reading.verdict, "")
    verdict = reading.verdict
    if reading.margin_s is not None:
        verdict += f", margin {format_duration(reading.margin_s)}"
    return Text.assemble(
        (reading.label, "bold"),
        f" {value:>7} of {format_duration(reading.target_s):>6}  ",
        (verdict, style),
    )


def _target_origin_line(reading: Reading) -> list[Text]:
    """Under a clock whose target the plan or the config file set: a line of its own, so a
    narrow terminal cuts neither."""
    if not reading.target_origin:
        return []
    said = f"{reading.label} target {format_duration(reading.target_s)} ({reading.target_origin})"
    return [Text(f"    {said}", style="dim")]


def _probes_line(probes: tuple[ProbeReading, ...], unicode: bool) -> Text:
    parts: list[Text | str | tuple[str, str]] = [("probes", "bold")]
    for probe in probes:
        glyph = _LOOK["passed" if probe.ok else "failed"][0 if unicode else 1]
        latency = f" {probe.latency_ms:.0f}ms" if probe.ok and probe.latency_ms is not None else ""
        parts += [
            "  ",
            probe.name,
            " ",
            (glyph, "green" if probe.ok else "bold red"),
            f"{latency} {probe.successes}/{probe.attempts}",
        ]
    return Text.assemble(*parts)


def _fit(line: Text, width: int) -> Text:
    line.truncate(max(width, 1), overflow="ellipsis")
    line.no_wrap = True
    return line
