"""The command line: thin click commands that build dependencies and map errors to exit codes.

One module per command. Every error drill raises on purpose becomes one message on stderr and
its documented exit code; nothing reaches the user as a traceback unless -v asks for it.

Must not: hold logic a test would want to call without a terminal.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path
from typing import Any

import click

from drill import __version__
from drill.cli._common import GlobalOptions
from drill.cli._completion import completion_command
from drill.cli._history import history_command
from drill.cli._list import list_command
from drill.cli._report import report_command
from drill.cli._rollback import rollback_command
from drill.cli._run import run_command
from drill.cli._sandbox import sandbox_group
from drill.cli._show import show_command
from drill.cli._tiers import tiers_command
from drill.cli._validate import validate_command
from drill.errors import DrillError, ExitCode, PlanError
from providers.cloud import CloudSettings


class _DrillGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DrillError as exc:
            _report_error(exc)
            sys.exit(exc.exit_code)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except Exception as exc:  # noqa: BLE001 - last line of defence: no raw traceback
            verbose = isinstance(ctx.obj, GlobalOptions) and ctx.obj.verbosity > 0
            if verbose:
                traceback.print_exc()
            click.echo(
                f"drill: internal error: {type(exc).__name__}: {exc}"
                + ("" if verbose else " (run with -v for the traceback)"),
                err=True,
            )
            # We cannot know what was left changed, so a human has to look.
            sys.exit(ExitCode.ROLLBACK_INCOMPLETE)


def _report_error(exc: DrillError) -> None:
    if isinstance(exc, PlanError):
        for problem in exc.problems:
            click.echo(str(problem), err=True)
    else:
        click.echo(f"drill: {exc}", err=True)


@click.group(cls=_DrillGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="drill")
@click.option(
    "--plans-dir",
    envvar="DRILL_PLANS_DIR",
    default="plans",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where plan names are looked up (env DRILL_PLANS_DIR).",
)
@click.option(
    "--config",
    "config_file",
    envvar="DRILL_CONFIG",
    metavar="FILE",
    help="Config file with tier targets (env DRILL_CONFIG; default ~/.config/drill/config.yaml).",
)
@click.option(
    "--kubeconfig",
    metavar="FILE",
    help="Kubeconfig with the contexts the plan's roles map to (default: $KUBECONFIG, then "
    "~/.kube/config). `--context ROLE=in-cluster` uses the pod's own service account.",
)
@click.option(
    "--gcp-credentials",
    envvar="DRILL_GCP_CREDENTIALS",
    metavar="FILE",
    type=click.Path(dir_okay=False),
    help="Google Cloud service-account key file (env DRILL_GCP_CREDENTIALS; default: "
    "Application Default Credentials). AWS uses its standard credential chain.",
)
@click.option("-v", "--verbose", count=True, help="More log detail (repeatable).")
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors in the log.")
@click.pass_context
def main(
    ctx: click.Context,
    plans_dir: Path,
    config_file: str | None,
    kubeconfig: str | None,
    gcp_credentials: str | None,
    verbose: int,
    quiet: bool,
) -> None:
    """Rehearse and perform disaster recovery for services on Kubernetes.

    Logs go to stderr (JSON lines unless stderr is a terminal); stdout carries only reports.
    """
    ctx.obj = GlobalOptions(
        plans_dir=plans_dir,
        config_file=config_file,
        verbosity=-1 if quiet else verbose,
        kubeconfig=kubeconfig,
        cloud=CloudSettings(gcp_credentials_file=gcp_credentials),
    )


for _command in (
    run_command,
    validate_command,
    show_command,
    list_command,
    tiers_command,
    rollback_command,
    report_command,
    sandbox_group,
    history_command,
    completion_command,
):
    main.add_command(_command)
