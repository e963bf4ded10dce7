"""Plans: load YAML, validate it completely, resolve it for a mode.

Public surface: ``load_plan``, ``find_plan``, ``resolve``, ``load_config`` and the models.
Every problem in a file is reported at once, as ``file:line:col: field: message``.

Must not: talk to any cluster or cloud, read the clock, or run steps.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from drill.errors import PlanError, UsageError
from drill.plan._config import Config, default_config_path, load_config, read_text
from drill.plan._models import PHASES, ContextRole, ParallelGroup, PhaseName, Plan, StepSpec
from drill.plan._probes import ProbeSettings, ResolvedProbe
from drill.plan._resolve import ExecutionPlan, ResolvedStep, Stage, resolve
from drill.plan._validate import validate_located
from drill.plan._yaml import YamlProblems, load_located


@dataclass(frozen=True)
class LoadedPlan:
    plan: Plan
    source: str
    sha256: str = ""  # of the file's text: a run journals it, rollback compares it


def load_plan(path: Path, known_tiers: Collection[str]) -> LoadedPlan:
    """Read and validate one plan file; raises PlanError with every problem found."""
    text = read_text(path)
    try:
        located = load_located(text, str(path))
    except YamlProblems as exc:
        raise PlanError(exc.problems) from None
    plan = validate_located(located, known_tiers)
    return LoadedPlan(plan=plan, source=str(path), sha256=plan_digest(text))


def plan_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def find_plan(name_or_path: str, plans_dir: Path) -> Path:
    """A plan named ``name`` in ``plans_dir``, or an existing file path.

    A name carrying path separators or ``..`` must be an existing file: it is never joined
    onto the plans directory, so a name cannot reach outside it.
    """
    given = Path(name_or_path)
    if given.is_file():
        return given
    if "/" in name_or_path or "\\" in name_or_path or ".." in name_or_path:
        raise UsageError(f"plan {name_or_path!r}: no such file")
    for candidate in (plans_dir / f"{name_or_path}.yaml", plans_dir / f"{name_or_path}.yml"):
        if candidate.is_file():
            return candidate
    available = ", ".join(p.stem for p in list_plan_files(plans_dir)) or "none"
    raise UsageError(
        f"no plan named {name_or_path!r} in {plans_dir} (available: {available}); "
        "set --plans-dir or DRILL_PLANS_DIR to look elsewhere"
    )


def list_plan_files(plans_dir: Path) -> list[Path]:
    if not plans_dir.is_dir():
        return []
    return sorted(p for p in plans_dir.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


__all__ = [
    "PHASES",
    "Config",
    "ContextRole",
    "ExecutionPlan",
    "LoadedPlan",
    "ParallelGroup",
    "PhaseName",
    "Plan",
    "ProbeSettings",
    "ResolvedProbe",
    "ResolvedStep",
    "Stage",
    "StepSpec",
    "default_config_path",
    "find_plan",
    "list_plan_files",
    "load_config",
    "load_plan",
    "plan_digest",
    "resolve",
]
