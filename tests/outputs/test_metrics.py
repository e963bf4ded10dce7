"""The Pushgateway body parses as the text exposition format, and lands under the right group."""

from __future__ import annotations

import base64
import io
import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from drill.clock import FakeClock
from drill.errors import UsageError
from drill.logs import build_logger
from drill.outputs import (
    Delivery,
    check_pushgateway_url,
    metrics_text,
    push_metrics,
    pushgateway_url,
)
from drill.report import ProbeReport
from providers.http import Urllib3Http
from tests.executor.fakes import RecordingLogger
from tests.httpserver import Answer, Script, serve
from tests.outputs.reports import FINISHED, failed_report, passed_report, rolled_back, step

GROUP = "/metrics/job/drill/plan/region-failure/mode/drill"

# --- a small parser of the text format, strict enough to catch a malformed line -----------


@dataclass
class Family:
    help: str = ""
    type: str = ""
    samples: list[tuple[dict[str, str], float]] = field(default_factory=list)


_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_SAMPLE = re.compile(rf"({_NAME})(\{{.*\}})? (\S+)")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)')
_UNESCAPE = {"\\\\": "\\", '\\"': '"', "\\n": "\n"}


def parse(text: str) -> dict[str, Family]:
    assert text.endswith("\n")
    families: dict[str, Family] = {}
    for line in text.splitlines():
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            _, kind, name, rest = line.split(" ", 3)
            family = families.setdefault(name, Family())
            setattr(family, kind.lower(), rest)
            continue
        match = _SAMPLE.fullmatch(line)
        assert match, f"not a sample line: {line!r}"
        name, labels, value = match.groups()
        assert families[name].type == "gauge", f"{name} sampled before its TYPE"
        families[name].samples.append((_labels(labels or ""), float(value)))
    return families


def _labels(text: str) -> dict[str, str]:
    inner, labels, position = text[1:-1], {}, 0
    while position < len(inner):
        match = _LABEL.match(inner, position)
        assert match, f"bad labels: {text!r}"
        raw = match.group(2)
        labels[match.group(1)] = re.sub(r"\\[\\\"n]", lambda m: _UNESCAPE[m.group(0)], raw)
        position = match.end()
    return labels


def values(families: dict[str, Family]) -> dict[str, float]:
    return {name: f.samples[0][1] for name, f in families.items() if len(f.samples) == 1}


# --- the body ---------------------------------------------------------------------------------


def test_a_passed_run_exposes_every_series() -> None:
    families = parse(metrics_text(passed_report()))
    assert values(families) == {
        "drill_success": 1.0,
        "drill_exit_code": 0.0,
        "drill_rpo_seconds": 720.0,
        "drill_rpo_target_seconds": 3600.0,
        "drill_rto_seconds": 310.0,
        "drill_rto_target_seconds": 14400.0,
        "drill_last_run_timestamp_seconds": FINISHED.timestamp(),
        "drill_run_info": 1.0,
    }
    assert families["drill_step_duration_seconds"].samples == [
        ({"step": "backup-fresh", "phase": "preflight"}, 0.4),
        ({"step": "restore-production", "phase": "restore"}, 95.25),
        ({"step": "smoke", "phase": "verify"}, 3.0),
    ]  # the skipped step is not there
    assert families["drill_run_info"].samples[0][0] == {
        "run_id": "region-failure-20260301-020000-ab12",
        "service": "api-server",
        "tier": "high",
        "outcome": "passed",
    }
    assert all(f.help and f.type == "gauge" for f in families.values())


def test_both_rpo_figures_are_series_of_their_own_when_measured() -> None:
    report = passed_report()
    assert "drill_rpo_from_data_seconds" not in metrics_text(report)  # none before probes
    rpo = report.rpo.model_copy(update={"from_data_s": 735.25, "from_backup_s": 720.0})
    families = parse(metrics_text(report.model_copy(update={"rpo": rpo})))
    assert values(families)["drill_rpo_from_data_seconds"] == 735.25
    assert values(families)["drill_rpo_from_backup_seconds"] == 720.0
    assert "from data" in families["drill_rpo_seconds"].help


def test_a_failed_run_has_no_rto_series_and_reports_failure() -> None:
    families = parse(metrics_text(failed_report()))
    assert "drill_rto_seconds" not in families
    assert "drill_rto_seconds" not in metrics_text(failed_report())  # no HELP/TYPE either
    assert values(families)["drill_success"] == 0.0
    assert values(families)["drill_exit_code"] == 3.0
    assert values(families)["drill_rto_target_seconds"] == 14400.0
    steps = [labels["step"] for labels, _ in families["drill_step_duration_seconds"].samples]
    assert steps == ["backup-fresh", "restore-production", "smoke"]  # not the not_run one


def test_label_values_are_escaped() -> None:
    odd = 'say "hi"\\now\nnext'
    report = passed_report(steps=[step(odd, "verify")], service='a"b')
    families = parse(metrics_text(report))
    assert families["drill_step_duration_seconds"].samples == [
        ({"step": odd, "phase": "verify"}, 12.5)
    ]
    assert families["drill_run_info"].samples[0][0]["service"] == 'a"b'


@pytest.mark.parametrize(("verified", "gauge"), [(True, 1.0), (False, 0.0), (None, 0.0)])
def test_a_rolled_back_drill_exposes_its_rollback_time_and_verdict(
    verified: bool | None, gauge: float
) -> None:
    numbers = values(parse(metrics_text(passed_report(rollback=rolled_back(verified)))))
    assert numbers["drill_rollback_seconds"] == 4.5
    assert numbers["drill_rollback_verified"] == gauge  # not verified is not verified


def test_a_run_that_rolled_nothing_back_has_no_rollback_series() -> None:
    text = metrics_text(passed_report())
    assert "drill_rollback" not in text


def test_users_served_and_each_probes_figures_are_series() -> None:
    base = passed_report()
    rto = base.rto.model_copy(update={"users_served_s": 95.5})
    probes = [
        ProbeReport(name="users", url="https://a/", interval_s=1.0, attempts=10, successes=7,
                    success_ratio=0.7, downtime_s=3.25),
        ProbeReport(name="silent", url="https://b/", interval_s=1.0, attempts=0, successes=0,
                    success_ratio=None, downtime_s=None),
    ]  # fmt: skip
    families = parse(metrics_text(base.model_copy(update={"rto": rto, "probes": probes})))
    assert values(families)["drill_rto_users_served_seconds"] == 95.5
    assert families["drill_probe_success_ratio"].samples == [({"probe": "users"}, 0.7)]
    assert families["drill_probe_downtime_seconds"].samples == [({"probe": "users"}, 3.25)]
    # without probes, no series at all (a stale value would mislead an alert)
    text = metrics_text(base)
    assert "drill_rto_users_served_seconds" not in text
    assert "drill_probe_" not in text


def test_a_target_missed_run_is_not_a_success() -> None:
    report = passed_report(outcome="target_missed", exit_code=1)
    assert values(parse(metrics_text(report)))["drill_success"] == 0.0


# --- the grouping key ---------------------------------------------------------------------


def test_the_group_path_carries_job_plan_and_mode_without_credentials() -> None:
    url = pushgateway_url("https://u:p@push.example:9091/prefix/", failed_report())
    assert url == "https://push.example:9091/prefix/metrics/job/drill/plan/region-failure/mode/live"


def test_values_with_a_slash_use_base64_and_others_are_url_encoded() -> None:
    assert pushgateway_url("http://gw", passed_report(plan="a/b")) == (
        "http://gw/metrics/job/drill/plan@base64/"
        + base64.urlsafe_b64encode(b"a/b").decode()
        + "/mode/drill"
    )
    assert pushgateway_url("http://gw", passed_report(plan="a b?")).endswith(
        "/plan/a%20b%3F/mode/drill"
    )


def test_a_bad_gateway_flag_is_a_usage_error_without_credentials() -> None:
    assert check_pushgateway_url("http://gw:9091") == "http://gw:9091"
    with pytest.raises(UsageError, match=r"--pushgateway ftp://\*\*\*@gw: not an http"):
        check_pushgateway_url("ftp://user:SECRETPW@gw")


# --- pushing ------------------------------------------------------------------------------


@pytest.fixture
def gateway() -> Iterator[tuple[Script, str]]:
    script = Script()
    with serve(script) as base:
        yield script, base


def test_push_puts_the_body_under_the_group(gateway: tuple[Script, str]) -> None:
    script, base = gateway
    log = RecordingLogger()
    delivery = push_metrics(passed_report(), base, Urllib3Http(), log, clock=FakeClock())
    assert delivery == Delivery("pushgateway", True, f"pushgateway {base}{GROUP}: HTTP 200")
    [(method, path, headers)] = script.requests
    assert (method, path) == ("PUT", GROUP)
    assert headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert "Authorization" not in headers
    assert parse(script.bodies[0].decode()) == parse(metrics_text(passed_report()))
    assert log.events() == ["metrics pushed"]


def test_basic_auth_is_sent_as_a_header_and_masked_everywhere(
    gateway: tuple[Script, str],
) -> None:
    script, base = gateway
    script.answers[:] = [Answer(500, b"secret_pw"), Answer(401, b"")]
    authed = base.replace("http://", "http://drill:secret_pw@")
    stream = io.StringIO()
    log = build_logger(0, stream=stream, json_lines=True)
    clock = FakeClock()
    delivery = push_metrics(passed_report(), authed, Urllib3Http(), log, clock=clock)
    assert not delivery.ok
    # The detail names the URL the body went to, which no longer holds the credentials.
    assert delivery.detail == f"pushgateway {base}{GROUP}: HTTP 401 (not retried)"
    assert delivery.attempts == 2
    expected = "Basic " + base64.b64encode(b"drill:secret_pw").decode()
    assert [h["Authorization"] for _, _, h in script.requests] == [expected, expected]
    assert "metrics push failed" in stream.getvalue()
    assert "secret_pw" not in stream.getvalue() + repr(delivery)


def test_a_gateway_that_is_down_gives_a_failed_delivery() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = RecordingLogger()
    delivery = push_metrics(
        failed_report(), f"http://127.0.0.1:{port}", Urllib3Http(), log, clock=FakeClock()
    )
    assert not delivery.ok
    assert delivery.detail.endswith(
        ": connection refused or host unreachable (gave up after 3 attempts)"
    )
    assert log.records[0][:2] == ("warning", "metrics push failed")


def test_an_invalid_gateway_url_fails_the_delivery_not_the_run() -> None:
    delivery = push_metrics(
        passed_report(), "gw:9091", Urllib3Http(), RecordingLogger(), clock=FakeClock()
    )
    assert delivery == Delivery("pushgateway", False, "pushgateway: the gateway URL is not valid")


def test_an_error_code_that_echoes_the_password_is_masked(gateway: tuple[Script, str]) -> None:
    script, base = gateway
    script.answers[:] = [Answer(403, b"secret_pw")]
    authed = base.replace("http://", "http://drill:secret_pw@")
    delivery = push_metrics(
        passed_report(), authed, Urllib3Http(), RecordingLogger(), clock=FakeClock()
    )
    assert delivery.detail.endswith(": HTTP 403 <url> (not retried)")
    assert "secret_pw" not in delivery.detail
