"""Structured logs to stderr: console lines on a terminal, JSON lines everywhere else.

The logger is built and handed down, never configured globally, so tests and the CLI can each
have their own. stdout is left for the report alone.
"""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO

import structlog


def build_logger(
    verbosity: int, stream: TextIO | None = None, json_lines: bool | None = None
) -> Any:
    """verbosity: -1 quiet (warnings), 0 normal (info), 1+ verbose (debug)."""
    out = stream or sys.stderr
    as_json = (not out.isatty()) if json_lines is None else json_lines
    level = {-1: logging.WARNING, 0: logging.INFO}.get(min(verbosity, 1), logging.DEBUG)
    renderer: Any = (
        structlog.processors.JSONRenderer(sort_keys=False)
        if as_json
        else structlog.dev.ConsoleRenderer(colors=out.isatty())
    )
    return structlog.wrap_logger(
        structlog.PrintLogger(file=out),
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        cache_logger_on_first_use=False,
    )
