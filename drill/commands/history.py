"""`drill history PLAN`: the trend of a plan's stored runs, and regressions of the newest."""

from __future__ import annotations

import re
from dataclasses import dataclass

from drill.commands._common import Settings
from drill.commands._console import Console
from drill.errors import ExitCode, ProviderError, UsageError
from drill.history import (
    DEFAULT_FACTOR,
    DEFAULT_WINDOW,
    Criteria,
    History,
    find_regressions,
    load_history,
    render_history_json,
    render_history_text,
)
from providers.protocols import ReportStore
from providers.report_store import LOCATION_FORMS, open_report_store, shown_location

# The plan name rule (drill.plan): reports carry the plan's name, never a file path.
_PLAN_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")


@dataclass(frozen=True)
class HistoryOptions:
    plan: str
    location: str | None  # a directory, gs://BUCKET[/PREFIX] or s3://BUCKET[/PREFIX]
    last: int = 20
    factor: float = DEFAULT_FACTOR
    output: str = "text"  # text | json


def history(settings: Settings, options: HistoryOptions, console: Console) -> int:
    """Print the plan's recent runs; exit 1 when the newest run has a regression."""
    store = open_report_store(_required(options.location), settings.cloud)
    shown = shown_location(options.location or "")
    found = _read(store, _plan_name(options.plan), options.last, shown)
    regressions = find_regressions(found.reports, options.factor, DEFAULT_WINDOW)
    criteria = Criteria(factor=options.factor, window=DEFAULT_WINDOW)
    render = render_history_json if options.output == "json" else render_history_text
    console.out(render(found, regressions, criteria))
    return ExitCode.TARGET_MISSED if regressions else ExitCode.PASSED


def _required(location: str | None) -> str:
    if not location:
        raise UsageError(
            f"no history location: pass --history LOCATION ({LOCATION_FORMS}) or set DRILL_HISTORY"
        )
    return location


def _plan_name(plan: str) -> str:
    if not _PLAN_NAME.match(plan):
        raise UsageError(
            f"PLAN {plan!r}: give the plan's name as its reports carry it (e.g. region-failure), "
            "not a file path"
        )
    return plan


def _read(store: ReportStore, plan: str, last: int, location: str) -> History:
    try:
        found = load_history(store, plan, last)
    except ProviderError as exc:
        raise UsageError(f"the history at {location} could not be read: {exc}") from None
    if not found.reports:
        skipped = len(found.skipped)
        unreadable = f" ({skipped} unreadable files skipped)" if skipped else ""
        raise UsageError(f"no runs of {plan} are stored in {location}{unreadable}")
    return found
