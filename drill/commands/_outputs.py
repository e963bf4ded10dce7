"""What `drill run` sends or writes besides its report: JUnit, history, notifications, metrics.

Every destination is checked before the run starts (a bad one is a usage error, nothing
touched); after the run each is delivered once. A delivery that fails is reported on stderr
and never changes the run's exit code: the drill result is what the CronJob and CI act on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from drill.commands._common import Settings, refuse_run_record, write_atomically
from drill.errors import ProviderError, UsageError
from drill.outputs import check_pushgateway_url, notify_targets

if TYPE_CHECKING:
    from drill.clock import Clock
    from drill.outputs import NotifyOn, NotifyTarget
    from drill.report import RunReport
    from providers.protocols import ReportStore

PUSHGATEWAY_ENV = "DRILL_PUSHGATEWAY"


@dataclass(frozen=True)
class OutputFlags:
    """Where `drill run` was asked to send its result, as given on the command line."""

    junit: Path | None = None
    history: str | None = None  # a directory, gs://BUCKET[/PREFIX] or s3://BUCKET[/PREFIX]
    slack_webhook_file: str | None = None
    webhook_file: str | None = None
    notify_on: NotifyOn = "always"
    pushgateway: str | None = None  # the flag's; else (not in the sandbox) DRILL_PUSHGATEWAY


@dataclass(frozen=True)
class RunOutputs:
    junit: Path | None = None
    history: ReportStore | None = None
    notify: list[NotifyTarget] = field(default_factory=list)
    notify_on: NotifyOn = "always"
    pushgateway: str | None = None


def prepare_outputs(
    settings: Settings, flags: OutputFlags, *, sandbox_run: bool = False
) -> RunOutputs:
    """Check every destination before anything runs; bad ones are usage errors (exit 2).

    A sandbox run sends only where its own flags say: webhook URLs and the Pushgateway named
    by the environment (``DRILL_SLACK_WEBHOOK_URL``, ``DRILL_WEBHOOK_URL``,
    ``DRILL_PUSHGATEWAY``) are usually the team's real channels, and a rehearsal must not post
    to them unasked. What it does send says it is a sandbox run. Its history goes to the
    sandbox's own stores (``drill.commands.sandbox.history_store``)."""
    environ = {} if sandbox_run else settings.environ
    pushgateway = flags.pushgateway or environ.get(PUSHGATEWAY_ENV, "").strip() or None
    if pushgateway:
        check_pushgateway_url(pushgateway)
    junit = flags.junit
    if junit is not None and not junit.parent.is_dir():
        raise UsageError(f"--junit {junit}: directory {junit.parent} does not exist")
    if junit is not None:
        refuse_run_record("--junit", junit)
    return RunOutputs(
        junit=junit,
        history=_history_store(settings, flags.history) if flags.history else None,
        notify=notify_targets(environ, flags.slack_webhook_file, flags.webhook_file),
        notify_on=flags.notify_on,
        pushgateway=pushgateway,
    )


def _history_store(settings: Settings, location: str) -> ReportStore:
    from providers.report_store import open_report_store  # only for runs with --history

    return open_report_store(location, settings.cloud)


def deliver(
    report: RunReport, report_file: Path, outputs: RunOutputs, clock: Clock, log: Any
) -> None:
    """Write and send the finished run everywhere it was asked to go."""
    # Loaded once the run is over: its first request does not wait for them.
    from drill.outputs import push_metrics, send_notifications, should_notify
    from drill.report import render_junit

    location = str(report_file)
    if outputs.junit is not None:
        _write_junit(outputs.junit, render_junit(report), log)
    if outputs.history is not None:
        location = _keep_in_history(report, outputs.history, log) or location
    notify = bool(outputs.notify) and should_notify(report, outputs.notify_on)
    if not notify and not outputs.pushgateway:
        return
    # Loaded only for a run that sends something: the run's first request comes sooner.
    from providers.http import Urllib3Http

    http = Urllib3Http()
    if notify:
        send_notifications(report, location, outputs.notify, http, log, clock=clock)
    if outputs.pushgateway:
        push_metrics(report, outputs.pushgateway, http, log, clock=clock)


def _keep_in_history(report: RunReport, store: ReportStore, log: Any) -> str | None:
    from drill.history import store_report  # trends and regressions: only with --history

    try:
        where = store_report(report, store)
    except ProviderError as exc:
        log.warning("history_not_stored", error=str(exc))
        return None
    log.info("history_stored", location=where)
    return where


def _write_junit(path: Path, text: str, log: Any) -> None:
    try:
        write_atomically(path, text)
    except OSError as exc:
        log.warning("junit_not_written", path=str(path), error=exc.strerror or str(exc))
