"""Small helpers shared by the plan tests: write a plan, collect its problems, find spots."""

from __future__ import annotations

from pathlib import Path

import pytest

from drill.errors import PlanError, Problem
from drill.plan import LoadedPlan, load_plan
from drill.tiers import DEFAULT_TIERS

REPO = Path(__file__).resolve().parents[2]
SHIPPED_PLANS = sorted((REPO / "plans").glob("*.yaml"))


def write(directory: Path, text: str, name: str = "plan.yaml") -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def load_text(directory: Path, text: str) -> LoadedPlan:
    return load_plan(write(directory, text), DEFAULT_TIERS)


def problems_of(directory: Path, text: str) -> list[Problem]:
    """The problems of a plan that must be invalid."""
    with pytest.raises(PlanError) as caught:
        load_text(directory, text)
    return caught.value.problems


def at(text: str, needle: str, occurrence: int = 0) -> tuple[int, int]:
    """1-based (line, column) of the ``occurrence``-th ``needle`` in ``text``."""
    index = -1
    for _ in range(occurrence + 1):
        index = text.find(needle, index + 1)
        assert index >= 0, f"{needle!r} occurs fewer than {occurrence + 1} times"
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return line, column


def only(problems: list[Problem], field: str) -> Problem:
    """The one problem about ``field``."""
    found = [p for p in problems if p.field == field]
    assert len(found) == 1, f"expected one problem for {field!r}, got {problems}"
    return found[0]


def spot(problem: Problem) -> tuple[int, int]:
    return problem.line, problem.column


# Two roles that may map to one cluster at run time: validation cannot tell, the executor can.
TWO_ROLES = """\
version: 1
name: two-roles
service: api
tier: high
contexts:
  primary: {kubecontext: prod-cluster}
  dr: {kubecontext: dr-cluster}
names:
  role_ns:
    drill: standby
    live: production
phases:
  failover:
    - id: scale-primary
      type: kube.scale
      context: primary
      drill: {skip: drills leave the primary alone}
      with: {namespace: standby, name: api, replicas: 0}
    - id: scale-dr
      type: kube.scale
      context: dr
      with: {namespace: "${role_ns}", name: api, replicas: 3}
  verify:
    - id: ok
      type: http.check
      with: {url: "http://127.0.0.1:1/"}
"""
