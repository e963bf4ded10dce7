"""`drill run PLAN`: its flags, including where the result is sent besides stdout."""

from __future__ import annotations

from pathlib import Path

import click

from drill.cli._common import (
    REPORT_FORMATS,
    context_option,
    finish_fast,
    pass_settings,
    report_dir_option,
    sandbox_timing_options,
)
from drill.cli._completion import complete_plan_names
from drill.commands import Settings


@click.command("run")
@click.argument("plan", shell_complete=complete_plan_names)
@click.option("--dry-run", is_flag=True, help="Print what would run; touch nothing.")
@click.option("--live", is_flag=True, help="Real failover: act on what serves users.")
@click.option("--yes", is_flag=True, help="Confirm --live without a prompt (automation).")
@context_option()
@click.option(
    "--disaster-at",
    metavar="TIME",
    help="When the disaster happened (ISO 8601, UTC if no offset): t0 of RPO/RTO.",
)
@click.option(
    "--output",
    type=click.Choice(REPORT_FORMATS),
    default="text",
    show_default=True,
    help="Report format on stdout (a dry run prints text or json).",
)
@report_dir_option
@click.option(
    "--sandbox",
    is_flag=True,
    help="Run against the local simulated clusters (a running `drill sandbox up`, "
    "else ones started for this run). No cloud, no cluster needed.",
)
@click.option(
    "--junit",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Also write the result as JUnit XML (a case per step, plus RPO and RTO).",
)
@click.option(
    "--history",
    envvar="DRILL_HISTORY",
    metavar="LOCATION",
    help="Keep the JSON report for `drill history`: a directory, gs://BUCKET[/PREFIX] or "
    "s3://BUCKET[/PREFIX] (env DRILL_HISTORY). A failure to store it is reported, "
    "never fatal.",
)
@click.option(
    "--slack-webhook-file",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="File whose first line is a Slack incoming-webhook URL (or env "
    "DRILL_SLACK_WEBHOOK_URL). The URL is a secret: never put it on the command line.",
)
@click.option(
    "--webhook-file",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="File whose first line is a URL that receives the run summary as JSON, schema "
    "drill.notification/v1 (or env DRILL_WEBHOOK_URL).",
)
@click.option(
    "--notify-on",
    type=click.Choice(["always", "failure"]),
    default="always",
    show_default=True,
    help="Notify after every run, or only when it did not pass (a missed target counts).",
)
@click.option(
    "--pushgateway",
    metavar="URL",
    help="Push the run's metrics to this Prometheus Pushgateway (env DRILL_PUSHGATEWAY).",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Refuse (exit 2) a plan whose mode changes something no later step checks.",
)
@click.option(
    "--fault",
    "faults",
    multiple=True,
    metavar="NAME[@STEP]",
    help="Sandbox runs: inject this fault (`drill sandbox faults` lists them), when STEP "
    "starts or before the run (repeatable).",
)
@click.option(
    "--world",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Sandbox runs: build the sandbox from this world file (`drill sandbox world PLAN` "
    "prints one to edit) instead of from the plan.",
)
@sandbox_timing_options
@pass_settings
def run_command(
    settings: Settings,
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
    junit: Path | None,
    history: str | None,
    slack_webhook_file: str | None,
    webhook_file: str | None,
    notify_on: str,
    pushgateway: str | None,
    strict: bool,
    faults: tuple[str, ...],
    world: Path | None,
    profile: str | None,
    time_scale: float | None,
) -> None:
    """Run PLAN (a name in the plans directory, or a file path).

    Exit codes: 0 passed; 1 completed but a target missed; 2 invalid plan or usage, or
    another run holds the plan's lock; 3 a step failed (rolled back); 4 rollback or cleanup
    incomplete; 130 interrupted.
    """
    from drill.commands._outputs import OutputFlags
    from drill.commands.run import RunOptions, run

    options = RunOptions(
        plan=plan,
        dry_run=dry_run,
        live=live,
        yes=yes,
        contexts=contexts,
        disaster_at=disaster_at,
        output=output,
        report_dir=report_dir,
        sandbox=sandbox,
        strict=strict,
        faults=faults,
        world=world,
        profile=profile,
        time_scale=time_scale,
        outputs=OutputFlags(
            junit=junit,
            history=history,
            slack_webhook_file=slack_webhook_file,
            webhook_file=webhook_file,
            notify_on="failure" if notify_on == "failure" else "always",
            pushgateway=pushgateway,
        ),
    )
    finish_fast(settings, lambda console: run(settings, options, console))
