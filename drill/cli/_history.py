"""`drill history PLAN`: the trend of a plan's stored runs, and regressions of the newest."""

from __future__ import annotations

import re
import sys

import click

from drill.cli._common import GlobalOptions, pass_options
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

HISTORY_HELP = f"Where run reports are kept: {LOCATION_FORMS} (env DRILL_HISTORY)."
# The plan name rule (drill.plan): reports carry the plan's name, never a file path.
_PLAN_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")


@click.command("history")
@click.argument("plan")
@click.option(
    "--history", "location", envvar="DRILL_HISTORY", metavar="LOCATION", help=HISTORY_HELP
)
@click.option(
    "--last",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="How many of the newest runs to show.",
)
@click.option(
    "--factor",
    type=click.FloatRange(min=1.0, min_open=True),
    default=DEFAULT_FACTOR,
    show_default=True,
    help=f"Flag a step that took more than this many times its median over the last "
    f"{DEFAULT_WINDOW} runs where it passed.",
)
@click.option("--output", type=click.Choice(["text", "json"]), default="text", show_default=True)
@pass_options
def history_command(
    options: GlobalOptions, plan: str, location: str | None, last: int, factor: float, output: str
) -> None:
    """Show PLAN's recent runs (RTO, RPO, margins, outcome, slowest step) and flag
    regressions of the newest run: a step slower than its recent median by --factor, an RTO
    or RPO margin that shrank in each of the last 3 runs or is under 25% of its target.

    PLAN is the plan's name as its reports carry it (e.g. region-failure).

    Exit codes: 0 no regression; 1 a regression flagged in the newest run; 2 usage error: no
    or a malformed history location, no runs of PLAN stored there, or the history could not
    be read.
    """
    store = open_report_store(_required(location), options.cloud)
    history = _read(store, _plan_name(plan), last, shown_location(location or ""))
    regressions = find_regressions(history.reports, factor, DEFAULT_WINDOW)
    criteria = Criteria(factor=factor, window=DEFAULT_WINDOW)
    render = render_history_json if output == "json" else render_history_text
    sys.stdout.write(render(history, regressions, criteria))
    raise SystemExit(ExitCode.TARGET_MISSED if regressions else ExitCode.PASSED)


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
        history = load_history(store, plan, last)
    except ProviderError as exc:
        raise UsageError(f"the history at {location} could not be read: {exc}") from None
    if not history.reports:
        skipped = len(history.skipped)
        unreadable = f" ({skipped} unreadable files skipped)" if skipped else ""
        raise UsageError(f"no runs of {plan} are stored in {location}{unreadable}")
    return history
