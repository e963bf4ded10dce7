"""drill.outputs sits beside drill.report: it may use the bottom layers and the provider
protocols, and nothing above it or any adapter (the CLI hands it an HttpClient)."""

from __future__ import annotations

import subprocess
import sys

from tests.test_layering import ROOT, imports_of

ALLOWED = (
    "drill.outputs",
    "drill.report",
    "drill.errors",
    "drill.redact",
    "drill.clock",
    "drill.durations",
    "drill.lazy",
    "providers.protocols",
)


def test_outputs_import_only_the_layers_below() -> None:
    for path in (ROOT / "drill" / "outputs").glob("*.py"):
        ours = [n for n in imports_of(path) if n.startswith(("drill.", "providers"))]
        assert [n for n in ours if not n.startswith(ALLOWED)] == [], path.name


def test_importing_outputs_loads_no_http_client_or_sdk() -> None:
    code = (
        "import sys, drill.outputs as outputs; "
        "[getattr(outputs, name) for name in outputs.__all__]; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('urllib3', 'boto3', 'google', 'kubernetes', 'providers')))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    assert loaded.strip() == "['providers', 'providers.protocols']"
