"""``http.check``: an HTTP request from where drill runs, until it answers as expected."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from pydantic import Field, model_validator

from drill.durations import format_duration
from drill.errors import StepFailed, TransientError
from drill.fieldtypes import Duration, Scalar
from drill.redact import redact_url
from drill.steps._base import Resource, StepEnv, StepParams, StepResult, StepType, dns_name
from drill.steps._http import HttpRequestParams, expand_env

if TYPE_CHECKING:
    # Annotations only (or built inside the function that needs one): checking a plan
    # builds none of the providers' result types.
    from providers.protocols import HttpResponse


class JsonFieldCheck(StepParams):
    """The answer's body is JSON, and one field of it holds a given value."""

    path: str = Field(
        min_length=1,
        description="Where the field is in the JSON body, keys joined by dots.",
        examples=["data.status"],
    )
    equals: Scalar = Field(
        description='The value the field must hold (a number is not its text: 1 is not "1").',
        examples=["ok"],
    )


class HttpCheckParams(HttpRequestParams):
    body: str | None = Field(
        default=None,
        description="The request body, sent as given.",
        examples=['{"probe": true}'],
    )
    body_contains: str | None = Field(
        default=None,
        description="Text the answer's body must contain.",
        examples=['"status":"ok"'],
    )
    json_field: JsonFieldCheck | None = Field(
        default=None,
        description="A field of the JSON body that must hold a value: path and equals.",
        examples=[{"path": "data.status", "equals": "ok"}],
    )
    attempt_timeout: Duration = Field(
        default=5.0,
        description="How long one request may take before it counts as a failed attempt.",
        examples=["10s"],
    )
    within: Duration = Field(
        default=0.0,
        description="Keep trying until an answer passes, for at most this long (0: one "
        "attempt). The step's default timeout grows to fit it.",
        examples=["5m"],
    )
    interval: Duration = Field(
        default=2.0, description="The pause between attempts within `within`.", examples=["5s"]
    )

    @model_validator(mode="after")
    def _positive_times(self) -> HttpCheckParams:
        if self.attempt_timeout <= 0 or self.interval <= 0:
            raise ValueError("attempt_timeout and interval must be longer than zero")
        return self


class HttpCheck(StepType[HttpCheckParams]):
    name = "http.check"
    params_model = HttpCheckParams
    summary = "HTTP request from where drill runs; passes on the expected status and body"
    default_timeout_s = 300.0

    def default_timeout(self, params: HttpCheckParams) -> float:
        # The keep-trying window must fit inside the step's timeout, with one last attempt.
        return max(self.default_timeout_s, params.within + params.attempt_timeout + 30.0)

    def verifies(self, params: HttpCheckParams, cluster: str) -> frozenset[Resource]:
        """The DNS name of its URL: the request resolves it as clients do."""
        host = urlsplit(params.url).hostname
        return frozenset({Resource("DNS record", "DNS", dns_name(host))}) if host else frozenset()

    def describe(self, params: HttpCheckParams) -> str:
        text = f"{params.method} {redact_url(params.url)} expecting {params.expected()}"
        if params.within:
            text += f", retrying for up to {format_duration(params.within)}"
        return text

    def run(self, params: HttpCheckParams, env: StepEnv) -> StepResult:
        headers = expand_env(params.headers)
        body = params.body.encode() if params.body is not None else None
        window_ends = env.clock.monotonic() + params.within
        attempts = 0
        while True:
            attempts += 1
            started = env.clock.monotonic()
            verdict, status = self._attempt(params, env, headers, body)
            latency_ms = round((env.clock.monotonic() - started) * 1000)
            if verdict is None:
                return StepResult(
                    summary=f"{params.method} {redact_url(params.url)} answered {status}",
                    facts={"status": status, "attempts": attempts, "latency_ms": latency_ms},
                )
            env.log.info("http_check_attempt_failed", attempt=attempts, reason=verdict)
            if env.clock.monotonic() + params.interval > window_ends:
                raise StepFailed(f"{verdict} (after {attempts} attempt(s))")
            env.wait(params.interval, f"{redact_url(params.url)} to answer as expected")

    def _attempt(
        self,
        params: HttpCheckParams,
        env: StepEnv,
        headers: dict[str, str],
        body: bytes | None,
    ) -> tuple[str | None, int | None]:
        """(None, status) when the answer is as expected, else (why not, status)."""
        timeout_s = min(params.attempt_timeout, max(env.remaining_s(), 0.001))
        try:
            response = env.providers.http().request(
                params.method, params.url, headers=headers, body=body, timeout_s=timeout_s
            )
        except TransientError as exc:
            return str(exc), None
        return _judge(params, response), response.status


def _judge(params: HttpCheckParams, response: HttpResponse) -> str | None:
    if response.status not in params.expect_status:
        return f"answered {response.status}, expected {params.expected()}"
    text = response.body.decode("utf-8", errors="replace")
    if params.body_contains is not None and params.body_contains not in text:
        return f"body does not contain {params.body_contains!r}"
    if params.json_field is not None:
        return _judge_json(params.json_field, text)
    return None


def _judge_json(check: JsonFieldCheck, text: str) -> str | None:
    try:
        value: object = json.loads(text)
    except ValueError:
        return "body is not JSON"
    for key in check.path.split("."):
        if not isinstance(value, dict) or key not in value:
            return f"JSON body has no field {check.path!r}"
        value = value[key]
    if value != check.equals:
        return f"JSON field {check.path!r} is {value!r}, expected {check.equals!r}"
    return None
