"""Calling drill's commands in this process, as the CLI would, with the test's streams.

Each call gets its own Console (StringIO streams) and Settings whose environment is the one a
child process would get (``tests.child.drill_env``), and returns the exit code and what was
written, shaped like ``subprocess.CompletedProcess`` so tests read the same either way.
Errors go through the CLI's one handler (``exit_code_of``).
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict, Unpack

from drill.clock import Clock, SystemClock
from drill.commands import Console, Settings, exit_code_of
from drill.commands._outputs import OutputFlags
from drill.commands.history import HistoryOptions, history
from drill.commands.list_plans import list_plans, list_step_types
from drill.commands.report import ReportOptions, report
from drill.commands.rollback import RollbackOptions, rollback
from drill.commands.run import RunOptions, run
from drill.commands.runs import RunsOptions, runs
from drill.commands.sandbox import PrivateSandbox
from drill.commands.show import ShowOptions, show
from drill.commands.tiers import tiers
from drill.commands.validate import validate
from providers.cloud import CloudSettings
from tests.child import REPO, drill_env

# What a test may choose of each command's options (the fields of RunOptions, RollbackOptions
# and so on that the methods below do not fill in themselves), each with its own type.


class RunChoices(TypedDict, total=False):
    dry_run: bool
    live: bool
    yes: bool
    contexts: tuple[str, ...]
    disaster_at: str | None
    output: str
    sandbox: bool
    strict: bool
    faults: tuple[str, ...]
    world: Path | None
    profile: str | None
    time_scale: float | None


class RollbackChoices(TypedDict, total=False):
    yes: bool
    sandbox: bool
    plan: Path | None


class RunsChoices(TypedDict, total=False):
    report_dir: Path
    all: bool


class ReportChoices(TypedDict, total=False):
    report_dir: Path
    output_format: str
    output_file: Path | None


class HistoryChoices(TypedDict, total=False):
    last: int
    factor: float
    output: str
    report_dir: Path
    sandbox: bool


class ShowChoices(TypedDict, total=False):
    live: bool
    contexts: tuple[str, ...]


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


class BriefSleeps(SystemClock):
    """The real clock, whose sleeps last a tenth as long.

    For whole drills against an in-process sandbox: the steps' polls and retry backoff take
    tenths of a second instead of seconds, while every duration is still measured on the real
    clock the emulators keep their own time by, so RPO and RTO stay comparable with theirs.
    """

    def __init__(self, factor: float = 0.1) -> None:
        self.factor = factor

    def sleep(self, seconds: float, cancel: threading.Event) -> None:
        super().sleep(seconds * self.factor, cancel)


@dataclass
class InProcess:
    """drill's commands for one test: plans from the repository, reports under ``workdir``."""

    workdir: Path
    env: dict[str, str] = field(default_factory=dict)
    clock: Clock = field(default_factory=SystemClock)
    # Starts the sandbox of a `run --sandbox` when none is up (None: the shipped timing).
    start_sandbox: PrivateSandbox | None = None

    @property
    def reports(self) -> Path:
        return self.workdir / "reports"

    def settings(
        self,
        env: dict[str, str] | None = None,
        verbosity: int = 0,
        config_file: str | None = None,
        kubeconfig: str | None = None,
        plans_dir: Path = REPO / "plans",
    ) -> Settings:
        return Settings(
            environ=drill_env(self.workdir, {**self.env, **(env or {})}),
            plans_dir=plans_dir,
            config_file=config_file,
            verbosity=verbosity,
            kubeconfig=kubeconfig,
            cloud=CloudSettings(),
        )

    def call(
        self,
        command: Callable[[Console], int],
        stderr: io.StringIO | None = None,
        verbose: bool = False,
    ) -> Result:
        out, err = io.StringIO(), stderr or io.StringIO()
        console = Console(out, err, io.StringIO())
        code = exit_code_of(lambda: command(console), console, verbose)
        return Result(code, out.getvalue(), err.getvalue())

    # --- one method per command -----------------------------------------------------------

    def run(
        self,
        plan: str,
        *,
        settings: Settings | None = None,
        stderr: io.StringIO | None = None,
        outputs: OutputFlags | None = None,
        **options: Unpack[RunChoices],
    ) -> Result:
        chosen = settings or self.settings()
        given = RunOptions(
            plan=plan, report_dir=self.reports, outputs=outputs or OutputFlags(), **options
        )
        return self.call(lambda c: run(chosen, given, c, self.clock, self.start_sandbox), stderr)

    def rollback(
        self, run_id: str, *, settings: Settings | None = None, **options: Unpack[RollbackChoices]
    ) -> Result:
        chosen = settings or self.settings()
        given = RollbackOptions(run_id, report_dir=self.reports, **options)
        return self.call(lambda c: rollback(chosen, given, c, self.clock))

    def runs(self, **options: Unpack[RunsChoices]) -> Result:
        given = RunsOptions(**(RunsChoices(report_dir=self.reports) | options))
        return self.call(lambda c: runs(given, c, self.clock))

    def report(
        self, run_id: str, *, settings: Settings | None = None, **options: Unpack[ReportChoices]
    ) -> Result:
        chosen = settings or self.settings()
        given = ReportOptions(run_id, **(ReportChoices(report_dir=self.reports) | options))
        return self.call(lambda c: report(chosen, given, c))

    def history(
        self,
        plan: str | None,
        location: str | None,
        *,
        settings: Settings | None = None,
        **options: Unpack[HistoryChoices],
    ) -> Result:
        chosen = settings or self.settings()
        given = HistoryOptions(
            plan, location, **(HistoryChoices(report_dir=self.reports) | options)
        )
        return self.call(lambda c: history(chosen, given, c, self.clock))

    def validate(
        self, *plans: str, settings: Settings | None = None, strict: bool = False
    ) -> Result:
        chosen = settings or self.settings()
        return self.call(lambda c: validate(chosen, plans, c, strict))

    def show(
        self, plan: str, *, settings: Settings | None = None, **options: Unpack[ShowChoices]
    ) -> Result:
        chosen = settings or self.settings()
        given = ShowOptions(plan, **options)
        return self.call(lambda c: show(chosen, given, c))

    def list_plans(self, *, settings: Settings | None = None) -> Result:
        chosen = settings or self.settings()
        return self.call(lambda c: list_plans(chosen, c))

    def list_step_types(self) -> Result:
        return self.call(list_step_types)

    def tiers(self, *, settings: Settings | None = None) -> Result:
        chosen = settings or self.settings()
        return self.call(lambda c: tiers(chosen, c))
