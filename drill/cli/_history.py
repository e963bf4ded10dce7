"""`drill history PLAN`."""

from __future__ import annotations

from pathlib import Path

import click

from drill.cli._common import finish, pass_settings, report_dir_option
from drill.commands import Settings
from drill.history import DEFAULT_FACTOR, DEFAULT_WINDOW
from providers.report_store import LOCATION_FORMS

HISTORY_HELP = (
    f"Read the reports kept here instead of the report directory: {LOCATION_FORMS} "
    "(env DRILL_HISTORY)."
)


@click.command("history")
@click.argument("plan", required=False)
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
@click.option(
    "--sandbox",
    is_flag=True,
    help="Read a gs:// or s3:// --history from the running sandbox's stores, where sandbox "
    "runs keep it.",
)
@report_dir_option
@pass_settings
def history_command(
    settings: Settings,
    plan: str | None,
    location: str | None,
    last: int,
    factor: float,
    output: str,
    sandbox: bool,
    report_dir: Path,
) -> None:
    """Show PLAN's recent runs (RTO, RPO, margins, outcome, slowest step) and flag
    regressions of the newest run: a step slower than its recent median by --factor, an RTO
    or RPO margin that shrank in each of the last 3 runs or is under 25% of its target.
    Without PLAN, one line per plan: its last run, outcome and margins, and how long ago a
    drill of it last passed.

    PLAN is the plan's name as its reports carry it (e.g. region-failure). Runs are read from
    the report directory, where every run keeps its report, or from --history.

    Exit codes: 0 no regression; 1 a regression flagged in the newest run; 2 usage error: a
    malformed history location, no runs stored there, or the history (or its newest run's
    report) could not be read.
    """
    from drill.commands.history import HistoryOptions, history

    options = HistoryOptions(
        plan,
        location,
        last=last,
        factor=factor,
        output=output,
        report_dir=report_dir,
        sandbox=sandbox,
    )
    finish(settings, lambda console: history(settings, options, console))
