"""`drill --help`, `validate`, `list` and `show` must not pay for cloud SDKs or the terminal
library (python -X importtime), and `--help` not even for plans, pydantic or any command's
module. A run whose stderr is not a terminal does not load the terminal view either (structlog
itself imports part of rich, when it is installed, for its tracebacks)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.child import REPO

# Child processes: each pays the interpreter's and drill's start-up.
pytestmark = pytest.mark.slow

HEAVY = ("kubernetes", "google.cloud", "google.api_core", "boto3", "botocore")
TERMINAL = ("rich", "drill.commands._view", "drill.commands._board")


def imported_modules(*args: str, exit_code: int = 0, env: dict[str, str] | None = None) -> set[str]:
    """What `drill ARGS` imports computing its answer (the answer cache off, unless ``env``
    says otherwise)."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "drill", *args],
        cwd=REPO,
        env=env or {**os.environ, "DRILL_NO_CACHE": "1"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == exit_code, result.stderr[-2000:]
    modules = set()
    for line in result.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            modules.add(line.rsplit("|", 1)[1].strip())
    assert modules, "importtime printed nothing"
    return modules


@pytest.mark.parametrize(
    "args",
    [
        ("--help",),
        ("validate", "plans/region-failure.yaml", "plans/namespace-restore.yaml"),
        ("list",),
        ("show", "region-failure"),
        ("schema",),
        ("explain", "velero.restore"),
    ],
)
def test_no_cloud_sdk_and_no_terminal_library_is_imported(args: tuple[str, ...]) -> None:
    modules = imported_modules(*args)
    assert "drill.cli" in modules
    heavy = sorted(m for m in modules if m.startswith(HEAVY + TERMINAL))
    assert heavy == []


def test_a_run_off_a_terminal_does_not_load_the_terminal_view() -> None:
    # It gets as far as asking the cluster (the view, had there been one, was up by then).
    modules = imported_modules("--kubeconfig", "missing", "run", "namespace-restore", exit_code=2)
    assert "providers.kube" in modules  # the adapter that asked the cluster
    view = ("rich.live", "drill.commands._view", "drill.commands._board")
    assert sorted(m for m in modules if m.startswith(view)) == []


def test_help_imports_no_command_and_no_pydantic() -> None:
    modules = imported_modules("--help")
    assert not {m for m in modules if m.startswith(("pydantic", "yaml", "drill.plan"))}
    assert not {m for m in modules if m.startswith("drill.cli._")} - {"drill.cli._process"}
    assert not {m for m in modules if m.startswith(("drill.commands", "providers"))}


def every_command() -> list[tuple[str, ...]]:
    """Each command's words as typed (`sandbox up` as well as `sandbox`)."""
    import click

    from drill.cli import cli

    found: list[tuple[str, ...]] = []
    context = click.Context(cli)
    for name in cli.list_commands(context):
        command = cli.get_command(context, name)
        found.append((name,))
        if isinstance(command, click.Group):
            found += [(name, sub) for sub in command.list_commands(click.Context(command))]
    return found


@pytest.mark.parametrize("words", every_command(), ids=" ".join)
def test_a_commands_help_loads_no_models_plans_or_http_client(words: tuple[str, ...]) -> None:
    modules = imported_modules(*words, "--help")
    loaded = ("pydantic", "yaml", "drill.plan", "drill.report", "urllib3", "http.client")
    assert sorted(m for m in modules if m.startswith(loaded)) == []


def test_step_types_load_when_first_looked_up() -> None:
    from drill.steps import STEP_TYPES

    for name, step_type in STEP_TYPES.items():
        assert step_type.name == name
        assert STEP_TYPES[name] is step_type  # built once


def test_structlog_loads_with_the_first_log_line() -> None:
    """A run makes its logger before its first request and logs only after it: structlog's
    import waits for the first line, which carries everything bound before."""
    code = "\n".join(
        [
            "import io, sys",
            "from drill.logs import build_logger",
            "out = io.StringIO()",
            "log = build_logger(0, stream=out, json_lines=True).bind(run_id='r-1')",
            "before = 'structlog' in sys.modules",
            "log.debug('too_detailed')",
            "log.bind(step='s').info('lease_taken', lease='default/drill-api')",
            "print(before, 'structlog' in sys.modules, out.getvalue().strip())",
        ]
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    before, after, line = result.stdout.split(" ", 2)
    assert (before, after) == ("False", "True")
    logged = json.loads(line)
    assert logged["event"] == "lease_taken"
    assert (logged["run_id"], logged["step"], logged["level"]) == ("r-1", "s", "info")


def loaded_after(code: str) -> set[str]:
    """The modules of drill (and structlog) a fresh interpreter holds after ``code``."""
    report = (
        "import sys, json\n"
        "print(json.dumps([m for m in sys.modules if m.startswith(('drill', 'structlog'))]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", f"{code}\n{report}"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    loaded: list[str] = json.loads(result.stdout)
    return set(loaded)


def test_a_run_asks_its_clusters_before_the_runner_and_the_report_load() -> None:
    """What `drill run` loads up to its first request (checking its contexts, then the lease),
    and what it loads only once it holds the lease."""
    before_first_request = loaded_after(
        "import drill.commands.run\n"
        "from drill.executor import Cancellation, RunLease, RunLocked, StepRuntime"
    )
    assert "drill.executor._lease" in before_first_request
    for later in ("drill.executor._runner", "drill.executor._journal", "drill.report"):
        assert later not in before_first_request
    assert "structlog" not in before_first_request


@pytest.mark.parametrize(
    "package", ["drill.executor", "drill.history", "drill.outputs", "drill.plan", "drill.steps"]
)
def test_every_public_name_of_a_lazy_package_loads(package: str) -> None:
    import importlib

    module = importlib.import_module(package)
    for name in module.__all__:
        assert getattr(module, name) is getattr(module, name)  # found, and kept
    with pytest.raises(AttributeError):
        _ = module.no_such_name


def test_listing_plans_loads_no_schema_docs_resolver_or_provider_types() -> None:
    modules = imported_modules("list")
    assert "drill.plan._validate" in modules  # it checks every plan
    unused = ("drill.plan._schema", "drill.plan._explain", "drill.plan._resolve")
    assert sorted(m for m in modules if m.startswith((*unused, "providers.protocols"))) == []


@pytest.mark.parametrize(
    "args",
    [("list",), ("show", "region-failure"), ("validate", "plans/region-failure.yaml")],
)
def test_a_question_answered_before_loads_neither_pydantic_nor_plans(
    args: tuple[str, ...], tmp_path: Path
) -> None:
    env = {**os.environ, "DRILL_CACHE_DIR": str(tmp_path)}
    env.pop("DRILL_NO_CACHE", None)
    cold = imported_modules(*args, env=env)
    warm = imported_modules(*args, env=env)
    assert "drill.plan" in cold  # the first time it computed the answer
    loaded = {m for m in warm if m.startswith(("pydantic", "yaml", "drill.plan", "drill.steps"))}
    assert loaded == set()
    assert not {m for m in warm if m.startswith("drill.commands.")} - {
        "drill.commands._common",
        "drill.commands._console",
    }
