"""The real gcloud CLI against the sandbox's Google emulators.

Each test gets a private gcloud configuration directory: no credentials (the emulators take
anonymous requests), the emulators' base URLs as API endpoint overrides, and no update check
or usage report, so the real client talks to nothing but 127.0.0.1. Properties are given as
``CLOUDSDK_*`` environment variables rather than `gcloud config set`, one process fewer each.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

needs_gcloud = pytest.mark.skipif(shutil.which("gcloud") is None, reason="gcloud is not on PATH")


@dataclass(frozen=True)
class Gcloud:
    """``gcloud`` with ``project`` as its project and ``endpoints`` (API name, as gcloud's
    ``api_endpoint_overrides/NAME`` property names it -> base URL) in place of Google's."""

    config_dir: Path
    project: str
    endpoints: dict[str, str]

    def __call__(self, *args: str, timeout_s: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["gcloud", *args],
            env=self._environment(),
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )

    def json(self, *args: str) -> Any:
        """The command's output as JSON; fails the test with gcloud's message when it fails."""
        done = self(*args, "--format=json")
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def _environment(self) -> dict[str, str]:
        overrides = {
            f"CLOUDSDK_API_ENDPOINT_OVERRIDES_{api.upper()}": url.rstrip("/") + "/"
            for api, url in self.endpoints.items()
        }
        return {
            **os.environ,
            "CLOUDSDK_CONFIG": str(self.config_dir),
            "CLOUDSDK_CORE_PROJECT": self.project,
            "CLOUDSDK_AUTH_DISABLE_CREDENTIALS": "true",
            "CLOUDSDK_CORE_DISABLE_PROMPTS": "1",
            "CLOUDSDK_CORE_DISABLE_USAGE_REPORTING": "true",
            "CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK": "true",
            **overrides,
        }


def gcloud_for(tmp_path: Path, project: str, **endpoints: str) -> Gcloud:
    """A gcloud whose configuration lives under ``tmp_path``, e.g.
    ``gcloud_for(tmp_path, "example-prod", dns=emulator.url)``."""
    config_dir = tmp_path / "gcloud-config"
    config_dir.mkdir(exist_ok=True)
    return Gcloud(config_dir, project, dict(endpoints))
