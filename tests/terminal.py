"""A real terminal for a child `drill`, and a screenshot of what it left on it.

``run_on_pty`` gives the child a pseudo-terminal of a chosen size as its stderr (stdout stays
a pipe, for the report), as a person's terminal would be. ``Screen`` replays what the child
wrote the way a VT100-style terminal draws it (the cursor moves and line erasures a live
view redraws itself with, SGR colours dropped) into the lines a person would see, with the
scrollback above. A control sequence it does not know fails the test rather than being
guessed at.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
import threading
from dataclasses import dataclass, field
from pathlib import Path

_CSI = re.compile(r"\x1b\[([0-9;?]*)([A-Za-z])")


@dataclass
class Screen:
    """Lines as a terminal ``width`` columns wide shows them, scrollback included."""

    width: int
    rows: list[list[str]] = field(default_factory=lambda: [[]])
    row: int = 0
    col: int = 0
    wrap_pending: bool = False
    wrapped: set[int] = field(default_factory=set)  # rows begun by running past the edge

    @classmethod
    def of(cls, written: str, width: int, *, through_tty: bool = True) -> Screen:
        """``through_tty``: ``written`` came through a terminal's line discipline, which turns
        each newline into carriage return and newline (ONLCR); False for a stream written in
        this process, which the discipline never saw."""
        screen = cls(width)
        screen.feed(written if through_tty else written.replace("\n", "\r\n"))
        return screen

    def lines(self) -> list[str]:
        return ["".join(cells).rstrip() for cells in self.rows]

    def wrapped_lines(self) -> list[str]:
        """Lines a terminal had to wrap: text wider than the screen."""
        return [self.lines()[row] for row in sorted(self.wrapped)]

    def text(self) -> str:
        return "\n".join(self.lines()).strip("\n")

    def feed(self, written: str) -> None:
        at = 0
        while at < len(written):
            char = written[at]
            if char == "\x1b":
                at = self._escape(written, at)
                continue
            self._char(char)
            at += 1

    def _escape(self, written: str, at: int) -> int:
        match = _CSI.match(written, at)
        if match is None:
            raise AssertionError(f"unknown escape sequence at {written[at : at + 12]!r}")
        params, final = match.groups()
        self._control(params, final)
        return match.end()

    def _control(self, params: str, final: str) -> None:
        number = int(params) if params.isdigit() else None
        if final == "m" or params.startswith("?"):
            return  # colours and cursor visibility change nothing on the page
        if final == "A":
            self.row = max(self.row - (number or 1), 0)
        elif final == "B":
            self._move_to(self.row + (number or 1))
        elif final == "G":
            self.col = (number or 1) - 1
        elif final == "K":
            self._erase_line(number or 0)
        else:
            raise AssertionError(f"unknown control sequence ESC[{params}{final}")
        self.wrap_pending = False

    def _erase_line(self, how: int) -> None:
        cells = self.rows[self.row]
        if how == 2:
            cells.clear()
            self.wrapped.discard(self.row)
        elif how == 0:
            del cells[self.col :]
        else:
            cells[: self.col] = [" "] * min(self.col, len(cells))

    def _char(self, char: str) -> None:
        if char == "\r":
            self.col, self.wrap_pending = 0, False
        elif char == "\n":
            self._move_to(self.row + 1)
            self.wrap_pending = False
        elif char == "\x07":
            return
        elif char.isprintable():
            self._put(char)
        else:
            raise AssertionError(f"unknown control character {char!r}")

    def _put(self, char: str) -> None:
        if self.wrap_pending:  # a terminal wraps only when a character comes after the edge
            self._move_to(self.row + 1)
            self.col, self.wrap_pending = 0, False
            self.wrapped.add(self.row)
        cells = self.rows[self.row]
        cells.extend(" " * (self.col - len(cells) + 1))
        cells[self.col] = char
        if self.col == self.width - 1:
            self.wrap_pending = True
        else:
            self.col += 1

    def _move_to(self, row: int) -> None:
        while len(self.rows) <= row:
            self.rows.append([])
        self.row = row


@dataclass(frozen=True)
class TerminalRun:
    returncode: int
    stdout: str
    terminal: str  # everything written to the terminal, escape sequences and all


def run_on_pty(
    args: list[str],
    *,
    cwd: Path,
    env: dict[str, str],
    columns: int = 80,
    rows: int = 24,
    timeout: float = 120,
    signal_on: tuple[str, int] | None = None,
) -> TerminalRun:
    """``python -m drill ARGS`` with a ``columns`` x ``rows`` terminal as its stderr.
    ``signal_on``: (text, signal): send the signal once the terminal shows the text."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    written = bytearray()
    terminal_env = {k: v for k, v in env.items() if k not in _TERMINAL_SETTINGS}
    try:
        child = subprocess.Popen(
            [sys.executable, "-m", "drill", *args],
            cwd=cwd,
            env={**terminal_env, "TERM": "xterm-256color"},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=slave,
            text=True,
        )
        os.close(slave)
        watch = _Watch(child.pid, *signal_on) if signal_on else None
        reader = threading.Thread(target=_drain, args=(master, written, watch), daemon=True)
        reader.start()
        stdout, _ = child.communicate(timeout=timeout)
        reader.join(timeout=10)
    finally:
        os.close(master)
    return TerminalRun(child.returncode, stdout, written.decode("utf-8", errors="replace"))


# What would make the child's terminal other than the one the test sets up.
_TERMINAL_SETTINGS = {
    "COLUMNS",
    "LINES",
    "NO_COLOR",
    "FORCE_COLOR",
    "TTY_COMPATIBLE",
    "TTY_INTERACTIVE",
    "COLORTERM",
    "TERM",
}


@dataclass
class _Watch:
    pid: int
    text: str
    signum: int
    sent: bool = False

    def saw(self, written: bytearray) -> None:
        if not self.sent and self.text.encode() in written:
            self.sent = True
            os.kill(self.pid, self.signum)


def _drain(master: int, into: bytearray, watch: _Watch | None) -> None:
    """Everything the child writes, until it has closed the terminal (EIO on Linux)."""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            return
        if not chunk:
            return
        into.extend(chunk)
        if watch is not None:
            watch.saw(into)
