from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


class Drill:
    """Runs the real `drill` entry point in a child process, as a user or a CronJob would."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir

    def __call__(
        self, *args: str, env: dict[str, str] | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "drill", *args],
            cwd=self.workdir,
            env=self.env(env),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def popen(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "drill", *args],
            cwd=self.workdir,
            env=self.env(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def env(self, extra: dict[str, str] | None) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith("DRILL_")}
        base["XDG_CONFIG_HOME"] = str(self.workdir / "xdg")  # no user config leaks in
        base["DRILL_PLANS_DIR"] = str(REPO / "plans")
        base["DRILL_REPORT_DIR"] = str(self.workdir / "reports")
        return {**base, **(extra or {})}


@pytest.fixture
def drill(tmp_path: Path) -> Drill:
    return Drill(tmp_path)


@pytest.fixture
def write_plan(tmp_path: Path) -> Callable[[str, str], Path]:
    def write(name: str, text: str) -> Path:
        path = tmp_path / f"{name}.yaml"
        path.write_text(text, encoding="utf-8")
        return path

    return write
