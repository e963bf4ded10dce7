"""Plans: load YAML, validate it completely, resolve it for a mode.

Public surface: ``load_plan``, ``find_plan``, ``resolve``, ``load_config`` and the models;
``plan_schema`` (the JSON Schema editors check plans with) and ``explain_topic`` (what
`drill explain` prints), both read from the models. Every problem in a file is reported at
once, as ``file:line:col: field: message``.

Must not: talk to any cluster or cloud, read the clock, or run steps.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from drill.errors import PlanError, UsageError
from drill.lazy import lazy_exports

if TYPE_CHECKING:
    from drill.plan._config import Config, load_config
    from drill.plan._coverage import Uncovered
    from drill.plan._explain import FieldDoc, TopicDoc
    from drill.plan._explain import explain as explain_topic
    from drill.plan._models import PHASES, ContextRole, ParallelGroup, PhaseName, Plan, StepSpec
    from drill.plan._probes import ProbeSettings, ResolvedProbe, ServiceAddress, service_address
    from drill.plan._resolve import ExecutionPlan, ResolvedStep, Stage, resolve
    from drill.plan._schema import plan_schema
    from drill.plan._schema import schema_text as plan_schema_text
    from drill.steps import Mode


@dataclass(frozen=True)
class LoadedPlan:
    plan: Plan
    source: str
    sha256: str = ""  # of the file's text: a run journals it, rollback compares it
    # What no later step checks, in either mode (``drill validate --strict`` refuses them).
    warnings: tuple[Uncovered, ...] = ()

    def warnings_of(self, mode: Mode) -> list[Uncovered]:
        return [w for w in self.warnings if w.mode == mode]

    def refuse_warnings(self, mode: Mode | None = None) -> None:
        """``--strict``: the warnings (of ``mode``, or of both) are errors."""
        found = self.warnings if mode is None else self.warnings_of(mode)
        if found:
            raise PlanError([w.problem for w in found])


def load_plan(path: Path, known_tiers: Collection[str]) -> LoadedPlan:
    """Read and validate one plan file; raises PlanError with every problem found."""
    # Loaded here, not with the package: `drill --help` lists commands without them.
    from drill.plan._config import read_text
    from drill.plan._validate import validate_located
    from drill.plan._yaml import YamlProblems, load_located

    text = read_text(path)
    try:
        located = load_located(text, str(path))
    except YamlProblems as exc:
        raise PlanError(exc.problems) from None
    plan, warnings = validate_located(located, known_tiers)
    return LoadedPlan(
        plan=plan, source=str(path), sha256=plan_digest(text), warnings=tuple(warnings)
    )


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
    a_path = "/" in name_or_path or "\\" in name_or_path
    is_file_name = name_or_path.endswith((".yaml", ".yml"))
    if (a_path or is_file_name) and given.is_dir():  # a bare name is looked up in plans_dir
        raise UsageError(f"plan {name_or_path!r}: a directory, not a plan file")
    if a_path or ".." in name_or_path:
        raise UsageError(f"plan {name_or_path!r}: no such file")
    names = (name_or_path,) if is_file_name else (f"{name_or_path}.yaml", f"{name_or_path}.yml")
    for candidate in (plans_dir / name for name in names):
        if candidate.is_file():
            return candidate
    if not plans_dir.is_dir():
        missing = (
            f"plan {name_or_path!r}: no such file here"
            if is_file_name
            else f"no plan named {name_or_path!r}"
        )
        raise UsageError(
            f"{missing}, and there is no plans directory {plans_dir} here; give a plan file's "
            "path, or set --plans-dir or DRILL_PLANS_DIR"
        )
    if is_file_name:
        raise UsageError(f"plan {name_or_path!r}: no such file here or in {plans_dir}")
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
    "FieldDoc",
    "LoadedPlan",
    "ParallelGroup",
    "PhaseName",
    "Plan",
    "ProbeSettings",
    "ResolvedProbe",
    "ResolvedStep",
    "ServiceAddress",
    "Stage",
    "StepSpec",
    "TopicDoc",
    "Uncovered",
    "explain_topic",
    "find_plan",
    "list_plan_files",
    "load_config",
    "load_plan",
    "plan_digest",
    "plan_schema",
    "plan_schema_text",
    "resolve",
    "service_address",
]
# Where the names above that this module does not define live; each loads when first used, so
# a command pays only for the part of the plan layer it uses (no schema or docs for `list`).
_HOMES = {
    "PHASES": "_models",
    "Config": "_config",
    "ContextRole": "_models",
    "ExecutionPlan": "_resolve",
    "FieldDoc": "_explain",
    "ParallelGroup": "_models",
    "PhaseName": "_models",
    "Plan": "_models",
    "ProbeSettings": "_probes",
    "ResolvedProbe": "_probes",
    "ServiceAddress": "_probes",
    "ResolvedStep": "_resolve",
    "Stage": "_resolve",
    "StepSpec": "_models",
    "TopicDoc": "_explain",
    "Uncovered": "_coverage",
    "explain_topic": "_explain:explain",
    "load_config": "_config",
    "plan_schema": "_schema",
    "plan_schema_text": "_schema:schema_text",
    "resolve": "_resolve",
    "service_address": "_probes",
}
if not TYPE_CHECKING:  # type checkers see the imports above, and flag unknown names
    __getattr__ = lazy_exports(__name__, _HOMES)
