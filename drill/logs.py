"""Structured logs: console lines on a terminal, JSON lines everywhere else.

The logger is built and handed down, never configured globally, so tests and the CLI can each
have their own. stdout is left for the report alone.

structlog is imported when the first line is logged, not when the logger is made: importing it
(and the asyncio it brings) is a tenth of what `drill run` does before its first request.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable, MutableMapping
from typing import Any, TextIO

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
    colors = out.isatty()

    def build() -> Any:
        import structlog

        processors: list[Any] = [_drop_every_event] if chosen > logging.CRITICAL else []
        processors += [
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
        ]
        if as_json:
            processors.append(structlog.processors.JSONRenderer(sort_keys=False))
        else:
            processors += [_Without(hide), structlog.dev.ConsoleRenderer(colors=colors)]
        return structlog.wrap_logger(
            structlog.PrintLogger(file=out),
            processors=processors,
            wrapper_class=structlog.make_filtering_bound_logger(min(chosen, logging.CRITICAL)),
            cache_logger_on_first_use=False,
        )

    return _FirstUse(_Once(build), {})


def _drop_every_event(logger: Any, method: str, event: MutableMapping[str, Any]) -> Any:
    import structlog

    raise structlog.DropEvent


class _Without:
    """A person reading the console needs no ``error=None``, nor what the screen says already."""

    def __init__(self, hide: tuple[str, ...]) -> None:
        self.hide = frozenset(hide)

    def __call__(self, logger: Any, method: str, event: MutableMapping[str, Any]) -> Any:
        return {k: v for k, v in event.items() if v is not None and k not in self.hide}


class _Once:
    """The structlog logger, built by the first thread that logs."""

    def __init__(self, build: Callable[[], Any]) -> None:
        self._build: Callable[[], Any] | None = build
        self._logger: Any = None
        self._lock = threading.Lock()

    def logger(self) -> Any:
        with self._lock:
            if self._build is not None:
                self._logger, self._build = self._build(), None
            return self._logger


class _FirstUse:
    """A structlog bound logger with ``context`` bound, built when first asked for more than
    ``bind``; loggers bound from one share the structlog logger beneath."""

    def __init__(self, base: _Once, context: dict[str, Any]) -> None:
        self._base = base
        self._context = context
        self._bound: Any = None

    def bind(self, **values: Any) -> _FirstUse:
        return _FirstUse(self._base, {**self._context, **values})

    def __getattr__(self, name: str) -> Any:
        if self._bound is None:
            self._bound = self._base.logger().bind(**self._context)
        return getattr(self._bound, name)
