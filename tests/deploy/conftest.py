"""The rendered deploy/base, shared by the deploy tests (rendering is pure: once per session)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.child import REPO
from tests.deploy.kustomize import Manifest, render

BASE = REPO / "deploy" / "base"
OVERLAY = REPO / "deploy" / "overlays" / "example"


@pytest.fixture(scope="session")
def rendered() -> list[Manifest]:
    return render(BASE)


def only(manifests: list[Manifest], kind: str) -> Manifest:
    found = [m for m in manifests if m["kind"] == kind]
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]


def plan_files(directory: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(directory.glob("*.yaml"))}
