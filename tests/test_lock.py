"""The lock files agree with each other and with pyproject.toml, and every import is declared."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LOCKS = ROOT / "requirements"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^ ;\\]+)", re.MULTILINE)
# Imports that are the project itself or the standard library need no declaration.
OWN = {"drill", "providers"}


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(lock: str) -> dict[str, str]:
    text = (LOCKS / lock).read_text(encoding="utf-8")
    return {normalized(name): version for name, version in PIN.findall(text)}


def requirement_name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
    assert match is not None, requirement
    return normalized(match.group(0))


def project() -> dict[str, object]:
    with (ROOT / "pyproject.toml").open("rb") as file:
        data: dict[str, object] = tomllib.load(file)["project"]
    return data


def declared(extra: str | None = None) -> set[str]:
    table = project()
    if extra is None:
        requirements = table["dependencies"]
    else:
        extras = table["optional-dependencies"]
        assert isinstance(extras, dict)
        requirements = extras[extra]
    assert isinstance(requirements, list)
    return {requirement_name(r) for r in requirements} - {"drill"}


@pytest.mark.parametrize("lock", ["runtime.txt", "build.txt", "dev.txt"])
def test_every_pin_carries_hashes(lock: str) -> None:
    text = (LOCKS / lock).read_text(encoding="utf-8")
    blocks = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2])
    assert blocks
    for block in blocks:
        assert "==" in block, block.splitlines()[0]
        assert "--hash=sha256:" in block, block.splitlines()[0]


def test_dev_lock_has_the_runtime_and_build_versions() -> None:
    dev = pins("dev.txt")
    for lock in ("runtime.txt", "build.txt"):
        differ = {n: (v, dev.get(n)) for n, v in pins(lock).items() if dev.get(n) != v}
        assert differ == {}, f"{lock} and dev.txt disagree: run make lock"


def test_every_declared_dependency_is_locked() -> None:
    assert declared() - set(pins("runtime.txt")) == set()
    dev_side = declared("dev") | declared("sandbox") | declared()
    assert dev_side - set(pins("dev.txt")) == set()


def imported_top_level_names(package: str) -> set[str]:
    names: set[str] = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
    return names - OWN - set(sys.stdlib_module_names) - {"__future__"}


def test_every_module_drill_imports_is_a_declared_dependency() -> None:
    """An import satisfied only by a transitive dependency breaks when that one drops it."""
    owners = packages_distributions()
    allowed = declared() | declared("sandbox")
    undeclared = {}
    for name in imported_top_level_names("drill") | imported_top_level_names("providers"):
        distributions = {normalized(d) for d in owners.get(name, [])}
        assert distributions, f"{name} is imported but no installed distribution provides it"
        if not distributions & allowed:
            undeclared[name] = sorted(distributions)
    assert undeclared == {}
