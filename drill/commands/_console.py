"""Where a command reads and writes, and the one place errors become messages and exit codes."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from drill.errors import DrillError, ExitCode, PlanError


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
        return cls(sys.stdout, sys.stderr, sys.stdin)

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
