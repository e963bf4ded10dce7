"""`drill validate PLAN...`: every problem in every file, in one pass."""

from __future__ import annotations

from drill.commands._common import Settings
from drill.commands._console import Console, report_error
from drill.errors import ExitCode, PlanError, UsageError


def validate(settings: Settings, plans: tuple[str, ...], console: Console) -> int:
    """Print ``FILE: ok`` for each good plan and every problem of the others; 2 if any."""
    failed = False
    for name in plans:
        try:
            loaded = settings.load(name)
        except (PlanError, UsageError) as exc:
            failed = True
            report_error(exc, console)
            continue
        console.out(f"{loaded.source}: ok\n")
    return ExitCode.INVALID if failed else ExitCode.PASSED
