from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.child import popen_drill, run_drill
from tests.inprocess import InProcess


class Drill:
    """Runs the real `drill` entry point in a child process, as a user or a CronJob would."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir

    def __call__(
        self, *args: str, env: dict[str, str] | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        return run_drill(self.workdir, *args, env=env, timeout=timeout)

    def popen(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        return popen_drill(self.workdir, *args, env=env)


@pytest.fixture
def drill(tmp_path: Path) -> Drill:
    return Drill(tmp_path)


@pytest.fixture
def commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> InProcess:
    """drill's commands in this process, run from the test's own directory as a child is."""
    monkeypatch.chdir(tmp_path)
    return InProcess(tmp_path)


@pytest.fixture
def write_plan(tmp_path: Path) -> Callable[[str, str], Path]:
    def write(name: str, text: str) -> Path:
        path = tmp_path / f"{name}.yaml"
        path.write_text(text, encoding="utf-8")
        return path

    return write
