"""Errors drill raises, and the exit code each one means.

The tree::

    DrillError                      exit_code says what the process exits with
    ├── UsageError                  bad flags or arguments (exit 2)
    ├── PlanError                   a plan or config file is invalid; carries every problem (exit 2)
    ├── ProviderError               an external system answered badly
    │   ├── TransientError          a retry can help: 5xx, 429, resets, timeouts
    │   └── PermanentError          a retry cannot help: 4xx, denied, not found
    │       ├── NotFound            the named object does not exist
    │       └── Conflict            it exists already, or changed under us
    ├── StepFailed                  a check ran and its condition was not met
    └── Interrupted                 SIGINT/SIGTERM or a deadline asked the work to stop

Only ``TransientError`` is ever retried. Everything raised past a provider boundary is one of
these: SDK exceptions never travel further than the adapter that caught them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from yaml import MarkedYAMLError


class ExitCode(enum.IntEnum):
    """The exit codes are a contract with CronJobs and CI; never renumber them."""

    PASSED = 0
    TARGET_MISSED = 1
    INVALID = 2
    STEP_FAILED = 3
    ROLLBACK_INCOMPLETE = 4
    INTERRUPTED = 130


class DrillError(Exception):
    """Base of every error drill raises on purpose."""

    exit_code: ExitCode = ExitCode.STEP_FAILED


class UsageError(DrillError):
    exit_code = ExitCode.INVALID


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file, pointing at where it is."""

    file: str
    line: int
    column: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )


def yaml_syntax_problem(exc: MarkedYAMLError, file: str) -> Problem:
    """A YAML parser's refusal, at the line and column it names."""
    mark = exc.problem_mark or exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    message = " ".join(part for part in (exc.context, exc.problem) if part) or "not valid YAML"
    return Problem(file, line, column, "", f"not valid YAML: {message}")


class PlanError(DrillError):
    """A plan or config file is invalid. Holds all problems found in one pass."""

    exit_code = ExitCode.INVALID

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.file, p.line, p.column, p.field))
        super().__init__("\n".join(str(p) for p in self.problems))


class ProviderError(DrillError):
    """An external system refused or failed a request."""


class TransientError(ProviderError):
    """Worth retrying: the same request may succeed later.

    ``retry_after_s`` is how long the server asked us to wait (HTTP Retry-After), if it said.
    """

    def __init__(self, message: str, *, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class PermanentError(ProviderError):
    """Not worth retrying: the request itself is wrong, denied or about a missing thing."""


class NotFound(PermanentError):
    """The object asked for does not exist."""


class Conflict(PermanentError):
    """The object exists already, or changed since we read it."""


class StepFailed(DrillError):
    """A step ran to the end and what it checks was not true."""


class Interrupted(DrillError):
    """The run was asked to stop (signal) before the work finished."""

    exit_code = ExitCode.INTERRUPTED
