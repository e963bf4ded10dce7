"""What an adapter loads, seen from a fresh interpreter (this one has loaded everything)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.child import REPO


def modules_loaded_by(code: str, prefixes: tuple[str, ...]) -> list[str]:
    """Run ``code`` in a new interpreter at the repository root; the modules it had loaded by
    the end whose names start with one of ``prefixes``."""
    report = f"[n for n in sorted(sys.modules) if n.startswith({prefixes!r})]"
    probe = f"{code}\nimport json, sys\nprint(json.dumps({report}))"
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True
    )
    loaded: list[str] = json.loads(result.stdout.strip().splitlines()[-1])
    return loaded
