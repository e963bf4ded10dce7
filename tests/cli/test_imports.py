"""`drill --help`, `validate`, `list` and `show` must not pay for cloud SDKs (python -X importtime),
and `--help` not even for plans, pydantic or any command's module."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.child import REPO

# Child processes: each pays the interpreter's and drill's start-up.
pytestmark = pytest.mark.slow

HEAVY = ("kubernetes", "google.cloud", "google.api_core", "boto3", "botocore")


def imported_modules(*args: str) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "drill", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
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
def test_no_cloud_sdk_is_imported(args: tuple[str, ...]) -> None:
    modules = imported_modules(*args)
    assert "drill.cli" in modules
    heavy = sorted(m for m in modules if m.startswith(HEAVY))
    assert heavy == []


def test_help_imports_no_command_and_no_pydantic() -> None:
    modules = imported_modules("--help")
    assert not {m for m in modules if m.startswith(("pydantic", "yaml", "drill.plan"))}
    assert not {m for m in modules if m.startswith("drill.cli._") and m != "drill.cli._common"}
    assert not {m for m in modules if m.startswith("drill.commands.")} - {
        "drill.commands._common",
        "drill.commands._console",
    }


def test_step_types_load_when_first_looked_up() -> None:
    from drill.steps import STEP_TYPES

    for name, step_type in STEP_TYPES.items():
        assert step_type.name == name
        assert STEP_TYPES[name] is step_type  # built once
