"""The command line: click parses flags, calls a ``drill.commands`` function, exits with its code.

One module per command, imported only when that command runs: `drill --help` lists them from
the table below without importing any, so it pays for click alone. Every error drill raises
on purpose becomes one message on stderr and its documented exit code
(``drill.commands.exit_code_of``); nothing reaches the user as a traceback unless -v asks.

Must not: hold logic a test would want to call without a terminal (that is drill.commands).
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import click

from drill import __version__
from drill.cli._process import mark_real_process

# command name -> (module, attribute, its one-line help as `drill --help` shows it).
# tests/cli/test_parsing.py checks each summary against the command's own help.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "completion": (
        "drill.cli._completion",
        "completion_command",
        "Print the completion script for SHELL (bash, zsh or fish).",
    ),
    "explain": (
        "drill.cli._explain",
        "explain_command",
        "Explain a step type's parameters (or one: TYPE.FIELD), a plan's or a step's fields.",
    ),
    "heartbeat": (
        "drill.cli._heartbeat",
        "heartbeat_command",
        "Write the current time into a ConfigMap key every --interval, for kube.heartbeat "
        "probes to read in restored copies; runs until SIGTERM or SIGINT.",
    ),
    "history": (
        "drill.cli._history",
        "history_command",
        "Show PLAN's recent runs (RTO, RPO, margins, outcome, slowest step) and flag "
        "regressions of the newest run: a step slower than its recent median by --factor, an "
        "RTO or RPO margin that shrank in each of the last 3 runs or is under 25% of its "
        "target.",
    ),
    "list": (
        "drill.cli._list",
        "list_command",
        "List plans (name, tier, description), or step types with --types.",
    ),
    "report": (
        "drill.cli._report",
        "report_command",
        "Show the report of RUN: a run id, a run directory, its journal or its report.json.",
    ),
    "rollback": (
        "drill.cli._rollback",
        "rollback_command",
        "Put back what RUN (a run id, or its journal file) changed, reading each object "
        "back; then run the plan's rollback phase.",
    ),
    "run": (
        "drill.cli._run",
        "run_command",
        "Run PLAN (a name in the plans directory, or a file path).",
    ),
    "runs": (
        "drill.cli._runs",
        "runs_command",
        "List runs that left changes behind (killed, crashed, live, or rollback incomplete), "
        "with the command that rolls each back; exit 1 when any has changes not undone.",
    ),
    "sandbox": (
        "drill.cli._sandbox",
        "sandbox_group",
        "A local simulated environment (Kubernetes API emulators with Velero) to rehearse in.",
    ),
    "schema": (
        "drill.cli._schema",
        "schema_command",
        "Print the JSON Schema of plan files, for editors to complete and check them.",
    ),
    "show": (
        "drill.cli._show",
        "show_command",
        "Print the ordered steps of PLAN as they would run, with substitutions and skips.",
    ),
    "tiers": (
        "drill.cli._tiers",
        "tiers_command",
        "Show tier targets (built in, overridable in the config file).",
    ),
    "validate": (
        "drill.cli._validate",
        "validate_command",
        "Check plan files (names or paths); print file:line:col problems, exit 2 if any.",
    ),
}


class _DrillGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, attribute, _ = COMMANDS[cmd_name]
        command: click.Command = getattr(importlib.import_module(module), attribute)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # As click's own, from the table: listing commands imports none of them.
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = [
            (name, click.Command(name, help=COMMANDS[name][2]).get_short_help_str(limit))
            for name in names
        ]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


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
@click.option(
    "--log-file",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Append the logs to FILE as JSON lines; none go to stderr. (On a terminal, `drill "
    "run` shows the plan as it runs with only warnings above it: -v adds every log line, "
    "-q leaves the view alone.)",
)
@click.option(
    "--no-cache",
    is_flag=True,
    help="list, show and validate compute their answer even when the same question was "
    "answered before with nothing it depends on changed (or set DRILL_NO_CACHE=1).",
)
@click.pass_context
def cli(
    ctx: click.Context,
    plans_dir: Path,
    config_file: str | None,
    kubeconfig: str | None,
    gcp_credentials: str | None,
    verbose: int,
    quiet: bool,
    log_file: Path | None,
    no_cache: bool,
) -> None:
    """Rehearse and perform disaster recovery for services on Kubernetes.

    Logs go to stderr (JSON lines unless stderr is a terminal); stdout carries only reports.
    """
    # Here, not at the top: `drill --help` never gets this far and need not load them.
    from drill.commands import Settings
    from providers.cloud import CloudSettings

    ctx.obj = Settings(
        environ=os.environ,
        plans_dir=plans_dir,
        config_file=config_file,
        verbosity=-1 if quiet else verbose,
        kubeconfig=kubeconfig,
        cloud=CloudSettings(gcp_credentials_file=gcp_credentials),
        log_file=log_file,
        remember_answers=not no_cache,
    )


def main() -> None:
    """The `drill` program: the console script and `python -m drill`."""
    mark_real_process()
    # The first model pydantic builds, it looks for plugins in the entry points of every
    # installed distribution (~10 ms with 120 installed, more with more) on every command
    # that checks a plan. drill uses no pydantic plugin; a value someone set is kept.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    cli()
