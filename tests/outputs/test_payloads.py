"""What the Slack message and the generic webhook document say about a passed and a failed run."""

from __future__ import annotations

import json
from typing import Any

from drill.outputs import WEBHOOK_SCHEMA, slack_payload, webhook_payload
from drill.report import ProbeReport
from tests.outputs.reports import LONG_ERROR, failed_report, passed_report, rolled_back


def _slack_text(payload: dict[str, Any]) -> str:
    """Every piece of text in the blocks, in order."""
    texts = []
    for block in payload["blocks"]:
        texts += [block["text"]["text"]] if "text" in block else []
        texts += [field["text"] for field in block.get("fields", [])]
        texts += [element["text"] for element in block.get("elements", [])]
    return "\n".join(texts)


def test_webhook_payload_of_a_passed_run() -> None:
    payload = webhook_payload(passed_report(), "reports/run-1/report.json")
    assert payload["schema"] == WEBHOOK_SCHEMA == "drill.notification/v1"
    assert {k: payload[k] for k in ("plan", "service", "tier", "mode", "outcome", "exit_code")} == {
        "plan": "region-failure",
        "service": "api-server",
        "tier": "high",
        "mode": "drill",
        "outcome": "passed",
        "exit_code": 0,
    }
    assert payload["run_id"] == "region-failure-20260301-020000-ab12"
    assert payload["rpo"] == {
        "target_s": 3600.0,
        "target_source": "tier default",
        "tier_default_s": None,
        "measured_s": 720.0,
        "margin_s": 2880.0,
        "met": True,
        "source": "velero backup b-1",
        "from_data_s": None,  # a report from before probes: neither figure was given
        "from_backup_s": None,
    }
    assert payload["rto"]["measured_s"] == 310.0
    assert payload["failed_steps"] == []
    assert payload["failed_undos"] == []
    assert payload["report_location"] == "reports/run-1/report.json"
    assert payload["rollback_command"] is None
    assert payload["started_at"] == "2026-03-01T02:00:00Z"
    assert payload["finished_at"] == "2026-03-01T02:09:30Z"
    assert payload["summary"].startswith("drill region-failure (drill mode): PASSED - RPO 12m00s")
    json.dumps(payload)  # plain data all the way down


def test_webhook_payload_of_a_failed_live_run() -> None:
    payload = webhook_payload(failed_report(), None)
    assert (payload["outcome"], payload["exit_code"], payload["mode"]) == ("failed", 3, "live")
    assert payload["rto"] == {
        "target_s": 14400.0,
        "target_source": "tier default",
        "tier_default_s": None,
        "measured_s": None,
        "margin_s": None,
        "met": False,
        "source": "verify failed",
    }
    failed = payload["failed_steps"]
    assert [(s["id"], s["phase"], s["status"]) for s in failed] == [
        ("restore-production", "restore", "failed"),
        ("smoke", "verify", "timed_out"),
    ]
    assert failed[0]["error"].startswith("restore ended PartiallyFailed: xxx")
    assert len(failed[0]["error"]) <= 300 < len(LONG_ERROR)
    assert failed[0]["error"].endswith("...")
    assert payload["failed_undos"] == [
        {"step_id": "scale-up", "type": "kube.scale", "detail": "replicas changed since"}
    ]
    assert payload["rollback_command"].startswith("drill rollback region-failure-")
    assert payload["report_location"] is None


def test_a_report_url_loses_its_credentials_and_signature() -> None:
    location = "https://user:pw@bucket.example/run/report.json?X-Amz-Signature=SIG"
    payload = webhook_payload(passed_report(), location)
    assert payload["report_location"] == (
        "https://***@bucket.example/run/report.json?X-Amz-Signature=***"
    )


def test_slack_message_of_a_passed_run() -> None:
    payload = slack_payload(passed_report(), "reports/run-1/report.json")
    assert payload["text"].startswith("drill region-failure (drill mode): PASSED")
    header = payload["blocks"][0]
    assert header == {
        "type": "header",
        "text": {"type": "plain_text", "text": "drill region-failure: PASSED"},
    }
    text = _slack_text(payload)
    for expected in (
        "*Service*\napi-server",
        "*Tier*\nhigh",
        "*Mode*\ndrill",
        "*RPO*\n12m00s, target 1h00m, margin 48m00s (met)",
        "*RTO*\n5m10s, target 4h00m, margin 3h54m (met)",
        "Report: reports/run-1/report.json",
    ):
        assert expected in text
    assert "Failed steps" not in text
    assert "roll back" not in text


def test_slack_message_of_a_failed_live_run() -> None:
    payload = slack_payload(failed_report(), None)
    text = _slack_text(payload)
    assert payload["blocks"][0]["text"]["text"] == "drill region-failure: FAILED"
    assert "*RTO*\nnot measured, target 4h00m (MISSED: verify failed)" in text
    assert "- restore-production (restore, failed): restore ended PartiallyFailed: xxx" in text
    # Slack would read <b> as a link: the three special characters are escaped.
    assert "- smoke (verify, timed_out): no answer &lt;b&gt;&amp;&lt;/b&gt; within 5m" in text
    assert "late-check" not in text
    assert "*Undo failures*\n- scale-up (kube.scale): replicas changed since" in text
    assert (
        "*To roll back:* `drill rollback region-failure-20260301-020000-ab12 --report-dir r`"
        in (text)
    )
    assert "Report: not saved" in text
    assert max(len(block.get("text", {}).get("text", "")) for block in payload["blocks"]) < 3000
    for word in ("FAILED", "PASSED"):
        assert ":" + word.lower() + ":" not in text  # status words, not emoji codes


def test_slack_lists_at_most_ten_failed_steps() -> None:
    from tests.outputs.reports import step

    many = [step(f"check-{i}", "verify", status="failed", error="down") for i in range(14)]
    text = _slack_text(
        slack_payload(passed_report(outcome="failed", exit_code=3, steps=many), None)
    )
    assert "check-9 " in text
    assert "check-10 " not in text
    assert "... and 4 more (see the report)" in text


def test_the_webhook_says_how_the_rollback_went_and_what_is_not_as_before() -> None:
    assert webhook_payload(passed_report(), None)["rollback"] is None
    payload = webhook_payload(passed_report(rollback=rolled_back(False)), None)
    assert payload["rollback"] == {
        "duration_s": 4.5,
        "verified": False,
        "not_equal": [
            {
                "step_id": "switch-backend",
                "target": "backend service api-backend-drill",
                "status": "differs",
                "detail": "read back: differs",
            }
        ],
    }


def test_slack_names_what_the_rollback_could_not_put_back() -> None:
    text = _slack_text(slack_payload(passed_report(rollback=rolled_back(None)), None))
    assert "*Rollback:* rolled back in 4.5s; NOT verified: 1 of 2 could not be verified" in text
    assert "backend service api-backend-drill (switch-backend, not verified)" in text
    verified = _slack_text(slack_payload(passed_report(rollback=rolled_back(True)), None))
    assert "verified: all 2 objects read back as drill found them" in verified
    assert "Not as drill found them" not in verified


def test_the_payloads_carry_rpo_from_data_beside_rpo_from_backup_metadata() -> None:
    report = passed_report()
    rpo = report.rpo.model_copy(update={"from_data_s": 735.25, "from_backup_s": 720.0})
    report = report.model_copy(update={"rpo": rpo})
    payload = webhook_payload(report, None)
    assert (payload["rpo"]["from_data_s"], payload["rpo"]["from_backup_s"]) == (735.25, 720.0)
    slack = json.dumps(slack_payload(report, None))
    assert "from data 12m15s; from backup metadata 12m00s" in slack


def test_webhook_and_slack_carry_users_served_and_the_probes() -> None:
    base = passed_report()
    rto = base.rto.model_copy(
        update={"users_served_s": 95.5, "users_served_source": "t0 to ... (probe users)"}
    )
    probe = ProbeReport(
        name="users",
        url="https://drill-api.example.com/healthz",
        interval_s=1.0,
        attempts=10,
        successes=7,
        success_ratio=0.7,
        downtime_s=3.25,
        users_served_at=base.started_at,
    )
    report = base.model_copy(update={"rto": rto, "probes": [probe]})
    payload = webhook_payload(report, None)
    assert payload["users_served"] == {"measured_s": 95.5, "source": "t0 to ... (probe users)"}
    assert payload["probes"] == [
        {
            "name": "users",
            "url": "https://drill-api.example.com/healthz",
            "attempts": 10,
            "success_ratio": 0.7,
            "downtime_s": 3.25,
            "users_served_at": "2026-03-01T02:00:00Z",
        }
    ]
    assert "RTO as users see it*\n1m36s (t0 to ... (probe users))" in _slack_text(
        slack_payload(report, None)
    )
    unmeasured = webhook_payload(base, None)
    assert unmeasured["users_served"] == {"measured_s": None, "source": "not measured"}
    assert unmeasured["probes"] == []
