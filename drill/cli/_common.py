"""What the click commands share: the settings they pass down and how they end the process.

Kept light: `drill --help` imports this module, so nothing here may import plans, pydantic,
reports, the runner or an SDK.
"""

from __future__ import annotations

import atexit
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import click

from drill.cli._process import is_real_process
from drill.commands import Console, Settings, exit_code_of

pass_settings = click.make_pass_decorator(Settings)

REPORT_DIR_HELP = "Where runs keep their journal and report (env DRILL_REPORT_DIR)."
# Where runs keep their journal and report: the same flag for every command that reads them.
report_dir_option = click.option(
    "--report-dir",
    envvar="DRILL_REPORT_DIR",
    default="reports",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help=REPORT_DIR_HELP,
)
# drill.report.RENDERERS' keys, spelled here so flag parsing need not import the renderers
# (tests/cli/test_parsing.py holds the two together).
REPORT_FORMATS = ("text", "json", "junit", "markdown", "html")


def finish(settings: Settings, command: Callable[[Console], int]) -> NoReturn:
    """Run a command function and exit with its code; a DrillError becomes one message."""
    console = Console.of_process()
    sys.exit(exit_code_of(lambda: command(console), console, settings.verbosity > 0))


def finish_fast(settings: Settings, command: Callable[[Console], int]) -> NoReturn:
    """Like ``finish``, but the real process skips interpreter teardown once the command has
    returned: for `drill run` and `drill rollback` the report, journal and deliveries are
    written and closed by then, and tearing down the SDKs they loaded costs longer than the
    rest of exiting.

    What was registered to run at exit still runs first, as on any exit: the kubernetes client
    deletes there the files it wrote a kubeconfig's certificates and client keys to, and
    temporary directories are removed there. Only the teardown of modules after it is skipped.
    """
    console = Console.of_process()
    code = exit_code_of(lambda: command(console), console, settings.verbosity > 0)
    if not is_real_process():
        sys.exit(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os._exit(code)


def context_option(also: str = "") -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--context ROLE=KUBECONTEXT`` (repeatable), as run, show and sandbox capture take it;
    ``also`` ends its help."""
    return click.option(
        "--context",
        "contexts",
        multiple=True,
        metavar="ROLE=KUBECONTEXT",
        help=f"Map a plan's context role to a kubeconfig context (repeatable){also}.",
    )


def sandbox_timing_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--profile`` and ``--time-scale``, as `drill run --sandbox` and `drill sandbox up`
    take them."""
    from drill.sandbox.state import PROFILE_NAMES

    command = click.option(
        "--time-scale",
        type=click.FloatRange(min=0.0, min_open=True, max=10.0),
        metavar="FACTOR",
        help="Sandbox: every simulated duration of the profile times FACTOR (0.1: ten times "
        "faster).",
    )(command)
    return click.option(
        "--profile",
        type=click.Choice(PROFILE_NAMES),
        help="Sandbox timing: fast (a drill in seconds; the default) or realistic (minutes-long "
        "restores, slow DNS, pods taking a minute).",
    )(command)
