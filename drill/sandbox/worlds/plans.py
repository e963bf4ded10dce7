"""The plans a sandbox is built for, resolved in both modes (one world serves both)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from drill.plan import ExecutionPlan, LoadedPlan, load_config, load_plan, resolve
from drill.tiers import DEFAULT_TIERS, Targets


def resolve_both_modes(
    paths: Iterable[Path], config_file: str | None = None
) -> list[ExecutionPlan]:
    config = load_config(config_file)
    resolved = []
    for path in paths:
        resolved += resolve_loaded(load_plan(path, config.tiers), config.tiers)
    return resolved


def resolve_loaded(
    loaded: LoadedPlan, tiers: Mapping[str, Targets] = DEFAULT_TIERS
) -> list[ExecutionPlan]:
    """One loaded plan in both modes."""
    return [resolve(loaded.plan, loaded.source, mode, tiers, {}) for mode in ("drill", "live")]
