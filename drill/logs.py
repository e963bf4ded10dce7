"""Structured logs: console lines on a terminal, JSON lines everywhere else.

The logger is built and handed down, never configured globally, so tests and the CLI can each
have their own. stdout is left for the report alone.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog

# Above every level: `-q` beside the terminal view keeps the view and nothing else.
SILENT = logging.CRITICAL + 10


def level_for(verbosity: int) -> int:
    """verbosity: -1 quiet (warnings), 0 normal (info), 1+ verbose (debug)."""
    return {-1: logging.WARNING, 0: logging.INFO}.get(min(verbosity, 1), logging.DEBUG)


def level_beside_view(verbosity: int) -> int:
    """Beside the terminal view, which shows every step: warnings and errors only, everything
    with -v, nothing with -q."""
    return {-1: SILENT, 0: logging.WARNING}.get(min(verbosity, 1), logging.DEBUG)


def build_logger(
    verbosity: int,
    stream: TextIO | None = None,
    json_lines: bool | None = None,
    level: int | None = None,
    hide: tuple[str, ...] = (),
) -> Any:
    """``level``, when given, replaces the one ``verbosity`` implies; keys in ``hide`` are left
    out of console lines (JSON lines keep every key)."""
    out = stream or sys.stderr
    as_json = (not out.isatty()) if json_lines is None else json_lines
    chosen = level_for(verbosity) if level is None else level
    processors: list[Any] = [_drop_every_event] if chosen > logging.CRITICAL else []
    processors += [
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    if as_json:
        processors.append(structlog.processors.JSONRenderer(sort_keys=False))
    else:
        processors += [_Without(hide), structlog.dev.ConsoleRenderer(colors=out.isatty())]
    return structlog.wrap_logger(
        structlog.PrintLogger(file=out),
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(min(chosen, logging.CRITICAL)),
        cache_logger_on_first_use=False,
    )


def _drop_every_event(logger: Any, method: str, event: MutableMapping[str, Any]) -> Any:
    raise structlog.DropEvent


class _Without:
    """A person reading the console needs no ``error=None``, nor what the screen says already."""

    def __init__(self, hide: tuple[str, ...]) -> None:
        self.hide = frozenset(hide)

    def __call__(self, logger: Any, method: str, event: MutableMapping[str, Any]) -> Any:
        return {k: v for k, v in event.items() if v is not None and k not in self.hide}
