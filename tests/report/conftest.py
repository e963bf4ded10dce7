"""A headless Chromium for checking the HTML report as a browser draws it."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


@dataclass(frozen=True)
class Chromium:
    executable: str
    profile: Path

    def run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.executable, *FLAGS, f"--user-data-dir={self.profile}", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def dump_dom(self, page: Path) -> str:
        result = self.run("--dump-dom", page.as_uri())
        assert result.returncode == 0, result.stderr[-2000:]
        return result.stdout

    def screenshot(self, page: Path, png: Path) -> None:
        result = self.run(f"--screenshot={png}", "--window-size=1280,2000", page.as_uri())
        assert result.returncode == 0, result.stderr[-2000:]


@pytest.fixture
def chromium(tmp_path: Path) -> Chromium:
    found = shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
    )
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed; CI must install it (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return Chromium(found, tmp_path / "chromium-profile")
