"""`drill run PLAN`: dry-run, drill (default) or live; prints the report, exits per contract."""

from __future__ import annotations

import json
import secrets
import shutil
import sys
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from drill.cli._common import (
    REPORT_DIR_HELP,
    GlobalOptions,
    parse_context_flags,
    pass_options,
    write_atomically,
)
from drill.cli._completion import complete_plan_names
from drill.cli._live import LiveDisplay
from drill.cli._outline import outline_data, outline_text
from drill.cli._outputs import RunOutputs, deliver, output_options, prepare_outputs
from drill.cli._sandbox import sandbox_for
from drill.clock import SystemClock
from drill.errors import ExitCode, UsageError
from drill.executor import (
    Cancellation,
    Executor,
    FileJournal,
    NoProgress,
    RunLease,
    StepRuntime,
    cancel_on_signals,
)
from drill.logs import build_logger
from drill.plan import ExecutionPlan, resolve
from drill.report import RENDERERS, RunReport, render_json
from drill.steps import Mode
from providers.live import LiveProviders


@click.command("run")
@click.argument("plan", shell_complete=complete_plan_names)
@click.option("--dry-run", is_flag=True, help="Print what would run; touch nothing.")
@click.option("--live", is_flag=True, help="Real failover: act on what serves users.")
@click.option("--yes", is_flag=True, help="Confirm --live without a prompt (automation).")
@click.option(
    "--context",
    "contexts",
    multiple=True,
    metavar="ROLE=KUBECONTEXT",
    help="Map a plan's context role to a kubeconfig context (repeatable).",
)
@click.option(
    "--disaster-at",
    metavar="TIME",
    help="When the disaster happened (ISO 8601, UTC if no offset): t0 of RPO/RTO.",
)
@click.option(
    "--output",
    type=click.Choice(list(RENDERERS)),
    default="text",
    show_default=True,
    help="Report format on stdout (a dry run prints text or json).",
)
@click.option(
    "--report-dir",
    envvar="DRILL_REPORT_DIR",
    default="reports",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help=REPORT_DIR_HELP,
)
@click.option(
    "--sandbox",
    is_flag=True,
    help="Run against the local simulated clusters (a running `drill sandbox up`, "
    "else ones started for this run). No cloud, no cluster needed.",
)
@output_options
@pass_options
def run_command(
    options: GlobalOptions,
    /,
    plan: str,
    dry_run: bool,
    live: bool,
    yes: bool,
    contexts: tuple[str, ...],
    disaster_at: str | None,
    output: str,
    report_dir: Path,
    sandbox: bool,
    **output_flags: Any,
) -> None:
    """Run PLAN (a name in the plans directory, or a file path).

    Exit codes: 0 passed; 1 completed but a target missed; 2 invalid plan or usage, or
    another run holds the plan's lock; 3 a step failed (rolled back); 4 rollback or cleanup
    incomplete; 130 interrupted.
    """
    clock = SystemClock()
    t0 = parse_disaster_at(disaster_at, clock.now())
    loaded = options.load(plan)
    overrides = parse_context_flags(contexts, set(loaded.plan.contexts))
    if sandbox and overrides:
        raise UsageError("--context and --sandbox do not mix: the sandbox maps every role")
    mode: Mode = "live" if live else "drill"
    resolved = resolve(loaded.plan, loaded.source, mode, options.config.tiers, overrides)
    if dry_run:
        _print_dry_run(resolved, output)
        return
    outputs = prepare_outputs(options, output_flags)
    if live:
        confirm_live(resolved, yes)
    if sandbox:
        with sandbox_for(loaded, options.config_file) as target:
            resolved = resolve(
                loaded.plan, loaded.source, mode, options.config.tiers, target.contexts
            )
            providers = LiveProviders(clock, target.kubeconfig, target.cloud)
            report = execute(resolved, t0, report_dir, options, clock, providers, output, outputs)
    else:
        providers = options.providers(clock)
        report = execute(resolved, t0, report_dir, options, clock, providers, output, outputs)
    sys.stdout.write(RENDERERS[output](report))
    raise SystemExit(report.exit_code)


def parse_disaster_at(value: str | None, now: datetime) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"--disaster-at {value!r}: not a time; use ISO 8601, e.g. 2026-11-23T02:10:00Z"
        ) from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    if moment > now:
        raise UsageError(f"--disaster-at {value!r} is in the future")
    return moment.astimezone(UTC)


def confirm_live(plan: ExecutionPlan, yes: bool) -> None:
    if yes:
        return
    if not sys.stdin.isatty():
        raise UsageError(
            "--live changes what serves users: confirm with --yes when not on a terminal"
        )
    click.echo(outline_text(plan), err=True)
    answer = click.prompt(
        f"LIVE failover of {plan.service}. Type the plan name ({plan.name}) to go on",
        default="",
        show_default=False,
        err=True,
    )
    if answer.strip() != plan.name:
        raise UsageError("not confirmed; nothing was changed")


def _print_dry_run(plan: ExecutionPlan, output: str) -> None:
    if output == "json":
        click.echo(json.dumps(outline_data(plan), indent=2))
    else:
        click.echo("dry run: nothing will be touched\n\n" + outline_text(plan), nl=False)


def new_run_id(plan_name: str, now: datetime) -> str:
    # Lowercase and short: it becomes part of Kubernetes names and label values.
    return f"{plan_name[:40]}-{now.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"


def execute(
    plan: ExecutionPlan,
    t0: datetime | None,
    report_dir: Path,
    options: GlobalOptions,
    clock: SystemClock,
    providers: LiveProviders,
    output: str,
    outputs: RunOutputs,
) -> RunReport:
    run_id = new_run_id(plan.name, clock.now())
    display = _live_display(options, output, clock)
    stream = display.guard() if display else None
    log = build_logger(options.verbosity, stream=stream).bind(run_id=run_id)
    runtime = StepRuntime(run_id, plan.mode, clock, providers, log, display or NoProgress())
    # The lease comes first: a run that may not start leaves no journal behind.
    with display or nullcontext(), run_lease(plan, providers, run_id, clock, log):
        report = _execute_locked(plan, t0, report_dir / run_id, report_dir, runtime)
    deliver(report, report_dir / run_id / "report.json", outputs, clock, log)
    return report


def _live_display(options: GlobalOptions, output: str, clock: SystemClock) -> LiveDisplay | None:
    """A status line for people at a terminal; never in JSON output or logs to a file."""
    if output != "text" or options.verbosity < 0 or not sys.stderr.isatty():
        return None
    return LiveDisplay(sys.stderr, clock, shutil.get_terminal_size().columns)


def run_lease(
    plan: ExecutionPlan, providers: LiveProviders, run_id: str, clock: SystemClock, log: Any
) -> AbstractContextManager[object]:
    if plan.lock is None:
        return nullcontext()
    context, namespace = plan.lock
    return RunLease(
        lambda: providers.kube(context), namespace, f"drill-{plan.name}", run_id, clock, log
    )


def _execute_locked(
    plan: ExecutionPlan,
    t0: datetime | None,
    run_dir: Path,
    report_dir: Path,
    runtime: StepRuntime,
) -> RunReport:
    run_id, log = runtime.run_id, runtime.log
    journal = FileJournal(run_dir / "journal.jsonl", run_id, runtime.clock)
    cancellation = Cancellation()
    executor = Executor(
        runtime,
        journal,
        cancellation,
        journal_path=str(journal.path),
        rollback_command=f"drill rollback {run_id} --report-dir {report_dir}",
    )
    try:
        with cancel_on_signals(cancellation, log):
            report = executor.run(plan, t0)
    finally:
        journal.close()
    write_atomically(run_dir / "report.json", render_json(report))
    return report


__all__ = ["ExitCode", "run_command"]
