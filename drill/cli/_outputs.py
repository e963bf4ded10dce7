"""What `drill run` sends or writes besides its report: JUnit, history, notifications, metrics.

Every destination is checked before the run starts (a bad flag exits 2 with nothing touched);
after the run each is delivered once. A delivery that fails is reported on stderr and never
changes the run's exit code: the drill result is what the CronJob and CI act on.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import click

from drill.cli._common import GlobalOptions, write_atomically
from drill.clock import Clock
from drill.errors import ProviderError, UsageError
from drill.history import store_report
from drill.outputs import (
    NotifyOn,
    NotifyTarget,
    check_pushgateway_url,
    notify_targets,
    push_metrics,
    send_notifications,
    should_notify,
)
from drill.report import RunReport, render_junit
from providers.http import Urllib3Http
from providers.protocols import ReportStore
from providers.report_store import open_report_store

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class RunOutputs:
    junit: Path | None = None
    history: ReportStore | None = None
    notify: list[NotifyTarget] = field(default_factory=list)
    notify_on: NotifyOn = "always"
    pushgateway: str | None = None


def output_options(command: F) -> F:
    """The flags of `drill run` that send the result somewhere."""
    for option in reversed(_OPTIONS):
        command = option(command)
    return command


_OPTIONS = (
    click.option(
        "--junit",
        type=click.Path(dir_okay=False, path_type=Path),
        metavar="FILE",
        help="Also write the result as JUnit XML (a case per step, plus RPO and RTO).",
    ),
    click.option(
        "--history",
        envvar="DRILL_HISTORY",
        metavar="LOCATION",
        help="Keep the JSON report for `drill history`: a directory, gs://BUCKET[/PREFIX] or "
        "s3://BUCKET[/PREFIX] (env DRILL_HISTORY). A failure to store it is reported, "
        "never fatal.",
    ),
    click.option(
        "--slack-webhook-file",
        type=click.Path(dir_okay=False),
        metavar="FILE",
        help="File whose first line is a Slack incoming-webhook URL (or env "
        "DRILL_SLACK_WEBHOOK_URL). The URL is a secret: never put it on the command line.",
    ),
    click.option(
        "--webhook-file",
        type=click.Path(dir_okay=False),
        metavar="FILE",
        help="File whose first line is a URL that receives the run summary as JSON, schema "
        "drill.notification/v1 (or env DRILL_WEBHOOK_URL).",
    ),
    click.option(
        "--notify-on",
        type=click.Choice(["always", "failure"]),
        default="always",
        show_default=True,
        help="Notify after every run, or only when it did not pass (a missed target counts).",
    ),
    click.option(
        "--pushgateway",
        envvar="DRILL_PUSHGATEWAY",
        metavar="URL",
        help="Push the run's metrics to this Prometheus Pushgateway (env DRILL_PUSHGATEWAY).",
    ),
)


def prepare_outputs(options: GlobalOptions, values: dict[str, Any]) -> RunOutputs:
    """Check every destination before anything runs; bad ones are usage errors (exit 2)."""
    pushgateway = values.get("pushgateway")
    if pushgateway:
        check_pushgateway_url(pushgateway)
    junit = values.get("junit")
    if junit is not None and not junit.parent.is_dir():
        raise UsageError(f"--junit {junit}: directory {junit.parent} does not exist")
    history = values.get("history")
    return RunOutputs(
        junit=junit,
        # The real store even for --sandbox runs: history outlives any sandbox.
        history=open_report_store(history, options.cloud) if history else None,
        notify=notify_targets(
            os.environ, values.get("slack_webhook_file"), values.get("webhook_file")
        ),
        notify_on=values.get("notify_on") or "always",
        pushgateway=pushgateway or None,
    )


def deliver(
    report: RunReport, report_file: Path, outputs: RunOutputs, clock: Clock, log: Any
) -> None:
    """Write and send the finished run everywhere it was asked to go."""
    location = str(report_file)
    if outputs.junit is not None:
        _write_junit(outputs.junit, render_junit(report), log)
    if outputs.history is not None:
        location = _keep_in_history(report, outputs.history, log) or location
    http = Urllib3Http()
    if outputs.notify and should_notify(report, outputs.notify_on):
        send_notifications(report, location, outputs.notify, http, log, clock=clock)
    if outputs.pushgateway:
        push_metrics(report, outputs.pushgateway, http, log, clock=clock)


def _keep_in_history(report: RunReport, store: ReportStore, log: Any) -> str | None:
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
