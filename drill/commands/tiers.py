"""`drill tiers`: the RPO/RTO target of each tier, and where they came from."""

from __future__ import annotations

from drill.commands._common import Settings
from drill.commands._console import Console
from drill.durations import format_duration
from drill.errors import ExitCode
from drill.locations import default_config_path


def tiers(settings: Settings, console: Console) -> int:
    """A table of tier targets (built in, overridable in the config file) and their source."""
    config = settings.config
    lines = [f"{'TIER':<10} {'RPO':>8} {'RTO':>8}"]
    for name, targets in config.tiers.items():
        lines.append(
            f"{name:<10} {format_duration(targets.rpo_s):>8} {format_duration(targets.rto_s):>8}"
        )
    where = config.source or f"built-in defaults (no {default_config_path(settings.environ)})"
    lines += ["", f"from: {where}"]
    console.out("\n".join(lines) + "\n")
    return ExitCode.PASSED
