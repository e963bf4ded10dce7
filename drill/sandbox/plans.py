"""The plans a sandbox is built for, resolved in both modes (one world serves both)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from drill.plan import ExecutionPlan, load_config, load_plan, resolve


def resolve_both_modes(
    paths: Iterable[Path], config_file: str | None = None
) -> list[ExecutionPlan]:
    config = load_config(config_file)
    resolved = []
    for path in paths:
        loaded = load_plan(path, config.tiers)
        for mode in ("drill", "live"):
            resolved.append(resolve(loaded.plan, loaded.source, mode, config.tiers, {}))
    return resolved
