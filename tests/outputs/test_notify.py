"""Notifications reach a real HTTP receiver, are retried when that can help, and never leak
the webhook URL, whatever becomes of them."""

from __future__ import annotations

import io
import json
import socket
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from drill.clock import FakeClock
from drill.errors import TransientError
from drill.logs import build_logger
from drill.outputs import (
    Delivery,
    NotifyTarget,
    Secret,
    send_notifications,
    should_notify,
    slack_payload,
    webhook_payload,
)
from providers.http import Urllib3Http
from providers.protocols import HttpResponse
from tests.executor.fakes import RecordingLogger
from tests.httpserver import Answer, Script, serve
from tests.outputs.reports import failed_report, passed_report

SLACK_PATH = "/services/T000/B000/SECRETTOKEN"
HOOK_PATH = "/hook/SECRETPATH?token=SECRETQUERY"
SECRETS = ("SECRETTOKEN", "SECRETPATH", "SECRETQUERY", "T000/B000")


@pytest.fixture
def receiver() -> Iterator[tuple[Script, str]]:
    script = Script()
    with serve(script) as base:
        yield script, base


def _targets(base: str) -> list[NotifyTarget]:
    return [
        NotifyTarget("slack", Secret(base + SLACK_PATH)),
        NotifyTarget("webhook", Secret(base + HOOK_PATH)),
    ]


def _send(
    targets: list[NotifyTarget], log: Any = None, clock: FakeClock | None = None
) -> list[Delivery]:
    return send_notifications(
        failed_report(),
        "reports/run-1/report.json",
        targets,
        Urllib3Http(),
        log or RecordingLogger(),
        clock=clock or FakeClock(),
    )


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_slack_and_webhook_receive_their_json(receiver: tuple[Script, str]) -> None:
    script, base = receiver
    deliveries = _send(_targets(base))
    assert deliveries == [
        Delivery("slack", True, "slack: HTTP 200"),
        Delivery("webhook", True, "webhook: HTTP 200"),
    ]
    assert [(method, path) for method, path, _ in script.requests] == [
        ("POST", SLACK_PATH),
        ("POST", HOOK_PATH),
    ]
    assert all(h["Content-Type"].startswith("application/json") for _, _, h in script.requests)
    slack_body, hook_body = (json.loads(body) for body in script.bodies)
    assert slack_body == slack_payload(failed_report(), "reports/run-1/report.json")
    assert hook_body == webhook_payload(failed_report(), "reports/run-1/report.json")
    assert hook_body["schema"] == "drill.notification/v1"


def test_a_server_error_is_retried(receiver: tuple[Script, str]) -> None:
    script, base = receiver
    script.answers[:] = [Answer(500, b"oops"), Answer(200)]
    clock = FakeClock()
    log = RecordingLogger()
    [delivery] = _send(_targets(base)[1:], log, clock)
    assert delivery == Delivery("webhook", True, "webhook: HTTP 200 after 2 attempts", 2)
    assert len(script.requests) == 2
    assert clock.monotonic() == 1001.0  # one backoff of 1 s, on the injected clock
    assert log.events() == ["notification sent"]


def test_a_server_that_keeps_failing_is_given_up_after_three_attempts(
    receiver: tuple[Script, str],
) -> None:
    script, base = receiver
    script.answers[:] = [Answer(503, b"")]
    log = RecordingLogger()
    [delivery] = _send(_targets(base)[:1], log)
    assert delivery == Delivery("slack", False, "slack: HTTP 503 (gave up after 3 attempts)", 3)
    assert log.records == [
        ("warning", "notification failed", {"target": "slack", "detail": delivery.detail})
    ]


def test_a_refusal_is_not_retried_and_slack_s_error_code_is_shown(
    receiver: tuple[Script, str],
) -> None:
    script, base = receiver
    script.answers[:] = [Answer(404, b"no_service")]
    [delivery] = _send(_targets(base)[:1])
    assert delivery == Delivery("slack", False, "slack: HTTP 404 no_service (not retried)")
    assert len(script.requests) == 1


def test_a_receiver_that_is_down_gives_a_clear_failure_not_an_exception() -> None:
    base = f"http://127.0.0.1:{_closed_port()}"
    slack, hook = _send(_targets(base))
    for delivery, kind in ((slack, "slack"), (hook, "webhook")):
        assert not delivery.ok
        assert delivery.attempts == 3
        assert delivery.detail == (
            f"{kind}: connection refused or host unreachable (gave up after 3 attempts)"
        )


def test_one_failed_target_does_not_stop_the_next(receiver: tuple[Script, str]) -> None:
    script, base = receiver
    down = f"http://127.0.0.1:{_closed_port()}"
    targets = [_targets(down)[0], _targets(base)[1]]
    assert [d.ok for d in _send(targets)] == [False, True]
    assert [path for _, path, _ in script.requests] == [HOOK_PATH]


@pytest.mark.parametrize(
    "answer",
    [Answer(200), Answer(500, SLACK_PATH.encode()), Answer(400, b"bad " + SLACK_PATH.encode())],
    ids=["ok", "500-echoing-path", "400-echoing-path"],
)
def test_the_url_appears_in_no_detail_and_no_log_line(
    receiver: tuple[Script, str], answer: Answer
) -> None:
    script, base = receiver
    script.answers[:] = [answer]
    stream = io.StringIO()
    structlog_logger = build_logger(1, stream=stream, json_lines=True).bind(run_id="r-1")
    deliveries = _send(_targets(base), structlog_logger)
    recorded = RecordingLogger()
    deliveries += _send(_targets(base), recorded)
    deliveries += _send(_targets(f"http://127.0.0.1:{_closed_port()}"), recorded)
    shown = "\n".join([stream.getvalue(), repr(recorded.records), repr(deliveries)])
    assert "notification" in stream.getvalue()
    for secret in SECRETS:
        assert secret not in shown


@dataclass
class _ScriptedHttp:
    """An HttpClient answering from a list, or raising what the list holds."""

    answers: list[HttpResponse | Exception]
    calls: list[str] = field(default_factory=list)

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        body: bytes | None,
        timeout_s: float,
    ) -> HttpResponse:
        self.calls.append(f"{method} timeout={timeout_s}")
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def _send_with(http: _ScriptedHttp, clock: FakeClock) -> Delivery:
    target = NotifyTarget("webhook", Secret("https://hooks.example" + HOOK_PATH))
    [delivery] = send_notifications(
        passed_report(), None, [target], http, RecordingLogger(), clock=clock
    )
    return delivery


def test_retry_after_is_honoured_and_the_timeout_is_ten_seconds() -> None:
    http = _ScriptedHttp([HttpResponse(429, b"", {"retry-after": "7"}), HttpResponse(204, b"")])
    clock = FakeClock()
    assert _send_with(http, clock).ok
    assert clock.monotonic() == 1007.0
    assert http.calls == ["POST timeout=10.0", "POST timeout=10.0"]


def test_a_client_message_quoting_the_url_is_cleaned() -> None:
    url = "https://hooks.example" + HOOK_PATH
    http = _ScriptedHttp([TransientError(f"POST {url}: timed out")] * 3)
    delivery = _send_with(http, FakeClock())
    assert delivery.detail == "webhook: timed out (gave up after 3 attempts)"


def test_an_unexpected_client_error_is_reported_not_raised() -> None:
    url = "https://hooks.example" + HOOK_PATH
    http = _ScriptedHttp([RuntimeError(f"bug near {url}")])
    delivery = _send_with(http, FakeClock())
    assert delivery == Delivery(
        "webhook", False, "webhook: client error RuntimeError (not retried)"
    )


def test_notify_on_failure_skips_passed_runs_only() -> None:
    assert should_notify(passed_report(), "always")
    assert not should_notify(passed_report(), "failure")
    assert should_notify(passed_report(outcome="target_missed", exit_code=1), "failure")
    assert should_notify(failed_report(), "failure")
