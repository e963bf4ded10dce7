"""`drill rollback RUN`: undo what a past run changed, from its journal, newest first."""

from __future__ import annotations

import socket
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import JsonValue

from drill.clock import Anchor, Clock, SystemClock
from drill.commands._common import (
    JOURNAL_FILE,
    ROLLBACK_REPORT,
    Settings,
    command_logger,
    locate_run,
    refuse_plan_file,
    rollback_command,
    usable_kube,
    write_atomically,
)
from drill.commands._console import Console
from drill.commands.sandbox import running_sandbox
from drill.errors import ExitCode, PlanError, ProviderError, UsageError
from drill.executor import (
    Cancellation,
    Executor,
    FileJournal,
    MutationRecord,
    RolledBack,
    RunRecord,
    StepRuntime,
    cancel_on_signals,
    pending_undos,
    read_events,
    rollback_report,
    run_record,
    step_notes,
)
from drill.plan import ExecutionPlan, find_plan, load_plan, resolve
from drill.processes import process_alive
from drill.report import RunReport, render_html, render_json, render_text
from drill.steps import Mode
from providers.live import LiveProviders


@dataclass(frozen=True)
class RollbackOptions:
    run: str  # a run id, a run directory or its journal file
    yes: bool = False  # do not ask for confirmation
    sandbox: bool = False  # the run was a `--sandbox` run: use the running sandbox
    report_dir: Path = Path("reports")
    plan: Path | None = None  # the plan as the run used it, when the journaled path changed


def rollback(
    settings: Settings, options: RollbackOptions, console: Console, clock: Clock | None = None
) -> int:
    """Put back what the run changed, read each object back, then run the plan's rollback
    phase; write and print the rollback's own report. Exit codes as for runs: 0 every object
    read back equal (or nothing was left to undo), 3 a rollback-phase step failed, 4 something
    is still changed, differs or could not be read back, 130 interrupted."""
    journal_path = _journal_path(options.run, options.report_dir)
    events = read_events(journal_path)
    try:
        record = run_record(events)
    except UsageError as exc:
        raise UsageError(f"{journal_path}: {exc}") from None
    pending = pending_undos(events)
    died = not any(entry.event.kind == "run_finished" for entry in events)
    if not pending and not died:
        console.out(f"{record.run_id}: nothing left to undo\n")
        return ExitCode.PASSED
    plan = _plan_of_the_run(settings, record, options.plan)
    refuse_plan_file("--log-file", settings.log_file, plan.source)
    _require_inside_plan(plan, pending)
    if pending:
        _confirm(record, [m.step_id for m in reversed(pending)], options.yes, console)
    clock = clock or SystemClock()
    with command_logger(settings, console.stderr) as logger:
        log = logger.bind(run_id=record.run_id, action="rollback")
        # A run made in the sandbox is rolled back in the sandbox, whatever the flags say.
        providers = _providers(settings, options.sandbox or bool(record.sandbox), clock)
        _require_usable_contexts(plan, pending, providers)
        if died and not _process_gone(record):
            _refuse_while_running(plan, providers, record.run_id, clock)
        anchor = Anchor(clock)
        rolled, interrupted = _undo(
            record, pending, plan, step_notes(events), journal_path, providers, log, anchor
        )
        if died:
            _release_lease(plan, providers, record.run_id, log)
        report = rollback_report(
            record,
            rolled,
            started_at=anchor.wall,
            finished_at=anchor.stamp()[1],
            interrupted=interrupted,
            journal=str(journal_path),
            rollback_command=_again(record, journal_path),
        )
        written = _write_report(report, journal_path.parent, log)
        console.out(render_text(report) + "".join(f"Rollback report: {path}\n" for path in written))
        return report.exit_code


def _undo(
    record: RunRecord,
    pending: list[MutationRecord],
    plan: ExecutionPlan,
    notes: Mapping[str, Mapping[str, JsonValue]],
    journal_path: Path,
    providers: LiveProviders,
    log: Any,
    anchor: Anchor,
) -> tuple[RolledBack, bool]:
    """What the rollback did, and whether a signal came while it did it."""
    if not pending:
        return RolledBack([], [], None), False
    journal = FileJournal(journal_path, record.run_id, providers.clock)
    cancellation = Cancellation()
    runtime = StepRuntime(record.run_id, _mode(record), providers.clock, providers, log)
    try:
        with cancel_on_signals(cancellation, log):
            executor = Executor(runtime, journal, cancellation)
            rolled = executor.roll_back(pending, plan, notes, anchor)
    finally:
        journal.close()
    return rolled, cancellation.stop_work.is_set()


def _again(record: RunRecord, journal_path: Path) -> str:
    """The command that goes on where this rollback stopped."""
    return rollback_command(record.run_id, journal_path, sandbox=bool(record.sandbox))


def _write_report(report: RunReport, run_dir: Path, log: Any) -> list[Path]:
    """``rollback-report.json`` and ``.html`` beside the run's report, never over it; a second
    rollback of the run replaces them (its journal keeps both). Where they went."""
    written = []
    for suffix, text in ((".json", render_json(report)), (".html", render_html(report))):
        path = run_dir / f"{ROLLBACK_REPORT}{suffix}"
        try:
            write_atomically(path, text)
        except OSError as exc:
            log.warning("rollback_report_not_written", path=str(path), error=exc.strerror or exc)
        else:
            written.append(path)
    return written


def _process_gone(record: RunRecord) -> bool:
    """True when the run's process was on this host and is no longer there."""
    if record.host != socket.gethostname() or record.pid is None:
        return False
    return not process_alive(record.pid)


def _require_usable_contexts(
    plan: ExecutionPlan, pending: list[MutationRecord], providers: LiveProviders
) -> None:
    """Every kube context the rollback acts in (its changes' and the lease's) can be used as
    the kubeconfig says, before anything is undone: one the kubeconfig lacks, or no kubeconfig
    that can be read, is bad input (exit 2), as to `drill run`. Reachability is not asked: an
    undo of what a reachable cluster holds must not wait for another."""
    contexts = {record.context for record in pending if record.context}
    contexts |= {plan.lock[0]} if plan.lock else set()
    for context in sorted(contexts):
        usable_kube(providers, context, "; nothing was undone")


def _refuse_while_running(
    plan: ExecutionPlan, providers: LiveProviders, run_id: str, clock: Clock
) -> None:
    """A run with no finish whose lease is still renewed is not dead: it is still going, and
    an undo under it would race its steps. It rolls back by itself when stopped (SIGTERM)."""
    if plan.lock is None:
        return
    context, namespace = plan.lock
    lease = providers.kube(context).read_lease(namespace, f"drill-{plan.name}")
    if lease is None or lease.holder != run_id or lease.renewed_at is None:
        return
    age_s = (clock.now() - lease.renewed_at).total_seconds()
    if age_s < lease.duration_s:
        raise UsageError(
            f"run {run_id} still holds its lease (renewed {age_s:.0f}s ago): it may still be "
            "running. Stop it with SIGTERM (it rolls back by itself), or, if its process is "
            f"gone, run this again once the lease expires (within {lease.duration_s}s)"
        )


def _release_lease(plan: ExecutionPlan, providers: LiveProviders, holder: str, log: Any) -> None:
    """A run that died still holds its lease until it expires: give it back now."""
    if plan.lock is None:
        return
    context, namespace = plan.lock
    try:
        providers.kube(context).release_lease(namespace, f"drill-{plan.name}", holder)
        log.info("lease_released", lease=f"{namespace}/drill-{plan.name}", holder=holder)
    except ProviderError as exc:
        log.warning("lease_not_released", reason=str(exc), note="it expires within a minute")


def _providers(settings: Settings, sandbox: bool, clock: Clock) -> LiveProviders:
    if not sandbox:
        return settings.providers(clock)
    target = running_sandbox(settings.environ)
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


def _confirm(record: RunRecord, steps: list[str], yes: bool, console: Console) -> None:
    if yes:
        return
    if not console.interactive:
        raise UsageError("rollback changes live systems: confirm with --yes when not on a terminal")
    console.err(f"{record.run_id} ({record.mode} mode): will undo {', '.join(steps)}")
    if console.ask("Go on? [y/N]").lower() not in ("y", "yes"):
        raise UsageError("not confirmed; nothing was changed")


def _plan_of_the_run(settings: Settings, record: RunRecord, given: Path | None) -> ExecutionPlan:
    """The plan the run used, in its mode and on its clusters: an undo does only what it does.

    Refused when it cannot be loaded or differs from the one the run journaled: a journal is
    not trusted to say on its own what to change.
    """
    path = given or _journaled_plan_file(settings, record)
    try:
        loaded = load_plan(path, settings.config.tiers)
    except (PlanError, UsageError) as exc:
        raise UsageError(
            f"cannot check the journal against its plan {path}: {exc}; name the plan file the "
            "run used with --plan FILE"
        ) from None
    if record.plan_sha256 and loaded.sha256 != record.plan_sha256:
        raise UsageError(
            f"{path} changed since run {record.run_id} (sha256 {loaded.sha256[:12]}, the run "
            f"used {record.plan_sha256[:12]}): nothing was undone. Pass the plan as the run "
            "used it with --plan FILE (e.g. from version control)"
        )
    return resolve(
        loaded.plan, loaded.source, _mode(record), settings.config.tiers, record.contexts
    )


def _journaled_plan_file(settings: Settings, record: RunRecord) -> Path:
    """The file the run named; from elsewhere (a relative path, another directory), the plan of
    that name in the plans directory: the digest check tells whether it is the same plan."""
    named = Path(record.plan_file)
    if named.is_file():
        return named
    try:
        return find_plan(record.plan, settings.plans_dir)
    except UsageError:
        return named


def _require_inside_plan(plan: ExecutionPlan, pending: list[MutationRecord]) -> None:
    for record in pending:
        reason = plan.outside_footprint(record.step_id, record.type, record.params, record.context)
        if reason is not None:
            raise UsageError(
                f"refused: the journal's change of {reason} in {plan.mode} mode: nothing was "
                "undone; this journal was not written by a run of this plan"
            )
