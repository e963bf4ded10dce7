"""``http.check``: an HTTP request from where drill runs, until it answers as expected."""

from __future__ import annotations

import json

from pydantic import Field, model_validator

from drill.durations import format_duration
from drill.errors import StepFailed, TransientError
from drill.fieldtypes import Duration, Scalar
from drill.redact import redact_url
from drill.steps._base import StepEnv, StepParams, StepResult, StepType
from drill.steps._http import HttpRequestParams, expand_env
from providers.protocols import HttpResponse


class JsonFieldCheck(StepParams):
    path: str = Field(min_length=1, description="dotted path into the JSON body: data.status")
    equals: Scalar


class HttpCheckParams(HttpRequestParams):
    body: str | None = None
    body_contains: str | None = None
    json_field: JsonFieldCheck | None = None
    attempt_timeout: Duration = 5.0
    within: Duration = 0.0
    interval: Duration = 2.0

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
