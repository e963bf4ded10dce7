"""`drill run PLAN`: dry-run, drill (default) or live; prints the report, returns its exit code."""

from __future__ import annotations

import errno
import json
import os
import socket
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from drill.clock import Clock, SystemClock
from drill.commands._common import (
    REPORT_FILE,
    Settings,
    command_logger,
    parse_context_flags,
    refuse_plan_file,
    require_log_file,
    rollback_command,
    write_atomically,
)
from drill.commands._console import Console
from drill.commands._faults import FaultArmer, Listeners
from drill.commands._outline import outline_data, outline_text
from drill.commands._outputs import (
    PUSHGATEWAY_ENV,
    OutputFlags,
    RunOutputs,
    deliver,
    prepare_outputs,
)
from drill.commands.runs import read_runs
from drill.commands.sandbox import (
    PrivateSandbox,
    SandboxOptions,
    history_bucket,
    history_store,
    sandbox_for,
)
from drill.errors import ExitCode, ProviderError, TransientError, UsageError
from drill.executor import Cancellation, RunLease, RunLocked, StepRuntime
from drill.outputs import SLACK_URL_ENV, WEBHOOK_URL_ENV
from drill.plan import ExecutionPlan, LoadedPlan, resolve
from drill.run_ids import new_run_id
from drill.steps import HttpRequestParams, unset_env
from drill.steps._changes import patiently
from providers.live import LiveProviders

if TYPE_CHECKING:
    # The runner, the journal and the report load once the run holds its lease (see
    # ``_execute_locked``): its first request does not wait for them.
    from drill.commands._view import TerminalView
    from drill.report import RunReport
    from drill.sandbox.worlds.faults import FaultSpec
    from drill.steps import Mode


@dataclass(frozen=True)
class RunOptions:
    plan: str  # a name in the plans directory, or a file path
    dry_run: bool = False
    live: bool = False
    yes: bool = False  # confirm --live without a prompt
    contexts: tuple[str, ...] = ()  # ROLE=KUBECONTEXT
    disaster_at: str | None = None  # ISO 8601; t0 of RPO/RTO
    output: str = "text"  # a key of drill.report.RENDERERS
    report_dir: Path = Path("reports")
    sandbox: bool = False
    outputs: OutputFlags = field(default_factory=OutputFlags)
    strict: bool = False  # refuse a plan with warnings in this mode (nothing is run)
    # Sandbox runs only: faults to inject (NAME or NAME@STEP), a world file, the timing.
    faults: tuple[str, ...] = ()
    world: Path | None = None
    profile: str | None = None
    time_scale: float | None = None

    def sandbox_options(self) -> SandboxOptions:
        if not self.sandbox and (
            self.faults or self.world or self.profile or self.time_scale is not None
        ):
            raise UsageError(
                "--fault, --world, --profile and --time-scale act on the sandbox: add --sandbox"
            )
        return SandboxOptions(
            self.profile, self.time_scale, self.world, history_bucket(self.outputs.history)
        )


def run(
    settings: Settings,
    options: RunOptions,
    console: Console,
    clock: Clock | None = None,
    start_sandbox: PrivateSandbox | None = None,
) -> int:
    """Run the plan (or print what would run) and print its report; the run's exit code.

    ``start_sandbox`` starts the sandbox of a ``--sandbox`` run when none is up (default: the
    shipped timing); tests hand in one with faster simulated workloads.
    """
    clock = clock or SystemClock()
    t0 = parse_disaster_at(options.disaster_at, clock.now())
    loaded = settings.load(options.plan)
    overrides = parse_context_flags(options.contexts, set(loaded.plan.contexts))
    if options.sandbox and overrides:
        raise UsageError("--context and --sandbox do not mix: the sandbox maps every role")
    mode: Mode = "live" if options.live else "drill"
    _say_warnings(loaded, mode, options.strict, console)
    tiers = settings.config.tiers
    resolved = resolve(loaded.plan, loaded.source, mode, tiers, overrides, loaded.sha256)
    if options.dry_run:
        console.out(_dry_run_text(resolved, options.output))
        return ExitCode.PASSED
    sandbox_options = options.sandbox_options()
    outputs = prepare_outputs(settings, options.outputs, sandbox_run=options.sandbox)
    require_header_env(resolved)
    refuse_plan_file("--log-file", settings.log_file, loaded.source)
    refuse_plan_file("--junit", options.outputs.junit, loaded.source)
    require_log_file(settings)
    if options.live:
        confirm_live(resolved, options.yes, console)
    if options.sandbox:
        report = _run_in_sandbox(
            (loaded, resolved),
            t0,
            options,
            settings,
            console,
            clock,
            outputs,
            start_sandbox,
            sandbox_options,
        )
    else:
        providers = settings.providers(clock)
        report = execute(resolved, t0, options, settings, console, clock, providers, outputs)
    from drill.report import RENDERERS

    console.out(RENDERERS[options.output](report))
    if console.stdout_lost():
        kept = f" beside its journal {report.journal}" if report.journal else ""
        console.err(f"drill: stdout was closed before the report was written; it is kept{kept}")
    return report.exit_code


def _run_in_sandbox(
    plan: tuple[LoadedPlan, ExecutionPlan],
    t0: datetime | None,
    options: RunOptions,
    settings: Settings,
    console: Console,
    clock: Clock,
    outputs: RunOutputs,
    start_sandbox: PrivateSandbox | None,
    sandbox_options: SandboxOptions,
) -> RunReport:
    """The run against the sandbox, with its faults armed and its history kept there.
    ``plan``: the plan loaded, and resolved before its roles are mapped to the sandbox's."""
    loaded, unmapped = plan
    faults = _faults_to_arm(options.faults, unmapped)
    with sandbox_for(loaded, settings, start_sandbox, sandbox_options) as target:
        tiers, roles = settings.config.tiers, set(loaded.plan.contexts)
        if roles - set(target.contexts):
            missing = ", ".join(sorted(roles - set(target.contexts)))
            raise UsageError(f"the sandbox's world has no cluster for role(s) {missing}")
        contexts = {role: target.contexts[role] for role in roles}
        resolved = resolve(
            loaded.plan, loaded.source, unmapped.mode, tiers, contexts, loaded.sha256
        )
        armer = FaultArmer(target.send, resolved, [*target.faults, *faults], clock)
        if options.outputs.history is not None:
            outputs = replace(outputs, history=history_store(target, options.outputs.history))
        _say_unused_destinations(settings, options.outputs, console)
        providers = LiveProviders(clock, target.kubeconfig, target.cloud)
        return execute(resolved, t0, options, settings, console, clock, providers, outputs, armer)


def _faults_to_arm(flags: tuple[str, ...], plan: ExecutionPlan) -> list[FaultSpec]:
    """The --fault flags, each refused before a sandbox starts when it cannot be armed; the
    fault catalogue loads only for a run that names one."""
    if not flags:
        return []
    from drill.sandbox.worlds.faults import parse_fault_flag, planned_actions

    faults = [parse_fault_flag(text) for text in flags]
    for spec in faults:
        planned_actions(spec, plan)
    return faults


def _say_unused_destinations(settings: Settings, flags: OutputFlags, console: Console) -> None:
    """A sandbox run sends to no endpoint only the environment names (those are usually the
    team's real channels, the CronJob's): it says so, once, for each it leaves out."""
    for name, given in (
        (SLACK_URL_ENV, flags.slack_webhook_file),
        (WEBHOOK_URL_ENV, flags.webhook_file),
        (PUSHGATEWAY_ENV, flags.pushgateway),
    ):
        if settings.environ.get(name, "").strip() and not given:
            console.err(
                f"drill: ${name} is not used by a sandbox run (a rehearsal posts nowhere it was "
                "not sent for this run); give the flag to send it\n"
            )


def _say_warnings(loaded: LoadedPlan, mode: Mode, strict: bool, console: Console) -> None:
    """What this mode changes and no later step checks, said before anything runs; with
    ``strict`` the run is refused (exit 2)."""
    if strict:
        loaded.refuse_warnings(mode)
    for warning in loaded.warnings_of(mode):
        console.err(str(warning))


def require_header_env(plan: ExecutionPlan) -> None:
    """A header's ``${env:NAME}`` is read when its request is sent: for a verify step, after
    the restore and the failover. A variable the environment lacks now is said before anything
    runs (exit 2), every one of them, with the steps and probes that use it."""
    users: dict[str, list[str]] = {}
    for step in plan.steps():
        if isinstance(step.params, HttpRequestParams):
            for name in unset_env(step.params.headers):
                users.setdefault(name, []).append(f"step {step.id}")
    for probe in plan.probes:
        if probe.settings is not None:
            for name in unset_env(probe.settings.headers):
                users.setdefault(name, []).append(f"probe {probe.name}")
    if users:
        unset = "; ".join(f"{name} ({', '.join(where)})" for name, where in sorted(users.items()))
        raise UsageError(
            f"environment variable not set, used in request headers as ${{env:NAME}}: {unset}; "
            "set it before the run"
        )


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
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+01:00 is in year 0 in UTC
        raise UsageError(f"--disaster-at {value!r} is before the year 1 in UTC") from None


def confirm_live(plan: ExecutionPlan, yes: bool, console: Console) -> None:
    if yes:
        return
    if not console.interactive:
        raise UsageError(
            "--live changes what serves users: confirm with --yes when not on a terminal"
        )
    console.stderr.write(outline_text(plan) + "\n")
    answer = console.ask(
        f"LIVE failover of {plan.service}. Type the plan name ({plan.name}) to go on"
    )
    if answer != plan.name:
        raise UsageError("not confirmed; nothing was changed")


def _dry_run_text(plan: ExecutionPlan, output: str) -> str:
    if output == "json":
        return json.dumps(outline_data(plan), indent=2) + "\n"
    return "dry run: nothing will be touched\n\n" + outline_text(plan)


# How long a kube context may answer with throttling, 5xx or resets before the run gives up.
CONTEXT_PATIENCE_S = 5.0
# How soon a lost lease stops forward work; the lease itself is 60 s long.
FENCE_POLL_S = 0.2


def execute(
    plan: ExecutionPlan,
    t0: datetime | None,
    options: RunOptions,
    settings: Settings,
    console: Console,
    clock: Clock,
    providers: LiveProviders,
    outputs: RunOutputs,
    faults: FaultArmer | None = None,
) -> RunReport:
    run_id = new_run_id(plan.name, clock.now())
    cancellation = Cancellation()
    view = terminal_view(plan, run_id, options, console, clock, cancellation)
    stderr = view.log_stream() if view else console.stderr
    with (
        command_logger(settings, stderr, beside_view=view is not None) as logger,
        ExitStack() as armed,
    ):
        log = logger.bind(run_id=run_id)
        if view:
            view.attach_log(log)
        progress = Listeners(view.board if view else None, faults)
        runtime = StepRuntime(run_id, plan.mode, clock, providers, log, progress)
        if faults is not None:
            faults.log = log
            armed.callback(faults.stop)
            faults.start()
        check_contexts(plan, providers, clock, log)
        require_writable(options.report_dir)
        notes = faults.notes if faults else list
        report = _execute_leased(plan, t0, options, providers, runtime, cancellation, view, notes)
        deliver(report, options.report_dir / run_id / REPORT_FILE, outputs, clock, log)
    return report


def _execute_leased(
    plan: ExecutionPlan,
    t0: datetime | None,
    options: RunOptions,
    providers: LiveProviders,
    runtime: StepRuntime,
    cancellation: Cancellation,
    view: TerminalView | None,
    notes: Callable[[], list[str]],
) -> RunReport:
    """The lease comes first: a run that may not start leaves no journal behind. Then the
    leftovers of runs that died (a run still going holds the lease, so it is not one). The
    view shows only a run that starts, and ends with the report's own word on every step."""
    run_id, report_dir = runtime.run_id, options.report_dir
    with (
        run_lease(plan, providers, run_id, runtime.clock, runtime.log, report_dir) as lease,
        fenced(lease, cancellation),
    ):
        refuse_while_left_behind(plan.name, report_dir, sandbox=options.sandbox)
        with view or nullcontext():
            report = _execute_locked(
                plan, t0, report_dir / run_id, runtime, cancellation, options.sandbox, notes
            )
            if view:
                view.finish(report)
    return report


def check_contexts(plan: ExecutionPlan, providers: LiveProviders, clock: Clock, log: Any) -> None:
    """Every kube context the plan's roles map to answers, checked before the lease: the
    lease lives in one of them, and a run that cannot reach its clusters must touch nothing.
    A missing kubeconfig, an unknown context, an unreachable server or rejected credentials
    is one line naming the role, the context and the kubeconfig (exit 2). Throttling, 5xx and
    resets are retried for a few seconds first, as the lease itself would be."""
    checked: set[str] = set()
    for role, context in plan.contexts.items():
        if context in checked:
            continue
        checked.add(context)

        def retrying(exc: TransientError, context: str = context) -> None:
            log.debug("context_check_retrying", context=context, reason=str(exc))

        try:
            patiently(
                partial(providers.check_kube_context, context),
                clock,
                CONTEXT_PATIENCE_S,
                threading.Event(),
                retrying,
            )
        except ProviderError as exc:
            raise UsageError(f"context role {role!r}: {exc}") from None


def require_writable(report_dir: Path) -> None:
    """Checked before the lease, creating nothing: a run that could keep no journal must
    change nothing, and a run that may not start leaves nothing behind."""
    existing = report_dir
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    try:
        if not existing.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, f"{existing} is not a directory")
        with tempfile.NamedTemporaryFile(dir=existing, prefix=".drill-writable-"):
            pass
    except OSError as exc:
        raise UsageError(
            f"report directory {report_dir} is not writable ({exc.strerror or exc}): a run "
            "keeps its journal there; choose another with --report-dir or DRILL_REPORT_DIR"
        ) from None


def refuse_while_left_behind(plan_name: str, report_dir: Path, *, sandbox: bool) -> None:
    """A run that died with changes in place must be rolled back before the plan runs again:
    a new run would take its leftovers for the prior state and leave them behind. Only runs
    of the same world count: a sandbox run's leftovers are in the sandbox, not in production.
    A run of the plan whose journal is damaged may have left anything, in either world."""
    found, unreadable = read_runs(report_dir, plan_name)
    if unreadable:
        damaged = unreadable[0]
        raise UsageError(
            f"the journal of an earlier run of {plan_name} cannot be read ({damaged.reason}): "
            f"{damaged.journal}; it may have left changes in place. Mend or restore it and "
            f"roll that run back with `drill rollback {damaged.journal}`, or move it out of "
            f"{report_dir} if that run changed nothing"
        )
    for run in found:
        if run.changed and not run.finished and run.sandbox == sandbox:
            steps = ", ".join(step for step, _ in run.changed)
            raise UsageError(
                f"run {run.run_id} of {plan_name} did not finish and still has changes in "
                f"place ({steps}): roll it back first with `{run.rollback_command()}`"
                " (`drill runs` lists every such run)"
            )


def terminal_view(
    plan: ExecutionPlan,
    run_id: str,
    options: RunOptions,
    console: Console,
    clock: Clock,
    cancellation: Cancellation,
) -> TerminalView | None:
    """The plan as it runs, for people at a terminal; never in JSON output or on a pipe (a
    CronJob, CI), which keep the structured logs alone."""
    if options.output != "text" or not console.stderr.isatty():
        return None
    from drill.commands._board import Board
    from drill.commands._view import TerminalView  # rich: loaded only for a terminal

    board = Board(plan, clock, run_id, cancellation, sandbox=options.sandbox)
    return TerminalView.on(console.stderr, board)


@contextmanager
def fenced(lease: RunLease | None, cancellation: Cancellation) -> Iterator[None]:
    """A run that lost its lease (another run took it, or renewals stopped for a whole lease,
    as when the process was paused) stops forward work at once and undoes: two runs must
    never act on one plan's targets together."""
    if lease is None:
        yield
        return
    done = threading.Event()

    def watch() -> None:
        while not done.wait(FENCE_POLL_S):
            if lease.lost.is_set():
                cancellation.fail(f"lost the run lease: {lease.lost_reason or 'taken over'}")
                return

    watcher = threading.Thread(target=watch, name="fence", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join(timeout=FENCE_POLL_S * 4)


@contextmanager
def run_lease(
    plan: ExecutionPlan,
    providers: LiveProviders,
    run_id: str,
    clock: Clock,
    log: Any,
    report_dir: Path,
) -> Iterator[RunLease | None]:
    if plan.lock is None:
        yield None
        return
    context, namespace = plan.lock
    lease = RunLease(
        lambda: providers.kube(context), namespace, f"drill-{plan.name}", run_id, clock, log
    )
    with ExitStack() as held:
        try:
            held.enter_context(lease)
        except RunLocked as exc:
            raise RunLocked(
                f"{exc}. If that run is still going, let it finish. If it was killed, its lease "
                f"expires within a minute; then `drill runs --report-dir {report_dir}` shows "
                "what it left and the `drill rollback` command that undoes it"
            ) from None
        yield lease


def _execute_locked(
    plan: ExecutionPlan,
    t0: datetime | None,
    run_dir: Path,
    runtime: StepRuntime,
    cancellation: Cancellation,
    sandbox: bool,
    notes: Callable[[], list[str]],
) -> RunReport:
    """``notes``: what the report should say besides (the sandbox faults armed in the run)."""
    from drill.executor import Executor, FileJournal, cancel_on_signals
    from drill.report import render_json

    run_id, log = runtime.run_id, runtime.log
    journal = FileJournal(run_dir / "journal.jsonl", run_id, runtime.clock)
    executor = Executor(
        runtime,
        journal,
        cancellation,
        journal_path=str(journal.path),
        rollback_command=rollback_command(run_id, journal.path, sandbox=sandbox),
        sandbox=sandbox,
        process=(socket.gethostname(), os.getpid()),
    )
    try:
        with cancel_on_signals(cancellation, log):
            report = executor.run(plan, t0)
    finally:
        journal.close()
    report = report.model_copy(update={"notes": [*report.notes, *notes()]})
    path = run_dir / REPORT_FILE
    try:
        write_atomically(path, render_json(report))
    except OSError as exc:
        # The run is over and its verdict stands: it is still printed (and delivered), and
        # the report says it was not kept, rather than the run ending as an internal error.
        why = exc.strerror or str(exc)
        log.warning("report_not_written", path=str(path), error=why)
        kept = f"this report could not be kept at {path}: {why}"
        report = report.model_copy(update={"notes": [*report.notes, kept]})
    return report
