"""`drill show PLAN [--live]`: the steps a run would take in that mode, and what it would skip."""

from __future__ import annotations

import click

from drill.cli._common import GlobalOptions, parse_context_flags, pass_options
from drill.cli._completion import complete_plan_names
from drill.cli._outline import outline_text
from drill.plan import resolve
from drill.steps import Mode


@click.command("show")
@click.argument("plan", shell_complete=complete_plan_names)
@click.option("--live", is_flag=True, help="Show the live (real failover) variant.")
@click.option("--context", "contexts", multiple=True, metavar="ROLE=KUBECONTEXT")
@pass_options
def show_command(options: GlobalOptions, plan: str, live: bool, contexts: tuple[str, ...]) -> None:
    """Print the ordered steps of PLAN as they would run, with substitutions and skips."""
    loaded = options.load(plan)
    overrides = parse_context_flags(contexts, set(loaded.plan.contexts))
    mode: Mode = "live" if live else "drill"
    resolved = resolve(loaded.plan, loaded.source, mode, options.config.tiers, overrides)
    click.echo(outline_text(resolved), nl=False)
