"""`drill show PLAN [--live]`: the steps a run would take in that mode, and what it would skip."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from drill.commands._common import Settings, parse_context_flags
from drill.commands._console import Console
from drill.commands._outline import outline_text
from drill.errors import ExitCode
from drill.plan import resolve

if TYPE_CHECKING:
    from drill.steps import Mode


@dataclass(frozen=True)
class ShowOptions:
    plan: str
    live: bool = False
    contexts: tuple[str, ...] = ()  # ROLE=KUBECONTEXT


def show(settings: Settings, options: ShowOptions, console: Console) -> int:
    """Print the ordered steps of the plan as they would run, with substitutions and skips."""
    loaded = settings.load(options.plan)
    overrides = parse_context_flags(options.contexts, set(loaded.plan.contexts))
    mode: Mode = "live" if options.live else "drill"
    resolved = resolve(loaded.plan, loaded.source, mode, settings.config.tiers, overrides)
    console.out(outline_text(resolved))
    return ExitCode.PASSED
