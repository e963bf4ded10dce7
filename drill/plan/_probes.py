"""A plan's probes: HTTP requests to what users reach, asked every interval during a run.

A probe's settings are the request (``url``, ``method``, ``headers``, ``expect_status``, as
http.check names them) and its rhythm: ``interval`` between attempts, ``timeout`` of one
attempt, and ``successes``, how many answers in a row count as users being served.

A drill's target may have no public address (a namespace restored into a scratch namespace).
``through: ROLE`` asks it as ``kubectl get --raw`` would: through the Kubernetes API server of
that context, whose ``services/proxy`` subresource sends the request on to a ready endpoint of
the Service the URL names by its cluster DNS name (``http://NAME.NAMESPACE.svc[:PORT]/path``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from drill.durations import format_duration
from drill.fieldtypes import Duration, WholeNumber
from drill.redact import redact_url
from drill.steps import HttpRequestParams

DEFAULT_INTERVAL_S = 5.0
DEFAULT_TIMEOUT_S = 5.0
DEFAULT_SUCCESSES = 3
# A probe must not load what it measures: ten requests a second at most.
MIN_INTERVAL_S = 0.1


# NAME.NAMESPACE.svc, optionally followed by the cluster domain: what the proxy can reach.
_SERVICE_HOST = re.compile(
    r"^(?P<name>[a-z0-9]([-a-z0-9]*[a-z0-9])?)\.(?P<namespace>[a-z0-9]([-a-z0-9]*[a-z0-9])?)"
    r"\.svc(\.cluster\.local)?\.?$"
)


@dataclass(frozen=True)
class ServiceAddress:
    """Where a ``through:`` probe goes: a Service's port, and the path asked of it."""

    namespace: str
    name: str
    scheme: str
    port: int  # the Service's port, as a pod connecting to the URL would use
    path: str  # with its query

    def proxy_segment(self) -> str:
        """``[scheme:]name:port``, as the API server's services/proxy path names it."""
        scheme = "https:" if self.scheme == "https" else ""
        return f"{scheme}{self.name}:{self.port}"


def service_address(url: str) -> ServiceAddress | None:
    """The Service a cluster DNS URL names, or None when its host is not NAME.NAMESPACE.svc."""
    parts = urlsplit(url)
    found = _SERVICE_HOST.match(parts.hostname or "")
    if found is None:
        return None
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return ServiceAddress(found["namespace"], found["name"], parts.scheme, port, path)


class ProbeSettings(HttpRequestParams):
    interval: Duration = Field(
        default=DEFAULT_INTERVAL_S,
        description="Time from one attempt's start to the next one's (the next waits for an "
        "answer that takes longer). Users served is known to within one interval. At least "
        "100ms: a probe must not load what it measures.",
        examples=["1s"],
    )
    timeout: Duration = Field(
        default=DEFAULT_TIMEOUT_S,
        description="How long one attempt waits for an answer before it counts as failed.",
        examples=["2s"],
    )
    successes: WholeNumber = Field(
        default=DEFAULT_SUCCESSES,
        ge=1,
        le=1000,
        description="Successes in a row, lasting to the end of verify, that count as users "
        "being served again; users served is the first of them.",
        examples=[3],
    )
    through: str | None = Field(
        default=None,
        description="A context role: ask through that cluster's Kubernetes API server "
        "(its services/proxy subresource, as `kubectl get --raw` does), for a target with no "
        "address outside the cluster. The url then names a Service by its cluster DNS name, "
        "http://NAME.NAMESPACE.svc[:PORT]/path; the role's credentials need `get` on "
        "services/proxy.",
        examples=["dr"],
    )

    @model_validator(mode="after")
    def _through_names_a_service(self) -> ProbeSettings:
        if self.through is not None and service_address(self.url) is None:
            raise ValueError(
                "with through:, url must name a Service by its cluster DNS name "
                "(http://NAME.NAMESPACE.svc[:PORT]/path)"
            )
        return self

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
        through = f" through context role {s.through}" if s.through else ""
        return (
            f"{s.method} {redact_url(s.url)}{through} expecting {s.expected()} every "
            f"{format_duration(s.interval)} (timeout {format_duration(s.timeout)}); served "
            f"after {s.successes} in a row"
        )
