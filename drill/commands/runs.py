"""`drill runs`: the runs in a report directory that left changes behind, and how to undo them.

A run killed with SIGKILL (or a machine that died) never wrote its finish; a live run, or a
drill whose rollback was incomplete, finished with changes still in place. Each is listed with
its plan, mode, age, lease and what it changed, and the exact command that rolls it back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from drill.clock import Clock, SystemClock
from drill.commands._common import JOURNAL_FILE, rollback_command
from drill.commands._console import Console
from drill.durations import format_duration
from drill.errors import ExitCode, UsageError
from drill.run_ids import run_id_prefix

if TYPE_CHECKING:
    from drill.executor import JournalUnreadable


@dataclass(frozen=True)
class RunsOptions:
    report_dir: Path = Path("reports")
    all: bool = False  # also runs that left nothing behind


@dataclass(frozen=True)
class LeftBehind:
    """One run as its journal tells it: whether it finished, and what it still has changed."""

    run_id: str
    plan: str
    mode: str
    started_at: datetime
    finished: bool
    sandbox: bool
    changed: tuple[tuple[str, str], ...]  # (step id, step type) not undone, oldest first
    journal: Path
    rolled_back: bool = False  # `drill rollback` of it finished with every undo done

    @property
    def settled(self) -> bool:
        """Nothing of it is left to do: it finished, or a rollback undid what it changed."""
        return not self.changed and (self.finished or self.rolled_back)

    @property
    def state(self) -> str:
        if not self.finished and self.rolled_back and not self.changed:
            return "unfinished (killed or crashed), then rolled back: nothing left changed"
        if not self.finished:
            return "unfinished (no finish in its journal: killed or crashed)"
        if self.changed:
            return f"finished ({self.mode}), changes not undone"
        return "finished, nothing left changed"

    def rollback_command(self) -> str:
        return rollback_command(self.run_id, self.journal, sandbox=self.sandbox)


@dataclass(frozen=True)
class Unreadable:
    """A run's journal drill cannot read: what that run changed cannot be told from it."""

    journal: Path
    reason: str


def read_runs(
    report_dir: Path, plan: str | None = None
) -> tuple[list[LeftBehind], list[Unreadable]]:
    """Every run under ``report_dir`` (of ``plan``, if given), oldest first, and the journals
    there that cannot be read though they hold drill's events (damaged records of runs)."""
    from drill.executor import (
        JournalUnreadable,
        RollbackFinished,
        pending_undos,
        raw_events,
        read_events,
        run_record,
    )

    # A run's directory is its run id, which starts with its plan's name: only those are read.
    named = f"{run_id_prefix(plan)}*" if plan is not None else "*"
    journals = sorted(report_dir.glob(f"{named}/{JOURNAL_FILE}")) if report_dir.is_dir() else []
    found, unreadable = [], []
    for journal in journals:
        try:
            entries = read_events(journal)
            record = run_record(entries)
        except UsageError as exc:
            # A file holding none of drill's events is no run of drill's; one naming another
            # plan (whose name only begins like this one's) is that plan's.
            events = raw_events(journal)
            started = [e.get("plan") for e in events if e.get("event") == "run_started"]
            its_plan = started[0] if started and isinstance(started[0], str) else None
            if events and (plan is None or its_plan in (None, plan)):
                why = _reason(exc) if isinstance(exc, JournalUnreadable) else str(exc)
                unreadable.append(Unreadable(journal, why))
            continue
        if plan is not None and record.plan != plan:
            continue
        finished = any(entry.event.kind == "run_finished" for entry in entries)
        rollbacks = [e.event for e in entries if isinstance(e.event, RollbackFinished)]
        changed = tuple((m.step_id, m.type) for m in pending_undos(entries))
        found.append(
            LeftBehind(
                run_id=record.run_id,
                plan=record.plan,
                mode=record.mode,
                started_at=record.ts,
                finished=finished,
                sandbox=bool(record.sandbox),
                changed=changed,
                journal=journal,
                rolled_back=bool(rollbacks) and not rollbacks[-1].failed,
            )
        )
    return sorted(found, key=lambda run: run.started_at), unreadable


def runs(options: RunsOptions, console: Console, clock: Clock | None = None) -> int:
    """List what runs left behind; exit 1 when any run still has changes not undone, or has
    a journal that cannot be read (what it changed cannot be told)."""
    if not options.report_dir.is_dir():
        # Saying that no run there left anything changed would pass a mistyped path as clean.
        raise UsageError(
            f"no report directory {options.report_dir}: runs keep their journals there "
            "(--report-dir or DRILL_REPORT_DIR)"
        )
    now = (clock or SystemClock()).now()
    found, unreadable = read_runs(options.report_dir)
    listed = [run for run in found if options.all or not run.settled]
    if not listed and not unreadable:
        console.out(f"no run under {options.report_dir} left anything changed\n")
        return ExitCode.PASSED
    for run in listed:
        console.out(_describe(run, now))
    for journal in unreadable:
        console.out(_describe_unreadable(journal))
    left = any(run.changed for run in listed) or unreadable
    return ExitCode.TARGET_MISSED if left else ExitCode.PASSED


def _describe(run: LeftBehind, now: datetime) -> str:
    age = format_duration((now - run.started_at).total_seconds())
    lines = [
        f"{run.run_id}  plan {run.plan}, {run.mode} mode, started {age} ago",
        f"  state:   {run.state}",
    ]
    if not run.settled:
        # Not read from the cluster: what the journal can say of the lease a dead run took.
        lines.append(
            f"  lease:   drill-{run.plan}, taken by this run; it expires within a minute of "
            "its death, or drill rollback gives it back"
        )
    if run.changed:
        steps = ", ".join(f"{step} ({kind})" for step, kind in run.changed)
        lines.append(f"  changed: {steps}")
        lines.append(f"  undo:    {run.rollback_command()}")
    return "\n".join(lines) + "\n\n"


def _reason(unreadable: JournalUnreadable) -> str:
    """Why, without the file (the listing names it): ``line 7: journal event ...`` for one
    line, the reason alone for the whole file."""
    if unreadable.line is None:
        return unreadable.reason
    return f"line {unreadable.line}: {unreadable.reason}"


def _describe_unreadable(unreadable: Unreadable) -> str:
    return (
        f"{unreadable.journal.parent.name}  journal {unreadable.journal}\n"
        f"  state:   cannot be read ({unreadable.reason}): what this run changed cannot be "
        "told\n"
        f"  undo:    mend or restore the journal, then `drill rollback {unreadable.journal}`\n\n"
    )
