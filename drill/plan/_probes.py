"""A plan's probes: HTTP requests to what users reach, asked every interval during a run.

A probe's settings are the request (``url``, ``method``, ``headers``, ``expect_status``, as
http.check names them) and its rhythm: ``interval`` between attempts, ``timeout`` of one
attempt, and ``successes``, how many answers in a row count as users being served.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import Field, field_validator

from drill.durations import format_duration
from drill.fieldtypes import Duration
from drill.redact import redact_url
from drill.steps import HttpRequestParams

DEFAULT_INTERVAL_S = 5.0
DEFAULT_TIMEOUT_S = 5.0
DEFAULT_SUCCESSES = 3
# A probe must not load what it measures: ten requests a second at most.
MIN_INTERVAL_S = 0.1


class ProbeSettings(HttpRequestParams):
    interval: Duration = DEFAULT_INTERVAL_S
    timeout: Duration = DEFAULT_TIMEOUT_S
    successes: int = Field(default=DEFAULT_SUCCESSES, ge=1, le=1000)

    @field_validator("interval")
    @classmethod
    def _gentle(cls, seconds: float) -> float:
        if seconds < MIN_INTERVAL_S:
            raise ValueError(
                f"must be at least {format_duration(MIN_INTERVAL_S)}: a probe must not load "
                "what it measures"
            )
        return seconds

    @field_validator("timeout")
    @classmethod
    def _positive(cls, seconds: float) -> float:
        if seconds <= 0:
            raise ValueError("must be longer than zero")
        return seconds


@dataclass(frozen=True)
class ResolvedProbe:
    """A probe in one mode: its settings, or why it does not run in this mode."""

    name: str
    settings: ProbeSettings | None  # None when skipped in this mode
    skip_reason: str | None = None

    def describe(self) -> str:
        """One line for ``drill show``: the request and its rhythm, secrets masked."""
        if self.settings is None:
            return f"SKIPPED - {self.skip_reason}"
        s = self.settings
        return (
            f"{s.method} {redact_url(s.url)} expecting {s.expected()} every "
            f"{format_duration(s.interval)} (timeout {format_duration(s.timeout)}); served "
            f"after {s.successes} in a row"
        )
