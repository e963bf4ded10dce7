"""`drill validate PLAN... [--strict]`: every problem in every file, in one pass."""

from __future__ import annotations

from drill.commands._common import Settings
from drill.commands._console import Console, report_error
from drill.errors import ExitCode, PlanError, UsageError


def validate(
    settings: Settings, plans: tuple[str, ...], console: Console, strict: bool = False
) -> int:
    """Print ``FILE: ok`` for each good plan and every problem of the others; 2 if any.

    Warnings (a change no later step checks) are printed and leave the exit code alone, unless
    ``strict``: then they are problems like any other."""
    failed = False
    for name in plans:
        try:
            loaded = settings.load(name)
            if strict:
                loaded.refuse_warnings()
        except (PlanError, UsageError) as exc:
            failed = True
            report_error(exc, console)
            continue
        for warning in loaded.warnings:
            console.err(str(warning))
        count = len(loaded.warnings)
        said = (
            f" ({count} warning{'s' if count > 1 else ''}; --strict refuses them)" if count else ""
        )
        console.out(f"{loaded.source}: ok{said}\n")
    return ExitCode.INVALID if failed else ExitCode.PASSED
