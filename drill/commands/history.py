"""`drill history PLAN`: the trend of a plan's stored runs, and regressions of the newest."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from drill.clock import Clock, SystemClock
from drill.commands._common import JOURNAL_FILE, REPORT_FILE, Settings
from drill.commands._console import Console
from drill.commands.sandbox import running_sandbox
from drill.errors import ExitCode, ProviderError, UsageError
from drill.history import (
    DEFAULT_FACTOR,
    DEFAULT_WINDOW,
    Criteria,
    History,
    find_regressions,
    load_history,
    load_run_directories,
    plan_summaries,
    render_history_json,
    render_history_text,
    render_overview_json,
    render_overview_text,
    stored_plans,
)
from providers.protocols import ReportStore
from providers.report_store import (
    LOCATION_FORMS,
    DirectoryReportStore,
    open_report_store,
    shown_location,
)

# The plan name rule (drill.plan): reports carry the plan's name, never a file path.
_PLAN_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")


@dataclass(frozen=True)
class HistoryOptions:
    plan: str | None  # None: one line per plan
    location: str | None  # a directory, gs://BUCKET[/PREFIX] or s3://BUCKET[/PREFIX]
    last: int = 20
    factor: float = DEFAULT_FACTOR
    output: str = "text"  # text | json
    report_dir: Path = Path("reports")  # read when no location is given
    sandbox: bool = False  # gs:// and s3:// locations are the running sandbox's


def history(
    settings: Settings, options: HistoryOptions, console: Console, clock: Clock | None = None
) -> int:
    """Print the plan's recent runs; exit 1 when the newest run has a regression. Without a
    plan, one line per plan found. Runs are read from ``--history`` when given, else from the
    report directory, where every run keeps its report."""
    plan = None if options.plan is None else _plan_name(options.plan)
    if not 1 < options.factor < math.inf:  # also NaN, which compares false with both
        raise UsageError(f"--factor {options.factor:g}: give a number above 1, such as 1.5")
    histories, where = _histories(settings, options, plan)
    if plan is None:
        return _overview(histories, where, options, console, (clock or SystemClock()).now())
    found = _one(histories, plan, where)
    regressions = find_regressions(found.reports, options.factor, DEFAULT_WINDOW)
    criteria = Criteria(factor=options.factor, window=DEFAULT_WINDOW)
    render = render_history_json if options.output == "json" else render_history_text
    console.out(render(found, regressions, criteria))
    if found.unread_newer:
        # Neither "no regression" nor "a regression" can be said of a run not read.
        console.err(
            f"drill: the newest stored run of {plan} cannot be read "
            f"({found.unread_newer[-1].name}): its regressions are not checked"
        )
        return ExitCode.INVALID
    return ExitCode.TARGET_MISSED if regressions else ExitCode.PASSED


def _histories(
    settings: Settings, options: HistoryOptions, plan: str | None
) -> tuple[list[History], str]:
    if options.location is not None:
        cloud = running_sandbox(settings.environ).cloud if options.sandbox else settings.cloud
        store = open_report_store(options.location, cloud)
        where = shown_location(options.location)
        plans = [plan] if plan is not None else _stored_plans(store, where)
        return [_read(store, name, options.last, where) for name in plans], where
    where = f"report directory {options.report_dir}"
    if not options.report_dir.is_dir():
        raise UsageError(
            f"no {where}: runs keep their reports there (--report-dir or DRILL_REPORT_DIR); "
            f"or read a history location with --history LOCATION ({LOCATION_FORMS})"
        )
    store = DirectoryReportStore(options.report_dir)
    try:
        return load_run_directories(store, REPORT_FILE, plan, options.last, JOURNAL_FILE), where
    except ProviderError as exc:
        raise UsageError(f"the {where} could not be read: {exc}") from None


def _stored_plans(store: ReportStore, where: str) -> list[str]:
    try:
        return stored_plans(store)
    except ProviderError as exc:
        raise UsageError(f"the history at {where} could not be read: {exc}") from None


def _one(histories: list[History], plan: str, where: str) -> History:
    found = next((h for h in histories if h.plan == plan), History(plan, ()))
    if not found.reports:
        skipped = len(found.skipped)
        unreadable = f" ({skipped} unreadable files skipped)" if skipped else ""
        raise UsageError(f"no runs of {plan} are stored in {where}{unreadable}")
    return found


def _overview(
    histories: list[History], where: str, options: HistoryOptions, console: Console, now: datetime
) -> int:
    summaries = plan_summaries(histories)
    if not summaries:
        raise UsageError(f"no runs are stored in {where}")
    if options.output == "json":
        console.out(render_overview_json(summaries, options.last))
    else:
        console.out(render_overview_text(summaries, where, options.last, now))
    return ExitCode.PASSED


def _plan_name(plan: str) -> str:
    if not _PLAN_NAME.match(plan):
        raise UsageError(
            f"PLAN {plan!r}: give the plan's name as its reports carry it (e.g. region-failure), "
            "not a file path"
        )
    return plan


def _read(store: ReportStore, plan: str, last: int, location: str) -> History:
    try:
        return load_history(store, plan, last)
    except ProviderError as exc:
        raise UsageError(f"the history at {location} could not be read: {exc}") from None
