"""Running the real `drill` entry point in a child process, as a user or a CronJob would.

The environment is the test's minus anything of the user's that could leak in (DRILL_*
settings, KUBECONFIG, the config directory); plans come from the repository, reports go to
the test's own directory.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def drill_env(workdir: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DRILL_", "KUBECONFIG"))}
    base.update(
        XDG_CONFIG_HOME=str(workdir / "xdg"),
        XDG_CACHE_HOME=str(workdir / "xdg-cache"),
        DRILL_PLANS_DIR=str(REPO / "plans"),
        DRILL_REPORT_DIR=str(workdir / "reports"),
    )
    return {**base, **(extra or {})}


def run_drill(
    workdir: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "drill", *args],
        cwd=workdir,
        env=drill_env(workdir, env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def popen_drill(
    workdir: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "drill", *args],
        cwd=workdir,
        env=drill_env(workdir, env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
