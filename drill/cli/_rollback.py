"""`drill rollback RUN`: undo what a past run changed, from its journal, newest first."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from drill.cli._common import JOURNAL_FILE, REPORT_DIR_HELP, GlobalOptions, locate_run, pass_options
from drill.cli._sandbox import running_sandbox
from drill.clock import SystemClock
from drill.errors import ExitCode, PlanError, UsageError
from drill.executor import (
    Cancellation,
    Executor,
    FileJournal,
    StepRuntime,
    cancel_on_signals,
    pending_undos,
    read_events,
    run_record,
    step_notes,
)
from drill.executor._journal import RunRecord
from drill.logs import build_logger
from drill.plan import ExecutionPlan, load_plan, resolve
from drill.report import StepReport, UndoReport
from drill.steps import Mode
from providers.live import LiveProviders


@click.command("rollback")
@click.argument("run")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--sandbox", is_flag=True, help="The run was a `--sandbox` run: use the sandbox.")
@click.option(
    "--report-dir",
    envvar="DRILL_REPORT_DIR",
    default="reports",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help=REPORT_DIR_HELP,
)
@pass_options
def rollback_command(
    options: GlobalOptions, run: str, yes: bool, sandbox: bool, report_dir: Path
) -> None:
    """Put back what RUN (a run id, or its journal file) changed; then run the plan's rollback
    phase. Exit 0 when everything was undone, 4 when something needs a human."""
    journal_path = _journal_path(run, report_dir)
    events = read_events(journal_path)
    record = run_record(events)
    pending = pending_undos(events)
    if not pending:
        click.echo(f"{record.run_id}: nothing left to undo")
        return
    _confirm(record, [m.step_id for m in reversed(pending)], yes)
    clock = SystemClock()
    log = build_logger(options.verbosity).bind(run_id=record.run_id, action="rollback")
    journal = FileJournal(journal_path, record.run_id, clock)
    cancellation = Cancellation()
    providers = _sandbox_providers(clock) if sandbox else options.providers(clock)
    runtime = StepRuntime(record.run_id, _mode(record), clock, providers, log)
    try:
        with cancel_on_signals(cancellation, log):
            undo, steps = Executor(runtime, journal, cancellation).roll_back(
                pending, _plan_for(options, record, log), step_notes(events)
            )
    finally:
        journal.close()
    sys.stdout.write(_render(record, undo, steps))
    complete = all(u.status == "undone" for u in undo) and all(
        s.status in ("passed", "skipped") for s in steps
    )
    raise SystemExit(ExitCode.PASSED if complete else ExitCode.ROLLBACK_INCOMPLETE)


def _sandbox_providers(clock: SystemClock) -> LiveProviders:
    target = running_sandbox()
    return LiveProviders(clock, target.kubeconfig, target.cloud)


def _journal_path(run: str, report_dir: Path) -> Path:
    if Path(run).is_file():
        return Path(run)  # a journal given by its path, whatever its name
    _, journal = locate_run(run, report_dir)
    if journal is None or not journal.is_file():
        raise UsageError(f"{run}: no {JOURNAL_FILE} there: not a run")
    return journal


def _mode(record: RunRecord) -> Mode:
    if record.mode == "live":
        return "live"
    if record.mode == "drill":
        return "drill"
    raise UsageError(f"journal names an unknown mode {record.mode!r}")


def _confirm(record: RunRecord, steps: list[str], yes: bool) -> None:
    if yes:
        return
    if not sys.stdin.isatty():
        raise UsageError("rollback changes live systems: confirm with --yes when not on a terminal")
    click.echo(f"{record.run_id} ({record.mode} mode): will undo {', '.join(steps)}", err=True)
    if not click.confirm("Go on?", err=True):
        raise UsageError("not confirmed; nothing was changed")


def _plan_for(options: GlobalOptions, record: RunRecord, log: Any) -> ExecutionPlan | None:
    """The run's plan, for its rollback phase; the undos themselves need only the journal."""
    try:
        loaded = load_plan(Path(record.plan_file), options.config.tiers)
    except (PlanError, UsageError) as exc:
        log.warning("rollback_phase_skipped", reason=f"plan not loadable: {exc}")
        return None
    return resolve(loaded.plan, loaded.source, _mode(record), options.config.tiers, record.contexts)


def _render(record: RunRecord, undo: list[UndoReport], steps: list[StepReport]) -> str:
    lines = [f"rollback of {record.run_id} ({record.plan}, {record.mode} mode)"]
    lines += [f"  undo {u.step_id:<28} {u.status:<8} {u.detail}" for u in undo]
    lines += [f"  step {s.id:<28} {s.status:<8} {s.error or s.summary or ''}" for s in steps]
    return "\n".join(lines) + "\n"
