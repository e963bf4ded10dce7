"""The map of docs/architecture.md, enforced: every module in one layer, imports point down.

Each layer names the modules it owns and the lower layers it may import; a module may import
its own layer too, except that step types never import one another (what two of them share
lives in a ``drill/steps/_*`` support module). Relative imports are resolved to the absolute
names they mean, and imports under ``if TYPE_CHECKING:`` count: a type is a dependency too.
SDKs are imported only by the layers that talk to (or stand in for) the outside world.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CLIENT_SDKS = ("kubernetes", "google", "boto3", "botocore", "dns", "requests")
SERVER_SDKS = ("moto", "werkzeug", "gcp_storage_emulator", "dns", "cryptography")
ALL_SDKS = tuple(sorted(set(CLIENT_SDKS + SERVER_SDKS)))
# The terminal library draws the view of a run on a terminal, and only there: one module of
# the commands uses it, and the commands import that module only for a terminal.
TERMINAL_LIBRARY = "rich"
TERMINAL_VIEW = "drill.commands._view"


@dataclass(frozen=True)
class Layer:
    name: str
    packages: tuple[str, ...] = ()  # each claims itself and every module below it
    modules: tuple[str, ...] = ()  # each claims exactly that module
    may_import: tuple[str, ...] = ()  # lower layers, by name
    sdks: tuple[str, ...] = ()  # SDKs it may import
    sdks_at_import_time: bool = False  # False: only inside functions (or for type checking)


BOTTOM = ("report", "shared types", "foundation")
SANDBOX_SIDE = ("sandbox base", "shared types", "foundation")
UNDER_COMMANDS = (  # what the commands (and so the CLI) may use
    "sandbox runtime",
    "sandbox worlds",
    "executor",
    "history",
    "outputs",
    "plan",
    "steps",
    "providers",
    "provider contracts",
    *BOTTOM,
)

# Top to bottom; docs/architecture.md draws the same table.
LAYERS = (
    Layer("entry point", modules=("drill.__main__",), may_import=("cli",)),
    Layer(
        "cli",
        packages=("drill.cli",),
        may_import=("commands", *UNDER_COMMANDS),
    ),
    Layer(
        "commands",
        packages=("drill.commands",),
        may_import=UNDER_COMMANDS,
    ),
    Layer(
        "sandbox runtime",
        modules=(
            "drill.sandbox",
            "drill.sandbox.__main__",
            "drill.sandbox.runtime",
            "drill.sandbox.state",
            "drill.sandbox.clouds",
            "drill.sandbox.truth",
            "drill.sandbox.serving",
        ),
        may_import=(
            "sandbox worlds",
            "sandbox emulators",
            "provider contracts",
            *SANDBOX_SIDE,
        ),
    ),
    Layer(
        "sandbox worlds",
        packages=("drill.sandbox.worlds",),
        may_import=("plan", "steps", "provider contracts", "shared types", "foundation"),
    ),
    Layer(
        "executor",
        packages=("drill.executor",),
        may_import=("plan", "steps", "provider contracts", *BOTTOM),
    ),
    Layer("history", packages=("drill.history",), may_import=("provider contracts", *BOTTOM)),
    Layer("outputs", packages=("drill.outputs",), may_import=("provider contracts", *BOTTOM)),
    Layer("plan", packages=("drill.plan",), may_import=("steps", "shared types", "foundation")),
    Layer(
        "steps",
        packages=("drill.steps",),
        may_import=("provider contracts", "shared types", "foundation"),
    ),
    Layer(
        "providers",
        packages=("providers",),
        may_import=("provider contracts", "shared types", "foundation"),
        sdks=CLIENT_SDKS,
    ),
    Layer(
        "sandbox emulators",
        packages=("drill.sandbox.kube", "drill.sandbox.gcp"),
        modules=("drill.sandbox.aws", "drill.sandbox.gcs", "drill.sandbox.gateway"),
        may_import=(
            "kube transport",
            "kube controllers",
            "kube faults",
            "kube api",
            "provider contracts",
            *SANDBOX_SIDE,
        ),
        sdks=SERVER_SDKS,
        sdks_at_import_time=True,
    ),
    Layer(
        "kube transport",
        packages=("drill.sandbox.kube.transport",),
        may_import=("kube faults", "kube api", *SANDBOX_SIDE),
    ),
    Layer(
        "kube controllers",
        packages=("drill.sandbox.kube.controllers",),
        may_import=("kube faults", "kube api", "shared types", "foundation"),
    ),
    Layer(
        "kube faults",
        modules=("drill.sandbox.kube._faults",),
        may_import=("kube api", *SANDBOX_SIDE),
    ),
    Layer(
        "kube api", packages=("drill.sandbox.kube.api",), may_import=("shared types", "foundation")
    ),
    Layer("sandbox base", modules=("drill.sandbox.emulator", "drill.sandbox.faults")),
    Layer("provider contracts", modules=("providers.protocols", "providers.cloud")),
    Layer("report", packages=("drill.report",), may_import=("shared types", "foundation")),
    Layer(
        "shared types",
        modules=("drill.clock", "drill.tiers", "drill.fieldtypes", "drill.run_ids"),
        may_import=("foundation",),
    ),
    Layer(
        "foundation",
        modules=(
            "drill",
            "drill.errors",
            "drill.durations",
            "drill.redact",
            "drill.logs",
            "drill.processes",
            "drill.lazy",
            "drill.locations",
            "drill.answers",
        ),
    ),
)
BY_NAME = {layer.name: layer for layer in LAYERS}


@dataclass(frozen=True)
class Import:
    name: str  # absolute dotted name, relative imports resolved
    line: int
    lazy: bool  # inside a function, or only for type checking


def modules() -> list[tuple[str, Path]]:
    found = []
    for package in ("drill", "providers"):
        for path in sorted((ROOT / package).rglob("*.py")):
            dotted = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found.append((dotted.removesuffix(".__init__"), path))
    return found


MODULES = modules()
KNOWN = {name for name, _ in MODULES}


def layer_of(module: str) -> Layer | None:
    """The layer that claims ``module``: an exact claim first, else the deepest package claim."""
    for layer in LAYERS:
        if module in layer.modules:
            return layer
    claims = [
        (len(package), layer)
        for layer in LAYERS
        for package in layer.packages
        if module == package or module.startswith(package + ".")
    ]
    return max(claims, key=lambda claim: claim[0])[1] if claims else None


@functools.cache  # each rule reads every module: each module is parsed once per process
def imports_in(module: str, source: str, *, is_package: bool = False) -> tuple[Import, ...]:
    return tuple(_walk(list(ast.parse(source).body), module, is_package, lazy=False))


def imports_of(path: Path) -> list[str]:
    """Every name the file at ``path`` imports, relative imports resolved (other tests use it)."""
    dotted = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
    source = path.read_text()
    return [i.name for i in imports_in(dotted, source, is_package=path.name == "__init__.py")]


def _walk(nodes: list[ast.AST], module: str, is_package: bool, lazy: bool) -> Iterator[Import]:
    for node in nodes:
        if isinstance(node, ast.Import):
            yield from (Import(alias.name, node.lineno, lazy) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            yield from _from_import(node, module, is_package, lazy)
        elif isinstance(node, ast.If) and _is_type_checking(node):
            yield from _walk(list(node.body), module, is_package, lazy=True)
            yield from _walk(list(node.orelse), module, is_package, lazy)
        else:
            inside_function = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            children = list(ast.iter_child_nodes(node))
            yield from _walk(children, module, is_package, lazy or inside_function)


def _is_type_checking(node: ast.stmt) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _from_import(
    node: ast.ImportFrom, module: str, is_package: bool, lazy: bool
) -> Iterator[Import]:
    target = node.module or ""
    if node.level:
        parts = module.split(".") if is_package else module.split(".")[:-1]
        base = parts[: len(parts) - (node.level - 1)]
        target = ".".join([*base, node.module] if node.module else base)
    for alias in node.names:
        submodule = f"{target}.{alias.name}"
        yield Import(submodule if submodule in KNOWN else target, node.lineno, lazy)


def upward_imports(module: str, source: str, *, is_package: bool = False) -> list[str]:
    """Each import of ``module`` that its layer may not make, worded for a failure message."""
    own = layer_of(module)
    assert own is not None, f"{module} is in no layer of the map"
    allowed = {own.name, *own.may_import}
    bad = []
    for found in imports_in(module, source, is_package=is_package):
        if found.name.split(".")[0] not in ("drill", "providers"):
            continue
        target = layer_of(found.name)
        if target is None or target.name not in allowed:
            where = target.name if target else "no layer"
            bad.append(f"line {found.line}: {found.name} ({where}) from {own.name}")
    return bad


def sideways_step_imports(module: str, source: str) -> list[str]:
    """A step type importing another step type (support modules start with ``_``)."""
    bad = []
    for found in imports_in(module, source):
        parts = found.name.split(".")
        is_step_type = parts[:2] == ["drill", "steps"] and len(parts) > 2
        if is_step_type and not parts[2].startswith("_") and found.name != module:
            bad.append(f"line {found.line}: {found.name}")
    return bad


def sdk_violations(module: str, source: str) -> list[str]:
    layer = layer_of(module)
    assert layer is not None, f"{module} is in no layer of the map"
    bad = []
    for found in imports_in(module, source):
        sdk = found.name.split(".")[0]
        if sdk not in ALL_SDKS:
            continue
        if sdk not in layer.sdks:
            bad.append(f"line {found.line}: {found.name} (no SDK in {layer.name})")
        elif not found.lazy and not layer.sdks_at_import_time:
            bad.append(f"line {found.line}: {found.name} at import time")
    return bad


# -- the map itself ---------------------------------------------------------------------------


def test_every_module_is_in_exactly_one_layer() -> None:
    claims = [c for layer in LAYERS for c in (*layer.packages, *layer.modules)]
    assert len(claims) == len(set(claims)), "a module or package is claimed by two layers"
    assert [name for name, _ in MODULES if layer_of(name) is None] == []


def test_layers_only_import_layers_below_them() -> None:
    order = [layer.name for layer in LAYERS]
    for position, layer in enumerate(LAYERS):
        assert set(layer.may_import) <= set(order[position + 1 :]), layer.name


# -- the code against the map -----------------------------------------------------------------


@pytest.mark.parametrize(("module", "path"), MODULES, ids=lambda v: str(v))
def test_imports_point_downward(module: str, path: Path) -> None:
    is_package = path.name == "__init__.py"
    assert upward_imports(module, path.read_text(), is_package=is_package) == []


@pytest.mark.parametrize(("module", "path"), MODULES, ids=lambda v: str(v))
def test_sdks_only_where_the_map_allows_them(module: str, path: Path) -> None:
    assert sdk_violations(module, path.read_text()) == []


def terminal_library_imports(module: str, source: str) -> list[str]:
    """Imports of the terminal library by any module but the terminal view, and of the view
    at import time by any module (it must load only when a run has a terminal)."""
    bad = []
    for found in imports_in(module, source):
        if found.name.split(".")[0] == TERMINAL_LIBRARY and module != TERMINAL_VIEW:
            bad.append(f"line {found.line}: {found.name} outside {TERMINAL_VIEW}")
        if found.name == TERMINAL_VIEW and not found.lazy:
            bad.append(f"line {found.line}: {found.name} at import time")
    return bad


@pytest.mark.parametrize(("module", "path"), MODULES, ids=lambda v: str(v))
def test_only_the_terminal_view_draws_on_terminals(module: str, path: Path) -> None:
    assert terminal_library_imports(module, path.read_text()) == []


def test_the_checker_catches_the_terminal_library_out_of_place() -> None:
    assert terminal_library_imports("drill.executor._runner", "import rich.live\n") != []
    assert terminal_library_imports("drill.commands.run", "from rich.text import Text\n") != []
    eager = "from drill.commands._view import TerminalView\n"
    assert terminal_library_imports("drill.commands.run", eager) != []
    lazy = "def view():\n    from drill.commands._view import TerminalView\n"
    assert terminal_library_imports("drill.commands.run", lazy) == []
    assert terminal_library_imports(TERMINAL_VIEW, "from rich.live import Live\n") == []


@pytest.mark.parametrize(
    ("module", "path"), [(m, p) for m, p in MODULES if m.startswith("drill.steps.")], ids=str
)
def test_step_types_do_not_import_each_other(module: str, path: Path) -> None:
    assert sideways_step_imports(module, path.read_text()) == []


# -- the checker catches what it should -------------------------------------------------------


def test_the_checker_catches_an_upward_import() -> None:
    source = "from drill.executor import run_plan\n"
    assert upward_imports("drill.steps.kube_scale", source) != []
    assert upward_imports("drill.executor._runner", "from drill.steps import STEP_TYPES\n") == []


def test_the_checker_catches_a_relative_upward_import() -> None:
    assert upward_imports("drill.plan._models", "from ..executor import run_plan\n") != []
    assert upward_imports("drill.plan._models", "from .. import cli\n") != []
    package = upward_imports("drill.steps", "from ..cli import main\n", is_package=True)
    assert package != []
    assert upward_imports("drill.plan._models", "from ._yaml import load\n") == []


def test_the_checker_catches_an_import_of_the_commands_layer_from_below() -> None:
    assert upward_imports("drill.executor._runner", "from drill.commands import run\n") != []
    assert upward_imports("drill.commands.run", "from drill.cli import main\n") != []
    assert upward_imports("drill.commands.run", "from drill.executor import run_plan\n") == []


def test_the_checker_catches_sideways_step_imports_and_eager_sdks() -> None:
    velero = "from drill.steps.velero_backup_fresh import newest_completed\n"
    assert sideways_step_imports("drill.steps.velero_restore", velero) != []
    assert sideways_step_imports("drill.steps.velero_restore", "from ._velero import x\n") == []
    assert sdk_violations("providers.kube", "from kubernetes import client\n") != []
    assert sdk_violations("providers.kube", "def f():\n    from kubernetes import client\n") == []
    assert sdk_violations("drill.plan._yaml", "def f():\n    import boto3\n") != []
    assert sdk_violations("drill.sandbox.kube.api.store", "import moto\n") != []
    assert sdk_violations("drill.sandbox.aws", "import moto\n") == []
    typed = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import kubernetes\n"
    assert sdk_violations("providers.kube", typed) == []
