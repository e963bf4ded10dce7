"""What every HTTP request a plan names shares: the http.check step and the plan's probes.

One definition of the request's fields (URL, method, headers, expected status) and of how a
header's ``${env:NAME}`` reference becomes its value: at request time, never stored, so a
secret never reaches the plan's journal, the logs or a report.
"""

from __future__ import annotations

import os
import re
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from drill.errors import PermanentError
from drill.fieldtypes import OneOrMany, WholeNumber
from drill.steps._base import StepParams

_ENV_REF = re.compile(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}")
_ENV_START = "${env:"
HttpMethod = Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


class HttpRequestParams(StepParams):
    """The request and the answer's status that counts as a success."""

    url: str = Field(
        description="The http:// or https:// URL to request, from where drill runs.",
        examples=["https://api.example.com/healthz"],
    )
    method: HttpMethod = Field(default="GET", description="The HTTP method.", examples=["POST"])
    headers: dict[str, str] = Field(
        default_factory=dict,
        description="Request headers. A value may hold ${env:VAR}: read from drill's "
        "environment at request time, never written to logs, journal or report.",
        examples=[{"Authorization": "Bearer ${env:API_TOKEN}"}],
    )
    expect_status: OneOrMany[WholeNumber] = Field(
        default_factory=lambda: [200],
        min_length=1,
        description="The status code(s) that pass: one, or a list.",
        examples=[[200, 204]],
    )

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        if not re.match(r"^https?://[^/\s]+", url):
            raise ValueError("must be an http:// or https:// URL")
        # Read as the request will read it: a host or port it cannot parse ("https://]api",
        # ":99999") is refused here, at its place in the plan, not by the run.
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 - reading it is the check: out of range raises
        except ValueError as exc:
            raise ValueError(f"must be an http:// or https:// URL: {exc}") from None
        if not parts.hostname:
            raise ValueError("must be an http:// or https:// URL with a host")
        return url

    @field_validator("headers")
    @classmethod
    def _env_references(cls, headers: dict[str, str]) -> dict[str, str]:
        """Every ``${env:`` starts a reference to a variable by its name; anything else would
        be sent as it is written, never as the secret meant."""
        for key, value in headers.items():  # the value unsaid: it may hold a secret
            if value.count(_ENV_START) != len(_ENV_REF.findall(value)):
                raise ValueError(
                    f"header {key}: write an environment variable as ${{env:NAME}}, NAME of "
                    "letters, digits and '_', not starting with a digit"
                )
        return headers

    @field_validator("expect_status")
    @classmethod
    def _status_range(cls, codes: list[int]) -> list[int]:
        if any(not 100 <= code <= 599 for code in codes):
            raise ValueError("HTTP status codes are between 100 and 599")
        return codes

    def expected(self) -> str:
        """``200`` or ``200/204``: how messages name the expected status."""
        return "/".join(str(code) for code in self.expect_status)


def unset_env(headers: dict[str, str]) -> list[str]:
    """The variables ``headers`` name in ``${env:NAME}`` that the environment lacks: the
    request that sends them would fail. Read where :func:`expand_env` reads them."""
    named = (match.group(1) for value in headers.values() for match in _ENV_REF.finditer(value))
    return sorted({name for name in named if name not in os.environ})


def expand_env(headers: dict[str, str]) -> dict[str, str]:
    """Fill ``${env:NAME}`` from the environment at request time; values never get stored."""

    def value_of(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise PermanentError(f"environment variable {name} is not set (used in a header)")
        return os.environ[name]

    return {key: _ENV_REF.sub(value_of, value) for key, value in headers.items()}
