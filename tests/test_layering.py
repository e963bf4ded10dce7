"""Imports point downward only (DESIGN.md section 4): a layer never imports one above it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Each package and the packages it must never import.
FORBIDDEN = {
    "drill.plan": ("drill.cli", "drill.executor"),
    "drill.executor": ("drill.cli",),
    "drill.history": ("drill.cli", "drill.executor", "drill.plan", "drill.steps", "drill.sandbox"),
    "drill.outputs": ("drill.cli", "drill.executor", "drill.plan", "drill.steps", "drill.sandbox"),
    "drill.steps": ("drill.cli", "drill.executor", "drill.plan"),
    "providers": ("drill.cli", "drill.executor", "drill.plan", "drill.steps", "drill.report"),
    "drill.report": ("drill.cli", "drill.executor", "drill.plan", "drill.steps", "providers"),
    "drill.clock": ("drill.cli", "drill.executor", "drill.plan", "drill.steps", "providers"),
    "drill.errors": ("drill.", "providers"),
    # The emulators are a server: no drill layer above the clock, no provider, no SDK.
    "drill.sandbox.kube": ("drill.cli", "drill.executor", "drill.plan", "drill.steps", "providers"),
}
SDKS = ("kubernetes", "google", "boto3", "botocore")


def modules() -> list[tuple[str, Path]]:
    found = []
    for package in ("drill", "providers"):
        for path in (ROOT / package).rglob("*.py"):
            dotted = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found.append((dotted.removesuffix(".__init__"), path))
    return found


def imports_of(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


@pytest.mark.parametrize(("module", "path"), modules(), ids=lambda v: str(v))
def test_imports_point_downward(module: str, path: Path) -> None:
    for layer, forbidden in FORBIDDEN.items():
        if module == layer or module.startswith(layer + "."):
            bad = [name for name in imports_of(path) if name.startswith(forbidden)]
            assert bad == [], f"{module} imports {bad}"


@pytest.mark.parametrize(("module", "path"), modules(), ids=lambda v: str(v))
def test_sdks_only_inside_providers_and_only_lazily(module: str, path: Path) -> None:
    tree = ast.parse(path.read_text())
    top_level = [node for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)]
    names = [alias.name for n in top_level if isinstance(n, ast.Import) for alias in n.names]
    names += [n.module for n in top_level if isinstance(n, ast.ImportFrom) and n.module]
    assert not [n for n in names if n.startswith(SDKS)], f"{module} imports an SDK at import time"
    if not module.startswith("providers"):
        assert not [n for n in imports_of(path) if n.startswith(SDKS)]
