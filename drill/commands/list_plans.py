"""`drill list`: the plans in the plans directory (or, with --types, the step types)."""

from __future__ import annotations

from drill.commands._common import Settings
from drill.commands._console import Console
from drill.errors import ExitCode, PlanError
from drill.plan import list_plan_files, load_plan


def list_plans(settings: Settings, console: Console) -> int:
    """One line per plan: name, tier, description (or INVALID, with how to see why)."""
    files = list_plan_files(settings.plans_dir)
    if not files:
        console.err(f"no plans in {settings.plans_dir} (set --plans-dir or DRILL_PLANS_DIR)")
        return ExitCode.PASSED
    for path in files:
        try:
            plan = load_plan(path, settings.config.tiers).plan
        except PlanError as exc:
            console.out(
                f"{path.stem:<24} INVALID ({len(exc.problems)} problems; drill validate {path})\n"
            )
            continue
        console.out(f"{plan.name:<24} {plan.tier:<9} {plan.description}\n")
    return ExitCode.PASSED


def list_step_types(console: Console) -> int:
    """One line per step type: its name and what it does."""
    from drill.steps import STEP_TYPES

    for step_type in STEP_TYPES.values():
        console.out(f"{step_type.name:<22} {step_type.summary}\n")
    return ExitCode.PASSED
