"""`drill list`: the plans in the plans directory (or, with --types, the step types)."""

from __future__ import annotations

import click

from drill.cli._common import GlobalOptions, pass_options
from drill.errors import PlanError
from drill.plan import list_plan_files, load_plan
from drill.steps import STEP_TYPES


@click.command("list")
@click.option("--types", "show_types", is_flag=True, help="List step types instead of plans.")
@pass_options
def list_command(options: GlobalOptions, show_types: bool) -> None:
    """List plans (name, tier, description), or step types with --types."""
    if show_types:
        for step_type in STEP_TYPES.values():
            click.echo(f"{step_type.name:<22} {step_type.summary}")
        return
    files = list_plan_files(options.plans_dir)
    if not files:
        click.echo(
            f"no plans in {options.plans_dir} (set --plans-dir or DRILL_PLANS_DIR)", err=True
        )
        return
    for path in files:
        try:
            plan = load_plan(path, options.config.tiers).plan
        except PlanError as exc:
            click.echo(
                f"{path.stem:<24} INVALID ({len(exc.problems)} problems; drill validate {path})"
            )
            continue
        click.echo(f"{plan.name:<24} {plan.tier:<9} {plan.description}")
