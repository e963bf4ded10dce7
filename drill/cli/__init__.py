"""The command line: thin click commands that build dependencies and map errors to exit codes.

One module per command. Every error drill raises on purpose becomes one message on stderr and
its documented exit code; nothing reaches the user as a traceback unless -v asks for it.

Must not: hold logic a test would want to call without a terminal.
"""

from __future__ import annotations

import importlib
import sys
import traceback
from pathlib import Path
from typing import Any

import click

from drill import __version__
from drill.cli._common import GlobalOptions
from drill.errors import DrillError, ExitCode, PlanError
from providers.cloud import CloudSettings

# command name -> (module, attribute). A command's module is imported only when that command
# runs or help lists it, so `drill validate` does not pay for reports, history or the runner.
_COMMANDS = {
    "run": ("drill.cli._run", "run_command"),
    "validate": ("drill.cli._validate", "validate_command"),
    "show": ("drill.cli._show", "show_command"),
    "list": ("drill.cli._list", "list_command"),
    "tiers": ("drill.cli._tiers", "tiers_command"),
    "rollback": ("drill.cli._rollback", "rollback_command"),
    "sandbox": ("drill.cli._sandbox", "sandbox_group"),
    "history": ("drill.cli._history", "history_command"),
    "report": ("drill.cli._report", "report_command"),
    "completion": ("drill.cli._completion", "completion_command"),
}


class _DrillGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in _COMMANDS:
            return None
        module, attribute = _COMMANDS[cmd_name]
        command: click.Command = getattr(importlib.import_module(module), attribute)
        return command

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
