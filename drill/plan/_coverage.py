"""Verify covers what was changed: in each mode, everything a step changes that must be shown
to serve (a scaled workload, a restored namespace, a switched record or backend) is checked by
a later step of that mode, or by the step itself.

What counts as a check is each step type's to say (``StepType.to_verify`` and ``verifies``);
this module only matches them, in run order. These are warnings: ``drill validate --strict``
and ``drill run --strict`` make them errors.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from drill.errors import Problem
from drill.plan._models import PHASES, PhaseName
from drill.plan._yaml import Located, Path
from drill.steps import Mode, Resource, Unverified, covers

# A check proves recovery only while the recovery runs; cleanup and rollback come after.
FORWARD: tuple[PhaseName, ...] = ("preflight", "restore", "failover", "verify")


@dataclass(frozen=True)
class Uncovered:
    """A warning: in ``mode``, what ``problem`` names changes and no step checks it."""

    mode: Mode
    problem: Problem

    def __str__(self) -> str:
        problem = self.problem
        return f"{problem.file}:{problem.line}:{problem.column}: warning: {problem.field}: " + (
            problem.message
        )


@dataclass(frozen=True)
class Change:
    """One step of one mode that runs, where it stands in run order, and what it proves."""

    path: Path
    step_id: str
    order: tuple[int, int]  # (phase, entry): members of a parallel group stand side by side
    unverified: tuple[Unverified, ...]
    proofs: frozenset[Resource]


def position(path: Path) -> tuple[int, int] | None:
    """Run order of the step at ``path``; None outside the forward phases."""
    phase, index = path[1], path[2]
    if phase not in FORWARD or not isinstance(index, int):
        return None
    return PHASES.index(phase), index


def uncovered(located: Located, mode: Mode, steps: Iterable[Change]) -> list[Uncovered]:
    """A warning for each change of ``mode`` that no later step (nor the step itself) checks."""
    ordered = list(steps)
    problems = []
    for step in ordered:
        later = [s.proofs for s in ordered if s.order > step.order]
        for item in step.unverified:
            if not any(covers(proof, item.resource) for proofs in later for proof in proofs):
                problems.append(Uncovered(mode, _warning(located, mode, step, item)))
    return problems


def _warning(located: Located, mode: Mode, step: Change, item: Unverified) -> Problem:
    message = (
        f"in {mode} mode step {step.step_id} {item.change} {_shown(item.resource)}, and no "
        f"later step checks it: {item.remedy}"
    )
    return located.problem((*step.path, "id"), message)


def _shown(resource: Resource) -> str:
    if resource.kind == "workload" and resource.namespace:
        kind, _, name = resource.name.partition(" ")
        return f"{kind} {resource.namespace}/{name}"
    if resource.kind == "backend":
        return resource.name  # already says what it is: "backend service api", "listener alb:443"
    return f"{resource.kind} {resource.name}"
