"""`drill run` sends its result on: JUnit file, history, Slack, webhook, Pushgateway.

Real child processes and real local HTTP receivers. Deliveries never change the exit code,
and a webhook URL (a secret) appears nowhere drill writes.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

from tests.cli.conftest import Drill
from tests.cli.test_run import http_plan
from tests.httpserver import Answer, Script, serve

SECRET = "T0SECRET/B0SECRET/XXXXsecretXXXX"


def everything_written(tmp_path: Path, *outputs: str) -> str:
    text = "".join(outputs)
    for path in tmp_path.rglob("*"):
        if path.is_file() and path.suffix in (".json", ".jsonl", ".xml", ".txt"):
            text += path.read_text(encoding="utf-8", errors="replace")
    return text


def test_a_run_goes_to_every_destination(
    drill: Drill, write_plan: Callable[[str, str], Path], tmp_path: Path
) -> None:
    receiver = Script([Answer(200, b"ok")])
    with serve(Script([Answer(200, b"ok")])) as service, serve(receiver) as hooks:
        (tmp_path / "slack-url").write_text(f"{hooks}/services/{SECRET}\n")
        env = {"DRILL_WEBHOOK_URL": f"{hooks}/hook/{SECRET}"}
        result = drill(
            "run", str(http_plan(write_plan, service)),
            "--junit", str(tmp_path / "junit.xml"),
            "--history", str(tmp_path / "history"),
            "--slack-webhook-file", str(tmp_path / "slack-url"),
            "--pushgateway", f"{hooks}/gateway",
            env=env,
        )  # fmt: skip
    assert result.returncode == 0, result.stderr
    suite = ET.parse(tmp_path / "junit.xml").getroot()
    names = [case.get("name") for case in suite.iter("testcase")]
    assert {"reachable", "healthy", "RPO", "RTO"} <= set(names)
    stored = list((tmp_path / "history" / "web-check").glob("*.json"))
    assert len(stored) == 1
    assert json.loads(stored[0].read_text())["outcome"] == "passed"
    paths = sorted(path for _, path, _ in receiver.requests)
    assert paths == ["/gateway/metrics/job/drill/plan/web-check/mode/drill",
                     f"/hook/{SECRET}", f"/services/{SECRET}"]  # fmt: skip
    bodies = {
        path: body for (_, path, _), body in zip(receiver.requests, receiver.bodies, strict=True)
    }
    webhook = json.loads(bodies[f"/hook/{SECRET}"])
    assert (webhook["plan"], webhook["outcome"]) == ("web-check", "passed")
    assert webhook["report_location"].endswith(".json")
    assert b"drill_success" in bodies["/gateway/metrics/job/drill/plan/web-check/mode/drill"]
    assert SECRET not in everything_written(tmp_path, result.stdout, result.stderr)


def test_failed_deliveries_are_reported_and_do_not_change_the_exit_code(
    drill: Drill, write_plan: Callable[[str, str], Path], tmp_path: Path
) -> None:
    with serve(Script([Answer(200, b"ok")])) as service:
        result = drill(
            "run", str(http_plan(write_plan, service)),
            "--pushgateway", "http://127.0.0.1:9/",
            env={"DRILL_WEBHOOK_URL": f"http://127.0.0.1:9/hook/{SECRET}"},
        )  # fmt: skip
    assert result.returncode == 0
    assert "notification failed" in result.stderr or "notification_failed" in result.stderr
    assert "metrics" in result.stderr
    assert SECRET not in result.stderr + result.stdout


def test_bad_destinations_stop_the_run_before_it_starts(
    drill: Drill, write_plan: Callable[[str, str], Path], tmp_path: Path
) -> None:
    plan = str(http_plan(write_plan, "http://127.0.0.1:9"))
    cases = [
        ("--slack-webhook-file", str(tmp_path / "missing"), "missing"),
        ("--pushgateway", "not a url", "--pushgateway"),
        ("--junit", str(tmp_path / "no-such-dir" / "j.xml"), "no-such-dir"),
        ("--history", "gs://", "gs://"),
    ]
    for flag, value, named in cases:
        result = drill("run", plan, flag, value)
        assert result.returncode == 2, (flag, result.stderr)
        assert named in result.stderr
        assert "Traceback" not in result.stderr
    assert not (tmp_path / "reports").exists()
