"""http.check against a real local HTTP server, through the real urllib3 adapter."""

from __future__ import annotations

import threading

import pytest
from pydantic import ValidationError

from drill.clock import Clock, FakeClock, SystemClock
from drill.errors import PermanentError, StepFailed
from drill.logs import build_logger
from drill.steps import StepEnv, StepTimedOut
from drill.steps.http_check import HttpCheck, HttpCheckParams
from providers.live import LiveProviders
from tests.httpserver import Answer, Script, serve


def env_for(timeout_s: float = 10.0, clock: Clock | None = None) -> StepEnv:
    clock = clock or SystemClock()
    return StepEnv(
        run_id="run-1",
        step_id="check",
        mode="drill",
        context=None,
        clock=clock,
        cancel=threading.Event(),
        deadline=clock.monotonic() + timeout_s,
        providers=LiveProviders(clock),
        log=build_logger(-1),
    )


def params(**values: object) -> HttpCheckParams:
    return HttpCheckParams.model_validate(values)


def test_passes_on_expected_status_and_reports_it() -> None:
    script = Script([Answer(200, b'{"status": "ok"}')])
    with serve(script) as url:
        result = HttpCheck().run(
            params(
                url=f"{url}/healthz",
                body_contains="ok",
                json_field={"path": "status", "equals": "ok"},
            ),
            env_for(),
        )
    assert result.facts["status"] == 200
    assert result.facts["attempts"] == 1
    assert script.requests[0][1] == "/healthz"


def test_keeps_trying_within_window_until_healthy() -> None:
    script = Script([Answer(503), Answer(503), Answer(200)])
    with serve(script) as url:
        result = HttpCheck().run(
            params(url=url, within="5s", interval="100ms"), env_for(clock=FakeClock())
        )
    assert result.facts["attempts"] == 3
    assert len(script.requests) == 3


def test_fails_with_last_status_when_window_ends() -> None:
    # On a fake clock only the pauses count, so the number of attempts does not depend on
    # how long a loaded machine takes to answer the first request.
    script = Script([Answer(500, b"boom")])
    with serve(script) as url, pytest.raises(StepFailed, match="answered 500, expected 200"):
        HttpCheck().run(
            params(url=url, within="350ms", interval="100ms"), env_for(clock=FakeClock())
        )
    assert len(script.requests) == 4


@pytest.mark.parametrize(
    ("checks", "reason"),
    [
        ({"body_contains": "ready"}, "does not contain 'ready'"),
        ({"json_field": {"path": "db.ok", "equals": True}}, "body is not JSON"),
        ({"expect_status": [201, 204]}, "expected 201/204"),
    ],
)
def test_reports_which_expectation_failed(checks: dict[str, object], reason: str) -> None:
    with serve(Script([Answer(200, b"starting")])) as url, pytest.raises(StepFailed, match=reason):
        HttpCheck().run(params(url=url, **checks), env_for())


def test_json_field_mismatch_names_field_and_values() -> None:
    body = b'{"db": {"ok": false}}'
    with (
        serve(Script([Answer(200, body)])) as url,
        pytest.raises(StepFailed, match=r"'db.ok' is False, expected True"),
    ):
        HttpCheck().run(params(url=url, json_field={"path": "db.ok", "equals": True}), env_for())


def test_slow_server_hits_attempt_timeout() -> None:
    with (
        serve(Script([Answer(200, delay_s=2.0)])) as url,
        pytest.raises(StepFailed, match="timed out"),
    ):
        HttpCheck().run(params(url=url, attempt_timeout="200ms"), env_for())


def test_step_deadline_stops_the_window() -> None:
    with serve(Script([Answer(503)])) as url, pytest.raises(StepTimedOut):
        HttpCheck().run(params(url=url, within="1m", interval="200ms"), env_for(timeout_s=0.5))


def test_connection_refused_is_reported_plainly() -> None:
    with serve(Script()) as url:
        dead = url  # the server is gone once the block ends
    with pytest.raises(StepFailed, match="connection refused"):
        HttpCheck().run(params(url=dead), env_for())


def test_header_values_come_from_environment_at_request_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DRILL_TEST_TOKEN", "s3cr3t-value")
    script = Script()
    with serve(script) as url:
        HttpCheck().run(
            params(url=url, headers={"Authorization": "Bearer ${env:DRILL_TEST_TOKEN}"}), env_for()
        )
    assert script.requests[0][2]["Authorization"] == "Bearer s3cr3t-value"


def test_missing_header_variable_is_a_permanent_error() -> None:
    with serve(Script()) as url, pytest.raises(PermanentError, match="DRILL_UNSET_VARIABLE"):
        HttpCheck().run(
            params(url=url, headers={"X-Key": "${env:DRILL_UNSET_VARIABLE}"}), env_for()
        )


def test_describe_masks_credentials_in_url() -> None:
    text = HttpCheck().describe(params(url="https://user:pw@example.com/h?token=abc&x=1"))
    assert "pw" not in text
    assert "abc" not in text
    assert "x=1" in text


@pytest.mark.parametrize(
    "bad",
    [
        {"url": "ftp://example.com"},
        {"url": "http://x", "expect_status": 700},
        {"url": "http://x", "within": "soon"},
        {"url": "http://x", "interval": "0s"},
        {"url": "http://x", "method": "FETCH"},
        {"url": "http://x", "json_field": {"path": "a", "equals": [1]}},
    ],
)
def test_rejects_bad_params(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        params(**bad)


@pytest.mark.parametrize(
    "value", ["Bearer ${env:}", "${env:API TOKEN}", "${env:1TOKEN}", "${env:X"]
)
def test_a_header_env_reference_that_names_no_variable_is_refused(value: str) -> None:
    """It matched no reference, so the request sent it as written: `Bearer ${env:}`, never
    the secret meant. The message names the header, never its value."""
    with pytest.raises(ValidationError, match="header Authorization: write an environment") as bad:
        params(url="http://x", headers={"Authorization": value})
    assert all(value not in error["msg"] for error in bad.value.errors())


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://]api.example.com/healthz", "Invalid IPv6 URL"),
        ("https://api.example.com:99999/healthz", "Port out of range"),
        ("https://@/healthz", "with a host"),
    ],
)
def test_a_url_the_request_could_not_parse_is_refused_as_a_param(url: str, why: str) -> None:
    """Refused where the plan gives it; before, checking what the step verifies raised."""
    with pytest.raises(ValidationError, match=why):
        params(url=url)
