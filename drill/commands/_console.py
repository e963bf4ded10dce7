"""Where a command reads and writes, and the one place errors become messages and exit codes."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO, cast

from drill.errors import DrillError, ExitCode, PlanError


class ClosedPipeSafe:
    """A process stream whose reader may go away (``drill run ... | head``): once a write
    finds the pipe closed, the stream is pointed at /dev/null and every later write is
    dropped, so a run whose output nobody reads any more still finishes, undoes its drill
    changes and keeps its report, journal and deliveries. ``lost`` says it happened."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self.lost = False

    def write(self, text: str) -> int:
        if not self.lost:
            try:
                self._stream.write(text)
            except BrokenPipeError:
                self._lose()
        return len(text)

    def flush(self) -> None:
        if not self.lost:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._lose()

    def _lose(self) -> None:
        self.lost = True
        # The interpreter flushes its streams once more on the way out: let that find
        # /dev/null rather than report the broken pipe again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, self._stream.fileno())
        finally:
            os.close(devnull)

    def isatty(self) -> bool:
        return not self.lost and self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()

    @property
    def encoding(self) -> str:
        return self._stream.encoding

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@dataclass(frozen=True)
class Console:
    """The streams a command talks through: the process's own, or a test's StringIOs.

    stdout carries only reports; messages, prompts and logs go to stderr.
    """

    stdout: TextIO
    stderr: TextIO
    stdin: TextIO

    @classmethod
    def of_process(cls) -> Console:
        out, err = ClosedPipeSafe(sys.stdout), ClosedPipeSafe(sys.stderr)
        return cls(cast(TextIO, out), cast(TextIO, err), sys.stdin)

    def stdout_lost(self) -> bool:
        """Whether stdout's reader went away while the command wrote to it."""
        return isinstance(self.stdout, ClosedPipeSafe) and self.stdout.lost

    def out(self, text: str) -> None:
        self.stdout.write(text)

    def err(self, line: str) -> None:
        self.stderr.write(line + "\n")

    @property
    def interactive(self) -> bool:
        """Someone at a terminal can answer a question."""
        return self.stdin.isatty()

    def ask(self, question: str) -> str:
        """The answer typed to ``question`` (asked on stderr), or "" at end of input."""
        self.stderr.write(question + ": ")
        self.stderr.flush()
        return self.stdin.readline().strip()


def exit_code_of(command: Callable[[], int], console: Console, verbose: bool = False) -> int:
    """Run ``command``; a DrillError becomes one message and its exit code, anything else an
    internal error (exit 4: we cannot know what was left changed, so a human has to look)."""
    try:
        return command()
    except DrillError as exc:
        report_error(exc, console)
        return int(exc.exit_code)
    except Exception as exc:  # noqa: BLE001 - last line of defence: no raw traceback
        if verbose:
            traceback.print_exc(file=console.stderr)
        console.err(
            f"drill: internal error: {type(exc).__name__}: {exc}"
            + ("" if verbose else " (run with -v for the traceback)")
        )
        return int(ExitCode.ROLLBACK_INCOMPLETE)


def report_error(exc: DrillError, console: Console) -> None:
    if isinstance(exc, PlanError):
        for problem in exc.problems:
            console.err(str(problem))
    else:
        console.err(f"drill: {exc}")
